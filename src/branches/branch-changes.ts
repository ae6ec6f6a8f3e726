import type { Branch } from "../core/branch.js";
import { readTreePatch } from "../forge/commit-diff.js";
import type { PatchOutput } from "../forge/parse-diff.js";
import type { BrowseDeps } from "../forge/browse.js";
import { repoDir } from "../forge/paths.js";
import { repoExists } from "../forge/repos.js";
import { parseCommit, type Commit } from "../git/objects.js";

/** What a branch adds to its base: its commits and the diff, as the branch page shows them. */
export interface BranchChanges {
  /** The base branch's head now, if it still exists. */
  baseHead: string | undefined;
  /** Where the diff starts: where the branch and its base's head meet (the base commit if they never do). */
  from: string;
  /** Commits on the branch and not on its base, newest first, at most `maxCommits`. */
  commits: Commit[];
  moreCommits: boolean;
  /** The diff as git printed it (forge/parse-diff.ts reads it; the page renders it in a worker). */
  patch: PatchOutput;
}

const maxCommits = 50;

/**
 * The committed work of a branch whose head is `head`: commits ahead of the base branch's head and
 * the diff from where the two meet (as a pull request shows it, so base commits merged into the
 * branch are not counted as its work). Every git answer here depends on shas only and is
 * remembered; the diff is bounded as commit pages are (commit-diff.ts).
 */
export async function readBranchChanges(deps: BrowseDeps, branch: Branch, head: string | undefined): Promise<BranchChanges> {
  const empty: BranchChanges = { baseHead: undefined, from: branch.baseCommit, commits: [], moreCommits: false, patch: { patch: Buffer.alloc(0), complete: true } };
  if (!head || !repoExists(deps.dataDir, branch.repo)) return empty;
  const gitDir = repoDir(deps.dataDir, branch.repo);
  const reader = deps.git.reader(gitDir);
  const baseHead = (await reader.info(`refs/heads/${branch.baseBranch}`))?.sha;
  const base = baseHead ?? branch.baseCommit;
  const [meet, ids] = await Promise.all([
    deps.git.immutableText(gitDir, ["merge-base", base, head], { okCodes: [1] }),
    deps.git.immutableText(gitDir, ["rev-list", `--max-count=${maxCommits + 1}`, head, `^${base}`]),
  ]);
  const from = meet.trim() || branch.baseCommit;
  const shown = ids.split("\n").filter(Boolean);
  const commits = await Promise.all(shown.slice(0, maxCommits).map(async (id) => parseCommit(id, (await reader.read(id))!.content)));
  return { baseHead, from, commits, moreCommits: shown.length > maxCommits, patch: await readTreePatch(deps, branch.repo, from, head) };
}
