import { LineSplitter } from "./line-splitter.js";
import { maxParsedLineChars } from "./parsers/bounded.js";

/**
 * The lines of a byte stream (a CLI's stdout, a recorded file), as LineSplitter cuts them: on "\n"
 * (a "\r" right before it dropped, a lone "\r" kept inside its line), decoded as UTF-8 (invalid
 * sequences as U+FFFD). A line longer than `limitBytes` keeps its first `limitBytes` and the rest
 * is skipped, so one endless line cannot fill memory. A last line without "\n" is yielded too.
 */
export async function* streamLines(chunks: AsyncIterable<Uint8Array | string>, limitBytes = maxParsedLineChars + 1): AsyncGenerator<string> {
  const ready: string[] = [];
  const splitter = new LineSplitter((text) => ready.push(text), limitBytes);
  for await (const chunk of chunks) {
    splitter.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    yield* ready.splice(0);
  }
  splitter.end();
  yield* ready.splice(0);
}
