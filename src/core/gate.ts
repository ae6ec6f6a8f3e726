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
