#!/usr/bin/env node
// Gates and merge, on 127.0.0.1, a real `cook serve` from dist/ with real git (the issue's speed targets):
//
//   1. push → `cook.gate.<repo>.<branch>.<gate>.started`, as an SSE client of /api/events/stream
//      sees it: BENCH_GATE_PUSHES (200) pushes of a new commit (a new tree) to one tracked branch,
//      one at a time, each run left to pass before the next push; gate `true`. Timed from the
//      moment `git push` returns (the target) and, for reference, from the push's start.
//                                                                          [p50 ≤ 100 ms, p99 ≤ 300 ms]
//   2. POST /api/branches/:id/merge on the forge issue's benchmark repo (git-transport/build-repo.mjs,
//      10,080 commits) for a branch whose gates passed: the fast-forward case, and the case where
//      the target moved so a merge commit is built and the candidate gated again; the candidate's
//      gate run (created → ended, from its record) is reported apart and taken out.          [≤ 1 s]
//   3. 20 branches gating at once under `[gates] concurrency = 4`, gate `sleep 1`: one push of 20
//      new branches, then one push of a new commit to each: every run passes, none is lost, no more
//      than 4 run at a time; wall time from the push's start to the last `passed`.     [all 20 pass]
//   4. POST /api/branches/:id/gates {} on a head whose tree passed already: the result is taken
//      over (reusedFrom) without running; POST → `passed` on the SSE stream, and POST → the run
//      read back `passed` (GET /api/gate-runs/:id polled).                                  [≤ 50 ms]
//
// Each runs on embedded PGlite and on a scratch PostgreSQL database (lib/common.mjs onEachStore).
//
//   npm run build && node scripts/bench/gates.mjs
//   BENCH_GATE_PUSHES=200  BENCH_GATE_MERGES=5 (pairs)  BENCH_GATE_RERUNS=50  BENCH_GATE_PARALLEL=20
//   BENCH_GATE_PARTS=push,rerun,parallel,merge  BENCH_STORES=embedded,postgres  BENCH_KEEP=1
//   BENCH_CLI=<another build's dist/src/cli/main.js> (measure that build's server: a before/after)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ensureRepo } from "./git-transport/build-repo.mjs";
import { cook, fmtMs, git, round, startCook, waitForQuiet } from "./git-transport/lib.mjs";
import { now, onEachStore, percentile, report, requireBuild } from "./lib/common.mjs";

requireBuild();
const pushes = Number(process.env.BENCH_GATE_PUSHES || 200);
const mergePairs = Number(process.env.BENCH_GATE_MERGES || 5);
const reruns = Number(process.env.BENCH_GATE_RERUNS || 50);
const parallel = Number(process.env.BENCH_GATE_PARALLEL || 20);
const parts = (process.env.BENCH_GATE_PARTS || "push,rerun,parallel,merge").split(",");
const cli = process.env.BENCH_CLI || undefined;
const concurrency = 4;
const log = (line = "") => process.stdout.write(`${line}\n`);
// Waits for a quiet machine before each measurement, 60 s at most (the whole run stays within run-all's 15 minutes).
const quiet = () => waitForQuiet(log, Number(process.env.BENCH_QUIET_WAIT_S ?? 60));
const identity = ["-c", "user.name=Bench", "-c", "user.email=bench@example.com"];

const root = mkdtempSync(join(tmpdir(), "cook-bench-gates-"));
const { gitDir: benchRepo, meta } = parts.includes("merge") ? await ensureRepo({ log }) : { meta: {} };
if (benchRepo) log(`benchmark repo: ${benchRepo} (${meta.commits} commits, ${meta.headFiles} files at main)`);
// The benchmark repo has no cook.toml: the server's default gates judge it.
const defaultGates = join(root, "default-gates.toml");
writeFileSync(defaultGates, '[[gates]]\nname = "check"\ncommand = "true"\n');
const config = join(root, "config.toml");
writeFileSync(config, `[gates]\nconcurrency = ${concurrency}\ndefaults_file = "${defaultGates}"\n`);

const p = (values, q) => percentile([...values].sort((a, b) => a - b), q);
const max = (values) => Math.max(...values);
const dist = (values) => `p50 ${fmtMs(p(values, 50))}, p90 ${fmtMs(p(values, 90))}, p99 ${fmtMs(p(values, 99))}, max ${fmtMs(max(values))}`;
const ended = /^gate\.(passed|failed|canceled)$/;

/**
 * One SSE client of /api/events/stream (every subject), recording when each event arrived here
 * (`at`, on the clock of lib/common.mjs `now`, which the pushes and requests are timed with too).
 */
async function openEvents(url) {
  const seen = [];
  const waiters = new Set();
  const abort = new AbortController();
  const last = (await (await fetch(`${url}/api/events?limit=1`)).json()).events[0]?.id ?? 0;
  const response = await fetch(`${url}/api/events/stream?after=${last}`, { signal: abort.signal });
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body) {
        const at = now();
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message.split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6)).join("\n");
          if (!data) continue;
          const entry = { at, event: JSON.parse(data) };
          seen.push(entry);
          for (const waiter of [...waiters]) if (waiter.test(entry.event)) waiter.resolve(entry);
        }
      }
    } catch {}
  })();
  return {
    seen,
    /** The first event from index `from` of those seen that `test` accepts, waiting up to timeoutMs for it. */
    waitFor(test, { from = 0, timeoutMs = 30_000, what = "an event" } = {}) {
      const found = seen.slice(from).find((entry) => test(entry.event));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${what} did not arrive within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = {
          test,
          resolve(entry) {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(entry);
          },
        };
        waiters.add(waiter);
      });
    },
    async close() {
      abort.abort();
      await reading;
    },
  };
}

/** A test of gate events: `gate.<action>` whose repo/branch (event fields) and other keys (data fields) match. */
const gateEvent = (action, fields) => (event) =>
  event.type === `gate.${action}` && Object.entries(fields).every(([key, value]) => (key === "repo" || key === "branch" ? event[key] : event.data?.[key]) === value);

/** A repo with a first commit on main holding `cook.toml`, and a working clone of it. */
async function makeRepo(ctx, name, cookToml) {
  await cook(ctx.server.url, ["repo", "add", name]);
  const work = join(ctx.dir, name);
  await git(["clone", "--quiet", `${ctx.server.url}/${name}.git`, work]);
  writeFileSync(join(work, "cook.toml"), cookToml);
  await git(["-C", work, "add", "."]);
  await git(["-C", work, ...identity, "commit", "--quiet", "-m", "first"]);
  await git(["-C", work, "push", "--quiet", "origin", "HEAD:main"]);
  return work;
}

async function commitFile(work, text, message) {
  writeFileSync(join(work, "n.txt"), text);
  await git(["-C", work, "add", "n.txt"]);
  await git(["-C", work, ...identity, "commit", "--quiet", "-m", message]);
  return (await git(["-C", work, "rev-parse", "HEAD"])).stdout.trim();
}

/** 1 and 4: pushes to one tracked branch of repo `app`, then re-runs on its head. */
async function measurePushAndRerun(ctx) {
  const { events, row } = ctx;
  const work = await makeRepo(ctx, "app", '[[gates]]\nname = "check"\ncommand = "true"\n');
  await git(["-C", work, "checkout", "--quiet", "-b", "work"]);
  const pushOnce = async (i) => {
    const head = await commitFile(work, `${i}\n`, `push ${i}`);
    const from = events.seen.length;
    const start = now();
    await git(["-C", work, "push", "--quiet", "origin", "HEAD:work"]);
    const returned = now();
    const started = await events.waitFor(gateEvent("started", { repo: "app", head }), { from, what: `started for ${head.slice(0, 12)}` });
    const pushed = events.seen.slice(from).find((e) => e.event.repo === "app" && (e.event.type === "branch.pushed" || e.event.type === "branch.created"));
    await events.waitFor(gateEvent("passed", { repo: "app", head }), { from, what: `passed for ${head.slice(0, 12)}` });
    return { start, returned, started: started.at, startedStamp: Date.parse(started.event.timestamp), pushed: pushed?.at };
  };
  await pushOnce(-1); // creates the branch: branch.created → its first run
  for (let i = 0; i < 10; i++) await pushOnce(1_000_000 + i); // warm-up, not counted

  if (parts.includes("push")) {
    await quiet();
    const samples = [];
    for (let i = 0; i < pushes; i++) samples.push(await pushOnce(i));
    const fromReturn = samples.map((s) => s.started - s.returned);
    const fromStart = samples.map((s) => s.started - s.start);
    const pushWall = samples.map((s) => s.returned - s.start);
    const withPushed = samples.filter((s) => s.pushed !== undefined);
    const toPushed = withPushed.map((s) => s.pushed - s.start);
    const pushedToStarted = withPushed.map((s) => s.started - s.pushed);
    const stampToArrival = samples.map((s) => s.started - s.startedStamp);
    const early = fromReturn.filter((ms) => ms < 0).length;
    log(`  push → started, from git push returning: ${dist(fromReturn)}; ${early} of ${pushes} arrived before git push returned`);
    log(`  push → started, from git push starting:  ${dist(fromStart)}`);
    log(`  git push itself ${dist(pushWall)}; push start → branch.pushed on SSE ${dist(toPushed)}; branch.pushed → gate started on SSE ${dist(pushedToStarted)}; the started event's timestamp → SSE ${dist(stampToArrival)}`);
    row(`push → gate started on SSE, from \`git push\` returning, p50 / p99 of ${pushes}`, `${round(p(fromReturn, 50))} / ${round(p(fromReturn, 99))}`, "ms", "p50 ≤ 100, p99 ≤ 300", p(fromReturn, 50) <= 100 && p(fromReturn, 99) <= 300, `gate \`true\`; one tracked branch, each push a new tree, each run passed before the next push; p90 ${fmtMs(p(fromReturn, 90))}, max ${fmtMs(max(fromReturn))}; ${early} of ${pushes} arrived before git push returned (negative)`);
    row(`push → gate started on SSE, from \`git push\` starting, p50 / p99 of ${pushes}`, `${round(p(fromStart, 50))} / ${round(p(fromStart, 99))}`, "ms", undefined, undefined, `max ${fmtMs(max(fromStart))}; the push alone p50 ${fmtMs(p(pushWall, 50))}, p99 ${fmtMs(p(pushWall, 99))}`);
    row("— push start → branch.pushed on SSE / branch.pushed → gate started on SSE, p50", `${round(p(toPushed, 50))} / ${round(p(pushedToStarted, 50))}`, "ms", undefined, undefined, `p99 ${fmtMs(p(toPushed, 99))} / ${fmtMs(p(pushedToStarted, 99))}; the started event's own timestamp → SSE, p50 ${fmtMs(p(stampToArrival, 50))}, p99 ${fmtMs(p(stampToArrival, 99))}`);
  }

  if (parts.includes("rerun")) {
    await quiet();
    const workId = (await ctx.api("GET", "/api/branches/app/work")).branch.id;
    const toEvent = [];
    const toAnswer = [];
    for (let i = 0; i < reruns; i++) {
      const from = events.seen.length;
      const start = now();
      const { run } = await ctx.api("POST", `/api/branches/${workId}/gates`, {});
      const answered = now();
      const passed = await events.waitFor(gateEvent("passed", { run: run.id }), { from, what: `passed of re-run ${run.id}` });
      if (!passed.event.data.reused) throw new Error(`re-run ${run.id} ran instead of re-using a result`);
      toEvent.push(passed.at - start);
      toAnswer.push(answered - start);
    }
    const toState = [];
    const reads = [];
    for (let i = 0; i < reruns; i++) {
      const start = now();
      let { run } = await ctx.api("POST", `/api/branches/${workId}/gates`, {});
      let count = 0;
      while (run.state !== "passed") {
        if (["failed", "canceled", "interrupted"].includes(run.state)) throw new Error(`re-run ${run.id} ended ${run.state}`);
        run = (await ctx.api("GET", `/api/gate-runs/${run.id}`)).run;
        count++;
      }
      toState.push(now() - start);
      reads.push(count);
      if (!run.results.every((r) => r.reusedFrom)) throw new Error(`re-run ${run.id} has a result that was not re-used`);
    }
    log(`  re-run, unchanged tree: POST → passed on SSE ${dist(toEvent)}; the POST's answer ${dist(toAnswer)}; POST → run read back passed ${dist(toState)}`);
    row(`re-run on an unchanged tree: POST gates → \`passed\` on SSE, p50 of ${reruns}`, p(toEvent, 50), "ms", "≤ 50", p(toEvent, 50) <= 50, `result taken over (reusedFrom), nothing run; p90 ${fmtMs(p(toEvent, 90))}, max ${fmtMs(max(toEvent))}; the POST's own answer (run queued) p50 ${fmtMs(p(toAnswer, 50))}`);
    row(`re-run on an unchanged tree: POST gates → run read back \`passed\` (GET /api/gate-runs/:id polled), p50 of ${reruns}`, p(toState, 50), "ms", "≤ 50", p(toState, 50) <= 50, `p90 ${fmtMs(p(toState, 90))}, max ${fmtMs(max(toState))}; GETs after the POST, median ${p(reads, 50)}`);
  }
}

/** 3: `parallel` branches of repo `slow` (gate `sleep 1`) pushed in one push, twice. */
async function measureParallel(ctx) {
  const { events, row } = ctx;
  const work = await makeRepo(ctx, "slow", '[[gates]]\nname = "sleep"\ncommand = "sleep 1"\n');
  const base = (await git(["-C", work, "rev-parse", "HEAD"])).stdout.trim();
  const waves = Math.ceil(parallel / concurrency);
  const burst = async (label, round) => {
    const heads = [];
    for (let i = 0; i < parallel; i++) {
      await git(["-C", work, "checkout", "--quiet", "--detach", round === 0 ? base : `refs/heads/par-${i}`]);
      heads.push(await commitFile(work, `${round} ${i}\n`, `${label} ${i}`));
      await git(["-C", work, "branch", "--quiet", "-f", `par-${i}`]);
    }
    await quiet();
    const from = events.seen.length;
    const start = now();
    await git(["-C", work, "push", "--quiet", "origin", ...heads.map((_, i) => `refs/heads/par-${i}:refs/heads/par-${i}`)]);
    const returned = now();
    const ends = await Promise.all(heads.map((head) => events.waitFor((e) => e.repo === "slow" && ended.test(e.type) && e.data?.head === head, { from, timeoutMs: 120_000, what: `the end of the run on ${head.slice(0, 12)}` }).catch(() => undefined)));
    const wall = max(ends.filter(Boolean).map((e) => e.at)) - start;
    const gateEvents = events.seen.slice(from).filter((e) => e.event.repo === "slow" && e.event.type.startsWith("gate."));
    // Runs at once, as the events tell it: one more at `started`, one fewer at an end.
    let running = 0;
    let most = 0;
    for (const { event } of gateEvents) {
      if (event.type === "gate.started") most = Math.max(most, ++running);
      else if (ended.test(event.type)) running--;
    }
    const passed = ends.filter((e) => e?.event.type === "gate.passed").length;
    const runIds = [...new Set(ends.filter(Boolean).map((e) => e.event.data.run))];
    const states = await Promise.all(runIds.map(async (id) => (await ctx.api("GET", `/api/gate-runs/${id}`)).run.state));
    const recordsPassed = states.filter((s) => s === "passed").length;
    const started = gateEvents.filter((e) => e.event.type === "gate.started").length;
    log(`  ${label}: ${passed}/${parallel} passed (${recordsPassed} run records passed), ${started} started events, at most ${most} at once; wall ${fmtMs(wall)} (the push ${fmtMs(returned - start)}); ideal ${waves} s`);
    row(`${parallel} branches gating at once, ${label} (concurrency ${concurrency}, gate \`sleep 1\`): runs passed`, `${passed} of ${parallel}`, "", `all, none lost, ≤ ${concurrency} at once`, passed === parallel && recordsPassed === parallel && most <= concurrency, `at most ${most} running at once (from the started and passed events); ${started} started events; ${recordsPassed} run records read back passed`);
    row(`${parallel} branches gating at once, ${label}: wall, push start → last \`passed\` on SSE`, wall / 1000, "s", "report", undefined, `${waves} waves of 1 s would be ${waves} s: ${fmtMs(wall - waves * 1000)} more; the push itself ${fmtMs(returned - start)}`);
  };
  await burst(`one push creating ${parallel} branches`, 0);
  await burst(`one push of a new commit to each of ${parallel} branches`, 1);
}

/** 2: merges on the benchmark repo, in pairs: a fast-forward, then a merge commit on the moved main. */
async function measureMerge(ctx) {
  const { events, row, api } = ctx;
  await quiet();
  await cook(ctx.server.url, ["repo", "add", "bench", `--clone=${benchRepo}`]);
  const local = join(ctx.dir, "bench-local.git");
  await git(["clone", "--quiet", "--bare", "--shared", benchRepo, local]);
  const forge = `${ctx.server.url}/bench.git`;
  let mainHead = (await git(["ls-remote", forge, "refs/heads/main"])).stdout.split("\t")[0];
  const sources = (await git(["--git-dir", local, "ls-tree", "-r", "--name-only", "main"])).stdout.split("\n").filter((path) => /\.(js|ts)$/.test(path) && !path.startsWith("generated/"));
  let seed = 1;
  // One commit on `base` adding lines to two source files, picked by seed (the two branches of a
  // pair never touch the same file: the merge commit has no conflict to stop at).
  const commitOnto = async (name, base) => {
    let stream = `commit refs/heads/${name}\ncommitter Bench <bench@example.com> ${1_700_000_000 + seed} +0000\ndata 9\nchange ${String(seed % 100).padStart(2, "0")}\nfrom ${base}\n`;
    for (const path of [sources[(seed * 7919) % sources.length], sources[(seed * 104_729 + 13) % sources.length]]) {
      const text = `${(await git(["--git-dir", local, "show", `${base}:${path}`])).stdout}\n// change ${seed}\nexport const change${seed} = ${seed};\n`;
      stream += `M 100644 inline ${path}\ndata ${Buffer.byteLength(text)}\n${text}\n`;
    }
    seed++;
    await git(["--git-dir", local, "fast-import", "--quiet"], { input: stream });
  };
  const pushGated = async (name) => {
    // A merge commit the server built is on the forge only.
    await git(["--git-dir", local, "fetch", "--quiet", forge, "+refs/heads/main:refs/heads/main"]);
    await commitOnto(name, mainHead);
    const head = (await git(["--git-dir", local, "rev-parse", `refs/heads/${name}`])).stdout.trim();
    const from = events.seen.length;
    await git(["--git-dir", local, "push", "--quiet", forge, `refs/heads/${name}:refs/heads/${name}`]);
    const end = await events.waitFor((e) => e.repo === "bench" && e.branch === name && ended.test(e.type) && e.data?.head === head, { from, timeoutMs: 120_000, what: `the gates of ${name}` });
    if (end.event.type !== "gate.passed") throw new Error(`the gate of ${name} did not pass: ${JSON.stringify(end.event.data)}`);
    // The run is recorded passed just after its last gate's event: read it once it has ended.
    let run = (await api("GET", `/api/gate-runs/${end.event.data.run}`)).run;
    for (let tries = 0; !run.endedAt && tries < 200; tries++) run = (await api("GET", `/api/gate-runs/${run.id}`)).run;
    return { name, id: (await api("GET", `/api/branches/bench/${name}`)).branch.id, gateMs: Date.parse(run.endedAt) - Date.parse(run.createdAt) };
  };
  let requests = 0;
  const timedMerge = async (branch) => {
    const requestId = `gates-bench-merge-${process.pid}-${requests++}`;
    const start = now();
    const { merge } = await api("POST", `/api/branches/${branch.id}/merge`, {}, requestId);
    const wall = now() - start;
    const server = (await ctx.server.entry(requestId))?.ms ?? NaN;
    let gateMs = 0;
    let attemptMs = 0;
    if (merge.gateRunId) {
      const detail = await api("GET", `/api/gate-runs/${merge.gateRunId}`);
      gateMs = Date.parse(detail.run.endedAt) - Date.parse(detail.run.createdAt);
      attemptMs = detail.attempts.reduce((sum, a) => sum + (a.durationMs ?? 0), 0);
    }
    mainHead = merge.candidate;
    return { wall, server, gateMs, attemptMs, kind: /\((fast-forward|merge|squash)\)$/.exec(merge.message ?? "")?.[1], gated: Boolean(merge.gateRunId) };
  };
  await timedMerge(await pushGated("warm")); // not counted
  const ff = [];
  const mc = [];
  const branchGateMs = [];
  for (let i = 0; i < mergePairs; i++) {
    const a = await pushGated(`pair-${i}-a`);
    const b = await pushGated(`pair-${i}-b`);
    branchGateMs.push(a.gateMs, b.gateMs);
    const first = await timedMerge(a);
    const second = await timedMerge(b);
    if (first.kind !== "fast-forward" || first.gated) throw new Error(`expected a fast-forward, not gated again: ${JSON.stringify(first)}`);
    if (second.kind !== "merge" || !second.gated) throw new Error(`expected a merge commit, gated again: ${JSON.stringify(second)}`);
    ff.push(first);
    mc.push(second);
    log(`  pair ${i}: fast-forward ${fmtMs(first.wall)} (server ${fmtMs(first.server)}); merge commit ${fmtMs(second.wall)} (server ${fmtMs(second.server)}), of which the candidate's gate run ${fmtMs(second.gateMs)} (its attempt ${fmtMs(second.attemptMs)})`);
  }
  const ffWall = ff.map((m) => m.wall);
  const mcWall = mc.map((m) => m.wall);
  const mcRest = mc.map((m) => m.wall - m.gateMs);
  const repoText = `${meta.commits} commits, ${meta.headFiles} files`;
  row(`merge, fast-forward: POST merge on the benchmark repo (${repoText}), median of ${mergePairs}`, p(ffWall, 50), "ms", "≤ 1000", max(ffWall) <= 1000, `no gate run (the head's passed); max ${fmtMs(max(ffWall))}; server time median ${fmtMs(p(ff.map((m) => m.server), 50))}`);
  row(`merge, target moved (merge commit built, candidate gated again): POST merge minus the candidate's gate run, median of ${mergePairs}`, p(mcRest, 50), "ms", "≤ 1000", max(mcRest) <= 1000, `max ${fmtMs(max(mcRest))}; the whole POST median ${fmtMs(p(mcWall, 50))} (max ${fmtMs(max(mcWall))})`);
  row("— of which the candidate's gate run, created → ended (its attempt: checkout + `true`), median", p(mc.map((m) => m.gateMs), 50), "ms", undefined, undefined, `attempt median ${fmtMs(p(mc.map((m) => m.attemptMs), 50))}; a branch's own gate run on this repo, for comparison: median ${fmtMs(p(branchGateMs, 50))} of ${branchGateMs.length}`);
  log(`  merge: fast-forward ${dist(ffWall)}; merge commit ${dist(mcWall)}, without the gate run ${dist(mcRest)}`);
}

async function measure(store, env) {
  log(`\n== ${store}`);
  const rows = [];
  const row = (metric, value, unit, target, pass, note) => rows.push({ metric: `${store}: ${metric}`, value: round(value, 1), unit, target, pass, note });
  const dir = join(root, env.COOK_DATABASE_URL ? "postgres" : "pglite");
  const server = await startCook({ dataDir: join(dir, "data"), env: { COOK_CONFIG: config, ...env }, ...(cli ? { cli } : {}) });
  const api = async (method, path, body, requestId) => {
    const headers = { ...(body ? { "Content-Type": "application/json" } : {}), ...(requestId ? { "X-Request-Id": requestId } : {}) };
    const response = await fetch(`${server.url}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  };
  const events = await openEvents(server.url);
  const ctx = { server, api, events, row, dir };
  try {
    if (parts.includes("push") || parts.includes("rerun")) await measurePushAndRerun(ctx);
    if (parts.includes("parallel")) await measureParallel(ctx);
    if (parts.includes("merge")) await measureMerge(ctx);
    const warnings = server.warnings.filter((w) => !/request/.test(w.msg ?? ""));
    if (warnings.length) log(`  server warnings: ${warnings.slice(0, 5).map((w) => w.msg).join("; ")}`);
  } finally {
    await events.close();
    await server.stop();
  }
  return rows;
}

const rows = [];
try {
  for (const storeRows of await onEachStore("bench_gates", measure)) rows.push(...storeRows);
} finally {
  if (!process.env.BENCH_KEEP) rmSync(root, { recursive: true, force: true });
}

log("");
log(`summary (load average ${loadavg().map((l) => l.toFixed(2)).join(" ")})`);
for (const r of rows) log(`  ${r.metric.padEnd(110)} ${String(r.value).padStart(14)} ${String(r.unit ?? "").padEnd(3)} ${r.target ? `target ${r.target}` : ""}${r.pass === undefined ? "" : r.pass ? "  PASS" : "  FAIL"}`);
report({
  benchmark: "gates",
  title: "Gates",
  rows,
  notes: [
    "A real `cook serve` from dist/ (`[gates] concurrency = 4`) on 127.0.0.1 with no auth, git 2.39 over smart HTTP; each store gets its own server and data dir.",
    "Events are read by one SSE client of `/api/events/stream` (every subject) in the benchmark's process; an event's time is when its chunk arrived there, on the clock the pushes and requests are timed with.",
    "Push → started: each push is a new commit with a new tree (no result to take over) to one tracked branch whose previous run has passed; 10 warm-up pushes are not counted. A command gate's `started` is written as its attempt begins, before its checkout. The pushed event is written by the post-receive hook, before `git push` returns, so the gate may start before the client is told the push is done.",
    "Merge: branches of one commit (lines added to two source files) on the benchmark repo, each pushed and gated by the server's default gate (`[gates] defaults_file`, `true`; the repo has no cook.toml). In each pair, a lands by fast-forward, then b, whose base main has moved, lands by a merge commit (`git merge-tree --write-tree`), whose command gates run before main moves. Gate time is the candidate's run record, created → ended.",
    "Re-run: POST /api/branches/:id/gates {} on the tracked branch of the push test, whose head passed: every result is taken over from the run that passed on that tree (reusedFrom).",
  ],
});
