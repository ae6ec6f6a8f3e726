#!/usr/bin/env node
// Probe (not run by run-all): how many one-event transactions per second the PostgreSQL + NATS write
// path sustains, and the commit → receipt latency, for the current code and for the two changes
// proposed in docs/benchmarks.md — without editing src/ (the variants are built here from dist/).
//
//   node scripts/bench/probes/outbox-write-path.mjs [variant ...] [--rate=1000] [--seconds=5]
//   variants: current, one-statement, deferred-mark, both (default: all four)
//
//   one-statement: insertEvent's advisory lock and INSERT as one statement, so the append lock is
//                  held for one client round trip less.
//   deferred-mark: the relay reads after an in-memory high-water mark and marks published rows in
//                  bulk at most every 50 ms, instead of SELECT + UPDATE around every small batch.
import { fork } from "node:child_process";
import { join } from "node:path";
import { dist, natsUrl, now, removeDir, repoRoot, requireBuild, round, scratchDatabase, sleep, stats, tempDir } from "../lib/common.mjs";

requireBuild();
const flags = Object.fromEntries(process.argv.slice(2).filter((a) => a.startsWith("--")).map((a) => a.slice(2).split("=")));
const variants = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const rate = Number(flags.rate ?? 1000);
const seconds = Number(flags.seconds ?? 5);
const maxInFlight = 8;

const { newEvent } = await dist("src/events/event.js");
const { openDatabase } = await dist("src/db/open.js");
const { createNatsBus } = await dist("src/events/nats-bus.js");
const { createEventLog } = await dist("src/events/event-log.js");
const { createOutboxRelay } = await dist("src/events/outbox-relay.js");
const store = await dist("src/db/event-store.js");

const appendLockKey = 7420_0002; // as in src/db/event-store.ts
const columns = "id, subject, type, repo, branch, data, created_at";

function oneStatementEventLog(onCommitted) {
  return {
    async append(tx, event) {
      const rows = await tx.query(
        `INSERT INTO events (subject, type, repo, branch, data)
         SELECT $2, $3, $4, $5, $6 FROM (SELECT pg_advisory_xact_lock($1)) AS append_lock RETURNING ${columns}`,
        [appendLockKey, event.subject, event.type, event.repo, event.branch ?? null, event.data === undefined ? null : JSON.stringify(event.data)],
      );
      tx.afterCommit(onCommitted);
      return rows[0];
    },
  };
}

function deferredMarkRelay({ db, bus, batchSize = 500, pollMs = 1000, flushMs = 50 }) {
  let running = false;
  let poked = false;
  let wake;
  let loop;
  let highWater = 0;
  let toMark = [];
  let lastFlush = 0;
  const nap = (ms) =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  async function flush() {
    if (toMark.length) {
      const ids = toMark;
      toMark = [];
      await store.markPublished(db, ids);
    }
    lastFlush = now();
  }
  async function run() {
    while (running) {
      poked = false;
      const rows = await db.query(`SELECT ${columns} FROM events WHERE published_at IS NULL AND id > $1 ORDER BY id LIMIT $2`, [highWater, batchSize]);
      for (const row of rows) {
        const event = { id: row.id, subject: row.subject, type: row.type, repo: row.repo, timestamp: row.created_at.toISOString() };
        if (row.branch !== null) event.branch = row.branch;
        if (row.data !== null) event.data = row.data;
        await bus.publish(event);
        highWater = event.id;
        toMark.push(event.id);
      }
      if (now() - lastFlush > flushMs || toMark.length >= batchSize) await flush();
      if (rows.length < batchSize && !poked) {
        await nap(toMark.length ? flushMs : pollMs);
        if (!poked) await flush();
      }
    }
    await flush();
  }
  return {
    start() {
      running = true;
      loop = run();
    },
    poke() {
      poked = true;
      wake?.();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}

async function subscriber(subject) {
  const child = fork(join(repoRoot, "scripts", "bench", "lib", "nats-subscriber.mjs"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const next = (type) =>
    new Promise((resolve) => {
      const on = (m) => {
        if (m.type !== type) return;
        child.off("message", on);
        resolve(m);
      };
      child.on("message", on);
    });
  child.send({ type: "subscribe", url: natsUrl, subject });
  await next("ready");
  return {
    async collect(expect) {
      const done = next("done");
      child.send({ type: "collect", expect, timeoutMs: (seconds + 60) * 1000 });
      const result = await done;
      child.send({ type: "exit" });
      return result;
    },
  };
}

async function measure(variant) {
  const scratch = await scratchDatabase("cook_probe");
  const dataDir = tempDir();
  const db = await openDatabase({ databaseUrl: scratch.url, server: { dataDir } });
  const bus = await createNatsBus({ url: natsUrl, instanceId: await store.instanceId(db) });
  const relay = variant === "deferred-mark" || variant === "both" ? deferredMarkRelay({ db, bus }) : createOutboxRelay({ db, bus });
  const events = variant === "one-statement" || variant === "both" ? oneStatementEventLog(() => relay.poke()) : createEventLog(() => relay.poke());
  relay.start();
  try {
    for (let i = 0; i < 300; i++) await db.transaction((tx) => events.append(tx, newEvent("cook.custom.probe-warmup.bench", "probe-warmup", { data: {} })));
    await sleep(300);
    const repo = `probe-${Math.random().toString(16).slice(2, 10)}`;
    const subject = `cook.custom.${repo}.bench`;
    const sub = await subscriber(subject);
    const total = rate * seconds;
    const collecting = sub.collect(total);
    const commitAt = new Float64Array(total);
    let started = 0;
    let finished = 0;
    let inFlight = 0;
    const t0 = now();
    await new Promise((resolve, reject) => {
      const launch = (seq) => {
        inFlight++;
        db.transaction((tx) => events.append(tx, newEvent(subject, repo, { data: { seq } }))).then(() => {
          commitAt[seq] = now();
          inFlight--;
          if (++finished === total) resolve();
        }, reject);
      };
      const tick = () => {
        const due = Math.min(total, Math.floor(((now() - t0) * rate) / 1000) + 1);
        while (started < due && inFlight < maxInFlight) launch(started++);
        if (started < total) setTimeout(tick, 1);
      };
      tick();
    });
    const achieved = (total / (now() - t0)) * 1000;
    const result = await collecting;
    let outOfOrder = 0;
    for (let i = 1; i < result.ids.length; i++) if (result.ids[i] <= result.ids[i - 1]) outOfOrder++;
    const delay = stats(result.recv.map((t, i) => t - commitAt[result.seqs[i]]));
    return { variant, offered: rate, achieved: round(achieved, 0), received: result.received, outOfOrder, p50: round(delay.median, 2), p99: round(delay.p99, 2), max: round(delay.max, 2) };
  } finally {
    await relay.stop();
    await bus.close();
    await db.close();
    await scratch.drop();
    removeDir(dataDir);
  }
}

const results = [];
for (const variant of variants.length ? variants : ["current", "one-statement", "deferred-mark", "both"]) {
  const r = await measure(variant);
  console.log(`${r.variant.padEnd(14)} offered ${r.offered}/s, achieved ${r.achieved}/s; received ${r.received}, out of order ${r.outOfOrder}; commit → receipt p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms`);
  results.push(r);
}
console.log(JSON.stringify({ probe: "outbox-write-path", date: new Date().toISOString(), results }));
