import { isCookError } from "../core/errors.js";
import { findBranchById, findOpenBranch } from "../db/branch-store.js";
import { unfinishedRuns } from "../db/gate-run-store.js";
import type { Bus, Subscription } from "../events/bus.js";
import type { Event } from "../events/event.js";
import type { GateDeps } from "./deps.js";
import { announceEnd } from "./execute-run.js";
import { cancelRunIn, startGateRun } from "./start-run.js";

interface PushedData {
  ref: string;
  newSha: string;
  pusher: string;
}

/**
 * Every push to a tracked branch starts a run of its gates on the new head: a durable subscriber
 * to `branch.pushed` (and to `branch.created`, which a branch made by `cook branch create` or by a
 * first push announces once its record exists), so a restart between the push and its run loses
 * nothing. A redelivered push finds its run already there (startGateRun returns it). A merge into
 * a tracked branch counts as a push to it. A branch that is abandoned or merged has its unfinished
 * runs canceled.
 */
export function trackGatedPushes(deps: GateDeps, bus: Bus): Promise<Subscription> {
  return bus.subscribe("cook.branch.>", (event) => handle(deps, event), { durable: "gate-runs" });
}

async function handle(deps: GateDeps, event: Event): Promise<void> {
  if (event.type === "branch.merged") await gateMergeTarget(deps, event);
  if (event.type === "branch.abandoned" || event.type === "branch.merged") return cancelRunsOfEnded(deps, event);
  if (event.type !== "branch.pushed" && event.type !== "branch.created") return;
  if (!event.branch) return;
  const data = event.data as (Partial<PushedData> & { head?: string | null; baseCommit?: string }) | undefined;
  if (event.type === "branch.pushed" && (!data?.ref?.startsWith("refs/heads/") || !data.newSha || /^0+$/.test(data.newSha))) return;
  // A branch made from its base has nothing to judge until something is pushed to it.
  if (event.type === "branch.created" && (!data?.head || data.head === data.baseCommit)) return;
  try {
    const branch = await findOpenBranch(deps.db, event.repo, event.branch);
    // An untracked branch gets its record from the push tracker, whose `created` event brings it back here.
    if (!branch) return;
    await startGateRun(deps, branch, { reason: "push", head: event.type === "branch.pushed" ? data!.newSha : data!.head! }, data?.pusher ?? (data as { by?: string } | undefined)?.by ?? "push");
  } catch (err) {
    if (isCookError(err) && err.code !== "unavailable") return;
    throw err;
  }
}

/**
 * A merge into a tracked branch (a sub-task's into its parent task's branch) moved that branch as a
 * push would: its gates run on the new head. The default branch is no tracked branch and is left
 * alone. A redelivered event finds its run already there.
 */
async function gateMergeTarget(deps: GateDeps, event: Event): Promise<void> {
  const data = event.data as { target?: string; commit?: string; by?: string } | undefined;
  if (!data?.target || !data.commit) return;
  const target = await findOpenBranch(deps.db, event.repo, data.target);
  if (!target) return;
  try {
    await startGateRun(deps, target, { reason: "push", head: data.commit }, data.by ?? "merge");
  } catch (err) {
    if (isCookError(err) && err.code !== "unavailable") return;
    throw err;
  }
}

/** A branch that ended (abandoned, merged) has nothing left to judge: its unfinished runs are canceled and their processes killed. */
async function cancelRunsOfEnded(deps: GateDeps, event: Event): Promise<void> {
  const id = (event.data as { id?: string } | undefined)?.id;
  const branch = id ? await findBranchById(deps.db, id) : undefined;
  if (!branch || branch.status === "open") return;
  const runs = await unfinishedRuns(deps.db, branch.id);
  if (runs.length === 0) return;
  await deps.db.transaction(async (tx) => {
    for (const run of runs) await cancelRunIn(deps, tx, branch, run, `the branch was ${branch.status}`);
  });
  for (const run of runs) {
    deps.gateRuntime.active.get(run.id)?.abort();
    await announceEnd(deps, run.id);
  }
}
