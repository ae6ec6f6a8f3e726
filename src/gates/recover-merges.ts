import { findBranchById, mergedUnarchivedIds } from "../db/branch-store.js";
import { liveMerges, updateMerge } from "../db/merge-store.js";
import { branchHead } from "../branches/branch-git.js";
import { repoDir } from "../forge/paths.js";
import type { GateDeps } from "./deps.js";
import { archiveMerged, recordLanded } from "./merge.js";
import { isAncestor } from "./merge-git.js";

/**
 * At start-up: git is the truth for refs. A merge whose target already holds its candidate landed
 * before the server stopped, and gets its result recorded now (branch merged, task closed, event,
 * archive); any other merge under way is ended `failed` with the reason, the target untouched (an
 * auto-merge branch merges again on its next passing run). A merged branch whose ref was not
 * archived yet is archived. Returns how many merges were repaired as landed.
 */
export async function recoverMerges(deps: GateDeps): Promise<number> {
  let landed = 0;
  for (const merge of await liveMerges(deps.db)) {
    const branch = await findBranchById(deps.db, merge.branchId);
    const gitDir = repoDir(deps.dataDir, merge.repo);
    const target = await branchHead(deps.git, gitDir, merge.target).catch(() => undefined);
    if (branch && merge.candidate && target && (target === merge.candidate || (await isAncestor(deps.git, gitDir, merge.candidate, target)))) {
      await recordLanded(deps, branch, merge, "recovered at start-up", merge.requestedBy);
      landed++;
      continue;
    }
    await updateMerge(deps.db, merge.id, { state: "failed", message: `the server stopped during the merge (${merge.state}); ${merge.target} was not moved; merge again`, ended: true });
  }
  for (const id of await mergedUnarchivedIds(deps.db)) {
    const branch = await findBranchById(deps.db, id);
    if (branch) await archiveMerged(deps, branch).catch((err: Error) => deps.log.warn({ branch: id, err: err.message }, "merged branch not archived"));
  }
  return landed;
}
