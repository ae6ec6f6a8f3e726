import type { Event, NewEvent } from "../events/event.js";
import type { Queryable } from "./db.js";

interface EventRow {
  id: number;
  subject: string;
  type: string;
  repo: string;
  branch: string | null;
  data: unknown;
  created_at: Date;
  [key: string]: unknown;
}

const columns = "id, subject, type, repo, branch, data, created_at";

function toEvent(row: EventRow): Event {
  const event: Event = { id: row.id, subject: row.subject, type: row.type, repo: row.repo, timestamp: row.created_at.toISOString() };
  if (row.branch !== null) event.branch = row.branch;
  if (row.data !== null && row.data !== undefined) event.data = row.data;
  return event;
}

// Held until the appending transaction ends, so ids are handed out in commit order and the relay,
// which publishes in id order, never publishes event n+1 while event n is still uncommitted. Taken
// in the INSERT itself: every round trip while holding it is a round trip every other writer waits.
const appendLockKey = 7420_0002;

export async function insertEvent(tx: Queryable, event: NewEvent): Promise<Event> {
  const rows = await tx.query<EventRow>(
    `INSERT INTO events (subject, type, repo, branch, data)
     SELECT $2::text, $3::text, $4::text, $5::text, $6::jsonb FROM (SELECT pg_advisory_xact_lock($1)) AS append_lock
     RETURNING ${columns}`,
    [appendLockKey, event.subject, event.type, event.repo, event.branch ?? null, event.data === undefined ? null : JSON.stringify(event.data)],
  );
  return toEvent(rows[0]!);
}

/**
 * Appends several events in one statement, ids in the given order, under the same lock as
 * insertEvent: a push that moves 10,000 refs announces each without 10,000 round trips. Returns
 * nothing: reading 10,000 rows back took as long as writing them.
 */
export async function insertEvents(tx: Queryable, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO events (subject, type, repo, branch, data)
     SELECT subject, type, repo, branch, data::jsonb
     FROM (SELECT pg_advisory_xact_lock($1)) AS append_lock,
       unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e(subject, type, repo, branch, data, n)
     ORDER BY n`,
    [
      appendLockKey,
      events.map((e) => e.subject),
      events.map((e) => e.type),
      events.map((e) => e.repo),
      events.map((e) => e.branch ?? null),
      events.map((e) => (e.data === undefined ? null : JSON.stringify(e.data))),
    ],
  );
}

export async function listUnpublished(q: Queryable, limit: number, afterId = 0): Promise<Event[]> {
  const rows = await q.query<EventRow>(`SELECT ${columns} FROM events WHERE published_at IS NULL AND id > $2 ORDER BY id LIMIT $1`, [limit, afterId]);
  return rows.map(toEvent);
}

export async function countUnpublished(q: Queryable): Promise<number> {
  const rows = await q.query<{ count: number }>("SELECT count(*)::int AS count FROM events WHERE published_at IS NULL");
  return rows[0]?.count ?? 0;
}

export async function markPublished(q: Queryable, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await q.query("UPDATE events SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])", [ids]);
}

export interface EventQuery {
  /** A PostgreSQL regex over the subject (see patternToRegex). */
  subjectRegex?: string;
  afterId?: number;
  beforeId?: number;
  /** Only events the relay has published: what a subscriber could have seen. */
  publishedOnly?: boolean;
  /** Only events about this repo. */
  repo?: string;
  limit: number;
  order: "asc" | "desc";
}

export async function listEvents(q: Queryable, query: EventQuery): Promise<Event[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (query.subjectRegex) where.push(`subject ~ ${param(query.subjectRegex)}`);
  if (query.afterId !== undefined) where.push(`id > ${param(query.afterId)}`);
  if (query.beforeId !== undefined) where.push(`id < ${param(query.beforeId)}`);
  if (query.publishedOnly) where.push("published_at IS NOT NULL");
  if (query.repo !== undefined) where.push(`repo = ${param(query.repo)}`);
  const rows = await q.query<EventRow>(
    `SELECT ${columns} FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY id ${query.order === "asc" ? "ASC" : "DESC"} LIMIT ${param(query.limit)}`,
    params,
  );
  return rows.map(toEvent);
}

export async function lastPublishedEventId(q: Queryable): Promise<number> {
  const rows = await q.query<{ id: number | null }>("SELECT max(id) AS id FROM events WHERE published_at IS NOT NULL");
  return rows[0]?.id ?? 0;
}

export async function instanceId(q: Queryable): Promise<string> {
  const rows = await q.query<{ id: string }>("SELECT id::text AS id FROM instance");
  return rows[0]!.id;
}

export async function getEventCursor(q: Queryable, consumer: string): Promise<number | undefined> {
  const rows = await q.query<{ last_event_id: number }>("SELECT last_event_id FROM event_cursors WHERE consumer = $1", [consumer]);
  return rows[0]?.last_event_id;
}

export async function setEventCursor(q: Queryable, consumer: string, lastEventId: number): Promise<void> {
  await q.query(
    `INSERT INTO event_cursors (consumer, last_event_id) VALUES ($1, $2)
     ON CONFLICT (consumer) DO UPDATE SET last_event_id = excluded.last_event_id, updated_at = now()`,
    [consumer, lastEventId],
  );
}
