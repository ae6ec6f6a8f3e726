#!/usr/bin/env node
// Tasks at scale: 10,000 tasks across 10 repos, with dependencies and mixed statuses.
//   - creating 1,000 tasks through the API, one request each       [≤ 10 s]
//   - the inbox page filtered to one repo and status, server time   [median ≤ 50 ms]
//   - `cook task list --repo X --json`, wall time                   [≤ 300 ms]
//   - the ready computation at 2,500 / 5,000 / 10,000 tasks         [linear: time per task + edge stays flat]
// Run on the embedded store (the default) and on PostgreSQL. Prints a summary and a JSON line.
import { spawnSync } from "node:child_process";
import { cliPath, cleanEnv, fmtMs, report, requireBuild, round, scratchDatabase, startServer, stats, tempDir, removeDir, now } from "./lib/common.mjs";

requireBuild();
const repos = Array.from({ length: 10 }, (_, i) => `repo-${i}`);
const started = now();

// A fixed pseudo-random sequence, so every run builds the same factory.
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const statusFor = () => {
  const r = random();
  return r < 0.6 ? "open" : r < 0.75 ? "in_progress" : r < 0.8 ? "needs_human" : "closed";
};

async function api(url, method, path, body) {
  const response = await fetch(`${url}${path}`, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${await response.text()}`);
  return response.json();
}

/** Server-side time of the last request to `path`, from the request log. */
function serverMs(server, path) {
  const lines = server.output().trim().split("\n").reverse();
  for (const line of lines) {
    if (!line.includes('"msg":"request"')) continue;
    const entry = JSON.parse(line);
    if (entry.path === path) return entry.ms;
  }
  return NaN;
}

async function measure(label, env) {
  const dataDir = tempDir("cook-bench-tasks-");
  const server = await startServer({ dataDir, env });
  try {
    for (const repo of repos) await api(server.url, "POST", "/api/repos", { name: repo });

    // 1,000 tasks, one POST each, as a script or an agent creating them would.
    const createStart = now();
    for (let i = 0; i < 1000; i++) {
      const repo = repos[i % repos.length];
      await api(server.url, "POST", "/api/tasks", { repo, id: `t-${i}`, title: `Task ${i} in ${repo}`, priority: i % 5, body: `Body of task ${i}.\n\nSome **markdown**.` });
    }
    const createMs = now() - createStart;

    // The other 9,000 by import, each depending on up to 3 earlier tasks of its repo.
    const readyTimes = [];
    let total = 1000;
    let edges = 0;
    for (let batch = 0; batch < 9; batch++) {
      const files = [];
      for (let j = 0; j < 1000; j++) {
        const i = total + j;
        const repo = repos[i % repos.length];
        const deps = [];
        for (let d = 0; d < Math.floor(random() * 4); d++) {
          const earlier = i - repos.length * (1 + Math.floor(random() * 50));
          if (earlier >= 0 && !deps.includes(`t-${earlier}`)) deps.push(`t-${earlier}`);
        }
        edges += deps.length;
        files.push({ name: `t-${i}.md`, text: `---\nid: t-${i}\ntitle: Task ${i} in ${repo}\npriority: ${i % 5}\nstatus: ${statusFor()}\nrepo: ${repo}\ndepends_on: [${deps.join(", ")}]\n---\nBody of task ${i}.\n` });
      }
      await api(server.url, "POST", "/api/tasks/import", { files });
      total += 1000;
      if (total === 2000 || total === 5000 || total === 10000) {
        const times = [];
        for (let r = 0; r < 3; r++) await api(server.url, "GET", "/api/tasks?ready=true"); // warm-up: caches, plans
        for (let r = 0; r < 7; r++) {
          await api(server.url, "GET", "/api/tasks?ready=true");
          times.push(serverMs(server, "/api/tasks"));
        }
        readyTimes.push({ tasks: total, edges, medianMs: stats(times).median });
      }
    }

    const inbox = [];
    const inboxWall = [];
    for (let r = 0; r < 23; r++) {
      const t = now();
      const response = await fetch(`${server.url}/tasks?repo=repo-3&status=open`);
      await response.text();
      if (r >= 3) {
        inboxWall.push(now() - t);
        inbox.push(serverMs(server, "/tasks"));
      }
    }
    const listed = JSON.parse((await (await fetch(`${server.url}/api/tasks?repo=repo-3&status=open`)).text())).tasks.length;

    const cliWall = [];
    const cliServer = [];
    for (let r = 0; r < 12; r++) {
      const t = now();
      const result = spawnSync(process.execPath, [cliPath, "task", "list", "--repo", "repo-3", "--json"], { env: cleanEnv({ COOK_SERVER: server.url }), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      if (result.status !== 0) throw new Error(result.stderr);
      if (r >= 2) {
        cliWall.push(now() - t);
        cliServer.push(serverMs(server, "/api/tasks"));
      }
    }
    const cliTasks = JSON.parse((await (await fetch(`${server.url}/api/tasks?repo=repo-3`)).text())).tasks.length;

    const perUnit = readyTimes.map((r) => r.medianMs / (r.tasks + r.edges));
    return { label, createMs, inbox: stats(inbox), inboxWall: stats(inboxWall), listed, cli: stats(cliWall), cliServer: stats(cliServer), cliTasks, readyTimes, perUnit, edges };
  } finally {
    await server.stop();
    removeDir(dataDir);
  }
}

const scratch = await scratchDatabase("cook_bench_tasks");
const runs = [];
try {
  runs.push(await measure("embedded PGlite", {}));
  runs.push(await measure("PostgreSQL", { COOK_DATABASE_URL: scratch.url }));
} finally {
  await scratch.drop();
}

const rows = [];
for (const run of runs) {
  console.log(`\n${run.label}`);
  console.log(`  1,000 creates: ${fmtMs(run.createMs)}; inbox (${run.listed} match, first 100 shown) server median ${fmtMs(run.inbox.median)}, wall ${fmtMs(run.inboxWall.median)}; cli list median ${fmtMs(run.cli.median)}`);
  console.log(`  ready query: ${run.readyTimes.map((r) => `${r.tasks} tasks + ${r.edges} edges → ${fmtMs(r.medianMs)}`).join("; ")}`);
  const growth = run.perUnit[run.perUnit.length - 1] / run.perUnit[0];
  rows.push(
    { metric: `${run.label}: create 1,000 tasks through the API, one request each`, value: round(run.createMs / 1000, 2), unit: "s", target: "≤ 10 s", pass: run.createMs <= 10_000 },
    { metric: `${run.label}: inbox page, one repo + status (${run.listed} match; the page shows the first 100), server time median of 20`, value: round(run.inbox.median, 1), unit: "ms", target: "≤ 50 ms", pass: run.inbox.median <= 50, note: `p95 ${round(run.inbox.p95, 1)} ms; wall median ${round(run.inboxWall.median, 1)} ms` },
    { metric: `${run.label}: cook task list --repo X --json (${run.cliTasks} tasks), wall median of 10`, value: round(run.cli.median, 1), unit: "ms", target: "≤ 300 ms", pass: run.cli.median <= 300, note: `p95 ${round(run.cli.p95, 1)} ms; server time median ${round(run.cliServer.median, 1)} ms` },
    {
      metric: `${run.label}: ready computation, time per (task + dependency) at 10,000 vs 2,000 tasks`,
      value: round(growth, 2),
      unit: "×",
      target: "linear (≈ 1×)",
      pass: growth < 1.5,
      note: run.readyTimes.map((r) => `${r.tasks} tasks + ${r.edges} deps: ${round(r.medianMs, 1)} ms`).join("; "),
    },
  );
}
report({ benchmark: "tasks", title: "Tasks at scale", rows, notes: [`took ${round((now() - started) / 1000, 1)} s`], raw: runs });
