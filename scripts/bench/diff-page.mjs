#!/usr/bin/env node
// Diff pages (issue 7, item 7's kind: no request may stall the server for others). One repo's commit
// adds a 40,000-line file and 50 small ones: a 2.4 MiB patch, which the commit page cuts at 2 MiB and
// 20,000 rows — the largest diff a page shows. Measured, one request at a time:
//   - the huge commit page alone (server time from the request log);
//   - other pages (the repo's tree, its commits, a small commit's page; round robin), nothing else running;
//   - the same other pages while a second client requests the huge commit page over and over: their
//     client wall time (which includes waiting for an event loop held by the other page's work) and
//     their server time. Before the diff moved into render workers its parsing and 20,000 rows of
//     template held the event loop for 100-200 ms at a time.
// Prints a summary and, last, one JSON line (see lib/common.mjs `report`).
//
//   npx tsc -p . && node scripts/bench/diff-page.mjs
//   BENCH_DIFF_REQUESTS=150 (other-page requests under load)   BENCH_CLI=<path to another build's dist/src/cli/main.js>
import { loadavg } from "node:os";
import { join } from "node:path";
import { clientEnv, cliPath, cook, git, pageTimer, startCook, summary, waitForQuiet } from "./git-transport/lib.mjs";
import { fmtMs, removeDir, report, requireBuild, round, sleep, tempDir } from "./lib/common.mjs";

requireBuild();
const loadRequests = Number(process.env.BENCH_DIFF_REQUESTS || 150);
const cli = process.env.BENCH_CLI || cliPath;
const log = (line = "") => process.stdout.write(`${line}\n`);
const identity = clientEnv({ GIT_AUTHOR_NAME: "Bench", GIT_AUTHOR_EMAIL: "bench@example.com", GIT_COMMITTER_NAME: "Bench", GIT_COMMITTER_EMAIL: "bench@example.com" });

/** A commit of these root files on top of `parent` (or a root commit), written with plumbing. */
async function commitFiles(dir, files, message, parent) {
  const entries = [];
  for (const [name, content] of Object.entries(files)) {
    const sha = (await git(["--git-dir", dir, "hash-object", "-w", "--stdin"], { input: content })).stdout.trim();
    entries.push(`100644 blob ${sha}\t${name}\n`);
  }
  const tree = (await git(["--git-dir", dir, "mktree"], { input: entries.join("") })).stdout.trim();
  return (await git(["--git-dir", dir, "commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", message], { env: identity })).stdout.trim();
}

const work = tempDir("cook-bench-diff-");
let server;
try {
  const source = join(work, "source.git");
  await git(["init", "--quiet", "--bare", "--initial-branch=main", source]);
  const small = { "README.md": "# Diffs\n", "app.ts": "export const x = 1;\n" };
  const first = await commitFiles(source, small, "A small commit");
  const huge = { ...small };
  huge["big.txt"] = Array.from({ length: 40_000 }, (_, i) => `line ${i} of a file added in one commit, long enough to matter\n`).join("");
  for (let f = 0; f < 50; f++) huge[`f${f}.txt`] = Array.from({ length: 400 }, (_, i) => `a${i}\n`).join("");
  const second = await commitFiles(source, huge, "A huge commit", first);
  const third = await commitFiles(source, { ...huge, "app.ts": "export const x = 2;\n" }, "Another small commit", second);
  await git(["--git-dir", source, "update-ref", "refs/heads/main", third]);
  const patchBytes = (await git(["--git-dir", source, "diff-tree", "-r", "-M", "--no-commit-id", "-z", "--raw", "--patch", first, second])).stdout.length;

  server = await startCook({ dataDir: join(work, "data"), cli });
  await cook(server.url, ["repo", "add", "diffs", `--clone=${source}`]);

  const timed = pageTimer(server, "bench-diff");
  const hugePage = `/repos/diffs/commit/${second}`;
  const others = ["/repos/diffs/tree/main", "/repos/diffs/commits/main", `/repos/diffs/commit/${third}`];

  await waitForQuiet(log);
  for (const path of [hugePage, ...others]) for (let i = 0; i < 3; i++) await timed(path); // warm-up: workers, caches
  const alone = [];
  for (let i = 0; i < 10; i++) {
    const r = await timed(hugePage);
    if (!/cut short/.test(r.body)) throw new Error("the huge commit page does not say it was cut short");
    alone.push(r.ms);
  }
  const hugeAlone = summary(alone);
  log(`huge commit page (${(patchBytes / 2 ** 20).toFixed(2)} MiB of patch) alone: server median ${fmtMs(hugeAlone.median)}, max ${fmtMs(hugeAlone.max)}`);

  const baseline = [];
  for (let i = 0; i < 60; i++) baseline.push(await timed(others[i % others.length]));
  const base = { server: summary(baseline.map((r) => r.ms)), wall: summary(baseline.map((r) => r.wall)) };
  log(`other pages, nothing else running: server median ${fmtMs(base.server.median)}, wall median ${fmtMs(base.wall.median)}, max ${fmtMs(base.wall.max)}`);

  let loading = true;
  let loadError;
  const hugeUnderLoad = [];
  const loader = (async () => {
    while (loading) hugeUnderLoad.push((await timed(hugePage)).ms);
  })().catch((err) => ((loadError = err), (loading = false)));
  await sleep(300);
  const measured = [];
  for (let i = 0; i < loadRequests && loading; i++) measured.push(await timed(others[i % others.length]));
  loading = false;
  await loader;
  if (loadError) throw loadError;
  const server_ = summary(measured.map((r) => r.ms));
  const wall = summary(measured.map((r) => r.wall));
  const sortedWall = measured.map((r) => r.wall).sort((a, b) => a - b);
  const p95 = sortedWall[Math.min(sortedWall.length - 1, Math.ceil(0.95 * sortedWall.length) - 1)];
  log(`other pages while the huge commit page is requested over and over (${hugeUnderLoad.length} times): wall median ${fmtMs(wall.median)}, p95 ${fmtMs(p95)}, max ${fmtMs(wall.max)}; server median ${fmtMs(server_.median)}, max ${fmtMs(server_.max)}`);

  report({
    benchmark: "diff-page",
    title: "Diff pages",
    rows: [
      { metric: "other pages while a 20,000-row commit page renders over and over, client wall p95", value: round(p95), unit: "ms", target: "≤ 100 ms", pass: p95 <= 100, note: `${measured.length} requests (tree, commits, a small commit's page, round robin); median ${round(wall.median)}, max ${round(wall.max)}; server time median ${round(server_.median)}, max ${round(server_.max)}; load average ${loadavg()[0].toFixed(2)}` },
      { metric: "other pages, nothing else running, client wall median", value: round(base.wall.median), unit: "ms", note: `${baseline.length} requests; max ${round(base.wall.max)}; server time median ${round(base.server.median)}` },
      { metric: "the huge commit page alone, server time median", value: round(hugeAlone.median), unit: "ms", note: `${(patchBytes / 2 ** 20).toFixed(2)} MiB of patch, cut at 2 MiB / 20,000 rows; 10 requests, max ${round(hugeAlone.max)}; under load (${hugeUnderLoad.length} requests) median ${round(summary(hugeUnderLoad).median)}` },
    ],
    notes: [`Server: ${cli === cliPath ? "this build" : cli}.`],
  });
} finally {
  await server?.stop();
  removeDir(work);
}
