import type { Queryable } from "./db.js";

/** The last slot a repo's scheduled automation fired for; undefined when it never has. */
export async function lastSlotOf(q: Queryable, repo: string, name: string): Promise<Date | undefined> {
  const rows = await q.query<{ last_slot: Date }>("SELECT last_slot FROM automation_schedules WHERE repo = $1 AND name = $2", [repo, name]);
  return rows[0]?.last_slot;
}

/**
 * Moves a schedule's last slot forward to `slot`, only from `expected` (undefined: no row yet):
 * false when another process moved it first, so a slot fires once.
 */
export async function advanceSlot(q: Queryable, repo: string, name: string, expected: Date | undefined, slot: Date): Promise<boolean> {
  const rows = expected
    ? await q.query("UPDATE automation_schedules SET last_slot = $4 WHERE repo = $1 AND name = $2 AND last_slot = $3 RETURNING name", [repo, name, expected, slot])
    : await q.query("INSERT INTO automation_schedules (repo, name, last_slot) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING name", [repo, name, slot]);
  return rows.length === 1;
}

/** Records that an event fired an automation: false when it already had (a redelivery). */
export async function recordFiring(q: Queryable, repo: string, name: string, eventId: number): Promise<boolean> {
  const rows = await q.query("INSERT INTO automation_firings (repo, name, event_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING name", [repo, name, eventId]);
  return rows.length === 1;
}

export async function setFiringTask(q: Queryable, repo: string, name: string, eventId: number, taskId: string): Promise<void> {
  await q.query("UPDATE automation_firings SET task_id = $4 WHERE repo = $1 AND name = $2 AND event_id = $3", [repo, name, eventId, taskId]);
}

/** The automation firing that made task `taskId` (on an event; a schedule's tasks have none), if any. */
export async function firingOfTask(q: Queryable, taskId: string): Promise<{ name: string; eventId: number } | undefined> {
  const rows = await q.query<{ name: string; event_id: string }>("SELECT name, event_id FROM automation_firings WHERE task_id = $1 LIMIT 1", [taskId]);
  return rows[0] ? { name: rows[0].name, eventId: Number(rows[0].event_id) } : undefined;
}
