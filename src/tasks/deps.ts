import type { Actor } from "../core/actor.js";
import { CookError } from "../core/errors.js";
import { checkTaskRepo } from "../core/task.js";
import { describeCycle, findCycle } from "../core/task-graph.js";
import type { Db, Tx } from "../db/db.js";
import { ancestorsOf, dependencyClosure, descendantsOf, existingTaskIds, findTask, lockTaskGraph } from "../db/task-store.js";
import type { EventLog } from "../events/event-log.js";
import { newEvent } from "../events/event.js";
import { subjects } from "../events/subjects.js";
import { repoExists } from "../forge/repos.js";

export interface TaskDeps {
  dataDir: string;
  db: Db;
  events: EventLog;
}

export function checkRepo(dataDir: string, repo: unknown): string {
  const name = checkTaskRepo(repo);
  if (!repoExists(dataDir, name)) throw new CookError("invalid", `no repo named '${name}'; a task belongs to an existing repo`);
  return name;
}

/**
 * Refuses dependencies on tasks that do not exist, and any set of edges that would close a cycle,
 * naming it: `a → b → c → a`. `pending` holds edges being written in the same transaction.
 */
export async function checkDependencies(tx: Tx, id: string, dependsOn: readonly string[], pending: ReadonlyMap<string, readonly string[]> = new Map()): Promise<void> {
  if (dependsOn.length === 0) return;
  await lockTaskGraph(tx);
  const known = await existingTaskIds(tx, dependsOn);
  const unknown = dependsOn.filter((dep) => !known.has(dep) && !pending.has(dep));
  if (unknown.length > 0) throw new CookError("invalid", `depends_on names unknown task${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`);
  const graph = await dependencyClosure(tx, [...dependsOn, ...[...pending.values()].flat()]);
  for (const [pendingId, pendingDeps] of pending) graph.set(pendingId, [...pendingDeps]);
  const cycle = findCycle(id, dependsOn, graph);
  if (cycle) throw new CookError("invalid", `depends_on would make a cycle: ${describeCycle(cycle)}`);
}

/** How deep sub-tasks nest: a task, its parent, and up to this many more parents above. */
export const maxParentDepth = 8;

/** A task being written in the same transaction (an import): its repo and parent. */
export interface PendingParent {
  repo: string;
  parent?: string | undefined;
}

/**
 * Refuses a parent that is the task itself, names no task, belongs to another repo, or would make
 * the parent chain loop or nest deeper than maxParentDepth, naming the chain: `a → b → a`.
 * `pending` holds the tasks written in the same transaction (an import), whose parents may be
 * among them.
 */
export async function checkParentTask(tx: Tx, task: { id: string; repo: string; parent?: string | undefined }, pending: ReadonlyMap<string, PendingParent> = new Map()): Promise<void> {
  if (task.parent === undefined) return;
  if (task.parent === task.id) throw new CookError("invalid", `a task cannot be its own parent ('${task.id}')`);
  await lockTaskGraph(tx);
  const chain = [task.id];
  let next: string | undefined = task.parent;
  while (next !== undefined) {
    const known: PendingParent | undefined = pending.get(next) ?? (await findTask(tx, next));
    if (!known) throw new CookError("invalid", chain.length === 1 ? `parent names unknown task '${next}'` : `parent: task '${chain[chain.length - 1]}' names unknown parent '${next}'`);
    if (chain.length === 1 && known.repo !== task.repo) throw new CookError("invalid", `parent '${next}' belongs to ${known.repo}, not ${task.repo}; a sub-task is in its parent's repo`);
    if (chain.includes(next)) throw new CookError("invalid", `parent would make a cycle: ${describeCycle([...chain, next])}`);
    chain.push(next);
    if (chain.length > maxParentDepth + 1) throw new CookError("invalid", `parent: sub-tasks nest at most ${maxParentDepth} deep (${describeCycle(chain)} …)`);
    // Rows in the store have been checked: their chain is read in one query.
    if (!pending.has(next)) {
      const above = (await ancestorsOf(tx, next, maxParentDepth + 1)).map((row) => row.id);
      const loop = above.indexOf(task.id);
      if (loop >= 0) throw new CookError("invalid", `parent would make a cycle: ${describeCycle([...chain, ...above.slice(0, loop + 1)])}`);
      if (chain.length + above.length > maxParentDepth + 1) throw new CookError("invalid", `parent: sub-tasks nest at most ${maxParentDepth} deep (${describeCycle([...chain, ...above])})`);
      return;
    }
    next = pending.get(next)!.parent;
  }
}

/**
 * Refuses, once a task is written (inside the same transaction), a dependency that could never be
 * met because it runs along the task's own parent line: a parent closes only once its sub-tasks
 * are closed, and a sub-task starts only once the dependencies of the tasks above it are met, so a
 * task depending (directly or through other tasks) on a task above or below it waits for itself.
 * Checked for the task, its parents and its sub-tasks (8 levels each way).
 */
export async function checkParentLineDependencies(tx: Tx, id: string): Promise<void> {
  const task = await findTask(tx, id);
  if (!task) return;
  const above = (await ancestorsOf(tx, id, maxParentDepth + 1)).map((row) => ({ id: row.id, dependsOn: row.dependsOn }));
  const below = await descendantsOf(tx, id, maxParentDepth + 1);
  if (above.length === 0 && below.length === 0) return;
  const parentOf = new Map(below.map((row) => [row.id, row.parent]));
  // Above the task and the task itself: every other task of the line is above or below them. Below it: the line through their parents, and their own sub-tasks.
  const isAbove = (x: string, y: string): boolean => {
    if (x === id || above.some((row) => row.id === x)) return above.findIndex((row) => row.id === y) > above.findIndex((row) => row.id === x);
    for (let up = parentOf.get(x); up !== undefined; up = parentOf.get(up)) if (up === y) return true;
    return y === id || above.some((row) => row.id === y);
  };
  for (const x of [{ id, dependsOn: task.dependsOn }, ...above, ...below]) {
    if (x.dependsOn.length === 0) continue;
    const reached = new Set([...x.dependsOn, ...(await dependencyClosure(tx, x.dependsOn)).keys()]);
    for (const y of [id, ...above.map((row) => row.id), ...below.map((row) => row.id)]) {
      if (y === x.id || !reached.has(y)) continue;
      const upwards = isAbove(x.id, y);
      if (upwards || isAbove(y, x.id)) {
        throw new CookError("invalid", `depends_on could never be met: '${x.id}' would wait for '${y}', a task ${upwards ? "above" : "below"} it (${upwards ? "its parent or one above" : "its sub-task or one below"}), and a parent waits for its sub-tasks`);
      }
    }
  }
}

export async function appendTaskEvent(deps: TaskDeps, tx: Tx, repo: string, id: string, action: "created" | "updated" | "status", data: object, actor: Actor): Promise<void> {
  await deps.events.append(tx, newEvent(subjects.task(repo, id, action), repo, { data: { id, ...data, by: actor.name } }));
}
