import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ObjectType } from "./cat-file.js";
import type { Git } from "./git.js";
import { decodeGitText } from "./git-text.js";

export interface Ref {
  /** Full name: refs/heads/main (a git-text string: names that are not UTF-8 keep their bytes). */
  name: string;
  /** Short name: main. */
  short: string;
  sha: string;
  /** What the ref names after peeling one tag: a commit usually; a tree, a blob or another tag for some tags. */
  target: { type: ObjectType; sha: string };
  /** The commit the ref names, if it names one (through one tag at most). */
  commit: string | undefined;
  committedAt: string | undefined;
  subject: string;
}

const fieldSeparator = 0x1f;

/**
 * Every ref under the given prefixes, newest commit first. One git process for all of them,
 * remembered until the refs move (Git.refListing, whose `revalidate` option this passes on).
 */
export async function listRefs(git: Git, gitDir: string, prefixes: string[] = ["refs/heads/", "refs/tags/"], options: { revalidate?: boolean } = {}): Promise<Ref[]> {
  const format = ["%(refname)", "%(objectname)", "%(objecttype)", "%(*objectname)", "%(*objecttype)", "%(committerdate:iso-strict)", "%(*committerdate:iso-strict)", "%(contents:subject)", "%(*contents:subject)"].join("%1f");
  const out = await git.refListing(gitDir, ["for-each-ref", "--sort=-committerdate", `--format=${format}`, ...prefixes], options);
  const refs: Ref[] = [];
  // Split the bytes, not a decoded string: a ref name need not be UTF-8, and its bytes must survive.
  for (let at = 0; at < out.length; ) {
    const end = out.indexOf(0x0a, at);
    const fields: Buffer[] = [];
    const line = out.subarray(at, end < 0 ? out.length : end);
    for (let from = 0; from <= line.length; ) {
      const next = line.indexOf(fieldSeparator, from);
      fields.push(line.subarray(from, next < 0 ? line.length : next));
      from = next < 0 ? line.length + 1 : next + 1;
    }
    at = end < 0 ? out.length : end + 1;
    const [name, sha, type, peeled, peeledType, date, peeledDate, subject, peeledSubject] = fields.map((field, i) => (i === 0 ? decodeGitText(field) : field.toString("utf8")));
    if (!name) continue;
    const target = { type: (peeledType || type) as ObjectType, sha: peeled || sha! };
    const when = date || peeledDate;
    refs.push({
      name,
      short: name.replace(/^refs\/(heads|tags)\//, ""),
      sha: sha!,
      target,
      commit: target.type === "commit" ? target.sha : undefined,
      committedAt: when ? new Date(when).toISOString() : undefined,
      subject: peeledSubject || subject || "",
    });
  }
  return refs;
}

/** The branch HEAD names (the default branch), even in an empty repository. */
export async function headBranch(git: Git, gitDir: string): Promise<string> {
  // HEAD of a bare repo is a symref file, `ref: refs/heads/<branch>` (gitrepository-layout): reading
  // it saves a git process, which costs 7–10 ms when spawned from the server. Anything else is git's to say.
  const head = await readFile(join(gitDir, "HEAD"), "utf8").catch(() => "");
  const match = /^ref: refs\/heads\/(\S+)\n?$/.exec(head);
  if (match) return match[1]!;
  return (await git.text(gitDir, ["symbolic-ref", "--short", "HEAD"])).trim();
}

/** Whether refs/heads/<branch> exists, asked of the repo's long-lived reader rather than a new git process. */
export async function branchExists(git: Git, gitDir: string, branch: string): Promise<boolean> {
  return (await git.reader(gitDir).info(`refs/heads/${branch}`)) !== undefined;
}
