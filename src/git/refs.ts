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

/**
 * What HEAD of a repo names: a branch (the default branch, which need not exist yet), or, when
 * HEAD is detached (it holds a commit id, as `git checkout --detach` or a hand edit leaves it),
 * that commit. `detached` is undefined when HEAD names nothing git can resolve.
 */
export type Head = { branch: string } | { branch: undefined; detached: string | undefined };

export async function readHead(git: Git, gitDir: string): Promise<Head> {
  // HEAD of a bare repo is a symref file, `ref: refs/heads/<branch>`, or a detached object id
  // (gitrepository-layout): reading it saves a git process, which costs 7–10 ms when spawned from
  // the server. Anything else is git's to say.
  const head = await readFile(join(gitDir, "HEAD"), "utf8").catch(() => "");
  const symref = /^ref: refs\/heads\/(\S+)\n?$/.exec(head);
  if (symref) return { branch: symref[1]! };
  const id = /^([0-9a-f]{40}|[0-9a-f]{64})\n?$/.exec(head);
  if (id) return { branch: undefined, detached: id[1] };
  const full = (await git.text(gitDir, ["symbolic-ref", "--quiet", "HEAD"], { okCodes: [1] })).trim();
  if (full.startsWith("refs/heads/")) return { branch: full.slice("refs/heads/".length) };
  const commit = (await git.text(gitDir, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], { okCodes: [1] })).trim();
  return { branch: undefined, detached: commit || undefined };
}

/** The branch HEAD names (the default branch), even in an empty repository; undefined when HEAD is detached. */
export async function headBranch(git: Git, gitDir: string): Promise<string | undefined> {
  return (await readHead(git, gitDir)).branch;
}

/** Whether refs/heads/<branch> exists, asked of the repo's long-lived reader rather than a new git process. */
export async function branchExists(git: Git, gitDir: string, branch: string): Promise<boolean> {
  return (await git.reader(gitDir).info(`refs/heads/${branch}`)) !== undefined;
}
