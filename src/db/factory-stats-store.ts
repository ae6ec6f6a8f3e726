import type { TaskResolution, TaskStatus } from "../core/task.js";
import type { Queryable } from "./db.js";

/**
 * The factory page's numbers, aggregated in SQL (the same on PostgreSQL and PGlite). Every query
 * takes a window [since, until) and an optional repo, and returns a bounded number of rows: one
 * per day of the window, a totals row, or a capped list. Days are UTC calendar days, 'YYYY-MM-DD'.
 */
export interface StatsWindow {
  since: Date;
  until: Date;
  /** Only this repo's work; undefined: every repo. */
  repo: string | undefined;
}

const day = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
const windowParams = (w: StatsWindow) => [w.since, w.until, w.repo ?? null];

// A task counts as merged once: at the newest merge of one of its branches in the window, and only
// if the task is closed as done now (a task reopened after its merge, or closed as wontfix, is not).
const mergedTasks = `
  SELECT DISTINCT ON (b.task_id) b.task_id, b.repo, b.name AS branch, b.ended_at AS merged_at
  FROM branches b
  WHERE b.status = 'merged' AND b.task_id IS NOT NULL AND b.ended_at >= $1 AND b.ended_at < $2 AND ($3::text IS NULL OR b.repo = $3)
  ORDER BY b.task_id, b.ended_at DESC`;
const cycleOf = "extract(epoch FROM (m.merged_at - t.created_at)) * 1000";

/** Tasks merged on one day (or, with `day` undefined, in the whole window) and their cycle times in ms (task created → branch merged). */
export interface MergedDayRow {
  day: string | undefined;
  count: number;
  medianMs: number;
  p90Ms: number;
  meanMs: number;
}

/** Merged tasks per day with their median, p90 and mean cycle time, and one row for the whole window (`day` undefined); days without a merge have no row. */
export async function mergedPerDay(q: Queryable, w: StatsWindow): Promise<MergedDayRow[]> {
  const rows = await q.query<{ day: string | null; count: string; median: number; p90: number; mean: number }>(
    `WITH m AS (${mergedTasks}), c AS (
       SELECT ${day("m.merged_at")} AS day, ${cycleOf} AS ms FROM m JOIN tasks t ON t.id = m.task_id
       WHERE t.status = 'closed' AND t.resolution = 'done')
     SELECT day, count(*) AS count, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY ms) AS p90, avg(ms) AS mean
     FROM c GROUP BY GROUPING SETS ((day), ()) ORDER BY day NULLS LAST`,
    windowParams(w),
  );
  return rows.map((row) => ({ day: row.day ?? undefined, count: Number(row.count), medianMs: Number(row.median), p90Ms: Number(row.p90), meanMs: Number(row.mean) }));
}

/** One merged task: when it merged, its cycle time in ms, and which branch landed it. */
export interface MergedTaskRow {
  taskId: string;
  title: string;
  repo: string;
  branch: string;
  mergedAt: string;
  day: string;
  cycleMs: number;
}

/** The newest `limit` merged tasks of the window, newest first (the cycle-time chart's points). */
export async function mergedTaskList(q: Queryable, w: StatsWindow, limit: number): Promise<MergedTaskRow[]> {
  const rows = await q.query<{ task_id: string; title: string; repo: string; branch: string; merged_at: Date; day: string; ms: number }>(
    `WITH m AS (${mergedTasks})
     SELECT m.task_id, t.title, m.repo, m.branch, m.merged_at, ${day("m.merged_at")} AS day, ${cycleOf} AS ms
     FROM m JOIN tasks t ON t.id = m.task_id WHERE t.status = 'closed' AND t.resolution = 'done'
     ORDER BY m.merged_at DESC, m.task_id LIMIT $4`,
    [...windowParams(w), limit],
  );
  return rows.map((row) => ({ taskId: row.task_id, title: row.title, repo: row.repo, branch: row.branch, mergedAt: row.merged_at.toISOString(), day: row.day, cycleMs: Number(row.ms) }));
}

/** Gate runs that ended on one day (or in the whole window, `day` undefined), by how they ended. */
export interface GateDayRow {
  day: string | undefined;
  passed: number;
  failed: number;
  /** Canceled by a newer push, or interrupted by a restart: no verdict. */
  canceled: number;
  /** Runs of a branch that had been gated before (after a failure, a new push, a rerun, a merge candidate). */
  reruns: number;
  /** Branches these runs judged. */
  branches: number;
}

/**
 * Ended gate runs per day and for the whole window (`day` undefined); days without one have no row.
 * A run that passed with no gate to judge it (a repo without gates) is no pass: it is not counted.
 */
export async function gateRunsPerDay(q: Queryable, w: StatsWindow): Promise<GateDayRow[]> {
  const rows = await q.query<{ day: string | null; passed: string; failed: string; canceled: string; reruns: string; branches: string }>(
    `SELECT ${day("r.ended_at")} AS day,
       count(*) FILTER (WHERE r.state = 'passed') AS passed, count(*) FILTER (WHERE r.state = 'failed') AS failed,
       count(*) FILTER (WHERE r.state IN ('canceled', 'interrupted')) AS canceled,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM gate_runs e WHERE e.branch_id = r.branch_id AND e.id < r.id)) AS reruns,
       count(DISTINCT r.branch_id) AS branches
     FROM gate_runs r
     WHERE r.ended_at >= $1 AND r.ended_at < $2 AND ($3::text IS NULL OR r.repo = $3) AND r.state IN ('passed', 'failed', 'canceled', 'interrupted')
       AND (r.state <> 'passed' OR EXISTS (SELECT 1 FROM gate_results g WHERE g.run_id = r.id))
     GROUP BY GROUPING SETS ((day), ()) ORDER BY day NULLS LAST`,
    windowParams(w),
  );
  return rows.map((row) => ({
    day: row.day ?? undefined,
    passed: Number(row.passed),
    failed: Number(row.failed),
    canceled: Number(row.canceled),
    reruns: Number(row.reruns),
    branches: Number(row.branches),
  }));
}

/** Attempts of command gates beyond each gate's first in a run (a flaky exit retried), started in the window. */
export async function retriedAttempts(q: Queryable, w: StatsWindow): Promise<number> {
  const rows = await q.query<{ n: string }>(
    `SELECT count(*) AS n FROM gate_attempts a JOIN gate_runs r ON r.id = a.run_id
     WHERE a.attempt > 1 AND a.started_at >= $1 AND a.started_at < $2 AND ($3::text IS NULL OR r.repo = $3)`,
    windowParams(w),
  );
  return Number(rows[0]!.n);
}

/** Agent sessions summed: how many, their run time in ms, cost in USD and tokens (input + output + cache). */
export interface AgentSum {
  sessions: number;
  durationMs: number;
  costUsd: number;
  tokens: number;
}

/** One task's agent sessions summed, with the task as it is now. */
export interface AgentTaskRow extends AgentSum {
  taskId: string;
  title: string;
  status: TaskStatus;
  resolution: TaskResolution | undefined;
}

const sums = `count(*) AS sessions, COALESCE(sum(s.duration_ms), 0) AS duration, COALESCE(sum(s.cost_usd), 0) AS cost,
  COALESCE(sum(s.input_tokens + s.output_tokens + s.cache_read_tokens + s.cache_write_tokens), 0) AS tokens`;
const sessionsInWindow = "s.created_at >= $1 AND s.created_at < $2 AND ($3::text IS NULL OR b.repo = $3)";
type SumRow = { sessions: string; duration: string; cost: string; tokens: string };
const toSum = (row: SumRow): AgentSum => ({ sessions: Number(row.sessions), durationMs: Number(row.duration), costUsd: Number(row.cost), tokens: Number(row.tokens) });

/** Sessions started in the window: all of them, and those on a task's branch with how many tasks they served. */
export async function agentTotals(q: Queryable, w: StatsWindow): Promise<{ all: AgentSum; onTasks: AgentSum & { tasks: number } }> {
  const rows = await q.query<SumRow & { task: boolean | null; tasks: string }>(
    `SELECT b.task_id IS NOT NULL AS task, ${sums}, count(DISTINCT b.task_id) AS tasks
     FROM agent_sessions s JOIN branches b ON b.id = s.branch_id WHERE ${sessionsInWindow}
     GROUP BY GROUPING SETS ((task), ())`,
    windowParams(w),
  );
  const all = rows.find((row) => row.task === null);
  const onTasks = rows.find((row) => row.task === true);
  const zero: SumRow = { sessions: "0", duration: "0", cost: "0", tokens: "0" };
  return { all: toSum(all ?? zero), onTasks: { ...toSum(onTasks ?? zero), tasks: Number(onTasks?.tasks ?? 0) } };
}

/** The `limit` tasks whose sessions (started in the window) ran longest, longest first. */
export async function agentTimePerTask(q: Queryable, w: StatsWindow, limit: number): Promise<AgentTaskRow[]> {
  const rows = await q.query<SumRow & { task_id: string; title: string; status: TaskStatus; resolution: TaskResolution | null }>(
    `SELECT t.id AS task_id, t.title, t.status, t.resolution, ${sums}
     FROM agent_sessions s JOIN branches b ON b.id = s.branch_id JOIN tasks t ON t.id = b.task_id WHERE ${sessionsInWindow}
     GROUP BY t.id ORDER BY duration DESC, cost DESC, t.id LIMIT $4`,
    [...windowParams(w), limit],
  );
  return rows.map((row) => ({ ...toSum(row), taskId: row.task_id, title: row.title, status: row.status, resolution: row.resolution ?? undefined }));
}
