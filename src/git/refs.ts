import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Git } from "./git.js";

export interface Ref {
  /** Full name: refs/heads/main. */
  name: string;
  /** Short name: main. */
  short: string;
  sha: string;
  /** The commit a tag points at, or the ref's own sha. */
  commit: string;
  committedAt: string | undefined;
  subject: string;
}

const fieldSeparator = "\x1f";

/** Every ref under the given prefixes, newest commit first. One git process for all of them. */
export async function listRefs(git: Git, gitDir: string, prefixes: string[] = ["refs/heads/", "refs/tags/"]): Promise<Ref[]> {
  const format = ["%(refname)", "%(objectname)", "%(*objectname)", "%(committerdate:iso-strict)", "%(*committerdate:iso-strict)", "%(contents:subject)", "%(*contents:subject)"].join(fieldSeparator);
  const out = await git.text(gitDir, ["for-each-ref", "--sort=-committerdate", `--format=${format}`, ...prefixes]);
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name, sha, peeled, date, peeledDate, subject, peeledSubject] = line.split(fieldSeparator) as string[];
      return {
        name: name!,
        short: name!.replace(/^refs\/(heads|tags)\//, ""),
        sha: sha!,
        commit: peeled || sha!,
        committedAt: (date || peeledDate) ? new Date((date || peeledDate)!).toISOString() : undefined,
        subject: peeledSubject || subject || "",
      };
    });
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
