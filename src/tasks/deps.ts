import type { Actor } from "../core/actor.js";
import { CookError } from "../core/errors.js";
import { checkTaskRepo } from "../core/task.js";
import { describeCycle, findCycle } from "../core/task-graph.js";
import type { Db, Tx } from "../db/db.js";
import { dependencyClosure, existingTaskIds, lockTaskGraph } from "../db/task-store.js";
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

export async function appendTaskEvent(deps: TaskDeps, tx: Tx, repo: string, id: string, action: "created" | "updated" | "status", data: object, actor: Actor): Promise<void> {
  await deps.events.append(tx, newEvent(subjects.task(repo, id, action), repo, { data: { id, ...data, by: actor.name } }));
}
