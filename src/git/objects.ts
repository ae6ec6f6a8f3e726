/** Parsers for git's object formats, as `cat-file` returns them. */

export interface TreeEntry {
  mode: string;
  type: "blob" | "tree" | "commit";
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
    const name = content.subarray(space + 1, nul).toString("utf8");
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

export function parseCommit(sha: string, content: Buffer): Commit {
  const text = content.toString("utf8");
  const split = text.indexOf("\n\n");
  const headerText = split < 0 ? text : text.slice(0, split);
  const commit: Commit = { sha, tree: "", parents: [], author: parsePerson(""), committer: parsePerson(""), message: split < 0 ? "" : text.slice(split + 2) };
  for (const line of headerText.split("\n")) {
    if (line.startsWith(" ")) continue; // continuation of a multi-line header (gpgsig)
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
