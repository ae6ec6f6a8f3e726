#!/usr/bin/env node
// The Branches dashboard at 100 open branches, each with a local environment and a task, spread
// over 4 repos, each branch one commit ahead of main:
//   - GET /branches, server time (the request log's ms), warm: median of 20   [≤ 50 ms]
//   - the same right after the ref listings' 5 s cache ran out (one for-each-ref per repo)
//   - the first load (no ahead/behind known yet: counted in the background, a rev-list per
//     branch, four at a time), and how long until every count is known
//   - GET /branches/disk-use: du of all 100 checkouts, two at a time, for the record
// Run on the embedded store (the default) and, when it is reachable, on PostgreSQL.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchGit, fmtMs, onEachStore, report, requireBuild, round, startServer, stats, tempDir, timedGet, removeDir, now, sleep } from "./lib/common.mjs";

requireBuild();
const repos = ["shop", "blog", "core", "docs"];
const branchCount = 100;

async function api(url, method, path, body) {
  const response = await fetch(`${url}${path}`, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${await response.text()}`);
  return response.json();
}

const git = benchGit;
const timed = (server, path) => timedGet(server, path);

async function measure(label, env) {
  const dataDir = tempDir("cook-bench-branches-");
  const work = tempDir("cook-bench-branches-work-");
  const server = await startServer({ dataDir, env });
  try {
    git(["init", "--quiet", "--initial-branch=main", work]);
    writeFileSync(join(work, "README.md"), "# bench\n");
    git(["add", "."], work);
    git(["commit", "--quiet", "-m", "first"], work);
    for (const repo of repos) {
      await api(server.url, "POST", "/api/repos", { name: repo, clone: work });
    }
    const files = Array.from({ length: branchCount }, (_, i) => ({ name: `t-${i}.md`, text: `---\nid: t-${i}\ntitle: Task ${i}\nrepo: ${repos[i % repos.length]}\n---\n` }));
    await api(server.url, "POST", "/api/tasks/import", { files });

    const createStart = now();
    for (let i = 0; i < branchCount; i++) {
      await api(server.url, "POST", "/api/branches", { repo: repos[i % repos.length], task: `t-${i}`, env: "local" });
    }
    const createMs = now() - createStart;

    // One commit on each branch, pushed in one push per repo: heads differ, each one ahead of main.
    for (const [r, repo] of repos.entries()) {
      const refspecs = [];
      for (let i = r; i < branchCount; i += repos.length) {
        const sha = git(["commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", `work on t-${i}`], work).trim();
        refspecs.push(`${sha}:refs/heads/t-${i}`);
      }
      git(["push", "--quiet", `${server.url}/${repo}.git`, ...refspecs], work);
    }
    await sleep(1000); // the push tracker marks activity in the background

    // The first load knows no ahead/behind yet: it shows … and counts in the background.
    const first = await timed(server, "/branches");
    const settleStart = now();
    let settled = first;
    while (settled.html.includes('title="being counted"')) {
      await sleep(100);
      settled = await timed(server, "/branches");
    }
    const settleMs = now() - settleStart;
    const rows = (settled.html.match(/<tr class="branch"/g) ?? []).length;
    const aheadOne = (settled.html.match(/>\+1 −0</g) ?? []).length;
    for (let r = 0; r < 3; r++) await timed(server, "/branches");
    const warm = [];
    const warmWall = [];
    for (let r = 0; r < 20; r++) {
      const t = await timed(server, "/branches");
      warm.push(t.server);
      warmWall.push(t.wall);
    }
    const afterCache = [];
    for (let r = 0; r < 3; r++) {
      await sleep(5500); // past the ref listings' 5 s safety net
      afterCache.push((await timed(server, "/branches")).server);
    }
    const disk = await timed(server, "/branches/disk-use");
    const sized = (disk.html.match(/\d (KiB|MiB)</g) ?? []).length;
    return { label, createMs, rows, aheadOne, first: first.server, settleMs, warm: stats(warm), warmWall: stats(warmWall), afterCache: stats(afterCache), disk: disk.server, sized };
  } finally {
    await server.stop();
    removeDir(dataDir);
    removeDir(work);
  }
}

const runs = await onEachStore("cook_bench_branches", measure);

const out = [];
for (const run of runs) {
  console.log(`\n${run.label}: ${run.rows} rows (${run.aheadOne} one ahead), ${branchCount} environments made in ${round(run.createMs / 1000, 1)} s`);
  console.log(`  /branches server time: warm median ${fmtMs(run.warm.median)} (p95 ${fmtMs(run.warm.p95)}, wall median ${fmtMs(run.warmWall.median)}); after the ref cache expired median ${fmtMs(run.afterCache.median)}; first load ${fmtMs(run.first)}, all ahead/behind counted ${round(run.settleMs / 1000, 1)} s later`);
  console.log(`  /branches/disk-use: ${run.sized} sizes in ${fmtMs(run.disk)}`);
  out.push(
    { metric: `${run.label}: /branches with ${run.rows} open branches with environments, server time median of 20`, value: round(run.warm.median, 1), unit: "ms", target: "≤ 50 ms", pass: run.warm.median <= 50, note: `p95 ${round(run.warm.p95, 1)} ms; wall median ${round(run.warmWall.median, 1)} ms` },
    { metric: `${run.label}: /branches just after the 5 s ref listing cache ran out, median of 3`, value: round(run.afterCache.median, 1), unit: "ms", target: "≤ 50 ms", pass: run.afterCache.median <= 50 },
    { metric: `${run.label}: /branches first load (ahead/behind not known: shown as …, counted in the background)`, value: round(run.first, 1), unit: "ms", note: `every count known ${round(run.settleMs / 1000, 1)} s later` },
    { metric: `${run.label}: /branches/disk-use, du of ${run.sized} checkouts two at a time`, value: round(run.disk, 1), unit: "ms" },
  );
}
report({ benchmark: "branch-dashboard", title: "Branches dashboard at 100 branches", rows: out, raw: runs });
