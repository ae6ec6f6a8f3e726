import type { AgentEvent } from "../core/agent-event.js";
import { terminalSafe } from "./output.js";

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);
const oneLine = (value: unknown, max = 200) => clip(typeof value === "string" ? value : JSON.stringify(value) ?? "", max).replace(/\s+/g, " ");

/**
 * One agent event as the CLI prints it: messages in full, everything else on one line (tool input
 * and output cut to 200 characters). Control characters are escaped (a stream may hold anything).
 */
export function formatAgentEvent(event: AgentEvent): string {
  switch (event.kind) {
    case "session_started":
      return terminalSafe(`● session ${event.nativeId}${event.model ? ` (${event.model})` : ""}`);
    case "user_prompt":
      return terminalSafe(`> ${event.text}`, { multiline: true });
    case "assistant_message":
      return terminalSafe(event.text, { multiline: true });
    case "reasoning":
      return terminalSafe(`(thinking) ${oneLine(event.text, 400)}`);
    case "tool_call":
      return terminalSafe(`→ ${event.name} ${oneLine(event.input)}`);
    case "tool_result":
      return terminalSafe(`← ${event.isError ? "[error] " : ""}${oneLine(event.output)}`);
    case "file_change":
      return terminalSafe(`± ${event.changes.map((change) => `${change.change} ${change.path}`).join(", ")}`);
    case "usage":
      return `  tokens in ${event.inputTokens}, out ${event.outputTokens}${event.cacheReadTokens ? `, cache read ${event.cacheReadTokens}` : ""}${event.costUsd !== undefined ? `, $${event.costUsd.toFixed(4)}` : ""}`;
    case "turn_completed":
      return terminalSafe(`— run ${event.isError ? "failed" : "ended"}${event.numTurns !== undefined ? ` after ${event.numTurns} turns` : ""}${event.totalCostUsd !== undefined ? `, $${event.totalCostUsd.toFixed(4)}` : ""}`);
    case "error":
      return terminalSafe(`! ${event.rateLimited ? "rate limited: " : ""}${oneLine(event.message, 400)}${event.retryAt ? ` (until ${event.retryAt})` : ""}`);
    case "raw":
      return terminalSafe(`[${event.stream}] ${oneLine(event.text, 400)}`);
    default:
      return terminalSafe(oneLine(event));
  }
}
