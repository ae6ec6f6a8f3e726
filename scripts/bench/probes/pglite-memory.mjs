#!/usr/bin/env node
// Probe (not run by run-all): idle RSS of an in-process `cook serve` (embedded PGlite + local bus)
// with the PGlite changes proposed in docs/benchmarks.md applied from outside src/ — PGlite.create is
// wrapped before the server opens its database.
//
//   node scripts/bench/probes/pglite-memory.mjs [--shared-buffers=16MB] [--initdb-in-child] [--liftoff-only] [--data-dir=DIR]
//
//   --shared-buffers=…   adds `-c shared_buffers=…` to PGlite's start parameters (PGlite's default is 128MB)
//   --initdb-in-child    on a fresh data dir, creates the cluster in a short-lived child process first, so
//                        the initdb instance's memory never lives in the server process
//   --liftoff-only       v8.setFlagsFromString("--liftoff-only") before PGlite's WASM is compiled
// Without --data-dir a fresh data dir is used and then reopened, so both cases are measured.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { httpGet, now, removeDir, repoRoot, requireBuild, round, sleep, tempDir } from "../lib/common.mjs";

requireBuild();
const flags = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")).map(([k, v]) => [k, v ?? true]));
const idleSeconds = Number(flags.idle ?? 10);
if (flags["liftoff-only"]) setFlagsFromString("--liftoff-only");

const pgliteEntry = join(repoRoot, "node_modules", "@electric-sql", "pglite", "dist", "index.js");
const { PGlite } = await import(pgliteEntry);
const create = PGlite.create.bind(PGlite);
PGlite.create = async (options = {}) => {
  const startParams = flags["shared-buffers"] ? [...PGlite.defaultStartParams, "-c", `shared_buffers=${flags["shared-buffers"]}`] : undefined;
  const effective = startParams ? { ...options, startParams } : options;
  if (flags["initdb-in-child"] && effective.dataDir && !existsSync(join(effective.dataDir, "PG_VERSION"))) {
    const t = now();
    const script = `import { PGlite } from ${JSON.stringify(pgliteEntry)};
      const db = await PGlite.create(${JSON.stringify({ dataDir: effective.dataDir, ...(startParams ? { startParams } : {}) })});
      await db.close();`;
    const child = spawnSync(process.execPath, [...(flags["liftoff-only"] ? ["--liftoff-only"] : []), "--input-type=module", "-e", script], { stdio: "inherit" });
    if (child.status !== 0) throw new Error(`initdb child exited ${child.status}`);
    console.log(`  initdb in a child process: ${Math.round(now() - t)} ms`);
  }
  return create(effective);
};

const { loadServerConfig } = await import(join(repoRoot, "dist", "src", "config", "server-config.js"));
const { serve } = await import(join(repoRoot, "dist", "src", "server", "serve.js"));
const { createLogger } = await import(join(repoRoot, "dist", "src", "server", "logger.js"));

function status() {
  const text = readFileSync("/proc/self/status", "utf8");
  const mib = (key) => round(Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)[1]) / 1024, 1);
  return { rss: mib("VmRSS"), peak: mib("VmHWM"), anon: mib("RssAnon") };
}

async function once(dataDir, label) {
  const t = now();
  const server = await serve(loadServerConfig({ port: 0 }, { COOK_DATA_DIR: dataDir }), createLogger("warn"));
  const startMs = Math.round(now() - t);
  for (let i = 0; i < 3; i++) {
    for (const [path, accept] of [["/", "text/html"], ["/events", "text/html"], ["/api/events", "application/json"]]) {
      await httpGet(server.url + path, { headers: { accept } });
    }
  }
  await sleep(idleSeconds * 1000);
  const s = status();
  console.log(`  ${label}: serving after ${startMs} ms; after ${idleSeconds} s idle VmRSS ${s.rss} MiB (anon ${s.anon}, peak ${s.peak})`);
  await server.stop();
  return { label, startMs, ...s };
}

const options = Object.keys(flags).filter((k) => k !== "data-dir" && k !== "idle").map((k) => (flags[k] === true ? `--${k}` : `--${k}=${flags[k]}`));
console.log(`in-process cook serve, ${options.length ? options.join(" ") : "as is"}:`);
const results = [];
if (flags["data-dir"]) {
  results.push(await once(flags["data-dir"], "given data dir"));
} else {
  const dataDir = tempDir();
  try {
    results.push(await once(dataDir, "fresh data dir"));
    // A second server in this process would keep the first one's memory: reopen in a new process.
    const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...process.argv.slice(2), `--data-dir=${dataDir}`], { encoding: "utf8" });
    process.stdout.write(child.stdout.split("\n").filter((l) => l.includes("given data dir")).join("\n").replace("given data dir", "restart") + "\n");
    const last = child.stdout.trim().split("\n").pop();
    results.push({ ...JSON.parse(last).results[0], label: "restart" });
  } finally {
    removeDir(dataDir);
  }
}
console.log(JSON.stringify({ probe: "pglite-memory", options, results }));
