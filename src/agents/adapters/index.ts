import type { AgentKind } from "../../core/agent-event.js";
import type { AgentAdapter } from "./adapter.js";
import { claudeAdapter } from "./claude.js";
import { codexAdapter } from "./codex.js";
import { commandAdapter } from "./command.js";
import { cursorAdapter } from "./cursor.js";
import { geminiAdapter } from "./gemini.js";
import { opencodeAdapter } from "./opencode.js";

const adapters: Record<AgentKind, AgentAdapter> = {
  claude: claudeAdapter,
  codex: codexAdapter,
  gemini: geminiAdapter,
  opencode: opencodeAdapter,
  cursor: cursorAdapter,
  command: commandAdapter,
};

export function adapterFor(kind: AgentKind): AgentAdapter {
  return adapters[kind];
}

export type { AgentAdapter, RunRequest } from "./adapter.js";
