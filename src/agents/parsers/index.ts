// Placeholder until the parsers land: every kind reads lines as JSON-or-text raw events, and the
// command kind as messages.
import type { AgentEvent, AgentKind, AgentStreamParser } from "../../core/agent-event.js";

export function parserFor(kind: AgentKind): AgentStreamParser {
  return {
    line(text: string): AgentEvent[] {
      if (kind === "command") return [{ kind: "assistant_message", text }];
      return [{ kind: "raw", stream: "stdout", text }];
    },
    end: () => [],
  };
}
