import type { BranchSummary } from "../../../branches/read-branches.js";
import type { Branch } from "../../../core/branch.js";
import { encodeUrlPath } from "./repo-links.js";

/**
 * The page of a branch: `/branches/<repo>/<name>` while it is open (the name a user knows), its
 * brn_ id once it has ended, since a new branch may take the name again.
 */
export function branchHref(branch: Pick<Branch, "id" | "repo" | "name" | "status">): string {
  return branch.status === "open" ? `/branches/${encodeURIComponent(branch.repo)}/${encodeUrlPath(branch.name)}` : `/branches/${branch.id}`;
}

/** A branch as pages list it: links, and the newest of its own activity and its environment's. */
export interface PresentedBranch extends BranchSummary {
  href: string;
  headHref: string | undefined;
  lastActivity: string;
}

/** A listed branch with its page, its head's commit page and its last activity, for the views. */
export function presentBranch(branch: BranchSummary): PresentedBranch {
  const environmentAt = branch.environment?.updatedAt;
  return {
    ...branch,
    href: branchHref(branch),
    headHref: branch.head ? `/repos/${encodeURIComponent(branch.repo)}/commit/${branch.head}` : undefined,
    lastActivity: environmentAt && environmentAt > branch.updatedAt ? environmentAt : branch.updatedAt,
  };
}
