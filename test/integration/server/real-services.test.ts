import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { readSse } from "../../../src/client/sse-reader.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.js";

const natsUrl = process.env.COOK_TEST_NATS_URL || "nats://127.0.0.1:4222";

describe("cook serve on PostgreSQL and NATS JetStream", () => {
  let database: TestDatabase;
  let cook: RunningCook;
  let nc: NatsConnection;
  const repo = `real-${randomBytes(4).toString("hex")}`;

  before(async () => {
    database = await createTestDatabase();
    [cook, nc] = await Promise.all([startCook({ env: { COOK_DATABASE_URL: database.url, COOK_NATS_URL: natsUrl } }), connect({ servers: natsUrl })]);
  });
  after(async () => {
    await cook?.stop();
    await nc?.close();
    await database?.drop();
  });

  it("reports PostgreSQL and NATS as healthy", async () => {
    const health = (await (await fetch(`${cook.url}/healthz`)).json()) as { status: string; store: { kind: string }; bus: { kind: string; ok: boolean } };
    assert.deepEqual([health.status, health.store.kind, health.bus.kind, health.bus.ok], ["ok", "postgres", "nats", true]);
  });

  it("publishes each event on its subject in stream COOK_EVENTS, kept for 7 days", async () => {
    const received: Array<{ subject: string; id: number }> = [];
    const sub = nc.subscribe(`cook.custom.${repo}.>`, { callback: (_err, msg) => void received.push({ subject: msg.subject, id: msg.json<{ id: number }>().id }) });
    await nc.flush();
    const published = await cook.cli(["events", "publish", repo, "deployed", "--json"]);
    const event = JSON.parse(published.stdout) as { id: number };

    const deadline = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    sub.unsubscribe();
    assert.deepEqual(received, [{ subject: `cook.custom.${repo}.deployed`, id: event.id }]);

    const jsm = await jetstreamManager(nc);
    const stream = await jsm.streams.info("COOK_EVENTS");
    assert.deepEqual(stream.config.subjects, ["cook.>"]);
    assert.equal(stream.config.max_age, 7 * 24 * 3600 * 1e9);
    const stored = await jsm.streams.getMessage("COOK_EVENTS", { last_by_subj: `cook.custom.${repo}.deployed` });
    assert.equal(stored!.json<{ id: number }>().id, event.id);
  });

  it("streams events to web clients through NATS", async () => {
    const controller = new AbortController();
    const response = await fetch(`${cook.url}/api/events/stream?subject=cook.custom.${repo}.live`, { signal: controller.signal });
    const frames = readSse(response.body!);
    // The stream subscribes before answering, so an event announced now is delivered live.
    const announced = await cook.cli(["events", "publish", repo, "live", "--json"]);
    const frame = (await frames.next()).value!;
    assert.equal(JSON.parse(frame.data).id, JSON.parse(announced.stdout).id);
    controller.abort();
  });
});
