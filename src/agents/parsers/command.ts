import type { AgentStreamParser } from "../../core/agent-event.js";
import { bounded } from "./bounded.js";

/**
 * The `command` kind runs any program: its output has no format to interpret, so every stdout
 * line, blank ones included, is an assistant_message of that line's text (capped like every event).
 */
export function createCommandParser(): AgentStreamParser {
  return bounded({
    line: (text) => [{ kind: "assistant_message", text: text.endsWith("\r") ? text.slice(0, -1) : text }],
    end: () => [],
  });
}
