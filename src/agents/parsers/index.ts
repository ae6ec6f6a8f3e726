import type { AgentKind, AgentStreamParser } from "../../core/agent-event.js";
import { createClaudeParser } from "./claude.js";
import { createCodexParser, type CodexParserOptions } from "./codex.js";
import { createCommandParser } from "./command.js";
import { createCursorParser } from "./cursor.js";
import { createGeminiParser } from "./gemini.js";
import { createOpenCodeParser } from "./opencode.js";

export { maxEventTextChars } from "./bounded.js";
export type { CodexParserOptions, CodexTotals } from "./codex.js";
export type { ParserOptions } from "./options.js";

/**
 * A fresh parser for one run of an agent CLI of this kind (parsers keep state across lines: one
 * per process, never shared). Options apply where the kind uses them (`threadTotals`: codex only).
 */
export function parserFor(kind: AgentKind, options: CodexParserOptions = {}): AgentStreamParser {
  switch (kind) {
    case "claude":
      return createClaudeParser(options);
    case "codex":
      return createCodexParser(options);
    case "gemini":
      return createGeminiParser(options);
    case "opencode":
      return createOpenCodeParser(options);
    case "cursor":
      return createCursorParser(options);
    case "command":
      return createCommandParser();
  }
}
