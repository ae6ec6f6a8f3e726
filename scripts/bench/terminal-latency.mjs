#!/usr/bin/env node
// Terminal round trip: `cook serve` (PGlite, local bus) with a branch in a local environment; a
// WebSocket client (ws, as the CLI uses) opens its terminal and sends single keystrokes, timing
// each from send to the first byte of its echo back through the socket:
//
//   1. to `cat` in canonical mode: the pty's own echo, so this is the transport alone
//      (client → ws → server → pty → server → ws → client)                       [p99 ≤ 20 ms]
//   2. at bash's prompt: the echo readline draws, as a person typing sees it
//   3. opening a terminal: handshake to 101 (Cook's part: checks, spawning the pty) and to the
//      shell's first prompt (which includes the shell reading the user's ~/.bashrc), median of 5
//   4. processes of the environment (COOK_ENV_ID in their environment, /proc) and children of the
//      server, before anyone attached, while attached, and after the client left   [0 when idle]
//
//   npx tsc -p . && node scripts/bench/terminal-latency.mjs
//   BENCH_TERMINAL_SAMPLES=1000 (default, per series)
//
// Prints a summary and a markdown snippet, then one JSON line (lib/common.mjs report).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { cliPath, cleanEnv, fmtMs, now, removeDir, report, requireBuild, round, sleep, startServer, stats, tempDir } from "./lib/common.mjs";

requireBuild();
const samples = Number(process.env.BENCH_TERMINAL_SAMPLES || 1000);
const log = (line = "") => process.stdout.write(`${line}\n`);
const prompt = "\u001b[?2004h"; // readline turns on bracketed paste whenever it waits for a line

function cook(url, args) {
  return execFileSync(process.execPath, [cliPath, ...args], { env: cleanEnv({ COOK_SERVER: url, COOK_LOG_LEVEL: "warn" }), encoding: "utf8" });
}

/** pids whose environment names this environment (what a shell in it and everything it starts inherit). */
function environmentProcesses(envId) {
  const found = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`COOK_ENV_ID=${envId}`)) found.push(Number(pid));
    } catch {}
  }
  return found;
}

/** Direct children of `pid`, as "comm" names. */
function childrenOf(pid) {
  const names = [];
  for (const child of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${child}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid) names.push(stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")));
    } catch {}
  }
  return names.sort();
}

/** An open terminal: `next(predicate)` resolves with the time at which output matching it has arrived. */
async function openTerminal(url, branch) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/api/branches/${encodeURIComponent(branch)}/terminal?cols=120&rows=40`, { perMessageDeflate: false });
  let output = "";
  let waiter;
  let openedAt;
  ws.on("message", (data, isBinary) => {
    if (!isBinary) return;
    output += data.toString("latin1");
    if (waiter && waiter.test(output)) {
      const { resolve } = waiter;
      waiter = undefined;
      resolve(now());
    }
  });
  await new Promise((resolve, reject) => {
    ws.once("open", () => resolve((openedAt = now())));
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`terminal refused: ${res.statusCode}`)));
  });
  const until = (test, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      if (test(output)) return resolve(now());
      const timer = setTimeout(() => reject(new Error(`no such output within ${timeoutMs} ms; got ${JSON.stringify(output.slice(-200))}`)), timeoutMs);
      waiter = { test, resolve: (at) => (clearTimeout(timer), resolve(at)) };
    });
  return {
    ws,
    openedAt,
    until,
    reset: () => (output = ""),
    send: (text) => ws.send(Buffer.from(text, "latin1"), { binary: true }),
    close: () => new Promise((resolve) => (ws.once("close", resolve), ws.close())),
  };
}

/** `samples` keystrokes, each timed from send to its first echoed byte; the output is let settle between them. */
async function roundTrips(term, keys) {
  const times = [];
  for (let i = 0; i < samples; i++) {
    term.reset();
    const sent = now();
    term.send(keys[i % keys.length]);
    const back = await term.until((out) => out.length > 0);
    times.push(back - sent);
    await sleep(2); // whatever else the keystroke draws (readline sends some in a second write) lands before the next
  }
  return stats(times);
}

const dir = tempDir();
let server;
try {
  const seed = join(dir, "seed");
  execFileSync("git", ["init", "-q", "-b", "main", seed]);
  writeFileSync(join(seed, "README.md"), "# bench\n");
  execFileSync("git", ["-C", seed, "add", "."]);
  execFileSync("git", ["-C", seed, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "first"]);
  server = await startServer({ dataDir: join(dir, "data") });
  cook(server.url, ["repo", "add", "app", `--clone=${seed}`]);
  const created = JSON.parse(cook(server.url, ["branch", "create", "app", "bench", "--env=local", "--json"]));
  const envId = created.environment.id;

  const idle = { environment: environmentProcesses(envId).length, children: childrenOf(server.pid) };

  // 3. Opening: handshake to the first prompt.
  const opens = [];
  const upgrades = [];
  for (let i = 0; i < 5; i++) {
    const started = now();
    const term = await openTerminal(server.url, created.branch.id);
    upgrades.push(term.openedAt - started);
    opens.push((await term.until((out) => out.includes(prompt))) - started);
    await term.close();
  }
  await sleep(300);

  const term = await openTerminal(server.url, created.branch.id);
  await term.until((out) => out.includes(prompt));
  const attached = { environment: environmentProcesses(envId).length, children: childrenOf(server.pid) };

  // 2. bash's readline echo: a character, then DEL, so the line never grows.
  const readline = await roundTrips(term, ["x", "\u007f"]);
  // 1. cat: canonical mode, the kernel echoes; a newline now and then keeps the line buffer small.
  term.reset();
  term.send("exec cat\r");
  await sleep(500);
  const keys = [..."abcdefghijklmnopqrstuvwxy".split(""), "\r"];
  const transport = await roundTrips(term, keys);
  await term.close();
  let left;
  for (let waited = 0; waited < 5000; waited += 50) {
    left = { environment: environmentProcesses(envId).length, children: childrenOf(server.pid) };
    if (left.environment === 0) break;
    await sleep(50);
  }
  const open = stats(opens);
  const upgrade = stats(upgrades);

  const pass = transport.p99 <= 20;
  log(`terminal round trip over ${samples} keystrokes each (WebSocket client in this process, server on 127.0.0.1):`);
  log(`  cat (pty echo, transport only): p50 ${fmtMs(transport.median)}, p95 ${fmtMs(transport.p95)}, p99 ${fmtMs(transport.p99)}, max ${fmtMs(transport.max)}  [target p99 ≤ 20 ms: ${pass ? "met" : "MISSED"}]`);
  log(`  bash prompt (readline echo):    p50 ${fmtMs(readline.median)}, p95 ${fmtMs(readline.p95)}, p99 ${fmtMs(readline.p99)}, max ${fmtMs(readline.max)}`);
  log(`  opening a terminal: handshake → 101 median ${fmtMs(upgrade.median)}, → first prompt median ${fmtMs(open.median)} (5 runs)`);
  log(`  environment processes: ${idle.environment} before anyone attached, ${attached.environment} while attached, ${left.environment} after the client left`);
  log(`  children of the server: before [${idle.children.join(", ")}], attached [${attached.children.join(", ")}], after [${left.children.join(", ")}]`);
  log("");
  log("| terminal (local environment) | p50 | p95 | p99 | target |");
  log("|---|---|---|---|---|");
  log(`| keystroke → echo, cat (transport) | ${round(transport.median, 2)} ms | ${round(transport.p95, 2)} ms | ${round(transport.p99, 2)} ms | p99 ≤ 20 ms ${pass ? "✔" : "✘"} |`);
  log(`| keystroke → echo, bash readline | ${round(readline.median, 2)} ms | ${round(readline.p95, 2)} ms | ${round(readline.p99, 2)} ms | |`);
  log(`| open: handshake → 101, 5 runs | ${round(upgrade.median, 1)} ms | | ${round(upgrade.max, 1)} ms (max) | |`);
  log(`| open: handshake → first prompt (bash reads ~/.bashrc), 5 runs | ${round(open.median, 1)} ms | | ${round(open.max, 1)} ms (max) | |`);
  log("");
  log(`Processes of the environment: ${idle.environment} idle, ${attached.environment} while attached, ${left.environment} after detach (target: 0 when nobody is attached).`);
  log("");

  report({
    benchmark: "terminal-latency",
    title: "Terminal round trip",
    rows: [
      { metric: "keystroke → echo p99, cat (transport)", value: round(transport.p99, 2), unit: "ms", target: "≤ 20 ms", pass },
      { metric: "keystroke → echo p50, cat (transport)", value: round(transport.median, 2), unit: "ms" },
      { metric: "keystroke → echo p99, bash readline", value: round(readline.p99, 2), unit: "ms" },
      { metric: "open a terminal: handshake → 101, median", value: round(upgrade.median, 1), unit: "ms" },
      { metric: "open a terminal: handshake → first prompt, median", value: round(open.median, 1), unit: "ms", note: "includes the shell reading the server user's ~/.bashrc" },
      { metric: "environment processes with nobody attached (before, after)", value: `${idle.environment}, ${left.environment}`, unit: "", target: "0, 0", pass: idle.environment === 0 && left.environment === 0 },
    ],
    notes: [`${samples} keystrokes per series; the client is ws in the benchmark's process, on loopback`],
    raw: { transport, readline, upgrade, open, idle, attached, left },
  });
} finally {
  await server?.stop();
  if (!process.env.BENCH_KEEP) removeDir(dir);
}
