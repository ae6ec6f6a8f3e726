import type { BackendName, Environment, EnvironmentState } from "../core/branch.js";
import type { Queryable } from "./db.js";

interface EnvironmentRow {
  id: string;
  branch_id: string;
  backend: Exclude<BackendName, "none">;
  path: string;
  state: EnvironmentState;
  port_base: number;
  port_count: number;
  databases: Environment["databases"];
  network: boolean;
  setup_command: string | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  torn_down_at: Date | null;
  [key: string]: unknown;
}

const columns = "id, branch_id, backend, path, state, port_base, port_count, databases, network, setup_command, error, created_at, updated_at, torn_down_at";

function toEnvironment(row: EnvironmentRow): Environment {
  return {
    id: row.id,
    branchId: row.branch_id,
    backend: row.backend,
    path: row.path,
    state: row.state,
    portBase: row.port_base,
    portCount: row.port_count,
    databases: row.databases,
    network: row.network,
    setupCommand: row.setup_command ?? undefined,
    error: row.error ?? undefined,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    tornDownAt: row.torn_down_at?.toISOString(),
  };
}

export async function insertEnvironment(q: Queryable, env: Environment): Promise<Environment> {
  const rows = await q.query<EnvironmentRow>(
    `INSERT INTO environments (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING ${columns}`,
    [env.id, env.branchId, env.backend, env.path, env.state, env.portBase, env.portCount, JSON.stringify(env.databases), env.network, env.setupCommand ?? null, env.error ?? null, env.createdAt, env.updatedAt, env.tornDownAt ?? null],
  );
  return toEnvironment(rows[0]!);
}

/** The branch's environment that is not torn down, if any. */
export async function findLiveEnvironment(q: Queryable, branchId: string): Promise<Environment | undefined> {
  const rows = await q.query<EnvironmentRow>(`SELECT ${columns} FROM environments WHERE branch_id = $1 AND state <> 'torn_down'`, [branchId]);
  return rows[0] ? toEnvironment(rows[0]) : undefined;
}

/** The branch's newest environment, torn down or not: what a page of an ended branch shows. */
export async function findLatestEnvironment(q: Queryable, branchId: string): Promise<Environment | undefined> {
  const rows = await q.query<EnvironmentRow>(`SELECT ${columns} FROM environments WHERE branch_id = $1 ORDER BY id DESC LIMIT 1`, [branchId]);
  return rows[0] ? toEnvironment(rows[0]) : undefined;
}

export async function findEnvironment(q: Queryable, id: string): Promise<Environment | undefined> {
  const rows = await q.query<EnvironmentRow>(`SELECT ${columns} FROM environments WHERE id = $1`, [id]);
  return rows[0] ? toEnvironment(rows[0]) : undefined;
}

/** Latest environment of each branch given, by branch id. */
export async function latestEnvironmentsOf(q: Queryable, branchIds: readonly string[]): Promise<Map<string, Environment>> {
  if (branchIds.length === 0) return new Map();
  const rows = await q.query<EnvironmentRow>(
    `SELECT DISTINCT ON (branch_id) ${columns} FROM environments WHERE branch_id = ANY($1::text[]) ORDER BY branch_id, id DESC`,
    [branchIds],
  );
  return new Map(rows.map((row) => [row.branch_id, toEnvironment(row)]));
}

/** Every environment that is not torn down: checked against the disk at start-up. */
export async function selectLiveEnvironments(q: Queryable): Promise<Environment[]> {
  const rows = await q.query<EnvironmentRow>(`SELECT ${columns} FROM environments WHERE state <> 'torn_down' ORDER BY id`);
  return rows.map(toEnvironment);
}

/** Port blocks held by environments that are not torn down. */
export async function takenPortBlocks(q: Queryable): Promise<Array<{ base: number; size: number }>> {
  const rows = await q.query<{ port_base: number; port_count: number }>("SELECT port_base, port_count FROM environments WHERE state <> 'torn_down'");
  return rows.map((row) => ({ base: row.port_base, size: row.port_count }));
}

/** Serializes port-block choice between concurrent creations (held until the transaction ends). */
export async function lockPortBlocks(q: Queryable): Promise<void> {
  await q.query("SELECT pg_advisory_xact_lock(7420, 2)");
}

export async function setEnvironmentState(q: Queryable, id: string, state: EnvironmentState, error?: string): Promise<Environment> {
  const rows = await q.query<EnvironmentRow>(
    `UPDATE environments SET state = $2, error = $3, updated_at = now(), torn_down_at = CASE WHEN $2 = 'torn_down' THEN now() ELSE torn_down_at END
     WHERE id = $1 RETURNING ${columns}`,
    [id, state, error ?? null],
  );
  return toEnvironment(rows[0]!);
}

export async function setEnvironmentDatabases(q: Queryable, id: string, databases: Environment["databases"]): Promise<void> {
  await q.query("UPDATE environments SET databases = $2 WHERE id = $1", [id, JSON.stringify(databases)]);
}

// The setup log is kept whole up to this size; past it the oldest part goes, the end (where errors are) stays.
const maxLogChars = 1024 * 1024;

export async function appendSetupLog(q: Queryable, id: string, text: string): Promise<void> {
  await q.query("UPDATE environments SET setup_log = right(setup_log || $2, $3) WHERE id = $1", [id, text, maxLogChars]);
}

export async function readSetupLog(q: Queryable, id: string): Promise<string> {
  const rows = await q.query<{ setup_log: string }>("SELECT setup_log FROM environments WHERE id = $1", [id]);
  return rows[0]?.setup_log ?? "";
}
