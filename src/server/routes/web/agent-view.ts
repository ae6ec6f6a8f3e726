import { editDiffOf, type EditDiff } from "../../../agents/edit-diff.js";
import type { AgentEvent } from "../../../core/agent-event.js";
import { waitsOnHuman, type AgentSession, type SessionStatus } from "../../../core/agent-session.js";
import type { Renderer } from "../../render/renderer.js";

/** How each status reads on a page: "waiting" is a human's turn. */
const statusLabels: Record<SessionStatus, string> = {
  running: "running",
  paused: "paused",
  waiting: "waiting on you",
  completed: "completed",
  failed: "failed",
  interrupted: "interrupted",
};

/** A session as pages show it; `waiting`: it waits on a human (core/agent-session.ts, waitsOnHuman). */
export type SessionView = AgentSession & { statusLabel: string; waiting: boolean; cacheTokens: number };

export function presentSession(session: AgentSession): SessionView {
  return {
    ...session,
    statusLabel: statusLabels[session.status] ?? session.status,
    waiting: waitsOnHuman(session),
    cacheTokens: session.usage.cacheReadTokens + session.usage.cacheWriteTokens,
  };
}

/** An agent event as it is stored and as `output` events carry it. */
export interface NumberedEvent {
  seq: number;
  run: number;
  event: AgentEvent;
}

/**
 * An event as views/agents/_events.njk shows it. Texts are cut to `displayChars` (the whole event
 * stays in the store and the API); `cut` says how many characters are not shown.
 */
export interface EventView {
  seq: number;
  run: number;
  kind: string;
  /** Sanitized HTML of an assistant message. */
  html?: string;
  text?: string;
  cut?: number;
  /** One line that stands for a collapsed block: a command, a path, the first line of output. */
  gist?: string;
  /** The change a file-writing tool call makes, from its input (agents/edit-diff.ts). */
  diff?: EditDiff;
  lines?: number;
  name?: string;
  isError?: boolean;
  changes?: Array<{ path: string; change: string }>;
  usage?: { inputTokens: number; outputTokens: number; cacheTokens: number; costUsd: number | undefined };
  numTurns?: number;
  durationMs?: number;
  costUsd?: number;
  stream?: string;
  nativeId?: string;
  model?: string;
  retryAt?: string;
}

/** Characters of one text shown on the page: a tool's 64 KiB output would make a page of megabytes. */
export const displayChars = 16_000;
const gistChars = 160;

const str = (value: unknown): string => (typeof value === "string" ? value : value === undefined || value === null ? "" : String(value));
const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);
const optionalNum = (value: unknown): number | undefined => (typeof value === "number" && Number.isFinite(value) ? value : undefined);

function capped(text: string): { text: string; cut?: number } {
  return text.length <= displayChars ? { text } : { text: text.slice(0, displayChars), cut: text.length - displayChars };
}

function countLines(text: string): number {
  let lines = 1;
  for (let at = text.indexOf("\n"); at >= 0 && at < text.length - 1; at = text.indexOf("\n", at + 1)) lines++;
  return lines;
}

/** The first non-empty line, clipped: what a collapsed block shows. */
export function gistOf(text: string): string {
  const line = text.trimStart().split("\n", 1)[0]!.trimEnd();
  return line.length > gistChars ? `${line.slice(0, gistChars)}…` : line;
}

// The fields of a tool's input that say what it does, in the names the CLIs use.
const gistKeys = ["command", "cmd", "file_path", "path", "filePath", "pattern", "url", "query", "description", "prompt"];

function toolGist(input: unknown): string {
  if (typeof input === "string") return gistOf(input);
  if (input && typeof input === "object" && !Array.isArray(input)) {
    for (const key of gistKeys) {
      const value = (input as Record<string, unknown>)[key];
      if (typeof value === "string" && value.trim() !== "") return gistOf(value);
      if (Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === "string")) return gistOf(value.join(" "));
    }
  }
  return gistOf(JSON.stringify(input) ?? "");
}

function presentOne(record: NumberedEvent): EventView {
  const { seq, run } = record;
  const e = record.event as AgentEvent & Record<string, unknown>;
  const base = { seq, run, kind: str(e.kind) };
  switch (e.kind) {
    case "session_started":
      return { ...base, nativeId: str(e.nativeId), model: e.model === undefined ? undefined : str(e.model) };
    case "user_prompt":
    case "reasoning":
      return { ...base, ...capped(str(e.text)) };
    case "assistant_message":
      return { ...base, text: str(e.text) };
    case "tool_call": {
      const input = typeof e.input === "string" ? e.input : (JSON.stringify(e.input, null, 2) ?? "");
      return { ...base, name: str(e.name), gist: toolGist(e.input), diff: editDiffOf(str(e.name), e.input), ...capped(input) };
    }
    case "tool_result": {
      const output = str(e.output);
      return { ...base, isError: e.isError === true, gist: gistOf(output), lines: output === "" ? 0 : countLines(output), ...capped(output) };
    }
    case "file_change":
      return { ...base, changes: (Array.isArray(e.changes) ? e.changes : []).map((c: { path?: unknown; change?: unknown }) => ({ path: str(c?.path), change: str(c?.change) })) };
    case "usage":
      return { ...base, usage: { inputTokens: num(e.inputTokens), outputTokens: num(e.outputTokens), cacheTokens: num(e.cacheReadTokens) + num(e.cacheWriteTokens), costUsd: optionalNum(e.costUsd) } };
    case "turn_completed":
      return { ...base, isError: e.isError === true, numTurns: optionalNum(e.numTurns), durationMs: optionalNum(e.durationMs), costUsd: optionalNum(e.totalCostUsd), ...(e.result === undefined ? {} : capped(str(e.result))) };
    case "error":
      return { ...base, ...capped(str(e.message)), retryAt: e.retryAt === undefined ? undefined : str(e.retryAt) };
    case "raw": {
      const text = str(e.text);
      return { ...base, stream: e.stream === "stderr" ? "stderr" : "stdout", gist: gistOf(text), lines: countLines(text), ...capped(text) };
    }
    default: {
      // A kind this page does not know yet: shown as its JSON, like a raw line.
      const text = JSON.stringify(e, null, 2) ?? "";
      return { ...base, kind: "raw", stream: "stdout", gist: gistOf(text), lines: countLines(text), ...capped(text) };
    }
  }
}

/**
 * Events as the page shows them, in the order given; assistant messages become sanitized HTML,
 * rendered off the event loop in batches (render/renderer.ts).
 */
export async function presentEvents(records: readonly NumberedEvent[], render: Renderer): Promise<EventView[]> {
  const views = records.map(presentOne);
  const messages = views.filter((view) => view.kind === "assistant_message");
  const html = await render.markdownList(messages.map((view) => view.text ?? ""));
  messages.forEach((view, i) => {
    view.html = html[i];
    delete view.text;
  });
  return views;
}
