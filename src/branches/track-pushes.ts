import { isCookError } from "../core/errors.js";
import { zeroSha } from "../core/names.js";
import { findOpenBranch, touchBranch } from "../db/branch-store.js";
import type { Branch } from "../core/branch.js";
import type { Bus, Subscription } from "../events/bus.js";
import type { Event } from "../events/event.js";
import { abandonBranch } from "./abandon-branch.js";
import { trackBranch } from "./adopt-branch.js";
import type { BranchDeps } from "./deps.js";

interface RefEventData {
  ref: string;
  oldSha: string;
  newSha: string;
  pusher: string;
  pushOptions?: string[];
}

export interface PushTrackingLog {
  warn(fields: object, message: string): void;
}

/** The value of `-o <key>=<value>`, the last one when given twice. */
export function pushOption(options: readonly string[] | undefined, key: string): string | undefined {
  const prefix = `${key}=`;
  return options?.filter((option) => option.startsWith(prefix)).at(-1)?.slice(prefix.length);
}

/**
 * The design card's "hooks fire into NATS and create branches": a durable subscriber to the forge's
 * ref events (`branch.pushed`, `branch.deleted`), so a restart between a push and its handling
 * loses nothing. A new branch gets its record (`-o task=<id>` links the task), a push to a tracked
 * one marks activity, and deleting a tracked branch abandons it. Redelivered events are harmless:
 * a record that exists already, or a branch ended already, is left as it is.
 */
export function trackPushes(deps: BranchDeps, bus: Bus, log: PushTrackingLog, onTracked?: OnTracked): Promise<Subscription> {
  return bus.subscribe("cook.branch.>", (event) => handle(deps, event, log, onTracked), { durable: "branch-records" });
}

/** Called once a pushed branch has its record, with the push's options (`-o agent=… -o prompt=…` start an agent). */
export type OnTracked = (branch: Branch, pushOptions: readonly string[], pusher: string) => Promise<void>;

async function handle(deps: BranchDeps, event: Event, log: PushTrackingLog, onTracked: OnTracked | undefined): Promise<void> {
  if (event.type !== "branch.pushed" && event.type !== "branch.deleted") return;
  const data = event.data as RefEventData | undefined;
  if (!data?.ref?.startsWith("refs/heads/") || !event.branch) return;
  const name = event.branch;
  try {
    const tracked = await findOpenBranch(deps.db, event.repo, name);
    if (event.type === "branch.deleted") {
      if (tracked) await abandonBranch(deps, tracked, data.pusher, { deletedAt: data.oldSha });
      return;
    }
    if (tracked) return await touchBranch(deps.db, tracked.id);
    if (data.oldSha !== zeroSha) return;
    const taskId = pushOption(data.pushOptions, "task");
    let branch: Branch;
    try {
      branch = await trackBranch(deps, { repo: event.repo, name, taskId, origin: "push", head: data.newSha }, data.pusher);
    } catch (err) {
      // The push has happened whatever its options said: a task that cannot be linked must not cost the branch its record.
      if (!taskId || !isCookError(err) || err.code === "conflict") throw err;
      log.warn({ repo: event.repo, branch: name, task: taskId, reason: err.message }, "pushed branch tracked without its task");
      branch = await trackBranch(deps, { repo: event.repo, name, origin: "push", head: data.newSha }, data.pusher);
    }
    // The record is made; what the options ask for beyond it must not make the push be handled again.
    await onTracked?.(branch, data.pushOptions ?? [], data.pusher).catch((err: Error) => log.warn({ repo: event.repo, branch: name, reason: err.message }, "pushed branch's agent did not start"));
  } catch (err) {
    // Already tracked, already ended, the default branch, a repo removed since: nothing to do, and a retry would not change it.
    if (isCookError(err) && err.code !== "unavailable") return;
    throw err;
  }
}
