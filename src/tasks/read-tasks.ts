import { CookError } from "../core/errors.js";
import { checkCharacters, type Task, type TaskResolution, type TaskStatus } from "../core/task.js";
import { blockedBy } from "../core/task-graph.js";
import type { Db } from "../db/db.js";
import { allTasks, childrenOf, countTasksByStatus, dependents, findTask, listTaskRows, tasksByIds, waitingReasonsOfTasks, type ListedTask, type TaskFilter } from "../db/task-store.js";

export type { ListedTask, TaskFilter };

export interface TaskLink {
  id: string;
  title: string;
  status: TaskStatus;
  /** Set when closed: only `done` meets a dependency on it. */
  resolution?: TaskResolution;
}

export interface TaskDetail {
  task: Task;
  /** Everything it depends on, with status; the ones not closed as done block it. */
  dependsOn: TaskLink[];
  /** The dependencies not met: not closed, or closed as wontfix (those wait for a human to decide). */
  blockedBy: string[];
  /** Tasks that depend on it. */
  blocks: TaskLink[];
  /** The task it is part of, when it names one. */
  parent: TaskLink | undefined;
  /** Its sub-tasks: the tasks naming it as parent. */
  children: TaskLink[];
  /** Why it waits on a person (help asked, a gate, a conflict, an approval), while in needs_human and a reason was given. */
  waitingReason?: string;
}

export async function getTask(deps: { db: Db }, id: string): Promise<Task> {
  checkCharacters("a task id", id);
  const task = await findTask(deps.db, id);
  if (!task) throw new CookError("not_found", `no task '${id}'`);
  return task;
}

/** The task with what it depends on and what depends on it; its branches are the branch service's to list (listBranches by taskId). */
export async function getTaskDetail(deps: { db: Db }, id: string): Promise<TaskDetail> {
  const task = await getTask(deps, id);
  const [dependsOn, blocks, parents, children] = await Promise.all([tasksByIds(deps.db, task.dependsOn), dependents(deps.db, id), tasksByIds(deps.db, task.parent ? [task.parent] : []), childrenOf(deps.db, id)]);
  const byId = new Map(dependsOn.map((link) => [link.id, link]));
  const waitingReason = task.status === "needs_human" ? (await waitingReasonsOfTasks(deps.db, [id])).get(id) : undefined;
  return { task, dependsOn, blockedBy: blockedBy([...byId.keys()], (dep) => byId.get(dep)), blocks, parent: parents[0], children, ...(waitingReason ? { waitingReason } : {}) };
}

/** Id, title and status of each task given that exists, for pages that link tasks by id. */
export async function listTaskLinks(deps: { db: Db }, ids: readonly string[]): Promise<TaskLink[]> {
  return tasksByIds(deps.db, [...new Set(ids)]);
}

// A filter goes into a query: PostgreSQL cannot even compare text holding a NUL.
const checkFilter = (filter: Pick<TaskFilter, "repo">) => filter.repo !== undefined && checkCharacters("repo", filter.repo);

export async function listTasks(deps: { db: Db }, filter: TaskFilter): Promise<ListedTask[]> {
  checkFilter(filter);
  return listTaskRows(deps.db, filter);
}

export async function countTasks(deps: { db: Db }, filter: Pick<TaskFilter, "repo" | "priority">): Promise<Record<TaskStatus, number>> {
  checkFilter(filter);
  return countTasksByStatus(deps.db, filter);
}

export async function exportTasks(deps: { db: Db }): Promise<Task[]> {
  return allTasks(deps.db);
}
