import type { AgentEvent } from "../core/agent-event.js";
import type { Event } from "../events/event.js";

// What must not reach a terminal raw: C0 controls (ESC starts the sequences that clear the screen,
// retitle the window or rewrite lines; CR overwrites a line), DEL, C1 controls (U+009B is a
// one-character CSI for many terminals), and the bidi embedding, override and isolate characters
// that reorder what is shown (Trojan Source, CVE-2021-42574).
const unsafe = /\r\n|[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\u001b": "\\e" };

/**
 * Text from the server made safe for a terminal: each control or bidi character is shown as an
 * escape (`\e`, `\n`, `\x07`, `\x9b`, `\u{202e}`). With `multiline`, newlines (and CRLF) and tabs
 * are kept, for a task body.
 */
export function terminalSafe(text: string, options: { multiline?: boolean } = {}): string {
  return text.replace(unsafe, (ch) => {
    if (options.multiline && (ch === "\n" || ch === "\r\n" || ch === "\t")) return ch === "\r\n" ? "\n" : ch;
    if (ch === "\r\n") return "\\r\\n";
    const code = ch.codePointAt(0)!;
    return named[ch] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`);
  });
}

/**
 * JSON.stringify escapes C0 controls but leaves DEL, C1 and bidi characters raw; this escapes
 * them as `\u` too, so JSON printed to a terminal is as inert as the text forms.
 */
export function toSafeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Prints one line of text that may come from the server. */
export function printLine(text: string, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(`${terminalSafe(text)}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${toSafeJson(value, 2)}\n`);
}

/** Columns padded to their widest cell; the last column is not padded. Cells are made terminal-safe. */
export function printTable(header: string[], rows: string[][]): void {
  const safeRows = rows.map((row) => row.map((cell) => terminalSafe(cell)));
  const widths = header.map((title, i) => Math.max(title.length, ...safeRows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  process.stdout.write([line(header), ...safeRows.map(line)].join("\n") + "\n");
}

/** One event as one terminal-safe line. */
export function formatEventLine(event: Event): string {
  const time = event.timestamp.replace("T", " ").slice(0, 19);
  const where = event.branch ? `${event.repo}/${event.branch}` : event.repo;
  const data = event.data === undefined ? "" : `  ${toSafeJson(event.data)}`;
  return terminalSafe(`#${event.id}  ${time}  ${event.type.padEnd(16)}  ${where}${data}`);
}

/** Text cut for a one-line view; the cut says how much is left out (`--json` shows it all). */
function clip(text: string, max = 400): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more chars)`;
}

/** One agent event as one terminal-safe line: its kind, then what it says. */
export function formatAgentEventLine(event: AgentEvent): string {
  const kind = event.kind.padEnd(18);
  const parts: string[] = [];
  switch (event.kind) {
    case "session_started":
      parts.push(event.nativeId, ...(event.model ? [`model ${event.model}`] : []));
      break;
    case "user_prompt":
    case "assistant_message":
    case "reasoning":
      parts.push(clip(event.text));
      break;
    case "tool_call":
      parts.push(event.name, ...(event.callId ? [`[${event.callId}]`] : []), clip(toSafeJson(event.input)));
      break;
    case "tool_result":
      parts.push(...(event.callId ? [`[${event.callId}]`] : []), event.isError ? "error" : "ok", clip(event.output));
      break;
    case "file_change":
      parts.push(event.changes.map((c) => `${c.change} ${c.path}`).join(", "));
      break;
    case "usage":
      parts.push(`in ${event.inputTokens}`, `out ${event.outputTokens}`);
      if (event.cacheReadTokens) parts.push(`cache read ${event.cacheReadTokens}`);
      if (event.cacheWriteTokens) parts.push(`cache write ${event.cacheWriteTokens}`);
      if (event.costUsd !== undefined) parts.push(`$${event.costUsd}`);
      if (event.model) parts.push(event.model);
      break;
    case "turn_completed":
      parts.push(event.isError ? "error" : "ok");
      if (event.numTurns !== undefined) parts.push(`${event.numTurns} turns`);
      if (event.durationMs !== undefined) parts.push(`${(event.durationMs / 1000).toFixed(1)} s`);
      if (event.totalCostUsd !== undefined) parts.push(`$${event.totalCostUsd}`);
      if (event.result) parts.push(clip(event.result));
      break;
    case "error":
      if (event.rateLimited) parts.push(event.retryAt ? `[rate limited until ${event.retryAt}]` : "[rate limited]");
      parts.push(clip(event.message));
      break;
    case "raw":
      parts.push(event.stream, clip(event.text));
      break;
  }
  return terminalSafe(`${kind}${parts.join("  ")}`);
}
