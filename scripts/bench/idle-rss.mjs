#!/usr/bin/env node
// Idle memory benchmark: `cook serve` on the embedded defaults (PGlite, in-process bus) on a fresh
// data dir; wait for /healthz, make a few requests (/, /events, /api/events), stay idle ~10 s, then
// read VmRSS from /proc/<pid>/status. Then the same after a restart on the existing data dir.
//
//   node scripts/bench/idle-rss.mjs           (needs a build: npx tsc -p .)
//   IDLE_SECONDS=10 ...
import { benchNodeArgs, httpGet, removeDir, report, requireBuild, round, sleep, startServer, tempDir, vmStatus } from "./lib/common.mjs";

requireBuild();
const idleSeconds = Number(process.env.IDLE_SECONDS || 10);
const targetMiB = 200;
const paths = [
  ["/", { accept: "text/html" }],
  ["/events", { accept: "text/html" }],
  ["/api/events", { accept: "application/json" }],
];

async function measure(dataDir, label) {
  const server = await startServer({ dataDir });
  try {
    const statuses = [];
    for (let round = 0; round < 3; round++) {
      for (const [path, headers] of paths) {
        const res = await httpGet(`${server.url}${path}`, { headers });
        if (round === 0) statuses.push(`${path} ${res.status}`);
        if (res.status >= 400) throw new Error(`GET ${path} answered ${res.status}: ${res.body.slice(0, 200)}`);
      }
    }
    const afterRequests = vmStatus(server.pid);
    await sleep(idleSeconds * 1000);
    const idle = vmStatus(server.pid);
    const mib = (kb) => round(kb / 1024, 1);
    const result = {
      label,
      healthyMs: round(server.healthyMs),
      requests: statuses,
      rssAfterRequestsMiB: mib(afterRequests.VmRSS),
      rssIdleMiB: mib(idle.VmRSS),
      peakRssMiB: mib(idle.VmHWM),
      rssAnonMiB: mib(idle.RssAnon),
      rssFileMiB: mib(idle.RssFile),
      vmSizeMiB: mib(idle.VmSize),
    };
    console.log(
      `  ${label}: VmRSS ${result.rssIdleMiB} MiB after ${idleSeconds} s idle (${result.rssAfterRequestsMiB} MiB right after the requests; peak ${result.peakRssMiB} MiB; anon ${result.rssAnonMiB}, file ${result.rssFileMiB})`,
    );
    return result;
  } finally {
    await server.stop();
  }
}

const dataDir = tempDir();
let fresh;
let restart;
try {
  console.log(`cook serve (PGlite + local bus), ${idleSeconds} s idle after GET ${paths.map(([p]) => p).join(", ")} ×3:`);
  fresh = await measure(dataDir, "fresh data dir");
  restart = await measure(dataDir, "restart on the existing data dir");
} finally {
  removeDir(dataDir);
}

report({
  benchmark: "idle-rss",
  title: "Idle memory",
  rows: [
    {
      metric: `VmRSS, fresh data dir, ${idleSeconds} s idle`,
      value: fresh.rssIdleMiB,
      unit: "MiB",
      target: `≤ ${targetMiB} MB`,
      pass: fresh.rssIdleMiB * 1.048576 <= targetMiB,
      note: `peak (VmHWM) ${fresh.peakRssMiB} MiB; anon ${fresh.rssAnonMiB}, file ${fresh.rssFileMiB}`,
    },
    {
      metric: `VmRSS, restart on the existing data dir, ${idleSeconds} s idle`,
      value: restart.rssIdleMiB,
      unit: "MiB",
      target: `≤ ${targetMiB} MB`,
      pass: restart.rssIdleMiB * 1.048576 <= targetMiB,
      note: `peak (VmHWM) ${restart.peakRssMiB} MiB; anon ${restart.rssAnonMiB}, file ${restart.rssFileMiB}`,
    },
  ],
  notes: [
    ...(benchNodeArgs().length ? [`**Not the defaults:** cook was run with node options \`${benchNodeArgs().join(" ")}\` (COOK_BENCH_NODE_ARGS).`] : []),
    "`node dist/src/cli/main.js serve` with COOK_DATA_DIR set and no database or NATS URL (embedded PGlite and in-process bus); VmRSS of that process from /proc/<pid>/status.",
    `After /healthz answers 200: GET /, /events (Accept: text/html) and /api/events (Accept: application/json), three rounds, then ${idleSeconds} s without requests. The restart is a second server on the same data dir after the first exited on SIGTERM.`,
    "The table shows MiB (1 MiB = 1.048576 MB); the pass check converts to MB.",
  ],
  raw: { fresh, restart },
});
