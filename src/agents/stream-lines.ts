import { maxParsedLineChars } from "./parsers/bounded.js";

/**
 * The lines of a byte stream (a CLI's stdout, a recorded file), split on "\n" only: a lone "\r"
 * stays inside its line, as the CLIs print progress that way. Bytes are decoded as UTF-8, invalid
 * sequences as U+FFFD. A line longer than the parsers would parse keeps its first
 * maxParsedLineChars + 1 characters and the rest is skipped, so one endless line cannot fill memory.
 * A last line without "\n" is yielded too.
 */
export async function* streamLines(chunks: AsyncIterable<Uint8Array | string>, limit = maxParsedLineChars + 1): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8");
  let parts: string[] = [];
  let length = 0;
  const take = (text: string) => {
    if (length >= limit) return;
    const kept = text.length > limit - length ? text.slice(0, limit - length) : text;
    parts.push(kept);
    length += kept.length;
  };
  const line = () => {
    const text = parts.join("");
    parts = [];
    length = 0;
    return text;
  };
  for await (const chunk of chunks) {
    const text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
      take(text.slice(start, newline));
      yield line();
      start = newline + 1;
    }
    take(text.slice(start));
  }
  take(decoder.decode());
  if (length > 0 || parts.length > 0) {
    const last = line();
    if (last !== "") yield last;
  }
}
