import type { Actor } from "../core/actor.js";
import type { Tx } from "../db/db.js";
import { countOpenBranchesOfTask } from "../db/branch-store.js";
import { markTaskStartedIn, markTaskStoppedIn } from "../tasks/update-task.js";
import type { BranchDeps } from "./deps.js";

/** A branch now works on the task: an open task moves to in_progress (one waiting on a human stays so). */
export async function linkTaskIn(deps: BranchDeps, tx: Tx, taskId: string, actor: Actor | string): Promise<void> {
  await markTaskStartedIn(deps, tx, taskId, actorOf(actor));
}

/** A branch of the task ended without merging: with no other open branch, the task goes back to open. */
export async function unlinkTaskIn(deps: BranchDeps, tx: Tx, taskId: string, endedBranchId: string, actor: Actor | string): Promise<void> {
  if ((await countOpenBranchesOfTask(tx, taskId, endedBranchId)) > 0) return;
  await markTaskStoppedIn(deps, tx, taskId, actorOf(actor));
}

// Pushes name their pusher as text (a token's name); a task event records it as the actor.
const actorOf = (actor: Actor | string): Actor => (typeof actor === "string" ? { name: actor, scope: "user" } : actor);
