import type { Queryable } from "./db.js";

/** A repo's autopilot switch, as a human set it (`cook autopilot on|off`, the repo page). */
export interface AutopilotSwitch {
  repo: string;
  enabled: boolean;
  changedBy: string;
  changedAt: string;
}

export type DispatchState = "starting" | "started" | "skipped" | "interrupted";

/**
 * One decision to give a task a branch: claimed (starting), made (started) or not (skipped, with
 * why), or cut short by the server stopping before the branch was made (interrupted).
 */
export interface Dispatch {
  id: string;
  repo: string;
  taskId: string;
  state: DispatchState;
  branchId: string | undefined;
  reason: string | undefined;
  createdAt: string;
  updatedAt: string;
}

interface DispatchRow {
  id: string;
  repo: string;
  task_id: string;
  state: DispatchState;
  branch_id: string | null;
  reason: string | null;
  created_at: Date;
  updated_at: Date;
  [key: string]: unknown;
}

const columns = "id, repo, task_id, state, branch_id, reason, created_at, updated_at";

const toDispatch = (row: DispatchRow): Dispatch => ({
  id: row.id,
  repo: row.repo,
  taskId: row.task_id,
  state: row.state,
  branchId: row.branch_id ?? undefined,
  reason: row.reason ?? undefined,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export async function findAutopilotSwitch(q: Queryable, repo: string): Promise<AutopilotSwitch | undefined> {
  const rows = await q.query<{ repo: string; enabled: boolean; changed_by: string; changed_at: Date }>("SELECT repo, enabled, changed_by, changed_at FROM autopilot_switches WHERE repo = $1", [repo]);
  const row = rows[0];
  return row ? { repo: row.repo, enabled: row.enabled, changedBy: row.changed_by, changedAt: row.changed_at.toISOString() } : undefined;
}

export async function setAutopilotSwitch(q: Queryable, repo: string, enabled: boolean, changedBy: string): Promise<void> {
  await q.query(
    `INSERT INTO autopilot_switches (repo, enabled, changed_by) VALUES ($1, $2, $3)
     ON CONFLICT (repo) DO UPDATE SET enabled = EXCLUDED.enabled, changed_by = EXCLUDED.changed_by, changed_at = now()`,
    [repo, enabled, changedBy],
  );
}

/** Repos whose switch is on: they are looked at even when nothing happens in them. */
export async function reposSwitchedOn(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ repo: string }>("SELECT repo FROM autopilot_switches WHERE enabled ORDER BY repo");
  return rows.map((row) => row.repo);
}

/**
 * Claims a task for a dispatch: false when another dispatch of it is starting (the partial unique
 * index autopilot_dispatch_claim decides, across processes and servers).
 */
export async function claimDispatch(q: Queryable, dispatch: { id: string; repo: string; taskId: string }): Promise<boolean> {
  const rows = await q.query<{ id: string }>(
    "INSERT INTO autopilot_dispatches (id, repo, task_id, state) VALUES ($1, $2, $3, 'starting') ON CONFLICT (task_id) WHERE state = 'starting' DO NOTHING RETURNING id",
    [dispatch.id, dispatch.repo, dispatch.taskId],
  );
  return rows.length === 1;
}

export async function finishDispatch(q: Queryable, id: string, outcome: { state: "started"; branchId: string } | { state: "skipped" | "interrupted"; reason: string }): Promise<void> {
  await q.query("UPDATE autopilot_dispatches SET state = $2, branch_id = $3, reason = $4, updated_at = now() WHERE id = $1", [
    id,
    outcome.state,
    outcome.state === "started" ? outcome.branchId : null,
    outcome.state === "started" ? null : outcome.reason,
  ]);
}

/** Dispatches still `starting`: after a crash, what was being made when it happened. */
export async function startingDispatches(q: Queryable): Promise<Dispatch[]> {
  const rows = await q.query<DispatchRow>(`SELECT ${columns} FROM autopilot_dispatches WHERE state = 'starting' ORDER BY created_at`);
  return rows.map(toDispatch);
}

/** The latest dispatch of each of these tasks. */
export async function latestDispatchesOf(q: Queryable, taskIds: readonly string[]): Promise<Map<string, Dispatch>> {
  if (taskIds.length === 0) return new Map();
  const rows = await q.query<DispatchRow>(`SELECT DISTINCT ON (task_id) ${columns} FROM autopilot_dispatches WHERE task_id = ANY($1) ORDER BY task_id, created_at DESC, id DESC`, [taskIds]);
  return new Map(rows.map((row) => [row.task_id, toDispatch(row)]));
}

/**
 * Dispatches of the repo that hold a slot: starting, or started with a branch still open whose task
 * an agent works on (in_progress). A task waiting on a human (needs_human) frees its slot.
 */
export async function dispatchesHoldingSlots(q: Queryable, repo: string): Promise<Dispatch[]> {
  const rows = await q.query<DispatchRow>(
    `SELECT ${columns.split(", ").map((c) => `d.${c}`).join(", ")} FROM autopilot_dispatches d
     LEFT JOIN branches b ON b.id = d.branch_id
     LEFT JOIN tasks t ON t.id = d.task_id
     WHERE d.repo = $1 AND (d.state = 'starting' OR (d.state = 'started' AND b.status = 'open' AND t.status = 'in_progress'))
     ORDER BY d.created_at`,
    [repo],
  );
  return rows.map(toDispatch);
}

/** Whether autopilot made this branch (a started dispatch names it). */
export async function isAutopilotBranch(q: Queryable, branchId: string): Promise<boolean> {
  const rows = await q.query<{ n: number }>("SELECT count(*)::int AS n FROM autopilot_dispatches WHERE branch_id = $1 AND state = 'started'", [branchId]);
  return rows[0]!.n > 0;
}

/** Who continued past each stage of a repo, and when, by stage name. */
export async function stageContinues(q: Queryable, repo: string): Promise<Map<string, { by: string; at: string }>> {
  const rows = await q.query<{ stage: string; continued_by: string; continued_at: Date }>("SELECT stage, continued_by, continued_at FROM stage_continues WHERE repo = $1", [repo]);
  return new Map(rows.map((row) => [row.stage, { by: row.continued_by, at: row.continued_at.toISOString() }]));
}

/** Records a person's continue past a stage: false when it was continued already. */
export async function recordStageContinue(q: Queryable, repo: string, stage: string, by: string): Promise<boolean> {
  const rows = await q.query("INSERT INTO stage_continues (repo, stage, continued_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING stage", [repo, stage, by]);
  return rows.length === 1;
}
