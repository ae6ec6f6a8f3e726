import type { Merge, MergeState, MergeStrategy } from "../core/gate.js";
import { CookError } from "../core/errors.js";
import type { Queryable } from "./db.js";

interface MergeRow {
  id: string;
  branch_id: string;
  repo: string;
  target: string;
  strategy: MergeStrategy;
  state: MergeState;
  head: string | null;
  target_old: string | null;
  candidate: string | null;
  gate_run_id: string | null;
  conflicts: string[];
  message: string | null;
  requested_by: string;
  created_at: Date;
  updated_at: Date;
  ended_at: Date | null;
  [key: string]: unknown;
}

const columns = "id, branch_id, repo, target, strategy, state, head, target_old, candidate, gate_run_id, conflicts, message, requested_by, created_at, updated_at, ended_at";

const toMerge = (row: MergeRow): Merge => ({
  id: row.id,
  branchId: row.branch_id,
  repo: row.repo,
  target: row.target,
  strategy: row.strategy,
  state: row.state,
  head: row.head ?? undefined,
  targetOld: row.target_old ?? undefined,
  candidate: row.candidate ?? undefined,
  gateRunId: row.gate_run_id ?? undefined,
  conflicts: row.conflicts,
  message: row.message ?? undefined,
  requestedBy: row.requested_by,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
  endedAt: row.ended_at?.toISOString(),
});

/** Records a merge request; a branch with a live one (queued, gating, merging) → conflict. */
export async function insertMerge(q: Queryable, merge: Pick<Merge, "id" | "branchId" | "repo" | "target" | "strategy" | "requestedBy">): Promise<Merge> {
  try {
    const rows = await q.query<MergeRow>(`INSERT INTO merges (id, branch_id, repo, target, strategy, state, requested_by) VALUES ($1, $2, $3, $4, $5, 'queued', $6) RETURNING ${columns}`, [
      merge.id,
      merge.branchId,
      merge.repo,
      merge.target,
      merge.strategy,
      merge.requestedBy,
    ]);
    return toMerge(rows[0]!);
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw new CookError("conflict", "a merge of this branch is under way already");
    throw err;
  }
}

export async function findMerge(q: Queryable, id: string, options: { forUpdate?: boolean } = {}): Promise<Merge | undefined> {
  const rows = await q.query<MergeRow>(`SELECT ${columns} FROM merges WHERE id = $1${options.forUpdate ? " FOR UPDATE" : ""}`, [id]);
  return rows[0] ? toMerge(rows[0]) : undefined;
}

export type MergeUpdate = Partial<Pick<Merge, "head" | "targetOld" | "candidate" | "gateRunId" | "conflicts" | "message">> & { state: MergeState; ended?: boolean };

export async function updateMerge(q: Queryable, id: string, fields: MergeUpdate): Promise<Merge> {
  const rows = await q.query<MergeRow>(
    `UPDATE merges SET state = $2, head = COALESCE($3, head), target_old = COALESCE($4, target_old), candidate = COALESCE($5, candidate),
       gate_run_id = COALESCE($6, gate_run_id), conflicts = COALESCE($7::json, conflicts), message = COALESCE($8, message), updated_at = now(),
       ended_at = CASE WHEN $9 THEN now() ELSE ended_at END WHERE id = $1 RETURNING ${columns}`,
    [id, fields.state, fields.head ?? null, fields.targetOld ?? null, fields.candidate ?? null, fields.gateRunId ?? null, fields.conflicts ? JSON.stringify(fields.conflicts) : null, fields.message ?? null, fields.ended === true],
  );
  return toMerge(rows[0]!);
}

/** The live merges (queued, gating, merging) of a repo, or of every repo, oldest first: the merge queue. */
export async function liveMerges(q: Queryable, repo?: string): Promise<Merge[]> {
  const rows = await q.query<MergeRow>(`SELECT ${columns} FROM merges WHERE state IN ('queued', 'gating', 'merging') AND ($1::text IS NULL OR repo = $1) ORDER BY id`, [repo ?? null]);
  return rows.map(toMerge);
}

/** A branch's merges, newest first. */
export async function mergesOfBranch(q: Queryable, branchId: string, limit = 10): Promise<Merge[]> {
  const rows = await q.query<MergeRow>(`SELECT ${columns} FROM merges WHERE branch_id = $1 ORDER BY id DESC LIMIT $2`, [branchId, limit]);
  return rows.map(toMerge);
}

/** A repo's merges that have ended (merged, refused, conflicted, failed), newest first. */
export async function recentMerges(q: Queryable, repo: string, limit = 5): Promise<Merge[]> {
  const rows = await q.query<MergeRow>(`SELECT ${columns} FROM merges WHERE repo = $1 AND state NOT IN ('queued', 'gating', 'merging') ORDER BY id DESC LIMIT $2`, [repo, limit]);
  return rows.map(toMerge);
}
