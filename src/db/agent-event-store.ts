import type { AgentEvent } from "../core/agent-event.js";
import type { StoredAgentEvent } from "../core/agent-session.js";
import type { Queryable } from "./db.js";

export type AgentEventRecord = StoredAgentEvent & { event: AgentEvent };

interface EventRow {
  session_id: string;
  seq: number;
  run: number;
  data: AgentEvent;
  created_at: Date;
  [key: string]: unknown;
}

/** Appends events of one run in one statement; `firstSeq` is the seq of the first (they follow on). */
export async function insertAgentEvents(q: Queryable, sessionId: string, run: number, firstSeq: number, events: readonly AgentEvent[]): Promise<void> {
  if (events.length === 0) return;
  await q.query(
    `INSERT INTO agent_events (session_id, seq, run, kind, data)
     SELECT $1, $2 + n - 1, $3, kind, data::json
     FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS e(kind, data, n)`,
    [sessionId, firstSeq, run, events.map((e) => e.kind), events.map((e) => JSON.stringify(e))],
  );
}

/** The highest seq of a session so far (0 when it has none). */
export async function lastAgentEventSeq(q: Queryable, sessionId: string): Promise<number> {
  const rows = await q.query<{ seq: number | null }>("SELECT max(seq) AS seq FROM agent_events WHERE session_id = $1", [sessionId]);
  return rows[0]?.seq ?? 0;
}

/** A session's events in order, after `afterSeq`, at most `limit`. */
export async function readAgentEvents(q: Queryable, sessionId: string, options: { afterSeq?: number; limit?: number } = {}): Promise<AgentEventRecord[]> {
  const rows = await q.query<EventRow>(
    "SELECT session_id, seq, run, data, created_at FROM agent_events WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    [sessionId, options.afterSeq ?? 0, options.limit ?? 100_000],
  );
  return rows.map((row) => ({ sessionId: row.session_id, seq: row.seq, run: row.run, at: row.created_at.toISOString(), event: row.data }));
}
