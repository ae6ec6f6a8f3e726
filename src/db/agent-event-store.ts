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

/** Appends events of one run (`firstSeq` is the seq of the first; the others follow on). */
export async function insertAgentEvents(q: Queryable, sessionId: string, run: number, firstSeq: number, events: readonly AgentEvent[]): Promise<void> {
  await insertAgentEventBatches(q, [{ sessionId, run, firstSeq, events }]);
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

/** Appends the events of several runs in one statement (each batch's seqs follow on from its firstSeq). */
export async function insertAgentEventBatches(q: Queryable, batches: ReadonlyArray<{ sessionId: string; run: number; firstSeq: number; events: readonly AgentEvent[] }>): Promise<void> {
  const rows = batches.flatMap((b) => b.events.map((event, i) => ({ session: b.sessionId, seq: b.firstSeq + i, run: b.run, event })));
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO agent_events (session_id, seq, run, kind, data)
     SELECT session_id, seq, run, kind, data::json
     FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[]) AS e(session_id, seq, run, kind, data)`,
    [rows.map((r) => r.session), rows.map((r) => r.seq), rows.map((r) => r.run), rows.map((r) => r.event.kind), rows.map((r) => JSON.stringify(r.event))],
  );
}
