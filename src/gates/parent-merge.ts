import { autoMergeOf, autoMergeStrategyOf, oldestOpenBranchOfTask } from "../db/branch-store.js";
import { findTask } from "../db/task-store.js";
import type { Bus, Subscription } from "../events/bus.js";
import type { Event } from "../events/event.js";
import type { GateDeps } from "./deps.js";
import { mergeBranch, mergeReadiness } from "./merge.js";

/**
 * A parent task's branch lands once every sub-task is closed (merge.ts mergeReadiness). A sub-task
 * merging into it moves its head, its gates run (track-gates.ts) and auto-merge lands it when they
 * pass; this covers the last sub-task closing **without** a merge (closed by a person, as done or
 * won't fix) on a head already judged: with auto-merge on and the branch ready, it is merged now.
 * Durable (`parent-merges`), so a restart between the close and the merge loses nothing.
 */
export function mergeParentsOnClose(deps: GateDeps, bus: Bus): Promise<Subscription> {
  return bus.subscribe("cook.task.>", (event) => handle(deps, event), { durable: "parent-merges" });
}

async function handle(deps: GateDeps, event: Event): Promise<void> {
  const data = event.data as { id?: string; to?: string } | undefined;
  if (event.type !== "task.status" || data?.to !== "closed" || !data.id) return;
  const task = await findTask(deps.db, data.id);
  if (!task?.parent) return;
  const branch = await oldestOpenBranchOfTask(deps.db, task.parent);
  if (!branch || !(await autoMergeOf(deps.db, branch.id))) return;
  if (!(await mergeReadiness(deps, branch)).ok) return;
  const strategy = await autoMergeStrategyOf(deps.db, branch.id);
  await mergeBranch(deps, branch, { strategy }, { name: "cook-auto-merge", scope: "admin" }).catch((err: Error) => deps.log.info({ branch: branch.id, reason: err.message }, "parent branch did not land"));
}
