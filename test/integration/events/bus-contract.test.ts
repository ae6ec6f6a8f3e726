import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { Db } from "../../../src/db/db.js";
import { getEventCursor, instanceId, listEvents } from "../../../src/db/event-store.js";
import { migrate } from "../../../src/db/migrate.js";
import { openPglite } from "../../../src/db/pglite.js";
import { openPostgres } from "../../../src/db/postgres.js";
import { streamEvents, type Bus, type EventHandler, type Subscription } from "../../../src/events/bus.js";
import { newEvent, type Event } from "../../../src/events/event.js";
import { createEventLog } from "../../../src/events/event-log.js";
import { createLocalBus } from "../../../src/events/local-bus.js";
import { createNatsBus, streamName } from "../../../src/events/nats-bus.js";
import { createOutboxRelay, type OutboxRelay } from "../../../src/events/outbox-relay.js";
import { encodeToken, subjects } from "../../../src/events/subjects.js";
import { createTestDatabase } from "../../helpers/database.js";
import { waitFor } from "../../helpers/wait.js";

const natsUrl = process.env.COOK_TEST_NATS_URL || "nats://127.0.0.1:4222";

/** A bus with the real write path in front of it: event log → events table → outbox relay → bus. */
interface BusHarness {
  bus: Bus;
  db: Db;
  relay: OutboxRelay;
  /** A second bus on the same backend, for tests that close one. */
  openBus(): Promise<Bus>;
  /** Whether a durable subscriber of this name has left state behind (a cursor, a JetStream consumer). */
  durableExists(name: string): Promise<boolean>;
  /** Removes what a durable subscriber left on a server that outlives the test. */
  removeDurable(name: string): Promise<void>;
  close(): Promise<void>;
}

function startRelay(db: Db, bus: Bus): OutboxRelay {
  const relay = createOutboxRelay({ db, bus, retryDelayMs: { first: 20, max: 200 } });
  relay.start();
  return relay;
}

const busKinds: Array<{ name: "local" | "nats"; open(): Promise<BusHarness> }> = [
  {
    name: "local",
    async open() {
      const db = await openPglite(undefined);
      await migrate(db);
      const bus = createLocalBus({ db, retryDelayMs: { first: 20, max: 200 } });
      const relay = startRelay(db, bus);
      return {
        bus,
        db,
        relay,
        openBus: async () => createLocalBus({ db }),
        durableExists: async (name) => (await getEventCursor(db, name)) !== undefined,
        removeDurable: async () => {},
        async close() {
          await relay.stop();
          await bus.close();
          await db.close();
        },
      };
    },
  },
  {
    name: "nats",
    async open() {
      const database = await createTestDatabase();
      const db = openPostgres(database.url);
      const id = await instanceId(db);
      const open = () => createNatsBus({ url: natsUrl, instanceId: id, retryDelayMs: { first: 20, max: 200 } });
      const bus = await open();
      // Unreachable NATS must fail the suite, not leave it waiting on events that never come.
      if (!bus.status().ok) {
        const problem = bus.status().detail;
        await bus.close();
        await db.close();
        await database.drop();
        throw new Error(`NATS at ${natsUrl} (COOK_TEST_NATS_URL) is unreachable: ${problem}`);
      }
      const relay = startRelay(db, bus);
      const admin = await connect({ servers: natsUrl });
      const jsm = await jetstreamManager(admin);
      return {
        bus,
        db,
        relay,
        openBus: open,
        durableExists: (name) =>
          jsm.consumers.info(streamName, encodeToken(name)).then(
            () => true,
            () => false,
          ),
        async removeDurable(name) {
          await jsm.consumers.delete(streamName, encodeToken(name)).catch(() => {});
        },
        async close() {
          await relay.stop();
          await bus.close();
          await admin.close();
          await db.close();
          await database.drop();
        },
      };
    },
  },
];


const ids = (events: Event[]) => events.map((event) => event.id);

for (const kind of busKinds) {
  describe(`the ${kind.name} bus`, () => {
    let h: BusHarness;
    // Every test appends to the same log; a repo name of its own keeps its events apart from the
    // others' — and, on NATS, from other test files sharing the server.
    let repo: string;
    const log = createEventLog(() => h.relay.poke());
    const subscriptions: Subscription[] = [];
    const durables = new Set<string>();

    before(async () => {
      h = await kind.open();
    });
    after(async () => {
      for (const subscription of subscriptions) await subscription.unsubscribe();
      // The NATS server and its stream are shared with other test files: take this file's consumers away.
      for (const name of durables) await h?.removeDurable(name);
      await h?.close();
    });

    function freshRepo(): string {
      repo = `demo-${randomBytes(4).toString("hex")}`;
      return repo;
    }

    const append = (subject: string, data?: unknown) =>
      h.db.transaction((tx) => log.append(tx, newEvent(subject, repo, data === undefined ? {} : { data })));

    async function subscribe(pattern: string, options: { durable?: string } = {}, handler?: EventHandler) {
      const received: Event[] = [];
      if (options.durable) durables.add(options.durable);
      const subscription = await h.bus.subscribe(pattern, handler ?? ((event) => void received.push(event)), options);
      subscriptions.push(subscription);
      return { received, subscription };
    }

    async function waitUntilPublished(event: Event) {
      await waitFor(`event ${event.id} to be published`, async () => {
        const rows = await listEvents(h.db, { afterId: event.id - 1, beforeId: event.id + 1, publishedOnly: true, limit: 1, order: "asc" });
        return rows.length === 1;
      });
    }

    it("delivers an event, as stored, to a subscriber of its exact subject", async () => {
      freshRepo();
      const subject = subjects.branch(repo, "fix/typo", "pushed");
      const { received } = await subscribe(subject);

      const stored = await append(subject, { head: "abc123", files: ["README.md"], note: "日本 🍳" });

      await waitFor("the event", () => received.length === 1);
      assert.deepEqual(received, [stored]);
    });

    it("matches `*` to exactly one token", async () => {
      freshRepo();
      const { received } = await subscribe(`cook.branch.${encodeToken(repo)}.*.pushed`);

      const main = await append(subjects.branch(repo, "main", "pushed"));
      const fix = await append(subjects.branch(repo, "fix/typo.v2", "pushed"));
      await append(subjects.branch(repo, "main", "merged"));
      await append(subjects.gate(repo, "main", "lint", "passed"));
      const last = await append(subjects.branch(repo, "zzz", "pushed"));

      await waitFor("the last matching event", () => received.some((event) => event.id === last.id));
      assert.deepEqual(ids(received), [main.id, fix.id, last.id]);
    });

    it("matches `>` to every subject under it, however many tokens follow", async () => {
      const other = `${freshRepo()}-other`;
      const { received } = await subscribe(subjects.ofRepo(repo));

      const created = await append(subjects.repo(repo, "created"));
      const pushed = await append(subjects.branch(repo, "fix/typo", "pushed"));
      await h.db.transaction((tx) => log.append(tx, newEvent(subjects.branch(other, "main", "pushed"), other)));
      const passed = await append(subjects.gate(repo, "fix/typo", "unit tests", "passed"));

      await waitFor("the gate event", () => received.some((event) => event.id === passed.id));
      assert.deepEqual(ids(received), [created.id, pushed.id, passed.id]);
    });

    it("does not deliver events whose subject does not match", async () => {
      freshRepo();
      const { received } = await subscribe(subjects.branch(repo, "main", "pushed"));

      await append(subjects.branch(repo, "main", "merged"));
      await append(subjects.branch(repo, "main2", "pushed"));
      await append(subjects.gate(repo, "main", "lint", "passed"));
      // Delivery is in order, so once this one has arrived the others would have too.
      const matching = await append(subjects.branch(repo, "main", "pushed"));

      await waitFor("the matching event", () => received.length >= 1);
      assert.deepEqual(ids(received), [matching.id]);
    });

    it("delivers 200 events in the order they were appended", async () => {
      freshRepo();
      const { received } = await subscribe(subjects.ofRepo(repo));

      const appended: Event[] = [];
      for (let n = 0; n < 200; n++) appended.push(await append(subjects.agent(repo, "main", "output"), { n }));

      await waitFor("200 events", () => received.length >= 200);
      assert.deepEqual(ids(received), ids(appended));
      assert.deepEqual(
        received.map((event) => (event.data as { n: number }).n),
        appended.map((_, n) => n),
      );
    });

    it("stops delivering to a subscriber once it has unsubscribed", async () => {
      freshRepo();
      const leaving = await subscribe(subjects.ofRepo(repo));
      const staying = await subscribe(subjects.ofRepo(repo));

      const first = await append(subjects.repo(repo, "created"));
      await waitFor("the first event at both", () => leaving.received.length === 1 && staying.received.length === 1);
      await leaving.subscription.unsubscribe();
      const second = await append(subjects.repo(repo, "removed"));

      await waitFor("the second event at the subscriber that stayed", () => staying.received.length === 2);
      assert.deepEqual(ids(leaving.received), [first.id]);
      assert.deepEqual(ids(staying.received), [first.id, second.id]);
    });

    it("streamEvents yields matching events in order and ends its iteration when closed", async () => {
      freshRepo();
      const stream = await streamEvents(h.bus, subjects.ofRepo(repo));
      const seen: Event[] = [];
      const reading = (async () => {
        for await (const event of stream) seen.push(event);
      })();

      const appended = [
        await append(subjects.repo(repo, "created")),
        await append(subjects.branch(repo, "main", "pushed")),
        await append(subjects.branch(repo, "main", "merged")),
      ];
      await waitFor("three events from the stream", () => seen.length >= 3);
      await stream.close();
      await reading;

      assert.deepEqual(seen, appended);
    });

    it("a new durable subscriber starts at the present: earlier events are not delivered to it", async () => {
      freshRepo();
      const earlier = await append(subjects.repo(repo, "created"));
      await waitUntilPublished(earlier);

      const { received } = await subscribe(subjects.ofRepo(repo), { durable: `new-${repo}` });
      const later = await append(subjects.branch(repo, "main", "pushed"));

      await waitFor("the later event", () => received.length >= 1);
      assert.deepEqual(ids(received), [later.id]);
    });

    it("a durable subscriber gets, on its return, exactly the events published while it was away, in order and once", async () => {
      freshRepo();
      const durable = `returning-${repo}`;
      durables.add(durable);
      const pattern = subjects.ofRepo(repo);
      const received: Event[] = [];
      const handler = (event: Event) => void received.push(event);

      const first = await h.bus.subscribe(pattern, handler, { durable });
      const before = [await append(subjects.repo(repo, "created"), { n: 0 }), await append(subjects.repo(repo, "imported"), { n: 1 })];
      await waitFor("the events before it left", () => received.length === 2);
      await first.unsubscribe();

      const away: Event[] = [];
      for (let n = 2; n < 7; n++) away.push(await append(subjects.branch(repo, "main", "pushed"), { n }));
      await waitUntilPublished(away[away.length - 1]!);
      assert.equal(received.length, 2, "nothing is delivered while it is away");

      subscriptions.push(await h.bus.subscribe(pattern, handler, { durable }));
      await waitFor("the events published while it was away", () => received.length >= 7);
      const after = await append(subjects.branch(repo, "main", "merged"), { n: 7 });
      await waitFor("the event after its return", () => received.some((event) => event.id === after.id));

      assert.deepEqual(ids(received), ids([...before, ...away, after]));
      assert.equal(await h.durableExists(durable), true);
    });

    it("a durable subscriber that leaves in the middle of an event gets the next one promptly on its return", async () => {
      freshRepo();
      const durable = `interrupted-${repo}`;
      durables.add(durable);
      const pattern = subjects.ofRepo(repo);
      const handled: number[] = [];
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let started = false;
      const first = await h.bus.subscribe(
        pattern,
        async (event) => {
          started = true;
          await released;
          handled.push(event.id);
        },
        { durable },
      );

      const inFlight = await append(subjects.branch(repo, "main", "pushed"));
      const next = await append(subjects.branch(repo, "main", "merged"));
      await waitFor("the handler to start", () => started);
      const leaving = first.unsubscribe();
      release();
      await leaving;
      await waitUntilPublished(next);

      subscriptions.push(await h.bus.subscribe(pattern, (event) => void handled.push(event.id), { durable }));
      await waitFor("the next event after its return", () => handled.includes(next.id), 5000);
      assert.deepEqual(handled, [inFlight.id, next.id]);
    });

    it("a durable subscriber whose handler throws gets the same event again before any later one", async () => {
      freshRepo();
      const attempts = new Map<number, number>();
      const handled: number[] = [];
      await subscribe(subjects.ofRepo(repo), { durable: `flaky-${repo}` }, (event) => {
        const attempt = (attempts.get(event.id) ?? 0) + 1;
        attempts.set(event.id, attempt);
        if ((event.data as { failOnce?: boolean } | undefined)?.failOnce && attempt === 1) throw new Error("handler failed");
        handled.push(event.id);
      });

      const failing = await append(subjects.branch(repo, "main", "pushed"), { failOnce: true });
      const next = await append(subjects.branch(repo, "main", "merged"));

      await waitFor("both events handled", () => handled.length >= 2);
      assert.deepEqual(handled, [failing.id, next.id]);
      assert.deepEqual([...attempts], [
        [failing.id, 2],
        [next.id, 1],
      ]);
    });

    it("refuses an invalid pattern as invalid and sets up nothing", async () => {
      freshRepo();
      const durable = `refused-${repo}`;
      durables.add(durable);
      for (const pattern of ["", "cook..branch", "cook.>.pushed", "cook.bra*", `cook.branch.${repo} x`]) {
        await assert.rejects(h.bus.subscribe(pattern, () => {}, { durable }), { name: "CookError", code: "invalid" }, `pattern ${JSON.stringify(pattern)}`);
      }
      assert.equal(await h.durableExists(durable), false);
      assert.equal(h.bus.status().ok, true);
    });

    it("reports itself healthy while open and not once closed", async () => {
      assert.deepEqual(h.bus.status(), {
        ok: true,
        kind: kind.name,
        detail: kind.name === "nats" ? `connected to ${natsUrl}` : "in-process",
      });
      const other = await h.openBus();
      await other.close();
      assert.equal(other.status().ok, false);
      assert.equal(other.status().kind, kind.name);
      assert.equal(h.bus.status().ok, true);
    });
  });
}
