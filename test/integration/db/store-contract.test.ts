import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Db } from "../../../src/db/db.js";
import {
  countUnpublished,
  getEventCursor,
  insertEvent,
  insertEvents,
  instanceId,
  lastPublishedEventId,
  listEvents,
  listUnpublished,
  markPublished,
  setEventCursor,
} from "../../../src/db/event-store.js";
import { migrate, readMigrations } from "../../../src/db/migrate.js";
import { insertRefUpdates, listRefUpdates } from "../../../src/db/ref-update-store.js";
import { openPostgres } from "../../../src/db/postgres.js";
import { newEvent, type Event } from "../../../src/events/event.js";
import { patternToRegex, subjects } from "../../../src/events/subjects.js";
import { createTestDatabase, storeKinds, type OpenedStore } from "../../helpers/database.js";

const allVersions = readMigrations().map((migration) => migration.version);
const uniqueRepo = () => `demo-${randomBytes(4).toString("hex")}`;

async function appliedVersions(db: Db): Promise<number[]> {
  const rows = await db.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
  return rows.map((row) => row.version);
}

async function eventsOf(db: Db, repo: string): Promise<Event[]> {
  return (await listEvents(db, { limit: 1000, order: "asc" })).filter((event) => event.repo === repo);
}

for (const kind of storeKinds) {
  describe(`the event store on ${kind.name}`, () => {
    let store: OpenedStore;
    let db: Db;
    before(async () => {
      store = await kind.open();
      db = store.db;
    });
    after(() => store?.close());

    const append = (repo: string, subject: string, fields: { branch?: string; data?: unknown } = {}) =>
      db.transaction((tx) => insertEvent(tx, newEvent(subject, repo, fields)));

    it("migrate applies every migration to an empty store, then nothing the second time", async () => {
      const empty = await kind.open({ empty: true });
      try {
        assert.deepEqual(await migrate(empty.db), allVersions);
        assert.deepEqual(await migrate(empty.db), []);
        assert.deepEqual(await appliedVersions(empty.db), allVersions);
        assert.deepEqual(await listEvents(empty.db, { limit: 10, order: "asc" }), []);
      } finally {
        await empty.close();
      }
    });

    it("gives an appended event back from listUnpublished with its fields and JSON data intact", async () => {
      const repo = uniqueRepo();
      const data = { head: "0123abcd", n: 42, ok: true, none: null, list: [1, "two", { three: 3 }], text: "日本 é 🍳 \"quoted\"\n" };
      const stored = await append(repo, subjects.branch(repo, "fix/typo", "pushed"), { branch: "fix/typo", data });

      assert.equal(typeof stored.id, "number");
      assert.ok(!Number.isNaN(Date.parse(stored.timestamp)), stored.timestamp);
      assert.deepEqual(stored, {
        id: stored.id,
        subject: `cook.branch.${repo}.fix_2Ftypo.pushed`,
        type: "branch.pushed",
        repo,
        branch: "fix/typo",
        timestamp: stored.timestamp,
        data,
      });
      const unpublished = (await listUnpublished(db, 1000)).filter((event) => event.repo === repo);
      assert.deepEqual(unpublished, [stored]);
    });

    it("leaves branch and data out of an event that has none", async () => {
      const repo = uniqueRepo();
      const stored = await append(repo, subjects.repo(repo, "created"));
      assert.deepEqual(Object.keys(stored).sort(), ["id", "repo", "subject", "timestamp", "type"]);
      assert.deepEqual(await eventsOf(db, repo), [stored]);
    });

    it("hands out increasing ids in the order events are appended", async () => {
      const repo = uniqueRepo();
      const ids: number[] = [];
      for (let n = 0; n < 5; n++) ids.push((await append(repo, subjects.repo(repo, "created"), { data: { n } })).id);
      assert.deepEqual([...ids].sort((a, b) => a - b), ids);
      assert.equal(new Set(ids).size, ids.length);
      assert.deepEqual((await eventsOf(db, repo)).map((event) => (event.data as { n: number }).n), [0, 1, 2, 3, 4]);
    });

    it("appends a batch of events in one call, ids in the batch's order, fields and JSON data intact", async () => {
      const repo = uniqueRepo();
      const first = await append(repo, subjects.repo(repo, "created"));
      const batch = [
        newEvent(subjects.branch(repo, "b/0", "created"), repo, { branch: "b/0", data: { n: 0, text: "日本 \"q\"\n" } }),
        newEvent(subjects.tag(repo, "v1", "created"), repo),
        ...Array.from({ length: 300 }, (_, n) => newEvent(subjects.branch(repo, `b/${n + 1}`, "created"), repo, { branch: `b/${n + 1}`, data: { n: n + 1 } })),
      ];
      await db.transaction((tx) => insertEvents(tx, batch));
      await db.transaction((tx) => insertEvents(tx, []));

      const [again, ...stored] = await eventsOf(db, repo);
      assert.deepEqual(again, first);
      assert.deepEqual(stored.map(({ id: _id, timestamp: _t, ...rest }) => rest), batch);
      assert.ok(stored.every((event, i) => event.id > (i === 0 ? first.id : stored[i - 1]!.id)), "ids increase along the batch");
    });

    it("markPublished takes exactly the given events out of the unpublished list", async () => {
      const repo = uniqueRepo();
      const [first, second, third] = [
        await append(repo, subjects.repo(repo, "created")),
        await append(repo, subjects.repo(repo, "imported")),
        await append(repo, subjects.repo(repo, "removed")),
      ];
      const pendingBefore = await countUnpublished(db);

      await markPublished(db, [first!.id, third!.id]);

      const unpublished = (await listUnpublished(db, 1000)).filter((event) => event.repo === repo);
      assert.deepEqual(unpublished, [second]);
      assert.equal(await countUnpublished(db), pendingBefore - 2);
      assert.deepEqual(await eventsOf(db, repo), [first, second, third]);
      assert.ok((await lastPublishedEventId(db)) >= third!.id);
    });

    it("keeps no event, and runs no afterCommit callback, when the transaction rolls back", async () => {
      const repo = uniqueRepo();
      let called = false;
      await assert.rejects(
        db.transaction(async (tx) => {
          await insertEvent(tx, newEvent(subjects.repo(repo, "created"), repo));
          tx.afterCommit(() => (called = true));
          throw new Error("the change failed");
        }),
        { message: "the change failed" },
      );
      assert.equal(called, false);
      assert.deepEqual(await eventsOf(db, repo), []);
      assert.deepEqual((await listUnpublished(db, 1000)).filter((event) => event.repo === repo), []);
    });

    it("runs afterCommit callbacks once the transaction has committed, when its event is visible", async () => {
      const repo = uniqueRepo();
      const seen: Array<{ workFinished: boolean; visible: Promise<Event[]> }> = [];
      let workFinished = false;
      const stored = await db.transaction(async (tx) => {
        const event = await insertEvent(tx, newEvent(subjects.repo(repo, "created"), repo));
        // Recorded, not asserted, here: the transaction swallows whatever a callback throws.
        // The read goes outside the transaction: on PostgreSQL another pooled connection, which sees only committed rows.
        tx.afterCommit(() => seen.push({ workFinished, visible: eventsOf(db, repo) }));
        workFinished = true;
        return event;
      });
      assert.equal(seen.length, 1, "afterCommit ran once by the time the transaction resolved");
      assert.equal(seen[0]!.workFinished, true);
      assert.deepEqual(await seen[0]!.visible, [stored]);
    });

    it("a throwing afterCommit callback does not turn a commit into an error", async () => {
      const repo = uniqueRepo();
      const stored = await db.transaction(async (tx) => {
        tx.afterCommit(() => {
          throw new Error("hook failed");
        });
        return insertEvent(tx, newEvent(subjects.repo(repo, "created"), repo));
      });
      assert.deepEqual(await eventsOf(db, repo), [stored]);
    });

    it("listEvents filters by subject pattern, by id range and by publication, in either order", async () => {
      const repo = uniqueRepo();
      const other = `${repo}-x`;
      const created = await append(repo, subjects.repo(repo, "created"));
      const mainPushed = await append(repo, subjects.branch(repo, "main", "pushed"), { branch: "main" });
      await append(other, subjects.branch(other, "main", "pushed"), { branch: "main" });
      const fixPushed = await append(repo, subjects.branch(repo, "fix/typo", "pushed"), { branch: "fix/typo" });
      const gatePassed = await append(repo, subjects.gate(repo, "main", "lint", "passed"), { branch: "main" });
      const mainMerged = await append(repo, subjects.branch(repo, "main", "merged"), { branch: "main" });

      const ofRepo = patternToRegex(subjects.ofRepo(repo));
      const pushes = patternToRegex(`cook.branch.${repo}.*.pushed`);
      assert.deepEqual(await listEvents(db, { subjectRegex: ofRepo, limit: 100, order: "asc" }), [created, mainPushed, fixPushed, gatePassed, mainMerged]);
      assert.deepEqual(await listEvents(db, { subjectRegex: ofRepo, limit: 100, order: "desc" }), [mainMerged, gatePassed, fixPushed, mainPushed, created]);
      assert.deepEqual(await listEvents(db, { subjectRegex: pushes, limit: 100, order: "asc" }), [mainPushed, fixPushed]);
      assert.deepEqual(
        await listEvents(db, { subjectRegex: ofRepo, afterId: mainPushed.id, beforeId: mainMerged.id, limit: 100, order: "asc" }),
        [fixPushed, gatePassed],
      );
      assert.deepEqual(await listEvents(db, { subjectRegex: ofRepo, limit: 2, order: "desc" }), [mainMerged, gatePassed]);
      assert.deepEqual(await listEvents(db, { subjectRegex: ofRepo, afterId: mainMerged.id, limit: 100, order: "asc" }), []);

      await markPublished(db, [created.id, fixPushed.id]);
      assert.deepEqual(await listEvents(db, { subjectRegex: ofRepo, publishedOnly: true, limit: 100, order: "asc" }), [created, fixPushed]);
    });

    it("keeps one cursor per consumer, created on first write and moved on later ones", async () => {
      const consumer = `watcher-${uniqueRepo()}`;
      assert.equal(await getEventCursor(db, consumer), undefined);
      await setEventCursor(db, consumer, 7);
      await setEventCursor(db, `${consumer}-other`, 3);
      await setEventCursor(db, consumer, 12);
      assert.equal(await getEventCursor(db, consumer), 12);
      assert.equal(await getEventCursor(db, `${consumer}-other`), 3);
    });

    it("has one instance id, a UUID that stays the same", async () => {
      const id = await instanceId(db);
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(await instanceId(db), id);
    });

    it("records a push's ref updates in one call, in the push's order", async () => {
      const repo = uniqueRepo();
      const sha = (n: number) => n.toString(16).padStart(40, "0");
      const updates = Array.from({ length: 250 }, (_, n) => ({ ref: `refs/heads/b/${n}`, oldSha: sha(0), newSha: sha(n + 1) }));
      await db.transaction((tx) => insertRefUpdates(tx, { repo, pusher: "ana", pushOptions: ["ci.skip", "note=日本"], updates }));
      await insertRefUpdates(db, { repo, pusher: "ana", pushOptions: [], updates: [] });
      const recorded = (await listRefUpdates(db, repo, 1000)).reverse();
      assert.deepEqual(recorded.map(({ id: _id, createdAt: _at, ...rest }) => rest), updates.map((u) => ({ repo, ...u, pusher: "ana", pushOptions: ["ci.skip", "note=日本"] })));
      assert.ok(recorded.every((row, i) => i === 0 || row.id > recorded[i - 1]!.id), "ids increase in the push's order");
    });
  });
}

describe("migrate on PostgreSQL", () => {
  it("applies each migration exactly once when two processes migrate one empty database at the same time", async () => {
    const database = await createTestDatabase({ empty: true });
    const first = openPostgres(database.url, { max: 2 });
    const second = openPostgres(database.url, { max: 2 });
    try {
      const results = await Promise.all([migrate(first), migrate(second)]);

      assert.deepEqual(results.flat().sort((a, b) => a - b), allVersions);
      assert.ok(results.some((applied) => applied.length === 0), `one of them applied nothing: ${JSON.stringify(results)}`);
      assert.deepEqual(await appliedVersions(first), allVersions);
      assert.equal((await first.query<{ count: number }>("SELECT count(*)::int AS count FROM instance"))[0]!.count, 1);
    } finally {
      await first.close();
      await second.close();
      await database.drop();
    }
  });

  it("gives databases cloned for tests instance ids of their own", async () => {
    const [a, b] = [await createTestDatabase(), await createTestDatabase()];
    const [dbA, dbB] = [openPostgres(a.url, { max: 1 }), openPostgres(b.url, { max: 1 })];
    try {
      assert.notEqual(await instanceId(dbA), await instanceId(dbB));
    } finally {
      await Promise.all([dbA.close(), dbB.close()]);
      await Promise.all([a.drop(), b.drop()]);
    }
  });
});
