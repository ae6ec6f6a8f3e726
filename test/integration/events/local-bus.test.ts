import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Db } from "../../../src/db/db.js";
import { listEvents } from "../../../src/db/event-store.js";
import { openPostgres } from "../../../src/db/postgres.js";
import type { Bus } from "../../../src/events/bus.js";
import { newEvent, type Event } from "../../../src/events/event.js";
import { createEventLog } from "../../../src/events/event-log.js";
import { createLocalBus } from "../../../src/events/local-bus.js";
import { createOutboxRelay, type OutboxRelay } from "../../../src/events/outbox-relay.js";
import { subjects } from "../../../src/events/subjects.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.js";
import { waitFor } from "../../helpers/wait.js";


// The embedded bus also runs over PostgreSQL (COOK_DATABASE_URL set, COOK_NATS_URL not), where the
// relay's queries and a subscriber's replay run on different connections at the same time.
describe("the local bus over PostgreSQL", () => {
  const repo = "demo";
  let database: TestDatabase;
  let db: Db;
  let bus: Bus;
  let relay: OutboxRelay;
  let locker: pg.Client;
  const log = createEventLog(() => relay.poke());
  const append = (subject: string) => db.transaction((tx) => log.append(tx, newEvent(subject, repo)));

  before(async () => {
    database = await createTestDatabase();
    db = openPostgres(database.url);
    bus = createLocalBus({ db });
    relay = createOutboxRelay({ db, bus, retryDelayMs: { first: 20, max: 200 } });
    relay.start();
    locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
  });
  after(async () => {
    await relay?.stop();
    await bus?.close();
    await db?.close();
    await locker?.end();
    await database?.drop();
  });

  it("a durable subscriber returning while the relay has published an event but not yet recorded it still gets that event", async () => {
    const pattern = subjects.ofRepo(repo);
    const durable = "gate-runner";
    const received: Event[] = [];
    const handler = (event: Event) => void received.push(event);
    const witness: Event[] = [];
    await bus.subscribe(pattern, (event) => void witness.push(event));

    const first = await bus.subscribe(pattern, handler, { durable });
    const before = await append(subjects.repo(repo, "created"));
    await waitFor("the first event", () => received.length === 1);
    await first.unsubscribe();

    // Another transaction holding the new event's row keeps the relay's markPublished waiting after
    // the event went out on the bus: the state a slow commit, or a crash, leaves behind.
    await relay.stop();
    const missed = await append(subjects.branch(repo, "main", "pushed"));
    await locker.query("BEGIN");
    await locker.query("SELECT id FROM events WHERE id = $1 FOR UPDATE", [missed.id]);
    relay.start();
    await waitFor("the event on the bus", () => witness.some((event) => event.id === missed.id));
    await waitFor("the relay to wait on the row lock", async () => {
      // Inside a transaction PostgreSQL keeps showing the first pg_stat_activity snapshot; the relay
      // marks events in bulk a little later, so each look needs a fresh one.
      await locker.query("SELECT pg_stat_clear_snapshot()");
      const rows = await locker.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE events%'");
      return rows.rowCount === 1;
    });

    const returned = await bus.subscribe(pattern, handler, { durable });
    // The replay of what it missed runs in the background; give it time to read the log while the lock holds.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await locker.query("COMMIT");
    const after = await append(subjects.branch(repo, "main", "merged"));
    await waitFor("the event after its return", () => received.some((event) => event.id === after.id));
    await returned.unsubscribe();

    assert.deepEqual(
      received.map((event) => event.id),
      [before.id, missed.id, after.id],
    );
    // Published events are marked in bulk, a little after they went out.
    await waitFor("all three marked published", async () => (await listEvents(db, { publishedOnly: true, limit: 10, order: "asc" })).length === 3);
  });
});
