import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { Db } from "../../../src/db/db.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { instanceId, listUnpublished } from "../../../src/db/event-store.js";
import { openPostgres } from "../../../src/db/postgres.js";
import type { Bus } from "../../../src/events/bus.js";
import { newEvent, type Event } from "../../../src/events/event.js";
import { createEventLog } from "../../../src/events/event-log.js";
import { createNatsBus, streamName } from "../../../src/events/nats-bus.js";
import { createOutboxRelay, type OutboxRelay } from "../../../src/events/outbox-relay.js";
import { subjects } from "../../../src/events/subjects.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.js";
import { startNatsServer, type NatsServer } from "../../helpers/nats-server.js";
import { waitFor } from "../../helpers/wait.js";


describe("the NATS bus through a NATS outage", () => {
  const repo = "demo";
  let server: NatsServer;
  let database: TestDatabase;
  let db: Db;
  let bus: Bus;
  let relay: OutboxRelay;
  const log = createEventLog(() => relay.poke());
  const append = (n: number) => db.transaction((tx) => log.append(tx, newEvent(subjects.agent(repo, "main", "output"), repo, { data: { n } })));

  before(async () => {
    server = await startNatsServer();
    database = await createTestDatabase();
    db = openPostgres(database.url);
    bus = await createNatsBus({ url: server.url, instanceId: await instanceId(db), retryDelayMs: { first: 20, max: 200 } });
    assert.ok(bus.status().ok, bus.status().detail);
    relay = createOutboxRelay({ db, bus, retryDelayMs: { first: 50, max: 500 } });
    relay.start();
  });
  after(async () => {
    await relay?.stop();
    await bus?.close();
    await db?.close();
    await database?.drop();
    await server?.kill();
  });

  it("keeps events written while NATS is down and delivers every event to a durable subscriber once, in order, when it is back", async () => {
    const received: Event[] = [];
    await bus.subscribe(subjects.ofRepo(repo), (event) => void received.push(event), { durable: "watcher" });

    const beforeOutage: Event[] = [];
    for (let n = 0; n < 5; n++) beforeOutage.push(await append(n));
    await waitFor("the events written before the outage", () => received.length === 5);

    await server.stop();
    await waitFor("the bus to notice the outage", () => !bus.status().ok);

    const duringOutage: Event[] = [];
    for (let n = 5; n < 10; n++) duringOutage.push(await append(n));
    await waitFor("the relay to fail to publish", () => relay.lastError() !== undefined);
    assert.deepEqual(await listUnpublished(db, 100), duringOutage);
    assert.equal(received.length, 5);

    await server.start();
    await waitFor("the events written during the outage", () => received.length >= 10);
    // Delivery is in order, so a duplicate of any earlier event would arrive before this one.
    const afterOutage = await append(10);
    await waitFor("the event written after the outage", () => received.some((event) => event.id === afterOutage.id));

    assert.deepEqual(received, [...beforeOutage, ...duringOutage, afterOutage]);
    // Published events are recorded as such in bulk, a few milliseconds after they went out.
    await waitFor("the relay to record every event as published", async () => (await relay.pending()) === 0);
    assert.equal(relay.lastError(), undefined);
    assert.equal(bus.status().ok, true);
  });

  it("lets the process exit once a bus that never reached NATS is closed", async () => {
    // Port 1 on loopback has nothing listening: the bus keeps trying to connect until it is closed.
    const busModule = new URL("../../../src/events/nats-bus.js", import.meta.url).href;
    const script = `
      const { createNatsBus } = await import(${JSON.stringify(busModule)});
      const bus = await createNatsBus({ url: "nats://127.0.0.1:1", instanceId: "test", connectWaitMs: 100 });
      if (bus.status().ok) process.exit(2);
      await bus.close();
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "ignore", "inherit"] });
    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const code = await exit;
    clearTimeout(timer);
    assert.equal(code, 0, "the process was still running 10 s after the bus was closed");
  });

  it("a bus started while NATS is down connects once it is up, with the durable subscriber it was given meanwhile", async () => {
    await server.stop();
    const late = await createNatsBus({ url: server.url, instanceId: await instanceId(db), connectWaitMs: 100 });
    try {
      assert.equal(late.status().ok, false);
      const received: Event[] = [];
      await late.subscribe(subjects.ofRepo(repo), (event) => void received.push(event), { durable: "late-watcher" });

      await server.start();
      await waitFor("the late bus to connect", () => late.status().ok);
      // Its consumer is created once connected; only events after that are its to receive.
      const admin = await connect({ servers: server.url });
      try {
        const jsm = await jetstreamManager(admin);
        await waitFor("its consumer", () => jsm.consumers.info(streamName, "late-watcher").then(() => true, () => false));
      } finally {
        await admin.close();
      }
      const event = await append(100);
      await waitFor("the event", () => received.length >= 1);
      assert.deepEqual(received, [event]);
    } finally {
      await late.close();
    }
  });
});
