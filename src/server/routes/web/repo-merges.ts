import { findBranchesByIds } from "../../../db/branch-store.js";
import { liveMerges, recentMerges } from "../../../db/merge-store.js";
import type { Services } from "../../services.js";
import { branchHref } from "./branch-links.js";
import { presentMerge, type MergeView } from "./gate-view.js";

/** A repo's merge queue (oldest first) and its last ended merges (newest first), each with its branch's page. */
export async function readRepoMerges(services: Services, repo: string, last = 5): Promise<{ queue: MergeView[]; last: MergeView[] }> {
  const [queue, ended] = await Promise.all([liveMerges(services.db, repo), recentMerges(services.db, repo, last)]);
  const branches = await findBranchesByIds(services.db, [...queue, ...ended].map((merge) => merge.branchId));
  const present = (merge: Parameters<typeof presentMerge>[0]) => {
    const branch = branches.get(merge.branchId);
    return presentMerge(merge, branch && { name: branch.name, href: branchHref(branch) });
  };
  return { queue: queue.map(present), last: ended.map(present) };
}
