#!/usr/bin/env node
// Start-up benchmark: `cook serve` from spawn until GET /healthz answers 200 — first start on a fresh
// data dir (PGlite initialisation) and restart on that data dir, median of 5 each; the same against
// PostgreSQL + NATS for reference; and `cook --version` wall time, median and p95 of 20 runs.
//
//   node scripts/bench/startup.mjs            (needs a build: npx tsc -p .)
//   STARTUP_RUNS=5 VERSION_RUNS=20 ...        (override the run counts)
import { spawn } from "node:child_process";
import { benchNodeArgs, cliPath, cleanEnv, fmtMs, natsUrl, now, removeDir, report, requireBuild, round, roundAll, scratchDatabase, startServer, stats, tempDir } from "./lib/common.mjs";

requireBuild();
const runs = Number(process.env.STARTUP_RUNS || 5);
const versionRuns = Number(process.env.VERSION_RUNS || 20);

function timeProcess(args) {
  return new Promise((resolve, reject) => {
    const at = now();
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], env: cleanEnv() });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.once("error", reject);
    child.once("exit", (code) => {
      const ms = now() - at;
      if (code !== 0) reject(new Error(`${args.join(" ")} exited ${code}`));
      else resolve({ ms, out: out.trim() });
    });
  });
}

async function timeRuns(args, count, warmup = 2) {
  for (let i = 0; i < warmup; i++) await timeProcess(args);
  const times = [];
  let out = "";
  for (let i = 0; i < count; i++) {
    const run = await timeProcess(args);
    times.push(run.ms);
    out = run.out;
  }
  return { times, out };
}

/** `runs` times: a fresh data dir (and database) → start → stop → start again on the same → stop. */
async function serveRuns(label, makeEnv) {
  const first = [];
  const restart = [];
  const listeningFirst = [];
  const listeningRestart = [];
  const stopMs = [];
  for (let i = 0; i < runs; i++) {
    const dataDir = tempDir();
    const { env, cleanup } = await makeEnv();
    try {
      const a = await startServer({ dataDir, env });
      first.push(a.healthyMs);
      listeningFirst.push(a.listeningMs);
      stopMs.push(await a.stop());
      const b = await startServer({ dataDir, env });
      restart.push(b.healthyMs);
      listeningRestart.push(b.listeningMs);
      stopMs.push(await b.stop());
      console.log(`  ${label} run ${i + 1}/${runs}: first ${fmtMs(a.healthyMs)}, restart ${fmtMs(b.healthyMs)}`);
    } finally {
      removeDir(dataDir);
      await cleanup();
    }
  }
  return {
    first: roundAll(stats(first)),
    restart: roundAll(stats(restart)),
    listeningFirst: roundAll(stats(listeningFirst)),
    listeningRestart: roundAll(stats(listeningRestart)),
    stop: roundAll(stats(stopMs)),
    samples: { first: first.map((v) => round(v)), restart: restart.map((v) => round(v)) },
  };
}

console.log(`cook --version: ${versionRuns} runs (after 2 warm-up runs)`);
const version = await timeRuns([...benchNodeArgs(), cliPath, "--version"], versionRuns);
const versionStats = roundAll(stats(version.times));
console.log(`  prints ${JSON.stringify(version.out)}; median ${fmtMs(versionStats.median)}, p95 ${fmtMs(versionStats.p95)}`);
const bare = await timeRuns(["-e", "0"], versionRuns);
const bareStats = roundAll(stats(bare.times));
console.log(`  baseline \`node -e 0\`: median ${fmtMs(bareStats.median)}, p95 ${fmtMs(bareStats.p95)}`);

console.log(`cook serve, embedded (PGlite + local bus): ${runs} runs`);
const embedded = await serveRuns("embedded", async () => ({ env: {}, cleanup: async () => {} }));
console.log(`  first start median ${fmtMs(embedded.first.median)}, restart median ${fmtMs(embedded.restart.median)}`);

console.log(`cook serve, PostgreSQL (scratch db) + NATS: ${runs} runs`);
const external = await serveRuns("postgres+nats", async () => {
  const db = await scratchDatabase();
  return { env: { COOK_DATABASE_URL: db.url, COOK_NATS_URL: natsUrl }, cleanup: () => db.drop() };
});
console.log(`  first start median ${fmtMs(external.first.median)}, restart median ${fmtMs(external.restart.median)}`);

const rows = [
  { metric: "cook --version, median of " + versionRuns, value: versionStats.median, unit: "ms", target: "≤ 150 ms", pass: versionStats.median <= 150 },
  { metric: "cook --version, p95 of " + versionRuns, value: versionStats.p95, unit: "ms", target: "≤ 150 ms", pass: versionStats.p95 <= 150 },
  { metric: "node -e 0 (floor), median", value: bareStats.median, unit: "ms", note: "reference" },
  {
    metric: `serve first start, fresh data dir (PGlite init) → /healthz 200, median of ${runs}`,
    value: embedded.first.median,
    unit: "ms",
    target: "report",
    note: `min ${embedded.first.min}, max ${embedded.first.max}; "listening" logged at ${embedded.listeningFirst.median} ms`,
  },
  {
    metric: `serve restart, existing data dir → /healthz 200, median of ${runs}`,
    value: embedded.restart.median,
    unit: "ms",
    target: "≤ 3000 ms",
    pass: embedded.restart.median <= 3000,
    note: `min ${embedded.restart.min}, max ${embedded.restart.max}; "listening" logged at ${embedded.listeningRestart.median} ms`,
  },
  {
    metric: `serve first start, PostgreSQL scratch db + NATS, median of ${runs}`,
    value: external.first.median,
    unit: "ms",
    target: "reference",
    note: `min ${external.first.min}, max ${external.first.max}`,
  },
  {
    metric: `serve restart, PostgreSQL + NATS, median of ${runs}`,
    value: external.restart.median,
    unit: "ms",
    target: "reference",
    note: `min ${external.restart.min}, max ${external.restart.max}`,
  },
  { metric: "serve SIGTERM → exit, embedded, median", value: embedded.stop.median, unit: "ms", target: "reference", note: `max ${embedded.stop.max}` },
  { metric: "serve SIGTERM → exit, PostgreSQL + NATS, median", value: external.stop.median, unit: "ms", target: "reference", note: `max ${external.stop.max}` },
];

report({
  benchmark: "startup",
  title: "Start-up",
  rows,
  notes: [
    ...(benchNodeArgs().length ? [`**Not the defaults:** cook was run with node options \`${benchNodeArgs().join(" ")}\` (COOK_BENCH_NODE_ARGS).`] : []),
    "Time is measured from spawn(`node dist/src/cli/main.js serve --port <free port>`) to the first 200 from GET /healthz, polled every 5 ms from the moment of spawn.",
    "Each run uses a new data dir: the first start creates and migrates the PGlite database, the restart reopens it. Servers are stopped with SIGTERM and awaited before the next start.",
    `\`cook --version\`: ${versionRuns} runs after 2 warm-up runs, spawn to exit.`,
  ],
  raw: { version: versionStats, nodeBaseline: bareStats, embedded, external },
});
