import type { Queryable } from "./db.js";

export interface RecordedRefUpdate {
  repo: string;
  ref: string;
  oldSha: string;
  newSha: string;
  pusher: string;
  pushOptions: string[];
}

export async function insertRefUpdate(q: Queryable, update: RecordedRefUpdate): Promise<number> {
  const rows = await q.query<{ id: number }>(
    "INSERT INTO ref_updates (repo, ref, old_sha, new_sha, pusher, push_options) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    [update.repo, update.ref, update.oldSha, update.newSha, update.pusher, JSON.stringify(update.pushOptions)],
  );
  return rows[0]!.id;
}

export async function listRefUpdates(q: Queryable, repo: string, limit = 100): Promise<Array<RecordedRefUpdate & { id: number; createdAt: string }>> {
  const rows = await q.query<{ id: number; repo: string; ref: string; old_sha: string; new_sha: string; pusher: string; push_options: string[]; created_at: Date }>(
    "SELECT id, repo, ref, old_sha, new_sha, pusher, push_options, created_at FROM ref_updates WHERE repo = $1 ORDER BY id DESC LIMIT $2",
    [repo, limit],
  );
  return rows.map((row) => ({
    id: row.id,
    repo: row.repo,
    ref: row.ref,
    oldSha: row.old_sha,
    newSha: row.new_sha,
    pusher: row.pusher,
    pushOptions: row.push_options,
    createdAt: row.created_at.toISOString(),
  }));
}
