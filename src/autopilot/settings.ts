import { defaultBranchOf } from "../branches/branch-git.js";
import { isCookError } from "../core/errors.js";
import { defaultAutopilotConfig, parseAutopilotConfig, type AutopilotConfig } from "../config/autopilot-config.js";
import type { Db } from "../db/db.js";
import { findAutopilotSwitch, type AutopilotSwitch } from "../db/autopilot-store.js";
import { repoDir } from "../forge/paths.js";
import { headOf } from "../gates/merge-git.js";
import type { Git } from "../git/git.js";

/** Where a repo's autopilot stands: its settings, who turned it on or off, and what stops it. */
export interface AutopilotSettings {
  repo: string;
  /** `[autopilot]` of cook.toml on the default branch, defaulted (the defaults when it is invalid). */
  config: AutopilotConfig;
  /** The switch a human set, which overrides cook.toml's `enabled`. */
  switch: AutopilotSwitch | undefined;
  /** Whether autopilot dispatches in this repo: the switch, else cook.toml's `[autopilot]`. */
  enabled: boolean;
  /** Why it cannot dispatch although enabled: an invalid cook.toml (naming the line), an empty repo. */
  problem: string | undefined;
}

/**
 * Reads a repo's autopilot settings: cook.toml from the default branch's head (through the repo's
 * long-lived cat-file reader) and the switch from the store. Never throws for a bad cook.toml: that
 * is `problem`.
 */
export async function readAutopilotSettings(deps: { db: Db; git: Git; dataDir: string }, repo: string): Promise<AutopilotSettings> {
  const gitDir = repoDir(deps.dataDir, repo);
  const saved = await findAutopilotSwitch(deps.db, repo);
  let config = defaultAutopilotConfig;
  let problem: string | undefined;
  // A repo whose HEAD is detached has no default branch to read cook.toml from, or to start branches from.
  const target = await defaultBranchOf(deps.git, gitDir, repo).catch((err: unknown) => {
    if (!isCookError(err)) throw err;
    problem = err.message;
    return undefined;
  });
  const head = target === undefined ? undefined : await headOf(deps.git, gitDir, target);
  if (target !== undefined && !head) {
    problem = `${repo} has no commit on ${target} yet`;
  } else if (target !== undefined && head) {
    const file = await deps.git.reader(gitDir).read(`${head}:cook.toml`);
    try {
      config = parseAutopilotConfig(file?.type === "blob" ? file.content.toString("utf8") : undefined, `cook.toml on ${target}`);
    } catch (err) {
      if (!isCookError(err)) throw err;
      problem = err.message;
    }
  }
  const enabled = saved ? saved.enabled : config.present && config.enabled;
  return { repo, config, switch: saved, enabled, problem };
}
