/**
 * Git names (paths, ref names) are bytes, usually but not always UTF-8. Cook carries them as
 * strings that keep every byte: valid UTF-8 decodes as usual, and each byte of an invalid sequence
 * becomes the lone surrogate U+DC80 + byte (Python's "surrogateescape", PEP 383). The mapping is
 * one-to-one, so a name read from git goes back to git, or into a URL, exactly as it was; a page
 * encoded as UTF-8 shows each such byte as U+FFFD.
 */

const escapeBase = 0xdc00;

/** Length of the valid UTF-8 sequence starting at `at`, or 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, at: number): number {
  const first = bytes[at]!;
  if (first < 0x80) return 1;
  const [length, min, max] =
    first >= 0xc2 && first <= 0xdf ? [2, 0x80, 0xbf]
    : first === 0xe0 ? [3, 0xa0, 0xbf]
    : first === 0xed ? [3, 0x80, 0x9f] // U+D800..U+DFFF are not characters: encoded surrogates stay escaped bytes
    : first >= 0xe1 && first <= 0xef ? [3, 0x80, 0xbf]
    : first === 0xf0 ? [4, 0x90, 0xbf]
    : first >= 0xf1 && first <= 0xf3 ? [4, 0x80, 0xbf]
    : first === 0xf4 ? [4, 0x80, 0x8f]
    : [0, 0, 0];
  if (length === 0 || at + length > bytes.length) return 0;
  const second = bytes[at + 1]!;
  if (second < min || second > max) return 0;
  for (let i = 2; i < length; i++) if ((bytes[at + i]! & 0xc0) !== 0x80) return 0;
  return length;
}

/** Bytes from git as a string that keeps every byte (see above). */
export function decodeGitText(bytes: Uint8Array): string {
  let text = "";
  let runStart = 0;
  let at = 0;
  while (at < bytes.length) {
    const length = sequenceLength(bytes, at);
    if (length > 0) {
      at += length;
      continue;
    }
    text += Buffer.from(bytes.buffer, bytes.byteOffset + runStart, at - runStart).toString("utf8") + String.fromCharCode(escapeBase + bytes[at]!);
    at += 1;
    runStart = at;
  }
  return text + Buffer.from(bytes.buffer, bytes.byteOffset + runStart, at - runStart).toString("utf8");
}

/** The bytes a string from decodeGitText came from; any other string as UTF-8. */
export function encodeGitText(text: string): Buffer {
  if (!/[\udc80-\udcff]/u.test(text)) return Buffer.from(text, "utf8");
  const parts: Buffer[] = [];
  let run = "";
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (char.length === 1 && code >= escapeBase + 0x80 && code <= escapeBase + 0xff) {
      parts.push(Buffer.from(run, "utf8"), Buffer.of(code - escapeBase));
      run = "";
    } else {
      run += char;
    }
  }
  parts.push(Buffer.from(run, "utf8"));
  return Buffer.concat(parts);
}

/** Whether the string came from bytes that are valid UTF-8 (git can then take it as an argument). */
export function isUtf8GitText(text: string): boolean {
  return !/[\udc80-\udcff]/u.test(text);
}
