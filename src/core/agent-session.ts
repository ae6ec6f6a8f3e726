import type { AgentKind } from "./agent-event.js";

/**
 * Where an agent session is. `running`: its CLI runs now. `paused`: a provider's rate limit
 * stopped it until `resumeAt`. `waiting`: it waits on a human (it asked for help, or it ended with
 * nothing to push). `completed`: it said `cook done` (or ended with commits, which were pushed).
 * `failed`: it could not start, exited with an error, or a budget or watchdog stopped it.
 * `interrupted`: a human or a server restart stopped it. Every state but `running` takes a follow-up
 * prompt, which resumes the same native session.
 */
export type SessionStatus = "running" | "paused" | "waiting" | "completed" | "failed" | "interrupted";
export const sessionStatuses: readonly SessionStatus[] = ["running", "paused", "waiting", "completed", "failed", "interrupted"];

/** What the agent itself said about its run: `cook done`, or `cook ask-for-help`. */
export type SessionOutcome = "done" | "help";

export interface AgentSession {
  /** `ses_…`. */
  id: string;
  branchId: string;
  environmentId: string | undefined;
  /** The configured agent name (`[agents.<name>]`), e.g. `claude` or `fixer`. */
  agent: string;
  kind: AgentKind;
  /** The CLI's own session id (Claude's session_id, Codex's thread_id, …), once the CLI named it. */
  nativeId: string | undefined;
  model: string | undefined;
  status: SessionStatus;
  /** Why it is waiting, failed, interrupted or paused; one line. */
  reason: string | undefined;
  outcome: SessionOutcome | undefined;
  /** Prompts run so far (the first is run 1). */
  runs: number;
  /** Model turns (requests the model answered) so far. */
  turns: number;
  exitCode: number | undefined;
  usage: SessionUsage;
  /** Where `usage.costUsd` comes from: the CLI's own report, or the server's price table. */
  costSource: "reported" | "price_table" | undefined;
  /** Wall-clock time the CLI ran, summed over runs (ms). */
  durationMs: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** When the current (or last) run started. */
  runStartedAt: string | undefined;
  /** When the last run ended. */
  endedAt: string | undefined;
  /** A paused session is resumed then (ISO 8601). */
  resumeAt: string | undefined;
}

/** Token counts and cost in US dollars. */
export interface SessionUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
}

export const noUsage: SessionUsage = Object.freeze({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0 });

export function addUsage(a: SessionUsage, b: SessionUsage): SessionUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    costUsd: a.costUsd + b.costUsd,
  };
}

/** A stored agent event: the normalized event with its place in the session. */
export interface StoredAgentEvent {
  sessionId: string;
  /** 1, 2, 3 … within the session. */
  seq: number;
  /** The run (prompt) it belongs to. */
  run: number;
  at: string;
}

/** Whether a session waits on a human: it is `waiting`, or it asked for help and its run is still ending. */
export function waitsOnHuman(session: Pick<AgentSession, "status" | "outcome">): boolean {
  return session.status === "waiting" || (session.status === "running" && session.outcome === "help");
}

/** Why a run that the server's stop (or crash) cut short ended: a follow-up resumes it, as autopilot does at start-up. */
export const stoppedByServerReason = "the server stopped while it ran; send a follow-up to resume it";
