import type { Queryable } from "./db.js";

/**
 * How many agent runs on the task failed with this error signature (core/error-signature.ts), as
 * the event log records them (`agent.failed` events carry `task` and `errorSignature`).
 */
export async function countAgentFailures(q: Queryable, taskId: string, signature: string): Promise<number> {
  const rows = await q.query<{ count: number }>(
    "SELECT count(*)::int AS count FROM events WHERE type = 'agent.failed' AND data->>'task' = $1 AND data->>'errorSignature' = $2",
    [taskId, signature],
  );
  return rows[0]?.count ?? 0;
}
