/**
 * One event of an agent session, normalized from whatever the agent CLI printed. Every parser in
 * src/agents/parsers turns its CLI's stream into these; the store keeps them in order
 * (agent_events), the bus publishes them and the branch page shows them.
 *
 * Field units: tokens are counts, `costUsd` is US dollars, `durationMs` milliseconds.
 */
export type AgentEvent =
  | SessionStartedEvent
  | UserPromptEvent
  | AssistantMessageEvent
  | ReasoningEvent
  | ToolCallEvent
  | ToolResultEvent
  | FileChangeEvent
  | UsageEvent
  | TurnCompletedEvent
  | AgentErrorEvent
  | RawEvent;

/** The CLI named its own session: the id to resume it by (`--resume <id>`, `exec resume <id>`, …). */
export interface SessionStartedEvent {
  kind: "session_started";
  nativeId: string;
  model?: string;
}

/** A prompt given to the agent: the first one, a follow-up, or a human's answer. */
export interface UserPromptEvent {
  kind: "user_prompt";
  text: string;
}

/** Text the model wrote for the user (markdown). Streamed deltas are merged into one message. */
export interface AssistantMessageEvent {
  kind: "assistant_message";
  text: string;
}

/** The model's visible reasoning or thinking summary. */
export interface ReasoningEvent {
  kind: "reasoning";
  text: string;
}

/** The agent called a tool. `callId` pairs it with its result when the CLI gives one. */
export interface ToolCallEvent {
  kind: "tool_call";
  callId?: string;
  /** The tool's name as the CLI calls it: `Bash`, `exec_command`, `write_file`, `apply_patch`, … */
  name: string;
  input: unknown;
}

/** What a tool call returned. */
export interface ToolResultEvent {
  kind: "tool_result";
  callId?: string;
  output: string;
  isError: boolean;
}

/**
 * The agent changed files in its checkout (as the CLI reported it; git is the truth). `write`: the
 * file was written whole and the CLI did not say whether it existed before (Gemini CLI's
 * write_file, Cursor's write tool).
 */
export interface FileChangeEvent {
  kind: "file_change";
  changes: { path: string; change: "add" | "update" | "delete" | "write" }[];
}

/**
 * Tokens used since the previous usage event: one model response or step for most CLIs, the whole
 * run for Gemini CLI, which reports nothing finer (never running totals: parsers of CLIs that
 * report running totals subtract). `inputTokens` counts only input read fresh: tokens read from or
 * written to the provider's prompt cache are in `cacheReadTokens`/`cacheWriteTokens` and not also
 * in `inputTokens` (parsers split counts that include the cached part, as OpenAI's do), so those
 * three add up to what the model read. `outputTokens` include reasoning tokens. `costUsd` only when the
 * CLI reports it.
 */
export interface UsageEvent {
  kind: "usage";
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  costUsd?: number;
  model?: string;
}

/**
 * The agent finished a run (one prompt's worth of turns). `isError` when the CLI says the run failed.
 * `totalCostUsd` and `durationMs` as the CLI reports them for the run, if it does.
 */
export interface TurnCompletedEvent {
  kind: "turn_completed";
  isError: boolean;
  result?: string;
  numTurns?: number;
  durationMs?: number;
  totalCostUsd?: number;
}

/**
 * The CLI reported an error. `rateLimited` for a provider's rate-limit or quota error, with
 * `retryAt` (ISO 8601) when the CLI says when the limit resets.
 */
export interface AgentErrorEvent {
  kind: "error";
  message: string;
  rateLimited?: boolean;
  retryAt?: string;
}

/**
 * Anything a parser did not recognise, kept verbatim: a JSON line of an unknown type (`json`),
 * or a line that is not JSON (`text`). `stream` says where the line came from.
 */
export interface RawEvent {
  kind: "raw";
  stream: "stdout" | "stderr";
  text: string;
  json?: unknown;
}

export type AgentEventKind = AgentEvent["kind"];

/**
 * A parser of one CLI's output. It is fed stdout lines (without the newline) in order and
 * returns the events each line yields (zero or more); `end()` flushes what it still holds (a
 * message being streamed as deltas) when the process has exited. A parser never throws: unknown
 * input becomes `raw` events. stderr is not fed to parsers (the runner keeps it as raw `stderr`).
 */
export interface AgentStreamParser {
  line(text: string): AgentEvent[];
  end(): AgentEvent[];
}

/** The agent kinds Cook knows how to drive (`[agents.<name>] kind = …`). */
export const agentKinds = ["claude", "codex", "gemini", "opencode", "cursor", "command"] as const;
export type AgentKind = (typeof agentKinds)[number];

export function isAgentKind(text: string): text is AgentKind {
  return (agentKinds as readonly string[]).includes(text);
}
