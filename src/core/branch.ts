import { CookError } from "./errors.js";
import { isValidBranchName } from "./names.js";
import { showInput } from "./show-input.js";

/** A branch record's life: open while work goes on; merged or abandoned for good (never deleted). */
export type BranchStatus = "open" | "merged" | "abandoned";
export const branchStatuses: readonly BranchStatus[] = ["open", "merged", "abandoned"];

/** Where an environment is in its life; `lost` is a folder that vanished under the server. */
export type EnvironmentState = "creating" | "ready" | "failed" | "lost" | "torn_down";
export const liveEnvironmentStates: readonly EnvironmentState[] = ["creating", "ready", "failed", "lost"];

/** The backends this server has; `docker`, `modal` and `remote:<host>` are named by the spec and come later. */
export type BackendName = "local" | "sandbox" | "none";
export const backendNames: readonly BackendName[] = ["local", "sandbox", "none"];

/** How a branch came to be tracked. */
export type BranchOrigin = "create" | "push" | "adopt";

export interface Branch {
  /** `brn_…` (core/ids.ts). */
  id: string;
  repo: string;
  name: string;
  baseBranch: string;
  /** The base branch's commit when the branch was made: what "ahead/behind" and the diff are measured against. */
  baseCommit: string;
  taskId: string | undefined;
  status: BranchStatus;
  origin: BranchOrigin;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** When it was merged or abandoned. */
  endedAt: string | undefined;
  /** `refs/archive/<name>/<timestamp>` once abandoned or merged: where its last commit is kept. */
  archiveRef: string | undefined;
}

export interface Environment {
  /** `env_…`. */
  id: string;
  branchId: string;
  backend: Exclude<BackendName, "none">;
  /** Absolute folder of the checkout. */
  path: string;
  state: EnvironmentState;
  /** First port of this environment's block; PORT is this, COOK_PORT_BASE too. */
  portBase: number;
  portCount: number;
  databases: Array<{ name: string; database: string; url: string }>;
  network: boolean;
  setupCommand: string | undefined;
  /** Why it failed or was lost, one line. */
  error: string | undefined;
  createdAt: string;
  updatedAt: string;
  tornDownAt: string | undefined;
}

export const branchNameRule =
  "a branch name follows git check-ref-format --branch: no spaces, control characters, '~ ^ : ? * [ \\', '..', '@{', leading '-' or '/', trailing '/' or '.', components starting with '.' or ending in '.lock', at most 255 bytes";

export function checkBranchName(name: unknown, what = "branch name"): string {
  if (typeof name !== "string" || !isValidBranchName(name)) {
    throw new CookError("invalid", `${showInput(name)} is not a valid ${what}: ${branchNameRule}`);
  }
  return name;
}

export function checkBackendName(name: unknown): BackendName {
  if (typeof name === "string" && (backendNames as readonly string[]).includes(name)) return name as BackendName;
  const shown = showInput(name);
  throw new CookError("invalid", `unknown environment backend ${shown}; this server has ${backendNames.join(", ")} (docker, modal and remote come later)`);
}

/** The branch name derived from a task: its id, made unique with `-2`, `-3` against names in use. */
export function branchNameForTask(taskId: string, taken: ReadonlySet<string>): string {
  if (!taken.has(taskId)) return taskId;
  for (let n = 2; ; n++) if (!taken.has(`${taskId}-${n}`)) return `${taskId}-${n}`;
}

/**
 * A branch name stem from a prompt: its first words as a lowercase ASCII slug of at most 40
 * characters ("Fix the login bug!" → `fix-the-login-bug`); `agent-work` when nothing is left.
 */
export function branchStemForPrompt(prompt: string): string {
  const words = prompt
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== "")
    .slice(0, 6);
  let stem = "";
  for (const word of words) {
    const next = stem === "" ? word : `${stem}-${word}`;
    if (next.length > 40) break;
    stem = next;
  }
  return stem === "" ? "agent-work" : stem;
}
