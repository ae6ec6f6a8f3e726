import type { Branch, BranchOrigin, BranchStatus } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import type { MergeStrategy } from "../core/gate.js";
import type { Queryable } from "./db.js";

interface BranchRow {
  id: string;
  repo: string;
  name: string;
  base_branch: string;
  base_commit: string;
  task_id: string | null;
  status: BranchStatus;
  origin: BranchOrigin;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  ended_at: Date | null;
  archive_ref: string | null;
  [key: string]: unknown;
}

const columns = "id, repo, name, base_branch, base_commit, task_id, status, origin, created_by, created_at, updated_at, ended_at, archive_ref";

function toBranch(row: BranchRow): Branch {
  return {
    id: row.id,
    repo: row.repo,
    name: row.name,
    baseBranch: row.base_branch,
    baseCommit: row.base_commit,
    taskId: row.task_id ?? undefined,
    status: row.status,
    origin: row.origin,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    endedAt: row.ended_at?.toISOString(),
    archiveRef: row.archive_ref ?? undefined,
  };
}

/** Inserts a new open branch; an open branch of the same repo and name → conflict. */
export async function insertBranch(q: Queryable, branch: Branch): Promise<Branch> {
  try {
    const rows = await q.query<BranchRow>(
      `INSERT INTO branches (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${columns}`,
      [branch.id, branch.repo, branch.name, branch.baseBranch, branch.baseCommit, branch.taskId ?? null, branch.status, branch.origin, branch.createdBy, branch.createdAt, branch.updatedAt, branch.endedAt ?? null, branch.archiveRef ?? null],
    );
    return toBranch(rows[0]!);
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw new CookError("conflict", `branch '${branch.name}' of ${branch.repo} is already tracked`);
    throw err;
  }
}

export async function findBranchById(q: Queryable, id: string, options: { forUpdate?: boolean } = {}): Promise<Branch | undefined> {
  const rows = await q.query<BranchRow>(`SELECT ${columns} FROM branches WHERE id = $1${options.forUpdate ? " FOR UPDATE" : ""}`, [id]);
  return rows[0] ? toBranch(rows[0]) : undefined;
}

/** The open record of a git branch, if Cook tracks it. */
/** The branches with these ids that exist, by id. */
export async function findBranchesByIds(q: Queryable, ids: readonly string[]): Promise<Map<string, Branch>> {
  if (ids.length === 0) return new Map();
  const rows = await q.query<BranchRow>(`SELECT ${columns} FROM branches WHERE id = ANY($1::text[])`, [[...new Set(ids)]]);
  return new Map(rows.map((row) => [row.id, toBranch(row)]));
}

export async function findOpenBranch(q: Queryable, repo: string, name: string, options: { forUpdate?: boolean } = {}): Promise<Branch | undefined> {
  const rows = await q.query<BranchRow>(`SELECT ${columns} FROM branches WHERE repo = $1 AND name = $2 AND status = 'open'${options.forUpdate ? " FOR UPDATE" : ""}`, [repo, name]);
  return rows[0] ? toBranch(rows[0]) : undefined;
}

/** Records named `name` in any repo (or one repo), newest first: to resolve a name given alone. */
export async function findBranchesNamed(q: Queryable, name: string, repo?: string): Promise<Branch[]> {
  const rows = await q.query<BranchRow>(
    `SELECT ${columns} FROM branches WHERE name = $1 AND ($2::text IS NULL OR repo = $2) ORDER BY (status = 'open') DESC, created_at DESC`,
    [name, repo ?? null],
  );
  return rows.map(toBranch);
}

/** Names of open branches of a repo starting with `base`: to pick the next free `base-N`. */
export async function openNamesWithPrefix(q: Queryable, repo: string, base: string): Promise<Set<string>> {
  const rows = await q.query<{ name: string }>("SELECT name FROM branches WHERE repo = $1 AND status = 'open' AND (name = $2 OR name LIKE $3)", [
    repo,
    base,
    `${base.replace(/[\\%_]/g, "\\$&")}-%`,
  ]);
  return new Set(rows.map((row) => row.name));
}

export interface BranchFilter {
  repo?: string;
  status?: BranchStatus;
  taskId?: string;
  limit?: number;
}

/** Branches by last activity, newest first. */
export async function selectBranches(q: Queryable, filter: BranchFilter = {}): Promise<Branch[]> {
  const rows = await q.query<BranchRow>(
    `SELECT ${columns} FROM branches
     WHERE ($1::text IS NULL OR repo = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR task_id = $3)
     ORDER BY updated_at DESC, id DESC LIMIT $4`,
    [filter.repo ?? null, filter.status ?? null, filter.taskId ?? null, filter.limit ?? 500],
  );
  return rows.map(toBranch);
}

/** The ids of every branch of a repo or of a task (any status, no limit): what sums over their sessions need. */
export async function branchIdsWhere(q: Queryable, filter: { repo?: string; taskId?: string }): Promise<string[]> {
  const rows = await q.query<{ id: string }>("SELECT id FROM branches WHERE ($1::text IS NULL OR repo = $1) AND ($2::text IS NULL OR task_id = $2)", [filter.repo ?? null, filter.taskId ?? null]);
  return rows.map((row) => row.id);
}

/** The ids of the branches of each given task, by task id (any status). */
export async function branchIdsOfTasks(q: Queryable, taskIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (taskIds.length === 0) return out;
  const rows = await q.query<{ id: string; task_id: string }>("SELECT id, task_id FROM branches WHERE task_id = ANY($1::text[])", [taskIds]);
  for (const row of rows) out.set(row.task_id, [...(out.get(row.task_id) ?? []), row.id]);
  return out;
}

/** The task's open branch made first: where its sub-tasks' branches start and merge. */
export async function oldestOpenBranchOfTask(q: Queryable, taskId: string): Promise<Branch | undefined> {
  const rows = await q.query<BranchRow>(`SELECT ${columns} FROM branches WHERE task_id = $1 AND status = 'open' ORDER BY created_at, id LIMIT 1`, [taskId]);
  return rows[0] ? toBranch(rows[0]) : undefined;
}

/** The open branches of the sub-tasks of `taskId` that start from (and merge into) the branch named `base`. */
export async function openSubTaskBranches(q: Queryable, repo: string, base: string, taskId: string): Promise<Branch[]> {
  const rows = await q.query<BranchRow>(
    `SELECT ${columns} FROM branches WHERE repo = $1 AND base_branch = $2 AND status = 'open' AND task_id IN (SELECT id FROM tasks WHERE parent = $3) ORDER BY name`,
    [repo, base, taskId],
  );
  return rows.map(toBranch);
}

/** How many open branches a task has, not counting `exceptId`. */
export async function countOpenBranchesOfTask(q: Queryable, taskId: string, exceptId?: string): Promise<number> {
  const rows = await q.query<{ n: number }>("SELECT count(*)::int AS n FROM branches WHERE task_id = $1 AND status = 'open' AND id <> $2", [taskId, exceptId ?? ""]);
  return rows[0]!.n;
}

export async function endBranch(q: Queryable, id: string, status: Exclude<BranchStatus, "open">, archiveRef: string | undefined): Promise<Branch> {
  const rows = await q.query<BranchRow>(
    `UPDATE branches SET status = $2, archive_ref = $3, ended_at = now(), updated_at = now() WHERE id = $1 RETURNING ${columns}`,
    [id, status, archiveRef ?? null],
  );
  return toBranch(rows[0]!);
}

export async function setBranchTask(q: Queryable, id: string, taskId: string): Promise<Branch> {
  const rows = await q.query<BranchRow>(`UPDATE branches SET task_id = $2, updated_at = now() WHERE id = $1 RETURNING ${columns}`, [id, taskId]);
  return toBranch(rows[0]!);
}

/** Marks activity (a push, a command, an environment change): the dashboard sorts by it. */
export async function touchBranch(q: Queryable, id: string): Promise<void> {
  await q.query("UPDATE branches SET updated_at = now() WHERE id = $1", [id]);
}

/**
 * Whether the branch merges itself as soon as its gates pass on its head (`cook branch merge
 * --auto`), and with which strategy (undefined: cook.toml's when it merges).
 */
export async function setAutoMerge(q: Queryable, id: string, on: boolean, strategy?: MergeStrategy): Promise<void> {
  await q.query("UPDATE branches SET auto_merge = $2, auto_merge_strategy = $3, updated_at = now() WHERE id = $1", [id, on, on ? (strategy ?? null) : null]);
}

/** The strategy an open branch's auto-merge was asked with; undefined when none was (or it has none). */
export async function autoMergeStrategyOf(q: Queryable, id: string): Promise<MergeStrategy | undefined> {
  const rows = await q.query<{ auto_merge_strategy: MergeStrategy | null }>("SELECT auto_merge_strategy FROM branches WHERE id = $1 AND status = 'open' AND auto_merge", [id]);
  return rows[0]?.auto_merge_strategy ?? undefined;
}

/** Whether an open branch waits to merge itself; false for an ended or unknown one. */
export async function autoMergeOf(q: Queryable, id: string): Promise<boolean> {
  const rows = await q.query<{ auto_merge: boolean }>("SELECT auto_merge FROM branches WHERE id = $1 AND status = 'open'", [id]);
  return rows[0]?.auto_merge ?? false;
}

/** Records the commit a merged branch landed as (and ends its auto-merge). */
export async function setMergedCommit(q: Queryable, id: string, commit: string): Promise<void> {
  await q.query("UPDATE branches SET merged_commit = $2, auto_merge = false, auto_merge_strategy = NULL WHERE id = $1", [id, commit]);
}

/** Records where an ended branch's last commit is kept (refs/archive/…). */
export async function setArchiveRef(q: Queryable, id: string, archiveRef: string): Promise<void> {
  await q.query("UPDATE branches SET archive_ref = $2 WHERE id = $1", [id, archiveRef]);
}

/** Ids of merged branches whose ref was not archived yet (a server stopped in between). */
export async function mergedUnarchivedIds(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ id: string }>("SELECT id FROM branches WHERE status = 'merged' AND archive_ref IS NULL");
  return rows.map((row) => row.id);
}
