/** Parsers for git's object formats, as `cat-file` returns them. */
import { decodeGitText } from "./git-text.js";

export interface TreeEntry {
  mode: string;
  type: "blob" | "tree" | "commit";
  /** The entry's name bytes as a git-text string (see git-text.ts): any byte sequence survives. */
  name: string;
  sha: string;
}

export function parseTree(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let at = 0;
  while (at < content.length) {
    const space = content.indexOf(0x20, at);
    const nul = content.indexOf(0x00, space);
    const mode = content.subarray(at, space).toString("latin1");
    const name = decodeGitText(content.subarray(space + 1, nul));
    const sha = content.subarray(nul + 1, nul + 21).toString("hex");
    const type = mode === "40000" ? "tree" : mode === "160000" ? "commit" : "blob";
    entries.push({ mode, type, name, sha });
    at = nul + 21;
  }
  return entries;
}

export interface Person {
  name: string;
  email: string;
  date: string;
}

export interface Commit {
  sha: string;
  tree: string;
  parents: string[];
  author: Person;
  committer: Person;
  message: string;
}

function parsePerson(text: string): Person {
  const match = /^(.*?) <([^>]*)> (\d+) ([+-]\d{4})$/.exec(text);
  if (!match) return { name: text, email: "", date: new Date(0).toISOString() };
  return { name: match[1]!, email: match[2]!, date: new Date(Number(match[3]) * 1000).toISOString() };
}

const utf8 = new TextDecoder("utf-8");

/**
 * The decoder for a commit's `encoding` header, turning its text into what `git log` prints on a
 * UTF-8 terminal: re-encoded when git knows the encoding, else the bytes as they are (invalid
 * UTF-8 showing as U+FFFD).
 */
function decoderFor(label: string | undefined): (bytes: Buffer) => string {
  if (!label || /^utf-?8$/i.test(label)) return (bytes) => utf8.decode(bytes);
  // iconv's ISO-8859-1 (which git uses) maps every byte to the same code point; the WHATWG
  // decoder would read this label as windows-1252 and turn 0x80-0x9f into other characters.
  if (/^(iso[-_]?8859-1|latin-?1|l1)$/i.test(label)) return (bytes) => bytes.toString("latin1");
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label);
  } catch {
    return (bytes) => utf8.decode(bytes); // an encoding nobody knows: git shows the raw bytes too
  }
  return (bytes) => decoder.decode(bytes);
}

/** A commit with its header and message decoded from the encoding its `encoding` header names. */
export function parseCommit(sha: string, content: Buffer): Commit {
  const split = content.indexOf("\n\n");
  const header = split < 0 ? content : content.subarray(0, split);
  const lines: Buffer[] = [];
  for (let at = 0; at < header.length; ) {
    const end = header.indexOf(0x0a, at);
    lines.push(header.subarray(at, end < 0 ? header.length : end));
    at = end < 0 ? header.length : end + 1;
  }
  const encoding = lines.find((line) => line.subarray(0, 9).toString("latin1") === "encoding ")?.subarray(9).toString("latin1").trim();
  const decode = decoderFor(encoding);
  const commit: Commit = { sha, tree: "", parents: [], author: parsePerson(""), committer: parsePerson(""), message: split < 0 ? "" : decode(content.subarray(split + 2)) };
  for (const bytes of lines) {
    if (bytes[0] === 0x20) continue; // continuation of a multi-line header (gpgsig)
    const line = decode(bytes);
    const space = line.indexOf(" ");
    const key = line.slice(0, space);
    const value = line.slice(space + 1);
    if (key === "tree") commit.tree = value;
    else if (key === "parent") commit.parents.push(value);
    else if (key === "author") commit.author = parsePerson(value);
    else if (key === "committer") commit.committer = parsePerson(value);
  }
  return commit;
}

/** Git's own heuristic (buffer_is_binary): a NUL byte in the first 8000 bytes. */
export function looksBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}
