import { createHash } from "node:crypto";

/** How a gate judges: a command's exit code, an agent's review, or a person's approval. */
export type GateKind = "command" | "agent_review" | "human_approval";
export const gateKinds: readonly GateKind[] = ["command", "agent_review", "human_approval"];

/** What happens when a gate fails: the branch's agent is handed the failure, or the run just stops. */
export type GateFailAction = "agent" | "stop";

/** One `[[gates]]` entry of a repo's cook.toml, checked and defaulted. */
export interface GateDefinition {
  /** Unique within the repo: lowercase letters, digits, `-` and `_`. */
  name: string;
  kind: GateKind;
  /** The shell command of a `command` gate. */
  command: string | undefined;
  /** A run of the gate is killed after this long (ms; default 30 minutes). */
  timeoutMs: number;
  /** Exit codes declared flaky, retried up to `limit` more attempts; any other failure is final. */
  retries: { exitCodes: number[]; limit: number };
  onFail: GateFailAction;
  /** `agent_review`: the configured agent that reviews (default: the server's default agent). */
  agent: string | undefined;
  /** `agent_review`: what the reviewer is asked. */
  prompt: string | undefined;
  /** `human_approval`: token names allowed to approve; empty means any user. */
  reviewers: string[];
  /** 1-based line of the entry's `[[gates]]` header in cook.toml, for messages. */
  line: number | undefined;
}

/**
 * A stable hash of a repo's gate definitions (sha256 of their canonical JSON, lines left out): a
 * result is reused only for the same tree under the same definitions.
 */
export function gateConfigHash(gates: readonly GateDefinition[]): string {
  const canonical = gates.map(({ line: _line, ...gate }) => gate);
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

/**
 * Where a run is. `queued`: waiting for a slot (`[gates] concurrency`). `running`: a gate executes.
 * `waiting`: a human_approval gate waits for a reviewer. `passed`: every gate passed. `failed`: one
 * gate failed (or the definitions could not be read). `canceled`: a newer push made it moot.
 * `interrupted`: the server stopped under it; a new run was started in its place.
 */
export type GateRunState = "queued" | "running" | "waiting" | "passed" | "failed" | "canceled" | "interrupted";
export const unfinishedRunStates: readonly GateRunState[] = ["queued", "running", "waiting"];

/** Why a run was started. */
export type GateRunReason = "push" | "done" | "rerun" | "restart" | "merge";

/** One gate's conclusion within a run; `not_run` follows a failure and is never a pass. */
export type GateResultState = "pending" | "running" | "waiting" | "passed" | "failed" | "canceled" | "interrupted" | "not_run";

export interface GateResult {
  runId: string;
  position: number;
  gate: string;
  kind: GateKind;
  definition: GateDefinition;
  state: GateResultState;
  /** The run whose pass on the same tree under the same definitions this result takes over. */
  reusedFrom: string | undefined;
  /** One line: why it failed, the verdict, who approved. */
  summary: string | undefined;
  /** A review's comments, or a reply that could not be read as a verdict. */
  detail: string | undefined;
  handedBack: boolean;
  startedAt: string | undefined;
  endedAt: string | undefined;
}

/** One judging of one commit of a branch by its target branch's gates (`run_…`). */
export interface GateRun {
  id: string;
  branchId: string;
  repo: string;
  /** The commit judged: the branch's head, or a merge candidate when `reason` is `merge`. */
  head: string;
  tree: string;
  /** The branch whose cook.toml gave the gates, and its commit when the run began. */
  target: string;
  targetCommit: string;
  configHash: string;
  reason: GateRunReason;
  state: GateRunState;
  /** Why the whole run failed at once (an invalid cook.toml), one line. */
  error: string | undefined;
  requestedBy: string;
  createdAt: string;
  startedAt: string | undefined;
  endedAt: string | undefined;
  results: GateResult[];
}

/** One attempt of a command gate: flaky exits are retried as new attempts, all kept. */
export interface GateAttempt {
  runId: string;
  gate: string;
  /** 1-based. */
  attempt: number;
  state: "running" | "passed" | "failed" | "canceled" | "interrupted";
  exitCode: number | undefined;
  durationMs: number | undefined;
  /** Bytes of output seen, kept or not (the kept log stops at a cap). */
  logBytes: number;
  startedAt: string;
  endedAt: string | undefined;
}

/** A reviewer's verdict on one commit (`apr_…`). */
export interface Approval {
  id: string;
  branchId: string;
  head: string;
  gate: string;
  reviewer: string;
  verdict: "approve" | "reject";
  comment: string | undefined;
  createdAt: string;
}

/** How a branch lands: `auto` fast-forwards when it can, else makes a merge commit. */
export type MergeStrategy = "auto" | "ff-only" | "merge" | "squash";
export const mergeStrategies: readonly MergeStrategy[] = ["auto", "ff-only", "merge", "squash"];

/** queued → (gating →) merging → merged, or refused / conflicted / failed with the reason. */
export type MergeState = "queued" | "gating" | "merging" | "merged" | "refused" | "conflicted" | "failed";
export const liveMergeStates: readonly MergeState[] = ["queued", "gating", "merging"];

/** One request to land a branch on its target (`mrg_…`). */
export interface Merge {
  id: string;
  branchId: string;
  repo: string;
  target: string;
  strategy: MergeStrategy;
  state: MergeState;
  /** The branch's commit being merged. */
  head: string | undefined;
  /** The target's commit the candidate was built on: the compare-and-swap's expected old value. */
  targetOld: string | undefined;
  /** The commit the target moves to. */
  candidate: string | undefined;
  /** The candidate's own gate run, when the target had moved since the branch's gates ran. */
  gateRunId: string | undefined;
  conflicts: string[];
  message: string | undefined;
  requestedBy: string;
  createdAt: string;
  updatedAt: string;
  endedAt: string | undefined;
}
