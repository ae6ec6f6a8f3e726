import type { GateAttempt, GateDefinition, GateResult, GateResultState, GateRun, GateRunState } from "../core/gate.js";
import type { Queryable } from "./db.js";

interface RunRow {
  id: string;
  branch_id: string;
  repo: string;
  head: string;
  tree: string;
  target: string;
  target_commit: string;
  config_hash: string;
  reason: GateRun["reason"];
  state: GateRunState;
  error: string | null;
  requested_by: string;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  [key: string]: unknown;
}

interface ResultRow {
  run_id: string;
  position: number;
  gate: string;
  kind: GateResult["kind"];
  definition: GateDefinition;
  state: GateResultState;
  reused_from: string | null;
  summary: string | null;
  detail: string | null;
  handed_back: boolean;
  started_at: Date | null;
  ended_at: Date | null;
  [key: string]: unknown;
}

interface AttemptRow {
  run_id: string;
  gate: string;
  attempt: number;
  state: GateAttempt["state"];
  exit_code: number | null;
  duration_ms: number | null;
  log_bytes: number;
  started_at: Date;
  ended_at: Date | null;
  [key: string]: unknown;
}

const runColumns = "id, branch_id, repo, head, tree, target, target_commit, config_hash, reason, state, error, requested_by, created_at, started_at, ended_at";
const resultColumns = "run_id, position, gate, kind, definition, state, reused_from, summary, detail, handed_back, started_at, ended_at";
const attemptColumns = "run_id, gate, attempt, state, exit_code, duration_ms, log_bytes, started_at, ended_at";

const toResult = (row: ResultRow): GateResult => ({
  runId: row.run_id,
  position: row.position,
  gate: row.gate,
  kind: row.kind,
  definition: row.definition,
  state: row.state,
  reusedFrom: row.reused_from ?? undefined,
  summary: row.summary ?? undefined,
  detail: row.detail ?? undefined,
  handedBack: row.handed_back,
  startedAt: row.started_at?.toISOString(),
  endedAt: row.ended_at?.toISOString(),
});

const toRun = (row: RunRow, results: GateResult[]): GateRun => ({
  id: row.id,
  branchId: row.branch_id,
  repo: row.repo,
  head: row.head,
  tree: row.tree,
  target: row.target,
  targetCommit: row.target_commit,
  configHash: row.config_hash,
  reason: row.reason,
  state: row.state,
  error: row.error ?? undefined,
  requestedBy: row.requested_by,
  createdAt: row.created_at.toISOString(),
  startedAt: row.started_at?.toISOString(),
  endedAt: row.ended_at?.toISOString(),
  results,
});

const toAttempt = (row: AttemptRow): GateAttempt => ({
  runId: row.run_id,
  gate: row.gate,
  attempt: row.attempt,
  state: row.state,
  exitCode: row.exit_code ?? undefined,
  durationMs: row.duration_ms ?? undefined,
  logBytes: row.log_bytes,
  startedAt: row.started_at.toISOString(),
  endedAt: row.ended_at?.toISOString(),
});

async function withResults(q: Queryable, rows: RunRow[]): Promise<GateRun[]> {
  if (rows.length === 0) return [];
  const results = await q.query<ResultRow>(`SELECT ${resultColumns} FROM gate_results WHERE run_id = ANY($1) ORDER BY run_id, position`, [rows.map((row) => row.id)]);
  const byRun = new Map<string, GateResult[]>();
  for (const row of results) byRun.set(row.run_id, [...(byRun.get(row.run_id) ?? []), toResult(row)]);
  return rows.map((row) => toRun(row, byRun.get(row.id) ?? []));
}

/** Inserts a run with one `pending` result per gate, in order. */
export async function insertGateRun(q: Queryable, run: Omit<GateRun, "results" | "startedAt" | "endedAt" | "error" | "createdAt"> & { error?: string }, gates: readonly GateDefinition[]): Promise<GateRun> {
  const rows = await q.query<RunRow>(
    `INSERT INTO gate_runs (id, branch_id, repo, head, tree, target, target_commit, config_hash, reason, state, error, requested_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${runColumns}`,
    [run.id, run.branchId, run.repo, run.head, run.tree, run.target, run.targetCommit, run.configHash, run.reason, run.state, run.error ?? null, run.requestedBy],
  );
  if (gates.length > 0) {
    await q.query(
      `INSERT INTO gate_results (run_id, position, gate, kind, definition, state)
       SELECT $1, position, gate, kind, definition::json, 'pending' FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS g(position, gate, kind, definition)`,
      [run.id, gates.map((_, i) => i), gates.map((g) => g.name), gates.map((g) => g.kind), gates.map((g) => JSON.stringify(g))],
    );
  }
  return (await withResults(q, rows))[0]!;
}

export async function findGateRun(q: Queryable, id: string, options: { forUpdate?: boolean } = {}): Promise<GateRun | undefined> {
  const rows = await q.query<RunRow>(`SELECT ${runColumns} FROM gate_runs WHERE id = $1${options.forUpdate ? " FOR UPDATE" : ""}`, [id]);
  return (await withResults(q, rows))[0];
}

/** A branch's runs, newest first (merge candidates' runs included). */
export async function runsOfBranch(q: Queryable, branchId: string, limit = 20): Promise<GateRun[]> {
  const rows = await q.query<RunRow>(`SELECT ${runColumns} FROM gate_runs WHERE branch_id = $1 ORDER BY id DESC LIMIT $2`, [branchId, limit]);
  return withResults(q, rows);
}

/** The newest run of each branch judging the branch itself (not a merge candidate), by branch id. */
export async function latestRunsOfBranches(q: Queryable, branchIds: readonly string[]): Promise<Map<string, GateRun>> {
  if (branchIds.length === 0) return new Map();
  const rows = await q.query<RunRow>(
    `SELECT DISTINCT ON (branch_id) ${runColumns} FROM gate_runs WHERE branch_id = ANY($1) AND reason <> 'merge' ORDER BY branch_id, id DESC`,
    [branchIds],
  );
  return new Map((await withResults(q, rows)).map((run) => [run.branchId, run]));
}

/** Runs not yet over (queued, running, waiting), oldest first; of one branch when given. */
export async function unfinishedRuns(q: Queryable, branchId?: string): Promise<GateRun[]> {
  const rows = await q.query<RunRow>(
    `SELECT ${runColumns} FROM gate_runs WHERE state IN ('queued', 'running', 'waiting') AND ($1::text IS NULL OR branch_id = $1) ORDER BY id`,
    [branchId ?? null],
  );
  return withResults(q, rows);
}

/**
 * Moves a run that is not over yet (queued, running, waiting); one that has ended (a cancel won a
 * race with the gate that finished) is left as it is. Returns whether it moved.
 */
export async function updateGateRun(q: Queryable, id: string, fields: { state: GateRunState; error?: string; started?: boolean; ended?: boolean }): Promise<boolean> {
  const rows = await q.query(
    `UPDATE gate_runs SET state = $2, error = COALESCE($3, error),
       started_at = CASE WHEN $4 THEN COALESCE(started_at, now()) ELSE started_at END,
       ended_at = CASE WHEN $5 THEN now() ELSE ended_at END WHERE id = $1 AND state IN ('queued', 'running', 'waiting') RETURNING id`,
    [id, fields.state, fields.error ?? null, fields.started === true, fields.ended === true],
  );
  return rows.length > 0;
}

/** Moves a gate's result while it is open (pending, running, waiting); returns whether it moved. */
export async function updateGateResult(
  q: Queryable,
  runId: string,
  gate: string,
  fields: { state: GateResultState; summary?: string; detail?: string; reusedFrom?: string; started?: boolean; ended?: boolean },
): Promise<boolean> {
  const rows = await q.query(
    `UPDATE gate_results SET state = $3, summary = COALESCE($4, summary), detail = COALESCE($5, detail), reused_from = COALESCE($6, reused_from),
       started_at = CASE WHEN $7 THEN COALESCE(started_at, now()) ELSE started_at END,
       ended_at = CASE WHEN $8 THEN now() ELSE ended_at END WHERE run_id = $1 AND gate = $2 AND state IN ('pending', 'running', 'waiting') RETURNING run_id`,
    [runId, gate, fields.state, fields.summary ?? null, fields.detail ?? null, fields.reusedFrom ?? null, fields.started === true, fields.ended === true],
  );
  return rows.length > 0;
}

/** Marks every still-open result of a run (pending, running, waiting) with `state`. */
export async function closeOpenResults(q: Queryable, runId: string, state: GateResultState): Promise<void> {
  await q.query(`UPDATE gate_results SET state = $2, ended_at = CASE WHEN $2 = 'not_run' THEN NULL ELSE now() END WHERE run_id = $1 AND state IN ('pending', 'running', 'waiting')`, [runId, state]);
}

export async function markHandedBack(q: Queryable, runId: string, gate: string): Promise<void> {
  await q.query("UPDATE gate_results SET handed_back = true WHERE run_id = $1 AND gate = $2", [runId, gate]);
}

/** How many gate failures of a branch were sent to its agent so far. */
export async function handBacksOfBranch(q: Queryable, branchId: string): Promise<number> {
  const rows = await q.query<{ n: string | number }>("SELECT count(*) AS n FROM gate_results r JOIN gate_runs g ON g.id = r.run_id WHERE g.branch_id = $1 AND r.handed_back", [branchId]);
  return Number(rows[0]!.n);
}

/**
 * A run in which `gate` passed (itself, not by re-use) on this tree of this repo under the same
 * definitions: its result can be taken over.
 */
export async function findReusablePass(q: Queryable, repo: string, tree: string, configHash: string, gate: string): Promise<string | undefined> {
  const rows = await q.query<{ id: string }>(
    `SELECT g.id FROM gate_runs g JOIN gate_results r ON r.run_id = g.id
     WHERE g.repo = $1 AND g.tree = $2 AND g.config_hash = $3 AND r.gate = $4 AND r.state = 'passed' ORDER BY g.id DESC LIMIT 1`,
    [repo, tree, configHash, gate],
  );
  return rows[0]?.id;
}

export async function insertAttempt(q: Queryable, runId: string, gate: string, attempt: number): Promise<void> {
  await q.query("INSERT INTO gate_attempts (run_id, gate, attempt, state) VALUES ($1, $2, $3, 'running')", [runId, gate, attempt]);
}

/** Adds output to an attempt's log: `kept` is appended, `seen` bytes counted whether kept or not. */
export async function appendAttemptLog(q: Queryable, runId: string, gate: string, attempt: number, kept: string, seen: number): Promise<void> {
  await q.query("UPDATE gate_attempts SET log = log || $4, log_bytes = log_bytes + $5 WHERE run_id = $1 AND gate = $2 AND attempt = $3", [runId, gate, attempt, kept, seen]);
}

export async function finishAttempt(q: Queryable, runId: string, gate: string, attempt: number, fields: { state: GateAttempt["state"]; exitCode?: number; durationMs: number }): Promise<void> {
  await q.query("UPDATE gate_attempts SET state = $4, exit_code = $5, duration_ms = $6, ended_at = now() WHERE run_id = $1 AND gate = $2 AND attempt = $3", [
    runId,
    gate,
    attempt,
    fields.state,
    fields.exitCode ?? null,
    Math.round(fields.durationMs),
  ]);
}

/** Attempts still `running` (after a restart), marked `interrupted`. */
export async function interruptRunningAttempts(q: Queryable, runId: string): Promise<void> {
  await q.query("UPDATE gate_attempts SET state = 'interrupted', ended_at = now() WHERE run_id = $1 AND state = 'running'", [runId]);
}

/** The attempts of a run's gates, in order (logs left out: attemptLog reads one). */
export async function attemptsOfRun(q: Queryable, runId: string): Promise<GateAttempt[]> {
  const rows = await q.query<AttemptRow>(`SELECT ${attemptColumns} FROM gate_attempts WHERE run_id = $1 ORDER BY gate, attempt`, [runId]);
  return rows.map(toAttempt);
}

/** The kept log of one attempt, or undefined when there is no such attempt. */
export async function attemptLog(q: Queryable, runId: string, gate: string, attempt: number): Promise<string | undefined> {
  const rows = await q.query<{ log: string }>("SELECT log FROM gate_attempts WHERE run_id = $1 AND gate = $2 AND attempt = $3", [runId, gate, attempt]);
  return rows[0]?.log;
}

/** The end of an attempt's kept log, at most `maxChars` characters of it, with the whole log's size. */
export interface LogTail {
  gate: string;
  attempt: number;
  text: string;
  /** UTF-8 bytes of the whole kept log: the offset its next output event starts at. */
  bytes: number;
  /** Characters left off the front. */
  cut: boolean;
}

/** The tails of every attempt's kept log of a run, for a page that shows them bounded. */
export async function attemptLogTails(q: Queryable, runId: string, maxChars: number): Promise<LogTail[]> {
  const rows = await q.query<{ gate: string; attempt: number; text: string; bytes: number; chars: number }>(
    "SELECT gate, attempt, right(log, $2) AS text, octet_length(log) AS bytes, char_length(log) AS chars FROM gate_attempts WHERE run_id = $1 ORDER BY gate, attempt",
    [runId, maxChars],
  );
  return rows.map((row) => ({ gate: row.gate, attempt: row.attempt, text: row.text, bytes: Number(row.bytes), cut: Number(row.chars) > maxChars }));
}
