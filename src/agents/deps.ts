import type { AgentSettings } from "../config/agent-config.js";
import type { BranchDeps } from "../branches/deps.js";
import type { AgentEventWriter } from "./event-writer.js";

/** A run going on now: how to stop it, and why it was stopped (set before the stop). */
export interface LiveRun {
  sessionId: string;
  /** When its process was started (ms since the epoch). */
  startedAt: number;
  abort: AbortController;
  /** Set by whoever stops the run, read when the process has ended. */
  stop: RunStop | undefined;
  /** The run ends when this resolves (its process has exited and its events are stored). */
  finished: Promise<void>;
  /** Timers to clear when the run ends (help grace, watchdogs). */
  timers: Set<NodeJS.Timeout>;
}

/** Why a run was stopped from outside its process. */
export type RunStop =
  | { by: "human"; actor: string }
  | { by: "help" }
  | { by: "watchdog"; reason: string; nudge: string | undefined }
  | { by: "budget"; reason: string }
  | { by: "resume_mismatch"; reason: string }
  | { by: "rate_limit"; reason: string; retryAt: string | undefined }
  | { by: "shutdown" };

/** What the agent service works with; built once by the server (server/services.ts). */
export interface AgentDeps extends BranchDeps {
  agentSettings: AgentSettings;
  /** The agent a session runs when none is named (`[defaults] agent`). */
  defaultAgent: string;
  /** Stores the events of all running agents in shared transactions. */
  agentWriter: AgentEventWriter;
  /** Runs going on now, by session id. */
  liveRuns: Map<string, LiveRun>;
  /** Paused sessions waiting for a rate limit to reset, by session id. */
  resumeTimers: Map<string, NodeJS.Timeout>;
}
