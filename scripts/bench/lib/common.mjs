// Shared helpers for the benchmarks in scripts/bench/. Plain Node ESM, no dependencies beyond the
// project's own (pg for scratch databases). Every benchmark prints a human summary and then, as its
// last stdout line, one JSON object (see `report` below) that run-all.mjs turns into docs/benchmarks.md.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const cliPath = join(repoRoot, "dist", "src", "cli", "main.js");
export const pgAdminUrl = process.env.COOK_BENCH_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
export const natsUrl = process.env.COOK_BENCH_NATS_URL || "nats://127.0.0.1:4222";

/** Imports a compiled module of the project, e.g. dist("src/server/services.js"). */
export function dist(path) {
  const file = join(repoRoot, "dist", path);
  if (!existsSync(file)) throw new Error(`${file} is missing: build first (npx tsc -p .)`);
  return import(file);
}

export function requireBuild() {
  if (!existsSync(cliPath)) {
    process.stderr.write(`bench: ${cliPath} is missing; run \`npx tsc -p .\` first\n`);
    process.exit(1);
  }
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes on one machine. */
export const now = () => performance.timeOrigin + performance.now();

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile of an already sorted array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    min: sorted[0],
    median: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    mean: sum / sorted.length,
  };
}

export const round = (value, digits = 1) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

export function roundAll(object, digits = 1) {
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, typeof v === "number" && k !== "n" ? round(v, digits) : v]));
}

export function machineFacts() {
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  };
  let pg = "unknown";
  try {
    pg = sh("psql", [pgAdminUrl, "-Atc", "SHOW server_version"]);
  } catch {}
  let nats = "unknown";
  try {
    nats = sh("nats-server", ["--version"]);
  } catch {}
  return {
    nproc: Number(sh("nproc", [])) || availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    memGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    kernel: sh("uname", ["-r"]),
    postgres: pg,
    natsServer: nats,
  };
}

/** Strips COOK_* from the inherited environment so an outer configuration cannot leak into a run. */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("COOK_")) env[key] = value;
  return { ...env, ...extra };
}

export function tempDir(prefix = "cook-bench-") {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** A port that was free a moment ago, so the server's URL is known before it logs it. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** One HTTP GET; resolves { status, body } or rejects (connection refused while the server starts). */
export function httpGet(url, { headers = {}, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Extra node options for the spawned `cook` processes, to try a change without editing src/:
 * COOK_BENCH_NODE_ARGS="--liftoff-only" node scripts/bench/idle-rss.mjs. Empty by default.
 */
export function benchNodeArgs() {
  return (process.env.COOK_BENCH_NODE_ARGS || "").split(/\s+/).filter(Boolean);
}

/**
 * Spawns `node dist/src/cli/main.js serve` on a port chosen beforehand and polls GET /healthz every
 * `pollMs` from the moment of spawn. Returns the times (ms since spawn) of the "listening" log line
 * and of the first 200 from /healthz.
 */
export async function startServer({ dataDir, env = {}, pollMs = 5, timeoutMs = 60_000, nodeArgs = benchNodeArgs() }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawnedAt = now();
  const child = spawn(process.execPath, [...nodeArgs, cliPath, "serve", "--port", String(port)], {
    env: cleanEnv({ COOK_DATA_DIR: dataDir, COOK_LOG_LEVEL: "info", ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal, at: now() })));
  let output = "";
  let listeningMs;
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (text) => {
    output += text;
    if (listeningMs === undefined && text.includes('"msg":"listening"')) listeningMs = now() - spawnedAt;
  });
  child.stderr.on("data", (text) => (output += text));

  let dead;
  void exited.then((info) => (dead = info));
  for (;;) {
    if (dead) throw new Error(`cook serve exited (${dead.code ?? dead.signal}) before /healthz answered:\n${output}`);
    if (now() - spawnedAt > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`cook serve did not answer /healthz within ${timeoutMs} ms:\n${output}`);
    }
    try {
      const res = await httpGet(`${url}/healthz`, { timeoutMs: 2000 });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(pollMs);
  }
  const healthyMs = now() - spawnedAt;
  return {
    child,
    pid: child.pid,
    url,
    listeningMs,
    healthyMs,
    output: () => output,
    /** SIGTERM, then waits for the process to exit; resolves the stop time in ms. */
    async stop(timeoutMs = 20_000) {
      if (dead) return 0;
      const at = now();
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const info = await exited;
      clearTimeout(timer);
      if (info.signal === "SIGKILL") throw new Error(`cook serve did not exit within ${timeoutMs} ms of SIGTERM`);
      return info.at - at;
    },
  };
}

/** A fresh, empty PostgreSQL database on the benchmark server; drop() removes it. */
export async function scratchDatabase(prefix = "cook_bench") {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE template0`);
  } finally {
    await admin.end();
  }
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: pgAdminUrl, connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export function vmStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1]);
  return { VmRSS: kb("VmRSS"), VmHWM: kb("VmHWM"), RssAnon: kb("RssAnon"), RssFile: kb("RssFile"), VmSize: kb("VmSize") };
}

/** Server-side times (the request log's ms) of the requests to `path` a server logged, oldest first. */
export function serverTimes(server, path) {
  return server
    .output()
    .split("\n")
    .filter((line) => line.includes('"msg":"request"'))
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.path === path)
    .map((entry) => entry.ms);
}

/**
 * GET `path` (plus `query`) from a server of startServer; its server time is read from the request
 * log once the line is written (the logger writes asynchronously). Resolves { wall, server, html }.
 */
export async function timedGet(server, path, { query = "", headers = {} } = {}) {
  const logged = serverTimes(server, path).length;
  const t = now();
  const response = await fetch(`${server.url}${path}${query}`, { headers });
  const html = await response.text();
  const wall = now() - t;
  if (!response.ok) throw new Error(`GET ${path}${query} → ${response.status}`);
  for (let waited = 0; serverTimes(server, path).length === logged && waited < 2000; waited += 5) await sleep(5);
  return { wall, server: serverTimes(server, path).at(-1) ?? NaN, html };
}

/** git with a fixed identity and no user config, for the repos benchmarks make. */
export function benchGit(args, cwd) {
  const identity = { GIT_AUTHOR_NAME: "Bench", GIT_AUTHOR_EMAIL: "bench@example.com", GIT_COMMITTER_NAME: "Bench", GIT_COMMITTER_EMAIL: "bench@example.com" };
  return execFileSync("git", args, { cwd, env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", ...identity }, encoding: "utf8" });
}

/**
 * Runs `measure(label, env)` on the embedded store and, when it is reachable, on a scratch
 * PostgreSQL database (env COOK_DATABASE_URL); BENCH_STORES=embedded or =postgres picks one.
 * Resolves the results in that order.
 */
export async function onEachStore(prefix, measure) {
  const stores = (process.env.BENCH_STORES || "embedded,postgres").split(",");
  const results = stores.includes("embedded") ? [await measure("embedded PGlite", {})] : [];
  let scratch;
  try {
    if (stores.includes("postgres")) scratch = await scratchDatabase(prefix);
  } catch (err) {
    console.log(`PostgreSQL not reachable (${err.message}); not measured on it`);
  }
  if (scratch) {
    try {
      results.push(await measure("PostgreSQL", { COOK_DATABASE_URL: scratch.url }));
    } finally {
      await scratch.drop();
    }
  }
  return results;
}

/**
 * Builds the final JSON line. `rows` are what the docs table shows:
 * { metric, value, unit, target?: string, pass?: boolean, note?: string }.
 */
export function report({ benchmark, title, rows, notes = [], raw = {} }) {
  const result = {
    benchmark,
    title,
    command: `node scripts/bench/${benchmark}.mjs`,
    date: new Date().toISOString(),
    machine: machineFacts(),
    rows,
    notes,
    raw,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result;
}

export function fmtMs(ms) {
  return `${round(ms, ms < 10 ? 2 : 1)} ms`;
}
