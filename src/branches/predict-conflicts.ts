import type { Branch } from "../core/branch.js";
import type { Db } from "../db/db.js";
import { selectBranches } from "../db/branch-store.js";
import { repoDir } from "../forge/paths.js";
import type { Git } from "../git/git.js";

/** Open branches looked at per repo; pairs tried by a trial merge at most. */
const maxBranches = 200;
const maxTrialMerges = 100;

/** Two open branches that change the same files, and what merging one into the other would do. */
export interface OverlapPrediction {
  a: { id: string; name: string };
  b: { id: string; name: string };
  /** Files both change (against where each meets its base), sorted. */
  files: string[];
  /** Paths a trial merge of the two heads conflicts in; [] when they merge cleanly; undefined when not tried (over maxTrialMerges). */
  conflicts: string[] | undefined;
}

/** An open branch and the files it changes since it met its base (`head` undefined: its ref is not there yet). */
export interface OpenBranchChanges {
  branch: Branch;
  head: string | undefined;
  /** Changed, added or deleted paths (no rename detection: both sides count), as git lists them. */
  files: string[];
}

/**
 * The files each open branch of a repo changes (at most maxBranches, most recently active first):
 * `git diff --name-only` from where the branch meets its base branch's head (its base commit when
 * they never meet, or when the base is gone). Answers for the same heads are remembered
 * (git.immutableText), so asking every few seconds costs a query and a few ref reads.
 */
export async function readOpenBranchChanges(deps: { db: Db; git: Git; dataDir: string }, repo: string): Promise<OpenBranchChanges[]> {
  const gitDir = repoDir(deps.dataDir, repo);
  const reader = deps.git.reader(gitDir);
  const branches = await selectBranches(deps.db, { repo, status: "open", limit: maxBranches });
  const changes: OpenBranchChanges[] = [];
  for (const branch of branches) {
    const head = (await reader.info(`refs/heads/${branch.name}`))?.sha;
    if (!head) {
      changes.push({ branch, head, files: [] });
      continue;
    }
    const base = (await reader.info(`refs/heads/${branch.baseBranch}`))?.sha ?? branch.baseCommit;
    const meet = (await deps.git.immutableText(gitDir, ["merge-base", base, head], { okCodes: [1] })).trim() || branch.baseCommit;
    const files = (await deps.git.immutableText(gitDir, ["diff", "--name-only", "-z", "--no-renames", meet, head])).split("\0").filter(Boolean);
    changes.push({ branch, head, files });
  }
  return changes;
}

/**
 * Predicts conflicts between a repo's open branches before either merges: the files each changes
 * since it met its base (`git diff --name-only` from the merge base), and for each pair changing a
 * file in common a trial merge of the two heads (`git merge-tree --write-tree`, no worktree, nothing
 * written to any ref). Answers for the same heads are remembered (git.immutableText). Pairs by name.
 */
export async function predictConflicts(deps: { db: Db; git: Git; dataDir: string }, repo: string): Promise<OverlapPrediction[]> {
  const gitDir = repoDir(deps.dataDir, repo);
  const changed = (await readOpenBranchChanges(deps, repo)).flatMap(({ branch, head, files }) => (head && files.length > 0 ? [{ id: branch.id, name: branch.name, head, files: new Set(files) }] : []));
  changed.sort((x, y) => (x.name < y.name ? -1 : 1));
  const predictions: OverlapPrediction[] = [];
  let tried = 0;
  for (let i = 0; i < changed.length; i++) {
    for (let j = i + 1; j < changed.length; j++) {
      const [a, b] = [changed[i]!, changed[j]!];
      const files = [...a.files].filter((file) => b.files.has(file)).sort();
      if (files.length === 0) continue;
      let conflicts: string[] | undefined;
      if (tried++ < maxTrialMerges) {
        const merged = await deps.git.run(gitDir, ["merge-tree", "--write-tree", "--name-only", "--no-messages", a.head, b.head], { okCodes: [1] });
        conflicts = merged.code === 1 ? [...new Set(merged.stdout.toString("utf8").split("\n").filter(Boolean).slice(1))] : [];
      }
      predictions.push({ a: { id: a.id, name: a.name }, b: { id: b.id, name: b.name }, files, conflicts });
    }
  }
  return predictions;
}
