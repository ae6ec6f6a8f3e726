// Helpers of the git-transport benchmarks: processes with time limits, a `cook serve` whose request
// log is kept, statistics. Plain Node, no dependencies.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { freePort, round, sleep } from "../lib/common.mjs";
import { gitEnv, repoRoot } from "./build-repo.mjs";

export { freePort, gitEnv, repoRoot, round, sleep };
export const cliPath = join(repoRoot, "dist", "src", "cli", "main.js");

/** Process groups of the commands running now, so a watchdog can end them. */
export const activeGroups = new Set();

export function killActive() {
  for (const pid of activeGroups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
}


/** The environment of the git client: no user or system config, no proxy, never a prompt. */
export function clientEnv(extra = {}) {
  const env = gitEnv(extra);
  for (const key of Object.keys(env)) if (/^(https?|all|no)_proxy$/i.test(key)) delete env[key];
  return { ...env, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" };
}

/**
 * Runs a command to completion, killed (with its process group) after timeoutMs. Resolves
 * { code, signal, stdout, stderr, ms }; rejects on a non-zero exit unless allowFail.
 */
export function run(cmd, args, { env = clientEnv(), cwd, timeoutMs = 10 * 60_000, allowFail = false, input } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env, cwd, stdio: ["pipe", "pipe", "pipe"], detached: true });
    if (child.pid) activeGroups.add(child.pid);
    const out = [];
    let err = "";
    child.stdout.on("data", (chunk) => out.push(chunk));
    child.stderr.on("data", (chunk) => (err = (err + chunk.toString()).slice(-200_000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      activeGroups.delete(child.pid);
      const result = { code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: err, ms: performance.now() - started };
      if (code === 0 || allowFail) return resolve(result);
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `exited ${code ?? signal}`;
      reject(new Error(`${cmd} ${args.join(" ")} ${why}: ${err.trim().split("\n").slice(-3).join(" | ")}`));
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  });
}

export const git = (args, options) => run("git", args, options);

/** GET with an X-Request-Id; resolves { status, body, ms } (ms: until the last byte). */
export function httpGet(url, { requestId, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const headers = requestId ? { "X-Request-Id": requestId } : {};
    const req = request(url, { method: "GET", headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * A GET of a page of `server` (startCook's), answering { ms: server time from the request log,
 * wall: client time, body }; anything but 200 throws.
 */
export function pageTimer(server, prefix) {
  let seq = 0;
  return async (path) => {
    const id = `${prefix}-${process.pid}-${seq++}`;
    const r = await httpGet(`${server.url}${path}`, { requestId: id, timeoutMs: 120_000 });
    if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}`);
    const entry = await server.entry(id);
    return { ms: entry?.ms ?? NaN, wall: r.ms, body: r.body };
  };
}

/**
 * `cook serve` on a port picked beforehand, logging at info: every request's log line (with its
 * server time "ms") is kept and can be looked up by request id.
 */
export async function startCook({ dataDir, timeoutMs = 60_000, nodeArgs = [], env: extraEnv = {}, cli = cliPath }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {};
  for (const [key, value] of Object.entries(clientEnv())) if (!key.startsWith("COOK_")) env[key] = value;
  const child = spawn(process.execPath, [...nodeArgs, cli, "serve", "--port", String(port)], {
    env: { ...env, ...extraEnv, COOK_DATA_DIR: dataDir, COOK_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const requests = [];
  const warnings = [];
  const byId = new Map();
  let tail = "";
  let partial = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (text) => {
    tail = (tail + text).slice(-20_000);
    const lines = (partial + text).split("\n");
    partial = lines.pop();
    for (const line of lines) {
      try {
        const entry = JSON.parse(line);
        if (entry.level >= 40) warnings.push(entry);
        if (entry.msg !== "request") continue;
        requests.push(entry);
        if (entry.requestId) byId.set(entry.requestId, entry);
      } catch {}
    }
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text) => (tail = (tail + text).slice(-20_000)));
  let exited;
  const exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve((exited = { code, signal }))));

  const started = performance.now();
  for (;;) {
    if (exited) throw new Error(`cook serve exited (${exited.code ?? exited.signal}) before /healthz answered:\n${tail}`);
    if (performance.now() - started > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`cook serve did not answer /healthz within ${timeoutMs} ms:\n${tail}`);
    }
    try {
      if ((await httpGet(`${url}/healthz`, { timeoutMs: 2000 })).status === 200) break;
    } catch {}
    await sleep(20);
  }
  return {
    url,
    pid: child.pid,
    requests,
    warnings,
    /** The log entry of a request id, waiting a moment for the line to arrive. */
    async entry(requestId) {
      for (let i = 0; i < 200 && !byId.has(requestId); i++) await sleep(5);
      return byId.get(requestId);
    },
    output: () => tail,
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/**
 * `count` commits on refs/heads/<branch> on top of `base` in the repo at `work`, edited like code:
 * each changes one to three text files of base's tree, inserting 20–60 lines taken from another file
 * and deleting a few. Seeded, so a seed gives the same commits on every run; a new seed, new objects.
 */
export async function makeCommits(work, branch, base, count, seed) {
  const files = (await git(["ls-tree", "-r", "-l", base], { cwd: work })).stdout
    .trim()
    .split("\n")
    .map((line) => line.split("\t"))
    .filter(([meta, path]) => /^100644 blob/.test(meta) && Number(meta.trim().split(/\s+/)[3]) < 64 * 1024 && /\.(ts|mjs|js|md|njk|css|sql|json)$/.test(path))
    .map(([, path]) => path);
  const contents = new Map();
  for (const path of files) contents.set(path, (await git(["show", `${base}:${path}`], { cwd: work })).stdout.split("\n"));
  let state = (seed * 2654435761) >>> 0 || 1;
  const random = (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  let stream = "";
  for (let i = 0; i < count; i++) {
    const message = `change ${i} of round ${seed}`;
    stream += `commit refs/heads/${branch}\ncommitter Bench <bench@example.com> ${1_700_000_000 + seed * 1000 + i} +0000\n`;
    stream += `data ${message.length}\n${message}\n${i === 0 ? `from ${base}\n` : ""}`;
    for (let edit = 0, edits = 1 + random(3); edit < edits; edit++) {
      const path = files[random(files.length)];
      const donor = contents.get(files[random(files.length)]);
      const lines = [...contents.get(path)];
      const at = random(lines.length + 1);
      const take = 20 + random(41);
      const from = random(Math.max(1, donor.length - take));
      lines.splice(at, Math.min(random(4), lines.length - at), ...donor.slice(from, from + take));
      contents.set(path, lines);
      const text = lines.join("\n");
      stream += `M 100644 inline ${path}\ndata ${Buffer.byteLength(text)}\n${text}\n`;
    }
  }
  await git(["fast-import", "--quiet"], { cwd: work, input: stream });
}

/** `cook <args>` against a server. */
export function cook(serverUrl, args, options = {}) {
  const env = {};
  for (const [key, value] of Object.entries(clientEnv())) if (!key.startsWith("COOK_")) env[key] = value;
  return run(process.execPath, [cliPath, ...args], { env: { ...env, COOK_SERVER: serverUrl }, timeoutMs: 30 * 60_000, ...options });
}

/** CPU time (ms) a process has used, and that of its waited-for children (Linux /proc; 10 ms ticks). */
export function processCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    const tick = 1000 / 100;
    return { self: (Number(fields[11]) + Number(fields[12])) * tick, children: (Number(fields[13]) + Number(fields[14])) * tick };
  } catch {
    return { self: NaN, children: NaN };
  }
}

/** Whole-machine CPU busy fraction (all cores) over `ms`, from /proc/stat. */
export async function cpuBusy(ms = 2000) {
  const read = () => {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: fields[3] + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = read();
    await sleep(ms);
    const b = read();
    return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
  } catch {
    return NaN;
  }
}

/**
 * Other work on a 2-core machine skews every figure: waits up to waitS seconds for the machine to be
 * idle (< 15% busy over 2 s). Resolves the last busy fraction measured.
 */
export async function waitForQuiet(log, waitS = Number(process.env.BENCH_QUIET_WAIT_S ?? 120)) {
  const deadline = Date.now() + waitS * 1000;
  let busy = await cpuBusy();
  let told = false;
  while (busy > 0.15 && Date.now() < deadline) {
    if (!told) log(`  (machine ${Math.round(busy * 100)}% busy with other work: waiting up to ${waitS} s for it to go quiet)`);
    told = true;
    await sleep(3000);
    busy = await cpuBusy();
  }
  return busy;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, min: sorted[0], median: median(sorted), p90: sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)], max: sorted[sorted.length - 1] };
}

export const fmtMs = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`);
