#!/usr/bin/env node
// Runs every benchmark in scripts/bench/ in sequence and rewrites docs/benchmarks.md from their
// results (the JSON line each prints last). `npm run bench` runs this.
//
//   node scripts/bench/run-all.mjs                 compile (npx tsc -p .), run all, write the doc
//   node scripts/bench/run-all.mjs --no-build      measure the dist/ that is there
//   node scripts/bench/run-all.mjs startup idle-rss   only these (the doc then lists only these)
//
// On a 2-core machine any other work skews the figures, so each benchmark waits for the machine to
// go quiet first (BENCH_QUIET_WAIT_S, default 180), CPU used by other processes meanwhile is recorded,
// and a disturbed benchmark is run again (BENCH_RETRIES, default 1), keeping the least disturbed run.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { machineFacts, repoRoot } from "./lib/common.mjs";

const allBenchmarks = ["startup", "outbox-relay", "idle-rss", "tasks", "branches", "branch-dashboard", "agent-session-page", "agents", "git-transport", "push-latency", "browse-under-load", "diff-page", "terminal-latency", "gates", "factory"];
/** The script of a benchmark: scripts/bench/<name>.mjs, or <name>/run.mjs for one with several files. */
const scriptOf = (name) => (existsSync(join(repoRoot, "scripts", "bench", name, "run.mjs")) ? join("scripts", "bench", name, "run.mjs") : join("scripts", "bench", `${name}.mjs`));
const args = process.argv.slice(2);
const build = !args.includes("--no-build");
const selected = args.filter((a) => !a.startsWith("--"));
const benchmarks = selected.length > 0 ? selected : allBenchmarks;
const timeoutMs = Number(process.env.BENCH_TIMEOUT_MS || 15 * 60_000);
const docPath = join(repoRoot, "docs", "benchmarks.md");

for (const name of benchmarks) {
  if (!allBenchmarks.includes(name)) {
    process.stderr.write(`run-all: unknown benchmark ${name}; known: ${allBenchmarks.join(", ")}\n`);
    process.exit(2);
  }
}

let buildNote = "not rebuilt (--no-build): measured the existing dist/";
if (build) {
  console.log("== npx tsc -p .");
  const result = spawnSync("npx", ["tsc", "-p", "."], { cwd: repoRoot, stdio: "inherit" });
  buildNote = result.status === 0 ? "`npx tsc -p .` succeeded just before the run" : `\`npx tsc -p .\` exited ${result.status} (type errors; the emitted dist/ was measured anyway)`;
  if (!existsSync(join(repoRoot, "dist", "src", "cli", "main.js"))) {
    process.stderr.write("run-all: the build produced no dist/src/cli/main.js\n");
    process.exit(1);
  }
}

function git(...gitArgs) {
  try {
    return execFileSync("git", gitArgs, { cwd: repoRoot, encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}
const commit = git("rev-parse", "--short", "HEAD") || "unknown";
const dirty = git("status", "--porcelain", "--", "src") !== "";

/** Whole-machine CPU busy fraction (all cores) over `ms`, from /proc/stat. */
async function cpuBusy(ms) {
  const read = () => {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3] + (fields[4] ?? 0);
    return { idle, total: fields.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = read();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Other work on the machine (a test suite, a build) skews every figure on 2 cores: wait up to
 * BENCH_QUIET_WAIT_S (default 180) for the machine to be idle (< 15% busy over 2 s) before each run.
 */
async function waitForQuiet() {
  const deadline = Date.now() + Number(process.env.BENCH_QUIET_WAIT_S ?? 180) * 1000;
  let busy = await cpuBusy(2000);
  let waited = false;
  while (busy > 0.15 && Date.now() < deadline) {
    if (!waited) console.log(`   machine ${Math.round(busy * 100)}% busy with other work; waiting for it to go quiet`);
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    busy = await cpuBusy(2000);
  }
  return Math.round(busy * 100);
}

/** CPU seconds used so far by every process on the machine, by pid (from /proc/<pid>/stat). */
function processCpu() {
  const ticks = 100; // USER_HZ
  const cpu = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      cpu.set(Number(entry), { comm, seconds: (Number(fields[11]) + Number(fields[12])) / ticks });
    } catch {
      // exited meanwhile
    }
  }
  return cpu;
}

/**
 * CPU seconds that processes other than this run and the shared services used between two
 * snapshots: a lower bound (processes that started and ended in between are not seen).
 */
function foreignCpu(before, after) {
  let seconds = 0;
  const names = new Set();
  for (const [pid, now] of after) {
    if (pid === process.pid || now.comm.startsWith("postgres") || now.comm === "nats-server") continue;
    const delta = now.seconds - (before.get(pid)?.seconds ?? 0);
    if (delta > 0.2) {
      seconds += delta;
      names.add(now.comm);
    }
  }
  return { seconds: Math.round(seconds * 10) / 10, names: [...names].slice(0, 5) };
}

/** Busy and total jiffies of the whole machine, and CPU jiffies of this process's reaped descendants. */
function cpuCounters() {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const self = readFileSync("/proc/self/stat", "utf8");
  const rest = self.slice(self.lastIndexOf(")") + 2).split(" ");
  return { busy: total - fields[3] - (fields[4] ?? 0), total, children: Number(rest[13]) + Number(rest[14]) };
}

function load() {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

async function runOne(name) {
  console.log(`\n== node ${scriptOf(name)}`);
  const busyBefore = await waitForQuiet();
  const loadBefore = load();
  const cpuBefore = processCpu();
  const countersBefore = cpuCounters();
  const result = await runChild(name);
  const foreign = foreignCpu(cpuBefore, processCpu());
  const countersAfter = cpuCounters();
  const cores = machineFacts().nproc || 1;
  const elapsed = (countersAfter.total - countersBefore.total) / cores;
  // Whole machine and this benchmark's own processes (node; PostgreSQL and NATS work is in neither), in cores.
  const usage = {
    machineCores: Math.round(((countersAfter.busy - countersBefore.busy) / elapsed) * 100) / 100,
    ownCores: Math.round(((countersAfter.children - countersBefore.children) / elapsed) * 100) / 100,
  };
  if (foreign.seconds > 1) console.log(`   note: other processes (${foreign.names.join(", ")}) used at least ${foreign.seconds} CPU s during this run`);
  return { ...result, busyBefore, loadBefore, loadAfter: load(), foreign, usage };
}

/** Titles of the benchmarks that report {name, results: [{metric, value, unit, target, pass, detail}]}. */
const resultTitles = { "git-transport": "Git transport and code browser", agents: "Agents: live output and session start" };

/** git-transport and agents report {name, results: […]}; the doc wants rows. */
function normalise(result) {
  if (result.rows) return result;
  return {
    benchmark: result.name,
    title: resultTitles[result.name] ?? result.name,
    command: result.command,
    date: new Date().toISOString(),
    rows: result.results.map((r) => ({ metric: r.metric, value: r.value, unit: r.unit, target: r.target ?? undefined, pass: r.pass ?? undefined, note: r.detail })),
    notes: [],
  };
}

function runChild(name) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [scriptOf(name)], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"], detached: true });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text) => {
      out += text;
      process.stdout.write(text);
    });
    const timer = setTimeout(() => {
      process.stderr.write(`run-all: ${name} still running after ${timeoutMs / 1000} s; stopping it\n`);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const lines = out.trim().split("\n");
      let result;
      try {
        result = JSON.parse(lines[lines.length - 1]);
      } catch {
        result = undefined;
      }
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      if (code === 0 && result) resolve({ ...normalise(result), seconds });
      else resolve({ benchmark: name, title: name, command: `node ${scriptOf(name)}`, error: `exited ${code ?? signal} without a result`, seconds, rows: [], notes: [] });
    });
  });
}

const isSkewed = (result) => result.busyBefore > 15 || result.foreign.seconds > Math.max(1, result.seconds * 0.05);
// A run that other work disturbed is repeated (BENCH_RETRIES, default 1) and the least disturbed kept.
const retries = Number(process.env.BENCH_RETRIES ?? 1);
const results = [];
for (const name of benchmarks) {
  let best = await runOne(name);
  best.attempts = 1;
  for (let attempt = 2; attempt <= retries + 1 && isSkewed(best) && !best.error; attempt++) {
    console.log(`   ${name} was disturbed by other work; running it again (attempt ${attempt})`);
    const again = await runOne(name);
    if (!again.error && (isSkewed(again) ? again.foreign.seconds < best.foreign.seconds : true)) best = again;
    best.attempts = attempt;
  }
  results.push(best);
}

const machine = machineFacts();
const cell = (value) => String(value ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ");
const verdict = (row) => (row.pass === true ? "**pass**" : row.pass === false ? "**FAIL**" : "—");
const valueOf = (row) => `${row.value}${row.unit ? ` ${row.unit}` : ""}`;

let doc = `# Benchmarks

Measured figures for Cook's performance targets. This file is written by \`npm run bench\`
(\`node scripts/bench/run-all.mjs\`); rerun it rather than editing the tables by hand. Each benchmark
also runs alone: \`node scripts/bench/<name>.mjs\` (after \`npx tsc -p .\`), printing a summary and a
final JSON line. Each benchmark waits for an idle machine before it starts; one that other processes
disturbed anyway is run again once, and a result still disturbed is marked as such below.

- Date: ${new Date().toISOString()}
- Command: \`npm run bench\`${args.length ? ` (run-all arguments: \`${args.join(" ")}\`)` : ""}
- Code: commit ${commit}${dirty ? " plus uncommitted changes in src/" : ""}; ${buildNote}
- Machine: ${machine.nproc} cores (\`nproc\`), ${machine.cpu}, ${machine.memGiB} GiB RAM; Node ${machine.node}; kernel \`uname -r\` ${machine.kernel}
- Services on 127.0.0.1: PostgreSQL ${machine.postgres}, ${machine.natsServer} (JetStream)

## Targets

| Benchmark | Metric | Value | Target | Result | Machine quiet during the run? |
| --- | --- | --- | --- | --- | --- |
`;
for (const result of results) {
  if (result.error) {
    doc += `| ${cell(result.title)} | — | ${cell(result.error)} | — | **FAIL** | — |\n`;
    continue;
  }
  for (const row of result.rows.filter((r) => r.pass !== undefined)) {
    doc += `| ${cell(result.title)} | ${cell(row.metric)} | ${cell(valueOf(row))} | ${cell(row.target)} | ${verdict(row)} | ${isSkewed(result) ? `no: other processes used ≥ ${result.foreign.seconds} CPU s` : "yes"} |\n`;
  }
}

for (const result of results) {
  doc += `\n## ${result.title}\n\n`;
  doc += `Command: \`${result.command}\` — run ${result.date ?? new Date().toISOString()}, took ${result.seconds} s${result.attempts > 1 ? ` (${result.attempts} attempts; the least disturbed is shown)` : ""}. `;
  const skewed = isSkewed(result);
  doc += `Machine ${result.busyBefore}% busy just before the run; other processes used at least ${result.foreign.seconds} CPU s during it${result.foreign.names.length ? ` (${result.foreign.names.join(", ")})` : ""}; load average ${result.loadBefore} before, ${result.loadAfter} after; on average ${result.usage.machineCores} of ${machine.nproc} cores busy, ${result.usage.ownCores} of them in the benchmark's own Node processes (PostgreSQL and NATS are in the rest).`;
  doc += skewed ? " **Other work was running during this benchmark: its figures are skewed; rerun on a quiet machine.**\n\n" : "\n\n";
  if (result.error) {
    doc += `The benchmark failed: ${result.error}. See its output.\n`;
    continue;
  }
  doc += "| Metric | Value | Target | Result | Detail |\n| --- | --- | --- | --- | --- |\n";
  for (const row of result.rows) {
    doc += `| ${cell(row.metric)} | ${cell(valueOf(row))} | ${cell(row.target ?? "")} | ${verdict(row)} | ${cell(row.note ?? "")} |\n`;
  }
  if (result.notes.length) doc += `\nMethod:\n\n${result.notes.map((n) => `- ${n}`).join("\n")}\n`;
}

const analysisPath = join(repoRoot, "scripts", "bench", "analysis.md");
if (existsSync(analysisPath)) {
  doc += `\n${readFileSync(analysisPath, "utf8").trim()}\n`;
}

writeFileSync(docPath, doc);
console.log(`\nwrote ${docPath}`);
const failed = results.filter((r) => r.error || r.rows.some((row) => row.pass === false)).map((r) => r.benchmark);
console.log(failed.length ? `targets missed in: ${failed.join(", ")}` : "all targets met");
// Missed targets are findings, written to the doc; only a benchmark that could not run fails the command.
process.exitCode = results.some((r) => r.error) ? 1 : 0;
