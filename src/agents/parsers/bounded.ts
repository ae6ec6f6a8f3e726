import type { AgentEvent, AgentStreamParser, RawEvent } from "../../core/agent-event.js";

/**
 * The most text one event keeps in any one field: 64 KiB of UTF-16 code units. A CLI can print a
 * whole file or a command's output as one line (tens of MB); the event keeps its head and says how
 * much was cut. Everything a parser emits passes through here, so the cap holds for every kind.
 */
export const maxEventTextChars = 64 * 1024;

/**
 * Lines longer than this are not parsed as JSON at all: they become one `raw` text event (capped
 * like any other). JSON.parse of such a line would build an object tree many times its size.
 */
export const maxParsedLineChars = 32 * 1024 * 1024;

/** `text` cut to `limit` characters with a marker saying how many were dropped; shorter text is returned as is. */
export function capText(text: string, limit = maxEventTextChars): string {
  if (text.length <= limit) return text;
  // Never split a surrogate pair: the kept head stays valid UTF-16.
  let end = limit;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…[truncated ${text.length - end} chars]`;
}

/** A JSON value kept only while its serialized form fits the cap; otherwise a preview of that form. */
export function capJson(value: unknown): unknown {
  if (value === undefined || value === null || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "string") return capText(value);
  let serialized: string;
  try {
    serialized = JSON.stringify(value) ?? "";
  } catch {
    return "[unserializable]";
  }
  return serialized.length <= maxEventTextChars ? value : { truncated: true, preview: capText(serialized) };
}

/** A stdout line that is not JSON (or too large to parse), kept as text. */
export function rawText(text: string): RawEvent {
  return { kind: "raw", stream: "stdout", text };
}

/** A JSON line this parser does not recognise, kept verbatim: the line and its parsed value. */
export function rawJson(text: string, json: unknown): RawEvent {
  return { kind: "raw", stream: "stdout", text, json };
}

/** Caps every text field of an event and bounds its free-form JSON (`input`, `json`). */
export function boundEvent(event: AgentEvent): AgentEvent {
  switch (event.kind) {
    case "session_started":
      return { ...event, nativeId: capText(event.nativeId, 1024), ...(event.model === undefined ? {} : { model: capText(event.model, 1024) }) };
    case "user_prompt":
    case "assistant_message":
    case "reasoning":
      return { ...event, text: capText(event.text) };
    case "tool_call":
      return { ...event, name: capText(event.name, 1024), input: capJson(event.input), ...(event.callId === undefined ? {} : { callId: capText(event.callId, 1024) }) };
    case "tool_result":
      return { ...event, output: capText(event.output), ...(event.callId === undefined ? {} : { callId: capText(event.callId, 1024) }) };
    case "file_change":
      return { ...event, changes: event.changes.slice(0, 1000).map((change) => ({ ...change, path: capText(change.path, 4096) })) };
    case "turn_completed":
      return event.result === undefined ? event : { ...event, result: capText(event.result) };
    case "error":
      return { ...event, message: capText(event.message) };
    case "raw": {
      // A line too big to keep is kept as its capped text alone: its parsed value would be as big.
      const text = capText(event.text);
      if (text.length !== event.text.length || event.json === undefined) return { kind: "raw", stream: event.stream, text };
      return { ...event, text, json: capJson(event.json) };
    }
    case "usage":
      return event;
  }
}

/** What a parser works on: one line as a JSON object, or the reason it is kept as raw text. */
export type ParsedLine =
  | { kind: "object"; value: Record<string, unknown> }
  | { kind: "json"; value: unknown }
  | { kind: "text" }
  | { kind: "empty" };

/** Parses one stdout line. A trailing CR (a CRLF stream) is dropped; blank lines are `empty`. */
export function parseLine(line: string): ParsedLine {
  const trimmed = line.trim();
  if (trimmed === "") return { kind: "empty" };
  if (trimmed.length > maxParsedLineChars || !(trimmed.startsWith("{") || trimmed.startsWith("["))) return { kind: "text" };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { kind: "text" };
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) return { kind: "object", value: value as Record<string, unknown> };
  return { kind: "json", value };
}

/** The part of a CLI parser that knows its format; `parseJsonLines` and `bounded` do the rest. */
export interface ObjectParser {
  /** One JSON object line; `line` is the text it came from, for raw events. */
  object(value: Record<string, unknown>, line: string): AgentEvent[];
  /** A line that is not a JSON object (text, or JSON of another shape), after its raw event is made. */
  other?(): AgentEvent[];
  end(): AgentEvent[];
}

/**
 * The parser for a CLI that prints one JSON object a line: non-JSON lines (banners, warnings, a
 * torn last line) and JSON that is not an object become raw events, blank lines nothing.
 */
export function parseJsonLines(core: ObjectParser): AgentStreamParser {
  return bounded({
    line(text) {
      const parsed = parseLine(text);
      switch (parsed.kind) {
        case "empty":
          return [];
        case "text":
          return [...(core.other?.() ?? []), rawText(text)];
        case "json":
          return [...(core.other?.() ?? []), rawJson(text, parsed.value)];
        case "object":
          return core.object(parsed.value, text);
      }
    },
    end: () => core.end(),
  });
}

/**
 * Makes a parser keep the promises of AgentStreamParser whatever its format code does: it never
 * throws (a line that makes it throw becomes a raw event), every event is bounded (see
 * maxEventTextChars), and `end()` flushes once.
 */
export function bounded(parser: AgentStreamParser): AgentStreamParser {
  let ended = false;
  return {
    line(text) {
      if (ended) return [boundEvent(rawText(text))];
      try {
        return parser.line(text).map(boundEvent);
      } catch {
        return [boundEvent(rawText(text))];
      }
    },
    end() {
      if (ended) return [];
      ended = true;
      try {
        return parser.end().map(boundEvent);
      } catch {
        return [];
      }
    },
  };
}
