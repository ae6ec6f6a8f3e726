import { readFileSync } from "node:fs";
import type { BackendName, Branch } from "../core/branch.js";
import { CookError, isCookError } from "../core/errors.js";
import type { GateDefinition } from "../core/gate.js";
import { defaultGatePolicy, parseGatePolicy, parseGates, type GatePolicy } from "../config/gate-config.js";
import { parseRepoConfig } from "../config/repo-config.js";
import { defaultBranchOf } from "../branches/branch-git.js";
import { findLiveEnvironment } from "../db/environment-store.js";
import { repoDir } from "../forge/paths.js";
import type { GateDeps } from "./deps.js";
import { headOf } from "./merge-git.js";

/** The gates that judge a branch, as its target branch defines them now. */
export interface TargetGates {
  /** The branch merged into: the branch's base when it still exists, else the repo's default branch. */
  target: string;
  /** The target's commit whose cook.toml was read. */
  targetCommit: string;
  gates: GateDefinition[];
  policy: GatePolicy;
  /** Why the definitions cannot be used (an invalid cook.toml, naming the line): the run fails at once. */
  error: string | undefined;
  /** Where command gates run: the branch's environment's backend, else cook.toml's, else local. */
  backend: Exclude<BackendName, "none">;
  network: boolean;
}

/**
 * Reads the gates from cook.toml on the branch's **target**, never from the branch itself: a branch
 * cannot weaken what judges it, and a change to cook.toml counts once merged. A repo whose
 * cook.toml has no `[[gates]]` gets the server's default gates. Throws conflict when the target
 * has no commit (an empty repo); an invalid cook.toml is not thrown but returned as `error`.
 */
export async function readTargetGates(deps: GateDeps, branch: Branch): Promise<TargetGates> {
  const gitDir = repoDir(deps.dataDir, branch.repo);
  let target = branch.baseBranch;
  let targetCommit = await headOf(deps.git, gitDir, target);
  if (!targetCommit) {
    target = await defaultBranchOf(deps.git, gitDir, branch.repo);
    targetCommit = await headOf(deps.git, gitDir, target);
  }
  if (!targetCommit) throw new CookError("conflict", `${branch.repo} has no commit on ${target} to read its gates from`);
  // Read through the repo's reader, not a git process: merge-git.ts says why.
  const file = await deps.git.reader(gitDir).read(`${targetCommit}:cook.toml`);
  const text = file?.type === "blob" ? file.content.toString("utf8") : undefined;
  const source = `cook.toml on ${target}`;
  let gates: GateDefinition[] = [];
  let policy = defaultGatePolicy;
  let error: string | undefined;
  let backend: BackendName | undefined;
  let network = true;
  try {
    gates = parseGates(text, source);
    policy = parseGatePolicy(text, source);
    const environment = parseRepoConfig(text, source).environment;
    backend = environment.backend;
    network = environment.network;
  } catch (err) {
    if (!isCookError(err)) throw err;
    error = err.message;
  }
  if (gates.length === 0 && error === undefined) gates = [...deps.gateSettings.defaultGates];
  const live = await findLiveEnvironment(deps.db, branch.id);
  const chosen = live?.backend ?? (backend === "none" ? undefined : backend) ?? "local";
  return { target, targetCommit, gates, policy, error, backend: chosen, network: live?.network ?? network };
}

/**
 * Why the branch's own cook.toml (at `head`) is invalid, when it differs from the target's: merged,
 * it would leave the target with no gates that can run, and nothing could land there again (not even
 * its fix), so the branch's run fails with this reason first. Undefined when it is valid, the same
 * file as the target's, or absent.
 */
export async function invalidBranchConfig(deps: GateDeps, branch: Branch, head: string, target: TargetGates): Promise<string | undefined> {
  const reader = deps.git.reader(repoDir(deps.dataDir, branch.repo));
  const [mine, theirs] = await Promise.all([reader.read(`${head}:cook.toml`), reader.read(`${target.targetCommit}:cook.toml`)]);
  const text = mine?.type === "blob" ? mine.content.toString("utf8") : undefined;
  if (text === undefined || (theirs?.type === "blob" && theirs.content.toString("utf8") === text)) return undefined;
  const source = `cook.toml on ${branch.name}`;
  try {
    parseGates(text, source);
    parseGatePolicy(text, source);
    parseRepoConfig(text, source);
    return undefined;
  } catch (err) {
    if (!isCookError(err)) throw err;
    return `${err.message} (merged into ${target.target}, it would stop every gate there: fix it on this branch)`;
  }
}

/** The `[[gates]]` of the server's defaults file, checked; none when no file is configured. Throws invalid, naming the file and line. */
export function loadDefaultGates(file: string | undefined): GateDefinition[] {
  if (!file) return [];
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new CookError("invalid", `[gates] defaults_file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseGates(text, file);
}
