import type { MergeStrategy } from "../core/gate.js";
import type { Git } from "../git/git.js";
import { GitCommandError } from "../git/run-git.js";

/** What merging a head into a target would make. */
export type MergeCandidate =
  | { kind: "fast-forward" | "merge" | "squash"; commit: string; tree: string }
  | { kind: "conflict"; paths: string[]; message: string }
  | { kind: "refused"; message: string };

export interface CandidateRequest {
  /** The target branch's commit now. */
  targetOld: string;
  /** The branch's head. */
  head: string;
  strategy: MergeStrategy;
  /** The commit message of a merge or squash commit. */
  message: string;
}

/** Whether `ancestor` is reachable from `descendant` (git merge-base --is-ancestor). */
export async function isAncestor(git: Git, gitDir: string, ancestor: string, descendant: string): Promise<boolean> {
  const result = await git.run(gitDir, ["merge-base", "--is-ancestor", ancestor, descendant], { okCodes: [1] });
  return result.code === 0;
}

// Starting, executing and merging a run read refs and objects through the repo's long-lived reader
// (git cat-file --batch-command), not a git process each: a process costs 5-10 ms from the server
// on a quiet machine and 50-300 ms on a busy one, and a push spawned five before its gate started
// (docs/benchmarks.md, "Gates"). The reader reads a ref afresh on every ask, loose or packed, as
// rev-parse does (and finds objects written since it started); where a ref must not have moved,
// update-ref's compare-and-swap still decides.

/** The commit a branch points at now, or undefined when there is no such branch. */
export async function headOf(git: Git, gitDir: string, branch: string): Promise<string | undefined> {
  return (await git.reader(gitDir).info(`refs/heads/${branch}^{commit}`))?.sha;
}

/** The tree of a commit. Throws when the repo has no such commit. */
export async function treeOf(git: Git, gitDir: string, commit: string): Promise<string> {
  const tree = await git.reader(gitDir).info(`${commit}^{tree}`);
  if (tree?.type !== "tree") throw new Error(`${commit} is not a commit of ${gitDir}`);
  return tree.sha;
}

/**
 * Builds the commit that landing `head` on `targetOld` would make, in the bare repo and without a
 * working tree: the head itself when the target is its ancestor (fast-forward; `auto` and
 * `ff-only`), else a merge commit (`auto`, `merge`) or a single-parent commit of the merged tree
 * (`squash`), the merge computed by `git merge-tree --write-tree` (git ≥ 2.38). A conflict is
 * returned with the conflicting paths, `ff-only` on a target that moved is refused; neither moves
 * anything. Throws GitCommandError when git fails otherwise.
 */
export async function buildCandidate(git: Git, gitDir: string, request: CandidateRequest): Promise<MergeCandidate> {
  const { targetOld, head, strategy } = request;
  const ffPossible = await isAncestor(git, gitDir, targetOld, head);
  if (ffPossible && (strategy === "auto" || strategy === "ff-only")) return { kind: "fast-forward", commit: head, tree: await treeOf(git, gitDir, head) };
  if (!ffPossible && strategy === "ff-only") return { kind: "refused", message: `cannot fast-forward: the target has moved on (${targetOld.slice(0, 12)}); rebase the branch or merge with --strategy merge` };
  let tree: string;
  if (ffPossible) {
    tree = await treeOf(git, gitDir, head);
  } else {
    const merged = await git.run(gitDir, ["merge-tree", "--write-tree", "--name-only", "--no-messages", targetOld, head], { okCodes: [1] });
    const lines = merged.stdout.toString("utf8").split("\n").filter((line) => line !== "");
    if (merged.code === 1) return { kind: "conflict", paths: [...new Set(lines.slice(1))], message: `conflicts in ${lines.slice(1).join(", ")}` };
    tree = lines[0]!;
  }
  const parents = strategy === "squash" ? ["-p", targetOld] : ["-p", targetOld, "-p", head];
  const commit = (await git.text(gitDir, ["commit-tree", tree, ...parents, "-F", "-"], { input: request.message })).trim();
  return { kind: strategy === "squash" ? "squash" : "merge", commit, tree };
}

/**
 * Moves `ref` from `expectedOld` to `next` by compare-and-swap (git update-ref <ref> <new> <old>):
 * false, moving nothing, when the ref no longer points at `expectedOld`.
 */
export async function compareAndSwapRef(git: Git, gitDir: string, ref: string, next: string, expectedOld: string, reason: string): Promise<boolean> {
  try {
    await git.run(gitDir, ["update-ref", "-m", reason, ref, next, expectedOld]);
    return true;
  } catch (err) {
    if (err instanceof GitCommandError) return false;
    throw err;
  }
}
