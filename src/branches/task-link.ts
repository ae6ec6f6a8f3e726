import type { Actor } from "../core/actor.js";
import type { Tx } from "../db/db.js";
import { countOpenBranchesOfTask } from "../db/branch-store.js";
import { findTask } from "../db/task-store.js";
import { updateTaskIn } from "../tasks/update-task.js";
import type { BranchDeps } from "./deps.js";

/** A branch now works on the task: an open task moves to in_progress (one waiting on a human stays so). */
export async function linkTaskIn(deps: BranchDeps, tx: Tx, taskId: string, actor: Actor | string): Promise<void> {
  const task = await findTask(tx, taskId, { forUpdate: true });
  if (task?.status === "open") await updateTaskIn(deps, tx, taskId, { status: "in_progress" }, actorOf(actor));
}

/** A branch of the task ended without merging: with no other open branch, the task goes back to open. */
export async function unlinkTaskIn(deps: BranchDeps, tx: Tx, taskId: string, endedBranchId: string, actor: Actor | string): Promise<void> {
  const task = await findTask(tx, taskId, { forUpdate: true });
  if (!task || (task.status !== "in_progress" && task.status !== "needs_human")) return;
  if ((await countOpenBranchesOfTask(tx, taskId, endedBranchId)) > 0) return;
  await updateTaskIn(deps, tx, taskId, { status: "open" }, actorOf(actor));
}

const actorOf = (actor: Actor | string): Actor => (typeof actor === "string" ? { name: actor, scope: "user" } : actor);
