import type { Actor } from "../core/actor.js";
import { CookError } from "../core/errors.js";
import { setOwn } from "../core/own-keys.js";
import { checkExtraYaml } from "../core/front-matter.js";
import { checkBody, checkCharacters, checkDependsOn, checkExtra, checkParent, checkPriority, checkResolution, checkStatus, checkTitle, type Task } from "../core/task.js";
import { parseTaskDocument } from "../core/task-document.js";
import { checkTransition, describeResolution, resolutionAfter } from "../core/task-status.js";
import type { Tx } from "../db/db.js";
import { findTask, setTaskWaitingReason, updateTaskRow } from "../db/task-store.js";
import { parentField, type NewTask } from "./create-task.js";
import { appendTaskEvent, checkDependencies, checkParentLineDependencies, checkParentTask, checkRepo, type TaskDeps } from "./deps.js";

/** Fields to change; each is checked like a new task's. The id and the times are not for changing. */
export type TaskChanges = Omit<NewTask, "id" | "createdAt" | "updatedAt">;

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** An extra key given a new value is written fresh; one left as it was keeps the YAML it was written in. */
function keptExtraYaml(current: Task, extra: Record<string, unknown>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, text] of Object.entries(current.extraYaml)) {
    if (Object.hasOwn(extra, key) && sameJson(extra[key], current.extra[key])) setOwn(kept, key, text);
  }
  return kept;
}

/**
 * How a change is made: `statusMustMove` refuses a status change that changes nothing ("close" on a
 * closed task); `reason` says why the status moves (kept as the task's waiting reason when it moves to
 * needs_human, and on the status event).
 */
export interface UpdateOptions {
  statusMustMove?: boolean;
  reason?: string;
}

/**
 * Applies changes to a task in one transaction with its events: `updated` naming the changed
 * fields, and `status` (from → to, with the resolution when closed, and the reason when given) when
 * the status moved — through the transitions of core. A closed task's resolution may be changed like
 * any field. A move to needs_human keeps `options.reason` as why the task waits; any other move
 * clears it.
 */
export async function updateTask(deps: TaskDeps, id: string, changes: TaskChanges, actor: Actor, options: UpdateOptions = {}): Promise<Task> {
  checkCharacters("a task id", id);
  return deps.db.transaction((tx) => updateTaskIn(deps, tx, id, changes, actor, options));
}

/** updateTask inside a transaction the caller holds: another service's change and the task's commit together. */
export async function updateTaskIn(deps: TaskDeps, tx: Tx, id: string, changes: TaskChanges, actor: Actor, options: UpdateOptions = {}): Promise<Task> {
  checkCharacters("a task id", id);
  const current = await findTask(tx, id, { forUpdate: true });
  if (!current) throw new CookError("not_found", `no task '${id}'`);
  const extra = changes.extra === undefined ? current.extra : checkExtra(changes.extra);
  const status = changes.status === undefined ? current.status : checkStatus(changes.status);
  const resolution = resolutionAfter(status, changes.resolution === undefined ? undefined : checkResolution(changes.resolution), current);
  const { resolution: _, parent: __, ...unresolved } = current;
  const next: Task = {
    ...unresolved,
    title: changes.title === undefined ? current.title : checkTitle(changes.title),
    priority: changes.priority === undefined ? current.priority : checkPriority(changes.priority),
    status,
    ...(resolution ? { resolution } : {}),
    repo: changes.repo === undefined ? current.repo : checkRepo(deps.dataDir, changes.repo),
    dependsOn: changes.dependsOn === undefined ? current.dependsOn : checkDependsOn(changes.dependsOn),
    ...parentField(changes.parent === undefined ? current.parent : checkParent(changes.parent)),
    body: changes.body === undefined ? current.body : checkBody(changes.body),
    extra,
    extraYaml: changes.extraYaml === undefined ? keptExtraYaml(current, extra) : checkExtraYaml(extra, changes.extraYaml),
  };
  const changed: string[] = (["title", "priority", "repo", "parent", "body"] as const).filter((field) => next[field] !== current[field]);
  if (!sameList(next.dependsOn, current.dependsOn)) changed.push("dependsOn");
  if (!sameJson(next.extra, current.extra) || !sameJson(next.extraYaml, current.extraYaml)) changed.push("extra");
  const statusMoved = next.status !== current.status;
  // A closed task's new resolution is an edit; with the status moving, the status event carries it.
  if (!statusMoved && next.resolution !== current.resolution) changed.push("resolution");
  // "Close" on a closed task is a mistake worth reporting; an edit that leaves the status alone is not.
  if (options.statusMustMove && !statusMoved) {
    if (current.resolution && next.resolution && current.resolution !== next.resolution) {
      throw new CookError("conflict", `task '${id}' is already closed as ${describeResolution(current.resolution)}; reopen it to close it as ${describeResolution(next.resolution)}`);
    }
    checkTransition(id, current.status, next.status);
  }
  if (changed.length === 0 && !statusMoved) return current;

  if (statusMoved) checkTransition(id, current.status, next.status);
  if (!sameList(next.dependsOn, current.dependsOn)) await checkDependencies(tx, id, next.dependsOn);
  // A move to another repo is checked too: the parent must come along.
  if (next.parent !== current.parent || (next.parent !== undefined && next.repo !== current.repo)) await checkParentTask(tx, next);
  next.updatedAt = new Date().toISOString();
  const saved = await updateTaskRow(tx, next);
  if (changed.includes("dependsOn") || changed.includes("parent")) await checkParentLineDependencies(tx, id);
  if (changed.length > 0) await appendTaskEvent(deps, tx, saved.repo, id, "updated", { changed }, actor);
  if (statusMoved) {
    await setTaskWaitingReason(tx, id, next.status === "needs_human" ? (options.reason ?? null) : null);
    await appendTaskEvent(deps, tx, saved.repo, id, "status", { from: current.status, to: next.status, ...(saved.resolution ? { resolution: saved.resolution } : {}), ...(options.reason ? { reason: options.reason } : {}) }, actor);
  }
  return saved;
}

/** `cook task edit`: the whole file comes back; its id must still be the task's. */
export async function replaceTaskDocument(deps: TaskDeps, id: string, text: string, actor: Actor): Promise<Task> {
  const doc = parseTaskDocument(text);
  if (doc.id !== undefined && doc.id !== id) throw new CookError("invalid", `the id cannot be changed (was '${id}', the file says '${doc.id}')`);
  return updateTask(
    deps,
    id,
    { title: doc.title ?? "", priority: doc.priority, status: doc.status, resolution: doc.resolution, repo: doc.repo, dependsOn: doc.dependsOn ?? [], parent: doc.parent ?? null, body: doc.body, extra: doc.extra, extraYaml: doc.extraYaml },
    actor,
  );
}

/**
 * Closes a task as done (the default) or wontfix. A closed task is refused, whatever the
 * resolution: to close it another way, reopen it first, so the change is two plain status events.
 */
export const closeTask = (deps: TaskDeps, id: string, actor: Actor, resolution: unknown = "done") =>
  updateTask(deps, id, { status: "closed", resolution }, actor, { statusMustMove: true });
/** Reopens a closed task; its resolution goes, and the tasks that depend on it are blocked again. */
export const reopenTask = (deps: TaskDeps, id: string, actor: Actor) => updateTask(deps, id, { status: "open" }, actor, { statusMustMove: true });

/** A branch started work on the task, inside the caller's transaction: an open task moves to in_progress; one waiting on a human or already in progress stays. */
export async function markTaskStartedIn(deps: TaskDeps, tx: Tx, id: string, actor: Actor): Promise<void> {
  const task = await findTask(tx, id, { forUpdate: true });
  if (task?.status === "open") await updateTaskIn(deps, tx, id, { status: "in_progress" }, actor);
}

/** Work on the task stopped (its last open branch ended without a merge): in_progress or needs_human moves back to open. */
export async function markTaskStoppedIn(deps: TaskDeps, tx: Tx, id: string, actor: Actor): Promise<void> {
  const task = await findTask(tx, id, { forUpdate: true });
  if (task?.status === "in_progress" || task?.status === "needs_human") await updateTaskIn(deps, tx, id, { status: "open" }, actor);
}

/**
 * Work on the task waits on a person (help asked, an approval, a conflict, a failed gate no agent
 * fixes), inside the caller's transaction: in_progress moves to needs_human, and `reason` is kept as
 * why (the inbox's "needs you", `cook autopilot status`, stage summaries show it).
 */
export async function markTaskWaitingIn(deps: TaskDeps, tx: Tx, id: string, actor: Actor, reason: string): Promise<void> {
  const task = await findTask(tx, id, { forUpdate: true });
  if (task?.status === "in_progress") await updateTaskIn(deps, tx, id, { status: "needs_human" }, actor, { reason });
}

/** What the task waited on a person for is given (an approval): needs_human moves back to in_progress. */
export async function markTaskResumedIn(deps: TaskDeps, tx: Tx, id: string, actor: Actor): Promise<void> {
  const task = await findTask(tx, id, { forUpdate: true });
  if (task?.status === "needs_human") await updateTaskIn(deps, tx, id, { status: "in_progress" }, actor);
}
