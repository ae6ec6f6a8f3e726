import { CookError } from "../core/errors.js";
import { zeroSha } from "../core/names.js";
import type { Git } from "../git/git.js";
import { readHead } from "../git/refs.js";
import { GitCommandError } from "../git/run-git.js";

/** The commit a branch of the bare repo points at, or undefined when there is no such branch. */
/**
 * The repo's default branch, the base of new work. Throws invalid when HEAD is detached: there is
 * then no branch to start from or merge into unless one is named.
 */
export async function defaultBranchOf(git: Git, gitDir: string, repo: string): Promise<string> {
  const head = await readHead(git, gitDir);
  if (head.branch !== undefined) return head.branch;
  const at = head.detached ? ` at ${head.detached.slice(0, 12)}` : "";
  throw new CookError("invalid", `${repo} has no default branch: its HEAD is detached${at}; name a base branch, or point HEAD at one (git symbolic-ref HEAD refs/heads/<branch>)`);
}

export async function branchHead(git: Git, gitDir: string, name: string): Promise<string | undefined> {
  const result = await git.run(gitDir, ["rev-parse", "--verify", "--quiet", `refs/heads/${name}^{commit}`], { okCodes: [1] });
  const sha = result.stdout.toString().trim();
  return result.code === 0 && sha ? sha : undefined;
}

/** Creates `refs/heads/<name>` at `sha`; throws conflict when it exists already (update-ref's old value must be zero). */
export async function createBranchRef(git: Git, gitDir: string, repo: string, name: string, sha: string): Promise<void> {
  try {
    await git.run(gitDir, ["update-ref", "-m", "cook: branch created", `refs/heads/${name}`, sha, zeroSha]);
  } catch (err) {
    if (err instanceof GitCommandError) throw new CookError("conflict", `branch '${name}' already exists in ${repo}; to track it, use cook branch adopt ${repo} ${name}`);
    throw err;
  }
}

/** `20261201T221503Z`: sorts as it reads, and is a valid ref name component. */
export function archiveStamp(at = new Date()): string {
  return at.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/**
 * Moves a branch out of sight, keeping its commits: `refs/archive/<name>/<stamp>` is made at
 * `sha` and `refs/heads/<name>` deleted if it still points there, in one update-ref transaction.
 * Archived refs are hidden from clients (transfer.hideRefs in forge/repo-setup.ts).
 */
export async function archiveBranchRef(git: Git, gitDir: string, name: string, sha: string, options: { deleteHead: boolean }): Promise<string> {
  const archiveRef = `refs/archive/${name}/${archiveStamp()}`;
  const commands = [`create ${archiveRef} ${sha}`, ...(options.deleteHead ? [`delete refs/heads/${name} ${sha}`] : [])];
  await git.run(gitDir, ["update-ref", "-m", "cook: branch archived", "--stdin"], { input: `${commands.join("\n")}\n` });
  return archiveRef;
}

/** The text of a file at a commit, or undefined when the commit has no such file. */
export async function fileAtCommit(git: Git, gitDir: string, sha: string, path: string): Promise<string | undefined> {
  const result = await git.run(gitDir, ["cat-file", "blob", `${sha}:${path}`], { okCodes: [128] });
  return result.code === 0 ? result.stdout.toString("utf8") : undefined;
}
