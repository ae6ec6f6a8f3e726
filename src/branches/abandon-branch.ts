import type { Actor } from "../core/actor.js";
import type { Branch } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { endBranch, findBranchById, openSubTaskBranches } from "../db/branch-store.js";
import { teardownEnvironment } from "../environments/teardown-environment.js";
import { requireRepo } from "../forge/repos.js";
import { archiveBranchRef, branchHead } from "./branch-git.js";
import { appendBranchEvent, type BranchDeps } from "./deps.js";
import { unlinkTaskIn } from "./task-link.js";

/**
 * Ends a branch without merging it: its environment is torn down, its ref moved to
 * `refs/archive/<name>/<stamp>` (hidden from clients, kept), its task back to open when no other
 * branch works on it, and `cook.branch.<repo>.<name>.abandoned` announced. `deletedAt` is for a
 * push that already deleted the ref: the archive keeps the commit it pointed at.
 * Throws conflict when the branch has ended already, and when open branches of its task's
 * sub-tasks merge into it (they would land on the default branch without it).
 */
export async function abandonBranch(deps: BranchDeps, branch: Branch, actor: Actor | string, options: { deletedAt?: string } = {}): Promise<Branch> {
  if (branch.status !== "open") throw new CookError("conflict", `branch '${branch.name}' is ${branch.status} already`);
  // Without it, its sub-tasks' branches would land on the default branch instead: they go first.
  const subBranches = branch.taskId && options.deletedAt === undefined ? await openSubTaskBranches(deps.db, branch.repo, branch.name, branch.taskId) : [];
  if (subBranches.length > 0) {
    throw new CookError("conflict", `the branches of sub-tasks of '${branch.taskId}' merge into '${branch.name}': ${subBranches.map((b) => b.name).join(", ")}; merge or abandon them first`);
  }
  const gitDir = requireRepo(deps.dataDir, branch.repo);
  await teardownEnvironment(deps, branch);
  const head = options.deletedAt ?? (await branchHead(deps.git, gitDir, branch.name));
  const archiveRef = head ? await archiveBranchRef(deps.git, gitDir, branch.name, head, { deleteHead: options.deletedAt === undefined }) : undefined;
  return deps.db.transaction(async (tx) => {
    const current = await findBranchById(tx, branch.id, { forUpdate: true });
    if (current?.status !== "open") throw new CookError("conflict", `branch '${branch.name}' is ${current?.status ?? "gone"} already`);
    const ended = await endBranch(tx, branch.id, "abandoned", archiveRef);
    await appendBranchEvent(deps, tx, ended, "abandoned", { archiveRef: archiveRef ?? null, head: head ?? null, task: ended.taskId ?? null }, actor);
    if (ended.taskId) await unlinkTaskIn(deps, tx, ended.taskId, ended.id, actor);
    return ended;
  });
}
