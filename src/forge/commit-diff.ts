import type { Commit } from "../git/objects.js";
import type { BrowseDeps } from "./browse.js";
import { diffOptions, maxDiffOutputBytes, type PatchOutput } from "./parse-diff.js";
import { requireRepo } from "./repos.js";

/**
 * What a commit changed against its first parent (or against nothing, for a root commit), as git
 * prints it with `diffOptions`: parsed and made into rows by the renderer, off the event loop.
 */
export async function readCommitPatch(deps: BrowseDeps, repo: string, commit: Commit): Promise<PatchOutput> {
  return readTreePatch(deps, repo, commit.parents[0], commit.sha);
}

/**
 * The change between two commits of a repo (`from` undefined: against nothing, as for a root
 * commit), renames found, as git prints it with `diffOptions` (see parse-diff.ts): at most
 * `maxDiffOutputBytes` of it, git stopped there.
 */
export async function readTreePatch(deps: BrowseDeps, repo: string, from: string | undefined, to: string): Promise<PatchOutput> {
  const gitDir = requireRepo(deps.dataDir, repo);
  const options = ["diff-tree", "-r", "-M", "--no-commit-id", ...diffOptions];
  const result = await deps.git.run(gitDir, from ? [...options, from, to] : [...options, "--root", to], { maxStdoutBytes: maxDiffOutputBytes });
  return { patch: result.stdout, complete: !result.cut };
}
