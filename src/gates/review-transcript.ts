import type { AgentEvent } from "../core/agent-event.js";

/** The most of one tool call's input or result shown in a review's log (characters). */
const shownChars = 2000;

const short = (text: string) => (text.length <= shownChars ? text : `${text.slice(0, shownChars)} … [${text.length - shownChars} more characters]`);

/**
 * One event of a reviewer's run as text for the gate's log (what the branch page and
 * `GET /api/gate-runs/:id/log` show): its messages as written, its tool calls and results cut to
 * 2000 characters, errors and stderr marked; undefined for what says nothing to a reader (usage,
 * the prompt, which is the diff again).
 */
export function transcriptLine(event: AgentEvent): string | undefined {
  switch (event.kind) {
    case "assistant_message":
      return event.text;
    case "reasoning":
      return `[thinking] ${short(event.text)}`;
    case "tool_call":
      return `[tool] ${event.name} ${short(typeof event.input === "string" ? event.input : JSON.stringify(event.input) ?? "")}`;
    case "tool_result":
      return `[${event.isError ? "tool error" : "result"}] ${short(event.output)}`;
    case "file_change":
      return `[changed, not kept] ${event.changes.map((c) => c.path).join(", ")}`;
    case "error":
      return `[error] ${event.message}`;
    case "raw":
      return event.stream === "stderr" ? `[stderr] ${short(event.text)}` : short(event.text);
    case "session_started":
      return `[session ${event.nativeId}${event.model ? `, ${event.model}` : ""}]`;
    case "turn_completed":
      return event.isError ? `[the CLI reports its run failed${event.result ? `: ${short(event.result)}` : ""}]` : undefined;
    case "user_prompt":
    case "usage":
      return undefined;
  }
}
