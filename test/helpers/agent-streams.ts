import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parserFor } from "../../src/agents/parsers/index.js";
import { streamLines } from "../../src/agents/stream-lines.js";
import type { AgentEvent, AgentKind } from "../../src/core/agent-event.js";
import { packageRoot } from "../../src/config/package-root.js";

export const streamsDir = join(packageRoot(), "test", "fixtures", "agent-streams");

/** A fixed clock for parsers: relative reset times ("retry in 20s") come out the same every run. */
export const fixedNow = new Date("2026-01-15T12:00:00.000Z");

/** The `.jsonl` files of one fixture folder, sorted. */
export function streamFiles(folder: string): string[] {
  return readdirSync(join(streamsDir, folder))
    .filter((name) => name.endsWith(".jsonl"))
    .sort()
    .map((name) => join(streamsDir, folder, name));
}

export interface ParsedStream {
  /** Each input line and what the parser returned for it. */
  lines: { text: string; events: AgentEvent[] }[];
  /** What end() returned. */
  end: AgentEvent[];
  events: AgentEvent[];
}

/** Feeds a file's bytes to a fresh parser the way `cook agent parse` does. */
export async function parseFile(kind: AgentKind, path: string): Promise<ParsedStream> {
  return parseBytes(kind, readFileSync(path));
}

export async function parseBytes(kind: AgentKind, bytes: Uint8Array | string): Promise<ParsedStream> {
  const parser = parserFor(kind, { now: () => fixedNow });
  const lines: ParsedStream["lines"] = [];
  async function* once() {
    yield bytes;
  }
  for await (const text of streamLines(once())) lines.push({ text, events: parser.line(text) });
  const end = parser.end();
  return { lines, end, events: [...lines.flatMap((l) => l.events), ...end] };
}

/** Parses a list of lines (objects are serialized) with a fresh parser, end() included. */
export function parseLines(kind: AgentKind, input: (string | object)[], options: { now?: Date } = {}): AgentEvent[] {
  const parser = parserFor(kind, { now: () => options.now ?? fixedNow });
  const events = input.flatMap((line) => parser.line(typeof line === "string" ? line : JSON.stringify(line)));
  return [...events, ...parser.end()];
}

/** The events of one kind, narrowed. */
export function ofKind<K extends AgentEvent["kind"]>(events: AgentEvent[], kind: K): Extract<AgentEvent, { kind: K }>[] {
  return events.filter((e): e is Extract<AgentEvent, { kind: K }> => e.kind === kind);
}

/** Token totals of a list of events. */
export function usageTotals(events: AgentEvent[]) {
  const totals = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
  for (const e of ofKind(events, "usage")) {
    totals.inputTokens += e.inputTokens;
    totals.outputTokens += e.outputTokens;
    totals.cacheReadTokens += e.cacheReadTokens ?? 0;
    totals.cacheWriteTokens += e.cacheWriteTokens ?? 0;
  }
  return totals;
}
