import { isCookError } from "../core/errors.js";
import { parseAutomations } from "../config/automation-config.js";
import { defaultAutopilotConfig, parseAutopilotConfig, type AutopilotConfig } from "../config/autopilot-config.js";
import type { Db } from "../db/db.js";
import { findAutopilotSwitch, type AutopilotSwitch } from "../db/autopilot-store.js";
import { readDefaultCookToml } from "../forge/default-cook-toml.js";
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
  /** Why it cannot dispatch although enabled: an invalid cook.toml (naming the line), an empty repo, no default branch. */
  problem: string | undefined;
  /** `[[automations]]` of the same cook.toml: how many, or why they are all off (an invalid one). */
  automations: { count: number; problem?: string };
}

/**
 * Reads a repo's autopilot settings: cook.toml from the default branch's head and the switch from
 * the store. Never throws for a bad cook.toml or a repo without a default branch: that is `problem`.
 */
export async function readAutopilotSettings(deps: { db: Db; git: Git; dataDir: string }, repo: string): Promise<AutopilotSettings> {
  const [saved, file] = await Promise.all([findAutopilotSwitch(deps.db, repo), readDefaultCookToml(deps, repo)]);
  let config = defaultAutopilotConfig;
  let problem = file.ok ? undefined : file.problem;
  let automations: AutopilotSettings["automations"] = { count: 0 };
  if (file.ok) {
    try {
      config = parseAutopilotConfig(file.text, `cook.toml on ${file.target}`);
    } catch (err) {
      if (!isCookError(err)) throw err;
      problem = err.message;
    }
    // The automations run elsewhere (automations.ts), which can only log a bad one: shown here too.
    try {
      automations = { count: parseAutomations(file.text, `cook.toml on ${file.target}`).length };
    } catch (err) {
      if (!isCookError(err)) throw err;
      automations = { count: 0, problem: err.message };
    }
  }
  const enabled = saved ? saved.enabled : config.present && config.enabled;
  return { repo, config, switch: saved, enabled, problem, automations };
}
