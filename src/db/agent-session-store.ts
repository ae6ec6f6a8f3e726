import type { AgentKind } from "../core/agent-event.js";
import type { AgentSession, SessionOutcome, SessionStatus, SessionUsage } from "../core/agent-session.js";
import type { Queryable } from "./db.js";

interface SessionRow {
  id: string;
  branch_id: string;
  environment_id: string | null;
  agent: string;
  kind: AgentKind;
  native_id: string | null;
  model: string | null;
  status: SessionStatus;
  reason: string | null;
  outcome: SessionOutcome | null;
  runs: number;
  turns: number;
  exit_code: number | null;
  input_tokens: string | number;
  output_tokens: string | number;
  cache_read_tokens: string | number;
  cache_write_tokens: string | number;
  cost_usd: string | number;
  cost_source: "reported" | "price_table" | null;
  duration_ms: string | number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  run_started_at: Date | null;
  ended_at: Date | null;
  resume_at: Date | null;
  [key: string]: unknown;
}

const columns =
  "id, branch_id, environment_id, agent, kind, native_id, model, status, reason, outcome, runs, turns, exit_code, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, cost_source, duration_ms, created_by, created_at, updated_at, run_started_at, ended_at, resume_at";

function toSession(row: SessionRow): AgentSession {
  return {
    id: row.id,
    branchId: row.branch_id,
    environmentId: row.environment_id ?? undefined,
    agent: row.agent,
    kind: row.kind,
    nativeId: row.native_id ?? undefined,
    model: row.model ?? undefined,
    status: row.status,
    reason: row.reason ?? undefined,
    outcome: row.outcome ?? undefined,
    runs: row.runs,
    turns: row.turns,
    exitCode: row.exit_code ?? undefined,
    usage: {
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      cacheReadTokens: Number(row.cache_read_tokens),
      cacheWriteTokens: Number(row.cache_write_tokens),
      costUsd: Number(row.cost_usd),
    },
    costSource: row.cost_source ?? undefined,
    durationMs: Number(row.duration_ms),
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    runStartedAt: row.run_started_at?.toISOString(),
    endedAt: row.ended_at?.toISOString(),
    resumeAt: row.resume_at?.toISOString(),
  };
}

export interface NewSession {
  id: string;
  branchId: string;
  environmentId: string | undefined;
  agent: string;
  kind: AgentKind;
  model: string | undefined;
  createdBy: string;
}

/** A new session in `running`, its first run started now. */
export async function insertSession(q: Queryable, session: NewSession): Promise<AgentSession> {
  const rows = await q.query<SessionRow>(
    `INSERT INTO agent_sessions (id, branch_id, environment_id, agent, kind, model, status, runs, created_by, run_started_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'running', 1, $7, now()) RETURNING ${columns}`,
    [session.id, session.branchId, session.environmentId ?? null, session.agent, session.kind, session.model ?? null, session.createdBy],
  );
  return toSession(rows[0]!);
}

export async function findSession(q: Queryable, id: string, options: { forUpdate?: boolean } = {}): Promise<AgentSession | undefined> {
  const rows = await q.query<SessionRow>(`SELECT ${columns} FROM agent_sessions WHERE id = $1${options.forUpdate ? " FOR UPDATE" : ""}`, [id]);
  return rows[0] ? toSession(rows[0]) : undefined;
}

/** A branch's sessions, oldest first. */
export async function sessionsOfBranch(q: Queryable, branchId: string): Promise<AgentSession[]> {
  const rows = await q.query<SessionRow>(`SELECT ${columns} FROM agent_sessions WHERE branch_id = $1 ORDER BY id`, [branchId]);
  return rows.map(toSession);
}

/** The newest session of each given branch that has one, by branch id. */
export async function latestSessionsOfBranches(q: Queryable, branchIds: readonly string[]): Promise<Map<string, AgentSession>> {
  if (branchIds.length === 0) return new Map();
  const rows = await q.query<SessionRow>(`SELECT DISTINCT ON (branch_id) ${columns} FROM agent_sessions WHERE branch_id = ANY($1::text[]) ORDER BY branch_id, id DESC`, [branchIds]);
  return new Map(rows.map((row) => [row.branch_id, toSession(row)]));
}

/** The branch's newest session, locked when asked (a follow-up or a report of the agent decides on it). */
export async function latestSessionOfBranch(q: Queryable, branchId: string, options: { forUpdate?: boolean } = {}): Promise<AgentSession | undefined> {
  const rows = await q.query<SessionRow>(`SELECT ${columns} FROM agent_sessions WHERE branch_id = $1 ORDER BY id DESC LIMIT 1${options.forUpdate ? " FOR UPDATE" : ""}`, [branchId]);
  return rows[0] ? toSession(rows[0]) : undefined;
}

/** Sessions in the given states, oldest first: what a restarted server looks at. */
export async function sessionsInStatus(q: Queryable, statuses: readonly SessionStatus[]): Promise<AgentSession[]> {
  const rows = await q.query<SessionRow>(`SELECT ${columns} FROM agent_sessions WHERE status = ANY($1::text[]) ORDER BY id`, [statuses]);
  return rows.map(toSession);
}

/** The fields a change of state sets; undefined leaves a field as it is, null clears it. */
export interface SessionChange {
  status?: SessionStatus;
  reason?: string | null;
  outcome?: SessionOutcome | null;
  nativeId?: string;
  model?: string;
  exitCode?: number | null;
  /** Starts a new run: runs + 1, run_started_at now, ended_at cleared. */
  newRun?: boolean;
  /** The run ended now: ended_at now, its duration added. */
  runEnded?: boolean;
  resumeAt?: string | null;
}

export async function updateSession(q: Queryable, id: string, change: SessionChange): Promise<AgentSession> {
  const sets: string[] = ["updated_at = now()"];
  const params: unknown[] = [id];
  const set = (column: string, value: unknown) => {
    params.push(value);
    sets.push(`${column} = $${params.length}`);
  };
  if (change.status !== undefined) set("status", change.status);
  if (change.reason !== undefined) set("reason", change.reason);
  if (change.outcome !== undefined) set("outcome", change.outcome);
  if (change.nativeId !== undefined) set("native_id", change.nativeId);
  if (change.model !== undefined) set("model", change.model);
  if (change.exitCode !== undefined) set("exit_code", change.exitCode);
  if (change.resumeAt !== undefined) set("resume_at", change.resumeAt);
  if (change.newRun) sets.push("runs = runs + 1", "run_started_at = now()", "ended_at = NULL");
  if (change.runEnded) {
    sets.push("ended_at = now()", "duration_ms = duration_ms + GREATEST(0, (EXTRACT(EPOCH FROM (now() - COALESCE(run_started_at, now()))) * 1000)::bigint)");
  }
  const rows = await q.query<SessionRow>(`UPDATE agent_sessions SET ${sets.join(", ")} WHERE id = $1 RETURNING ${columns}`, params);
  return toSession(rows[0]!);
}

/** Adds usage to sessions' totals in one statement; a `costSource` of `reported` is kept once set. */
export async function addSessionUsages(q: Queryable, rows: ReadonlyArray<{ sessionId: string; added: SessionUsage; turns: number; costSource: "reported" | "price_table" | undefined }>): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `UPDATE agent_sessions s SET turns = s.turns + u.turns, input_tokens = s.input_tokens + u.input, output_tokens = s.output_tokens + u.output,
       cache_read_tokens = s.cache_read_tokens + u.cache_read, cache_write_tokens = s.cache_write_tokens + u.cache_write, cost_usd = s.cost_usd + u.cost,
       cost_source = CASE WHEN s.cost_source = 'reported' THEN s.cost_source ELSE COALESCE(u.source, s.cost_source) END, updated_at = now()
     FROM (SELECT id, sum(turns)::int AS turns, sum(input)::bigint AS input, sum(output)::bigint AS output, sum(cache_read)::bigint AS cache_read,
             sum(cache_write)::bigint AS cache_write, sum(cost) AS cost, max(source) AS source
           FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::numeric[], $8::text[])
             AS v(id, turns, input, output, cache_read, cache_write, cost, source) GROUP BY id) AS u
     WHERE s.id = u.id`,
    [
      rows.map((r) => r.sessionId),
      rows.map((r) => r.turns),
      rows.map((r) => r.added.inputTokens),
      rows.map((r) => r.added.outputTokens),
      rows.map((r) => r.added.cacheReadTokens),
      rows.map((r) => r.added.cacheWriteTokens),
      rows.map((r) => r.added.costUsd),
      rows.map((r) => r.costSource ?? null),
    ],
  );
}

/** Sums of tokens, cost and time of the sessions of the given branches (a branch, a task, a repo). */
export async function usageOfBranches(q: Queryable, branchIds: readonly string[]): Promise<SessionUsage & { durationMs: number; sessions: number; turns: number }> {
  const rows = await q.query<Record<string, string | number>>(
    `SELECT count(*) AS sessions, COALESCE(sum(input_tokens), 0) AS input, COALESCE(sum(output_tokens), 0) AS output,
       COALESCE(sum(cache_read_tokens), 0) AS cache_read, COALESCE(sum(cache_write_tokens), 0) AS cache_write,
       COALESCE(sum(cost_usd), 0) AS cost, COALESCE(sum(duration_ms), 0) AS duration, COALESCE(sum(turns), 0) AS turns
     FROM agent_sessions WHERE branch_id = ANY($1::text[])`,
    [branchIds],
  );
  const row = rows[0]!;
  return {
    sessions: Number(row.sessions),
    inputTokens: Number(row.input),
    outputTokens: Number(row.output),
    cacheReadTokens: Number(row.cache_read),
    cacheWriteTokens: Number(row.cache_write),
    costUsd: Number(row.cost),
    durationMs: Number(row.duration),
    turns: Number(row.turns),
  };
}

