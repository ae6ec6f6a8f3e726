import type { Queryable } from "./db.js";

export interface RecordedRefUpdate {
  repo: string;
  ref: string;
  oldSha: string;
  newSha: string;
  pusher: string;
  pushOptions: string[];
}

/** What one push moved: git's `<old> <new> <ref>` lines, by whom, with which push options. */
export interface PushRecord {
  repo: string;
  pusher: string;
  pushOptions: string[];
  updates: ReadonlyArray<{ ref: string; oldSha: string; newSha: string }>;
}

/** Records the ref updates of one push in one statement, in the push's order. */
export async function insertRefUpdates(q: Queryable, push: PushRecord): Promise<void> {
  if (push.updates.length === 0) return;
  // One statement over arrays, not a round trip per ref: a push may move 10,000 refs.
  await q.query(
    `INSERT INTO ref_updates (repo, ref, old_sha, new_sha, pusher, push_options)
     SELECT $1, ref, old_sha, new_sha, $2, $3::jsonb
     FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(ref, old_sha, new_sha, n)
     ORDER BY n`,
    [push.repo, push.pusher, JSON.stringify(push.pushOptions), push.updates.map((u) => u.ref), push.updates.map((u) => u.oldSha), push.updates.map((u) => u.newSha)],
  );
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
