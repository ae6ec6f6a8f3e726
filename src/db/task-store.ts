import type { Task, TaskResolution, TaskStatus } from "../core/task.js";
import { CookError } from "../core/errors.js";
import type { Queryable } from "./db.js";

interface TaskRow {
  id: string;
  repo: string;
  title: string;
  priority: number;
  status: TaskStatus;
  resolution: TaskResolution | null;
  depends_on: string[];
  parent: string | null;
  body: string;
  extra: Record<string, unknown>;
  extra_yaml: Record<string, string>;
  created_at: Date;
  updated_at: Date;
  [key: string]: unknown;
}

const columns = "id, repo, title, priority, status, resolution, depends_on, parent, body, extra, extra_yaml, created_at, updated_at";

function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    title: row.title,
    priority: row.priority,
    status: row.status,
    ...(row.resolution ? { resolution: row.resolution } : {}),
    repo: row.repo,
    dependsOn: row.depends_on,
    ...(row.parent ? { parent: row.parent } : {}),
    body: row.body,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    extra: row.extra,
    extraYaml: row.extra_yaml,
  };
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === "23505";
}

export async function insertTask(q: Queryable, task: Task): Promise<Task> {
  try {
    const rows = await q.query<TaskRow>(
      `INSERT INTO tasks (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${columns}`,
      [task.id, task.repo, task.title, task.priority, task.status, task.resolution ?? null, task.dependsOn, task.parent ?? null, task.body, JSON.stringify(task.extra), JSON.stringify(task.extraYaml), task.createdAt, task.updatedAt],
    );
    return toTask(rows[0]!);
  } catch (err) {
    if (isUniqueViolation(err)) throw new CookError("conflict", `a task with id '${task.id}' already exists`);
    throw err;
  }
}

export async function updateTaskRow(q: Queryable, task: Task): Promise<Task> {
  const rows = await q.query<TaskRow>(
    `UPDATE tasks SET repo = $2, title = $3, priority = $4, status = $5, resolution = $6, depends_on = $7, parent = $8, body = $9, extra = $10, extra_yaml = $11, updated_at = $12
     WHERE id = $1 RETURNING ${columns}`,
    [task.id, task.repo, task.title, task.priority, task.status, task.resolution ?? null, task.dependsOn, task.parent ?? null, task.body, JSON.stringify(task.extra), JSON.stringify(task.extraYaml), task.updatedAt],
  );
  if (!rows[0]) throw new CookError("not_found", `no task '${task.id}'`);
  return toTask(rows[0]);
}

/** The task, locked for update when inside a transaction that will change it. */
export async function findTask(q: Queryable, id: string, options: { forUpdate?: boolean } = {}): Promise<Task | undefined> {
  const rows = await q.query<TaskRow>(`SELECT ${columns} FROM tasks WHERE id = $1${options.forUpdate ? " FOR UPDATE" : ""}`, [id]);
  return rows[0] ? toTask(rows[0]) : undefined;
}

export async function existingTaskIds(q: Queryable, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await q.query<{ id: string }>("SELECT id FROM tasks WHERE id = ANY($1::text[])", [ids]);
  return new Set(rows.map((row) => row.id));
}

/** Ids starting with `base`: to pick the next free `base-N`. */
export async function idsWithPrefix(q: Queryable, base: string): Promise<Set<string>> {
  const rows = await q.query<{ id: string }>("SELECT id FROM tasks WHERE id = $1 OR id LIKE $2", [base, `${base.replace(/[\\%_]/g, "\\$&")}-%`]);
  return new Set(rows.map((row) => row.id));
}

/** Everything reachable from `roots` along depends_on: the part of the graph a new edge could close a cycle in. */
export async function dependencyClosure(q: Queryable, roots: readonly string[]): Promise<Map<string, string[]>> {
  if (roots.length === 0) return new Map();
  const rows = await q.query<{ id: string; depends_on: string[] }>(
    `WITH RECURSIVE reach(id) AS (
       SELECT unnest($1::text[])
       UNION
       SELECT unnest(t.depends_on) FROM tasks t JOIN reach r ON t.id = r.id
     )
     SELECT t.id, t.depends_on FROM tasks t JOIN reach USING (id)`,
    [roots],
  );
  return new Map(rows.map((row) => [row.id, row.depends_on]));
}

export interface TaskFilter {
  repo?: string;
  status?: TaskStatus;
  priority?: number;
  /** Only tasks whose dependencies are all met (closed as done). */
  ready?: boolean;
  limit?: number;
  offset?: number;
}

export interface ListedTask extends Task {
  /** Dependencies not met: not closed, or closed as wontfix. */
  blockedBy: string[];
}

/**
 * Tasks by priority, then oldest first. Readiness is computed in the same query, one index probe
 * per dependency: linear in tasks + dependencies.
 */
export async function listTaskRows(q: Queryable, filter: TaskFilter): Promise<ListedTask[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.repo !== undefined) where.push(`t.repo = ${param(filter.repo)}`);
  if (filter.status !== undefined) where.push(`t.status = ${param(filter.status)}`);
  if (filter.priority !== undefined) where.push(`t.priority = ${param(filter.priority)}`);
  // A dependency is met when closed as done (core/task-graph.ts meetsDependency); the resolution is
  // set exactly when the status is closed, so it alone decides.
  const unmet = "d.id = ANY(t.depends_on) AND d.resolution IS DISTINCT FROM 'done'";
  const blocked = `coalesce((SELECT array_agg(d.id ORDER BY d.id) FROM tasks d WHERE ${unmet}), '{}')`;
  if (filter.ready) where.push(`cardinality(t.depends_on) = 0 OR NOT EXISTS (SELECT 1 FROM tasks d WHERE ${unmet})`);
  const rows = await q.query<TaskRow & { blocked_by: string[] }>(
    `SELECT ${columns.split(", ").map((c) => `t.${c}`).join(", ")}, ${blocked} AS blocked_by
     FROM tasks t ${where.length ? `WHERE ${where.map((w) => `(${w})`).join(" AND ")}` : ""}
     ORDER BY t.priority, t.created_at, t.id ${filter.limit ? `LIMIT ${param(filter.limit)}` : ""} ${filter.offset ? `OFFSET ${param(filter.offset)}` : ""}`,
    params,
  );
  return rows.map((row) => ({ ...toTask(row), blockedBy: row.blocked_by }));
}

export async function countTasksByStatus(q: Queryable, filter: Pick<TaskFilter, "repo" | "priority">): Promise<Record<TaskStatus, number>> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.repo !== undefined) {
    params.push(filter.repo);
    where.push(`repo = $${params.length}`);
  }
  if (filter.priority !== undefined) {
    params.push(filter.priority);
    where.push(`priority = $${params.length}`);
  }
  const rows = await q.query<{ status: TaskStatus; count: number }>(
    `SELECT status, count(*)::int AS count FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""} GROUP BY status`,
    params,
  );
  const counts: Record<TaskStatus, number> = { open: 0, in_progress: 0, needs_human: 0, closed: 0 };
  for (const row of rows) counts[row.status] = row.count;
  return counts;
}

/** A task as other tasks and pages link to it: enough to show its status and whether it meets a dependency. */
export type TaskLinkRow = Pick<Task, "id" | "title" | "status" | "resolution">;

type LinkRow = Pick<TaskRow, "id" | "title" | "status" | "resolution">;
const toLink = (row: LinkRow): TaskLinkRow => ({ id: row.id, title: row.title, status: row.status, ...(row.resolution ? { resolution: row.resolution } : {}) });

/** Tasks that list `id` among their dependencies. */
export async function dependents(q: Queryable, id: string): Promise<TaskLinkRow[]> {
  const rows = await q.query<LinkRow>("SELECT id, title, status, resolution FROM tasks WHERE depends_on @> ARRAY[$1]::text[] ORDER BY id", [id]);
  return rows.map(toLink);
}

export async function tasksByIds(q: Queryable, ids: readonly string[]): Promise<TaskLinkRow[]> {
  if (ids.length === 0) return [];
  const rows = await q.query<LinkRow>("SELECT id, title, status, resolution FROM tasks WHERE id = ANY($1::text[]) ORDER BY id", [ids]);
  return rows.map(toLink);
}

/** The sub-tasks of a task (those naming it as parent), by id. */
export async function childrenOf(q: Queryable, id: string): Promise<TaskLinkRow[]> {
  const rows = await q.query<LinkRow>("SELECT id, title, status, resolution FROM tasks WHERE parent = $1 ORDER BY id", [id]);
  return rows.map(toLink);
}

/** Of these task ids, the ones with a sub-task not closed: what autopilot treats as a parent, not as work for an agent. */
export async function withOpenChildren(q: Queryable, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await q.query<{ parent: string }>("SELECT DISTINCT parent FROM tasks WHERE parent = ANY($1::text[]) AND status <> 'closed'", [ids]);
  return new Set(rows.map((row) => row.parent));
}

/** The repo's tasks not closed that have sub-tasks not closed, with how many, by priority then age. */
export async function parentsWithOpenChildren(q: Queryable, repo: string, limit = 100): Promise<Array<Pick<Task, "id" | "title" | "priority" | "status"> & { openSubTasks: number }>> {
  const rows = await q.query<{ id: string; title: string; priority: number; status: TaskStatus; open: number }>(
    `SELECT p.id, p.title, p.priority, p.status, count(*)::int AS open FROM tasks p JOIN tasks c ON c.parent = p.id AND c.status <> 'closed'
     WHERE p.repo = $1 AND p.status <> 'closed' GROUP BY p.id ORDER BY p.priority, p.created_at, p.id LIMIT $2`,
    [repo, limit],
  );
  return rows.map((row) => ({ id: row.id, title: row.title, priority: row.priority, status: row.status, openSubTasks: row.open }));
}

/** A task on the way up a parent chain: what deciding whether its sub-tasks may start needs. */
export type AncestorRow = Pick<Task, "id" | "repo" | "status" | "resolution" | "dependsOn" | "parent"> & { blockedBy: string[] };

/**
 * The parents of `id`, nearest first, up to `limit` of them, each with its unmet dependencies. A
 * chain that loops (only rows written before parents were checked could) stops where it repeats.
 */
export async function ancestorsOf(q: Queryable, id: string, limit: number): Promise<AncestorRow[]> {
  const rows = await q.query<{ id: string; repo: string; status: TaskStatus; resolution: TaskResolution | null; depends_on: string[]; parent: string | null; blocked_by: string[]; depth: number }>(
    `WITH RECURSIVE up(id, depth, seen) AS (
       SELECT parent, 1, ARRAY[id] FROM tasks WHERE id = $1 AND parent IS NOT NULL
       UNION ALL
       SELECT t.parent, up.depth + 1, up.seen || t.id FROM tasks t JOIN up ON t.id = up.id
       WHERE t.parent IS NOT NULL AND up.depth < $2 AND NOT t.parent = ANY(up.seen || t.id)
     )
     SELECT t.id, t.repo, t.status, t.resolution, t.depends_on, t.parent, up.depth,
       coalesce((SELECT array_agg(d.id ORDER BY d.id) FROM tasks d WHERE d.id = ANY(t.depends_on) AND d.resolution IS DISTINCT FROM 'done'), '{}') AS blocked_by
     FROM up JOIN tasks t ON t.id = up.id ORDER BY up.depth`,
    [id, limit],
  );
  return rows.map((row) => ({ id: row.id, repo: row.repo, status: row.status, ...(row.resolution ? { resolution: row.resolution } : {}), dependsOn: row.depends_on, ...(row.parent ? { parent: row.parent } : {}), blockedBy: row.blocked_by }));
}

export async function allTasks(q: Queryable): Promise<Task[]> {
  const rows = await q.query<TaskRow>(`SELECT ${columns} FROM tasks ORDER BY id`);
  return rows.map(toTask);
}

// Dependency edges are checked for cycles under this lock, so two concurrent edits cannot each
// add half of a cycle.
const graphLockKey = 7420_0004;

/** Serialises changes to the dependency graph until the transaction ends. */
export async function lockTaskGraph(tx: Queryable): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock($1)", [graphLockKey]);
}

/** The extra front-matter keys of each of these tasks, by id (unknown ids are left out). */
export async function extrasOfTasks(q: Queryable, ids: readonly string[]): Promise<Map<string, Pick<Task, "extra" | "parent">>> {
  if (ids.length === 0) return new Map();
  const rows = await q.query<Pick<TaskRow, "id" | "extra" | "parent">>("SELECT id, extra, parent FROM tasks WHERE id = ANY($1::text[])", [ids]);
  return new Map(rows.map((row) => [row.id, { extra: row.extra, ...(row.parent ? { parent: row.parent } : {}) }]));
}

/** Sets (or, with null, clears) why the task waits on a person; the task's status says whether it does. */
export async function setTaskWaitingReason(q: Queryable, id: string, reason: string | null): Promise<void> {
  await q.query("UPDATE tasks SET waiting_reason = $2 WHERE id = $1", [id, reason]);
}

/** Why each of these tasks waits on a person, by task id; tasks with no stated reason have no entry. */
export async function waitingReasonsOfTasks(q: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await q.query<{ id: string; waiting_reason: string }>("SELECT id, waiting_reason FROM tasks WHERE id = ANY($1::text[]) AND waiting_reason IS NOT NULL", [ids]);
  return new Map(rows.map((row) => [row.id, row.waiting_reason]));
}

/** The sub-tasks below a task, their sub-tasks and so on, `limit` levels deep: id, parent and depends_on of each. */
export async function descendantsOf(q: Queryable, id: string, limit: number): Promise<Array<{ id: string; parent: string; dependsOn: string[] }>> {
  const rows = await q.query<{ id: string; parent: string; depends_on: string[] }>(
    `WITH RECURSIVE down(id, depth) AS (
       SELECT id, 1 FROM tasks WHERE parent = $1
       UNION
       SELECT t.id, down.depth + 1 FROM tasks t JOIN down ON t.parent = down.id WHERE down.depth < $2
     )
     SELECT t.id, t.parent, t.depends_on FROM tasks t JOIN down USING (id)`,
    [id, limit],
  );
  return rows.map((row) => ({ id: row.id, parent: row.parent, dependsOn: row.depends_on }));
}
