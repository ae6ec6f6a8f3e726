import type { Branch } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import type { Task } from "../core/task.js";
import { oldestOpenBranchOfTask } from "../db/branch-store.js";
import { findTask } from "../db/task-store.js";
import type { BranchDeps } from "./deps.js";

/** Makes the parent task's branch when it has none (createBranch for the parent, with no environment): it, and the branches made above it. */
export type MakeParentBranch = (parentTaskId: string) => Promise<{ branch: Branch; madeParents: Branch[] }>;

/** Where a sub-task's branch starts and merges, and the parent branches made for it (nearest first). */
export interface ParentBase {
  branch: Branch;
  made: Branch[];
}

// One parent's branch is looked up or made at a time in this process, so sub-tasks started together share it.
const pending = new Map<string, Promise<unknown>>();

/**
 * The branch a sub-task's branch starts from: its parent task's open branch (the oldest, when it
 * has several). A parent with none gets one first through `make` (which does the same for its own
 * parent, and so on up the chain). Throws conflict when the parent task is closed: its branch has
 * merged or was given up, so there is nothing to merge into.
 */
export async function parentBase(deps: BranchDeps, task: Task, make: MakeParentBranch): Promise<ParentBase | undefined> {
  if (!task.parent) return undefined;
  const parentId = task.parent;
  const previous = pending.get(parentId) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(async (): Promise<ParentBase> => {
    const parent = await findTask(deps.db, parentId);
    if (!parent) throw new CookError("not_found", `task '${task.id}' names parent '${parentId}', which does not exist`);
    if (parent.status === "closed") throw new CookError("conflict", `the parent task '${parentId}' of '${task.id}' is closed: there is no branch to merge into; reopen the parent, or take the sub-task out of it`);
    const open = await oldestOpenBranchOfTask(deps.db, parentId);
    if (open) return { branch: open, made: [] };
    const made = await make(parentId);
    return { branch: made.branch, made: [made.branch, ...made.madeParents] };
  });
  pending.set(parentId, next);
  void next.finally(() => {
    if (pending.get(parentId) === next) pending.delete(parentId);
  }).catch(() => undefined);
  return next;
}
