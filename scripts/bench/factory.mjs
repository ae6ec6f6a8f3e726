#!/usr/bin/env node
// The factory benchmark (issue 11's proof): a real `cook serve` from dist/ on 127.0.0.1, one
// generated repo, BENCH_FACTORY_TASKS (100) tasks in a dependency DAG BENCH_FACTORY_DEPTH (10)
// levels deep (each task below the first level depends on one or two of the level above), a
// scripted `command` agent that makes each task's change (its own file under tasks/) and commits,
// a real command gate (checks every task file says "ok"), autopilot with concurrency 4 and
// auto-merge. Every task must flow inbox → merged unattended.              [all merged, ≤ 10 min]
//
// Then, on the result: the gate is run again on every commit main moved to (first parent) — the
// default branch must pass at each — and `git fsck --strict` must be clean. Reported: wall time,
// where a task's time went (dispatch → first push: environment and agent; push → its gates passed;
// passed → merged: the merge queue's wait and the candidate's gates), the merge queue's wait.
//
// Run twice: with every first attempt right, and with BENCH_FACTORY_FAIL_PERCENT (10) of the tasks
// getting their first attempt wrong; the gate fails, `on_fail = "agent"` hands the failure back, and
// the agent fixes it on the follow-up: still all merged.
//
//   npm run build && node scripts/bench/factory.mjs
//   BENCH_FACTORY_TASKS=100  BENCH_FACTORY_DEPTH=10  BENCH_FACTORY_FAIL_PERCENT=10
//   BENCH_FACTORY_RUNS=clean,failing  BENCH_STORES=embedded(,postgres)  BENCH_KEEP=1
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { cook, git, run, startCook } from "./git-transport/lib.mjs";
import { onEachStore, report, requireBuild, round } from "./lib/common.mjs";

requireBuild();
process.env.BENCH_STORES ??= "embedded";
const taskCount = Number(process.env.BENCH_FACTORY_TASKS || 100);
const depth = Number(process.env.BENCH_FACTORY_DEPTH || 10);
const failPercent = Number(process.env.BENCH_FACTORY_FAIL_PERCENT ?? 10);
const runs = (process.env.BENCH_FACTORY_RUNS || "clean,failing").split(",");
const concurrency = 4;
const limitMs = 10 * 60_000;
const log = (line = "") => process.stdout.write(`${line}\n`);
const identity = ["-c", "user.name=Bench", "-c", "user.email=bench@example.com"];
const root = mkdtempSync(join(tmpdir(), "cook-bench-factory-"));

/** A seeded generator, so every run gets the same DAG. */
function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Task ids level by level; each task below the first depends on one or two tasks of the level above. */
function makeDag() {
  const random = seeded(11);
  const perLevel = Math.ceil(taskCount / depth);
  const levels = [];
  const tasks = [];
  for (let level = 0; level < depth; level++) {
    const ids = [];
    for (let i = 0; i < perLevel && tasks.length < taskCount; i++) {
      const id = `t${String(level).padStart(2, "0")}-${String(i).padStart(2, "0")}`;
      const above = levels[level - 1] ?? [];
      const dependsOn = above.length === 0 ? [] : [...new Set([above[Math.floor(random() * above.length)], ...(random() < 0.5 ? [above[Math.floor(random() * above.length)]] : [])])];
      tasks.push({ id, level, dependsOn, priority: Math.floor(random() * 4) });
      ids.push(id);
    }
    levels.push(ids);
  }
  return tasks;
}

// The agent: the task's file says "ok"; a task named in `wrong` says "not yet" on its first run, and
// is fixed when the gate's failure comes back to it as a follow-up.
const agentScript = (wrongList) => `#!/bin/sh
set -e
task="$COOK_BRANCH"
mkdir -p tasks
case "$1" in
  *"Gate 'check' failed"*) echo ok > "tasks/$task.txt" ;;
  *) if grep -qx "$task" "${wrongList}"; then echo "not yet" > "tasks/$task.txt"; else echo ok > "tasks/$task.txt"; fi ;;
esac
git add -A
git commit -qm "Do $task"
git push -q origin HEAD
cook done
`;

const gateCommand = 'for f in tasks/*.txt; do [ -e "$f" ] || continue; [ "$(cat "$f")" = ok ] || { echo "$f is not done: $(cat "$f")"; exit 1; }; done; echo all done';

async function measureRun(kind, env, dir) {
  const dag = makeDag();
  const wrong = kind === "failing" ? dag.filter((_, i) => (i * 37) % 100 < failPercent).map((t) => t.id) : [];
  const wrongList = join(dir, "wrong.txt");
  writeFileSync(wrongList, wrong.join("\n") + "\n");
  const agent = join(dir, "worker.sh");
  writeFileSync(agent, agentScript(wrongList));
  chmodSync(agent, 0o755);
  const config = join(dir, "config.toml");
  writeFileSync(config, `[gates]\nconcurrency = ${concurrency}\n\n[agents.worker]\nkind = "command"\ncommand = "${agent}"\n`);

  const server = await startCook({ dataDir: join(dir, "data"), env: { ...env, COOK_CONFIG: config } });
  try {
    // The generated repo: a little code, and the cook.toml that turns autopilot on.
    await cook(server.url, ["repo", "add", "generated"]);
    const work = join(dir, "work");
    await git(["clone", "--quiet", `${server.url}/generated.git`, work]);
    mkdirSync(join(work, "src"), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(join(work, "src", `module${i}.js`), `export const value${i} = ${i};\n`.repeat(20));
    writeFileSync(
      join(work, "cook.toml"),
      `[autopilot]\nenabled = false\nconcurrency = ${concurrency}\nagent = "worker"\nmerge = "auto"\n\n[gate_defaults]\non_fail = "agent"\n\n[[gates]]\nname = "check"\ncommand = ${JSON.stringify(gateCommand)}\ntimeout = "2m"\n`,
    );
    await git([...identity, "add", "-A"], { cwd: work });
    await git([...identity, "commit", "--quiet", "-m", "Generated repo"], { cwd: work });
    await git(["push", "--quiet", "origin", "main"], { cwd: work });
    const start = (await git(["rev-parse", "HEAD"], { cwd: work })).stdout.trim();

    const taskDir = join(dir, "tasks");
    mkdirSync(taskDir);
    for (const task of dag) {
      writeFileSync(join(taskDir, `${task.id}.md`), `---\nid: ${task.id}\ntitle: Task ${task.id}\nrepo: generated\npriority: ${task.priority}\n${task.dependsOn.length ? `depends_on: [${task.dependsOn.join(", ")}]\n` : ""}---\nWrite tasks/${task.id}.txt saying ok.\n`);
    }
    await cook(server.url, ["task", "import", taskDir]);

    const api = async (path) => (await fetch(`${server.url}${path}`)).json();
    const started = performance.now();
    await cook(server.url, ["autopilot", "on", "generated"]);
    let closed = 0;
    let most = 0;
    while (performance.now() - started < limitMs + 60_000) {
      const list = await api(`/api/tasks?repo=generated&status=closed&limit=1000`);
      closed = list.tasks.length;
      const status = (await api("/api/repos/generated/autopilot")).autopilot;
      most = Math.max(most, status.slots.used);
      if (closed === dag.length) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const wallMs = performance.now() - started;
    log(`  ${kind}: ${closed}/${dag.length} merged in ${(wallMs / 1000).toFixed(1)} s (most slots used at once: ${most})`);

    // Where the time went, from the event log: per task, dispatched → first push → its gates passed → merged.
    const events = [];
    for (let after = 0; ; ) {
      const page = (await api(`/api/events?after=${after}&limit=1000`)).events;
      events.push(...page);
      if (page.length < 1000) break;
      after = page.at(-1).id;
    }
    const at = (event) => Date.parse(event.timestamp);
    const byTask = new Map(dag.map((t) => [t.id, {}]));
    for (const event of events) {
      const task = event.data?.task ?? (event.branch && byTask.has(event.branch) ? event.branch : undefined);
      const entry = task && byTask.get(task);
      if (!entry) continue;
      if (event.type === "autopilot.dispatched") entry.dispatched ??= at(event);
      if (event.type === "branch.pushed" && event.branch === task) entry.pushed ??= at(event);
      // The first pass on the branch's own head; a merge candidate's gates pass later, on the same subjects.
      if (event.type === "gate.passed" && event.branch === task) entry.passed ??= at(event);
      if (event.type === "branch.merged") entry.merged = at(event);
      if (event.type === "gate.failed" && event.branch === task) entry.failed = (entry.failed ?? 0) + 1;
    }
    const spans = { agent: [], gates: [], queue: [] };
    for (const entry of byTask.values()) {
      if (entry.dispatched && entry.pushed) spans.agent.push(entry.pushed - entry.dispatched);
      if (entry.pushed && entry.passed) spans.gates.push(entry.passed - entry.pushed);
      if (entry.passed && entry.merged) spans.queue.push(entry.merged - entry.passed);
    }
    const mean = (values) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);
    const max = (values) => (values.length ? Math.max(...values) : NaN);
    const failedGates = [...byTask.values()].reduce((sum, e) => sum + (e.failed ?? 0), 0);

    // The default branch passes its gate at every commit it moved to; fsck is clean.
    const bare = join(dir, "data", "repos", "generated.git");
    const mainCommits = (await git(["--git-dir", bare, "rev-list", "--first-parent", `${start}..main`])).stdout.trim().split("\n").filter(Boolean);
    let red = 0;
    for (const commit of mainCommits) {
      const checkout = join(dir, "check");
      rmSync(checkout, { recursive: true, force: true });
      mkdirSync(checkout);
      await git(["--git-dir", bare, "--work-tree", checkout, "checkout", "--quiet", commit, "--", "."]);
      const result = await run("sh", ["-c", gateCommand], { cwd: checkout, allowFail: true });
      if (result.code !== 0) red++;
    }
    const fsck = await git(["--git-dir", bare, "fsck", "--strict", "--no-progress"], { allowFail: true });
    log(`  main moved ${mainCommits.length} times; red at ${red}; fsck ${fsck.code === 0 ? "clean" : "FAILED"}; gate failures handed back ${failedGates}`);

    const label = kind === "failing" ? `${failPercent}% first attempts wrong` : "every first attempt right";
    return [
      { metric: `${label}: ${dag.length} tasks (DAG ${depth} deep), concurrency ${concurrency}: inbox → merged, wall time`, value: round(wallMs / 1000, 1), unit: "s", target: "all merged, ≤ 600 s", pass: closed === dag.length && wallMs <= limitMs },
      { metric: `${label}: tasks merged`, value: closed, unit: "", target: `${dag.length}`, pass: closed === dag.length },
      { metric: `${label}: commits main moved to that fail the gate (of ${mainCommits.length}); git fsck --strict`, value: red, unit: "", target: "0, clean", pass: red === 0 && fsck.code === 0 },
      { metric: `${label}: per task, mean dispatched → first push (environment, agent)`, value: round(mean(spans.agent) / 1000, 2), unit: "s" },
      { metric: `${label}: per task, mean first push → gates passed (incl. fixes)`, value: round(mean(spans.gates) / 1000, 2), unit: "s" },
      { metric: `${label}: per task, gates passed → merged (merge queue wait + candidate's gates), mean / max`, value: `${round(mean(spans.queue) / 1000, 2)} / ${round(max(spans.queue) / 1000, 2)}`, unit: "s" },
      ...(kind === "failing" ? [{ metric: `${label}: gate failures handed back to the agent and fixed`, value: failedGates, unit: "", target: `${wrong.length}`, pass: failedGates >= wrong.length }] : []),
      { metric: `${label}: most branches working at once`, value: most, unit: "", target: `≤ ${concurrency}`, pass: most <= concurrency },
    ];
  } finally {
    await server.stop();
  }
}

const rows = [];
try {
  for (const storeRows of await onEachStore("bench_factory", async (store, env) => {
    const out = [];
    for (const kind of runs) {
      const dir = mkdtempSync(join(root, `${kind}-`));
      log(`${store}, ${kind}`);
      for (const row of await measureRun(kind, env, dir)) out.push({ ...row, metric: `${store}, ${row.metric}` });
    }
    return out;
  })) rows.push(...storeRows);
} finally {
  if (!process.env.BENCH_KEEP) rmSync(root, { recursive: true, force: true });
}

log("");
log(`summary (load average ${loadavg().map((l) => l.toFixed(2)).join(" ")})`);
for (const r of rows) log(`  ${r.metric.padEnd(120)} ${String(r.value).padStart(10)} ${String(r.unit ?? "").padEnd(2)} ${r.target ? `target ${r.target}` : ""}${r.pass === undefined ? "" : r.pass ? "  PASS" : "  FAIL"}`);
report({
  benchmark: "factory",
  title: "Factory (autopilot end to end)",
  rows,
  notes: [
    `A real \`cook serve\` from dist/ with \`[gates] concurrency = ${concurrency}\`, embedded PGlite unless BENCH_STORES says otherwise; a generated repo of 50 small files; ${taskCount} tasks imported as files, ${depth} levels, each below the first depending on one or two of the level above, priorities 0-3.`,
    "The agent is the `command` agent running a shell script: it writes tasks/<task>.txt, commits, pushes, runs `cook done`. The gate is a real shell command over the checkout (every tasks/*.txt says ok), in a fresh clone per attempt as every command gate is.",
    "Autopilot is switched on once every task is in (`cook autopilot on`); wall time runs from then until the last task is closed by its merge. Merges use strategy auto: a fast-forward when main has not moved, else a merge commit whose candidate is gated before main moves.",
    "Where time went is read from the event log's timestamps: autopilot.dispatched, the branch's first branch.pushed, its gate.passed, branch.merged.",
    "Every commit main moved to (first parent) is checked out afterwards and the gate command run on it.",
  ],
});
