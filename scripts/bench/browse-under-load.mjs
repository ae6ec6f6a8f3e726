#!/usr/bin/env node
// Browsing under load (issue 7, item 7: no request may stall the server for others). One repo holds a
// 100 MB text file, a .rs file of 90 KB of `r#"` (quadratic in highlight.js's Rust grammar), markdown
// that sanitize-html takes seconds over, and ordinary files. Measured, server time from the request log:
//   - baseline: the repo's tree, commits, home (README markdown) and a highlighted .ts blob page,
//     nothing else running;
//   - under load: the same pages, round robin, while one client downloads the 100 MB file over and over
//     (reading as fast as it can) and another requests the pathological pages over and over   [p95 ≤ 100 ms]
//   - the pathological pages themselves, the download's throughput and the 100 MB file's blob page.
// Prints a summary and, last, one JSON line (see lib/common.mjs `report`).
//
//   npx tsc -p . && node scripts/bench/browse-under-load.mjs
//   BENCH_LOAD_REQUESTS=120 (other-page requests under load)
import { request } from "node:http";
import { loadavg } from "node:os";
import { join } from "node:path";
import { clientEnv, cook, git, pageTimer, processCpuMs, startCook, summary, waitForQuiet } from "./git-transport/lib.mjs";
import { fmtMs, removeDir, report, requireBuild, round, sleep, tempDir } from "./lib/common.mjs";

requireBuild();
const baselineRuns = 20;
const loadRequests = Number(process.env.BENCH_LOAD_REQUESTS || 120);
const bigBytes = 100 * 1024 * 1024;
const log = (line = "") => process.stdout.write(`${line}\n`);

/** A bare repo whose main has one commit of these root files, written with plumbing (no 100 MB checkout). */
async function buildRepo(dir, files) {
  await git(["init", "--quiet", "--bare", "--initial-branch=main", dir]);
  const entries = [];
  for (const [name, content] of Object.entries(files)) {
    const sha = (await git(["--git-dir", dir, "hash-object", "-w", "--stdin"], { input: content })).stdout.trim();
    entries.push(`100644 blob ${sha}\t${name}\n`);
  }
  const tree = (await git(["--git-dir", dir, "mktree"], { input: entries.join("") })).stdout.trim();
  const identity = { GIT_AUTHOR_NAME: "Bench", GIT_AUTHOR_EMAIL: "bench@example.com", GIT_COMMITTER_NAME: "Bench", GIT_COMMITTER_EMAIL: "bench@example.com" };
  const commit = (await git(["--git-dir", dir, "commit-tree", tree, "-m", "Pathological files"], { env: clientEnv(identity) })).stdout.trim();
  await git(["--git-dir", dir, "update-ref", "refs/heads/main", commit]);
}

/** Downloads a URL, discarding the body as fast as it arrives; resolves { status, bytes, ms }. */
function download(url) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    request(url, { agent: false }, (res) => {
      let bytes = 0;
      res.on("data", (chunk) => (bytes += chunk.length));
      res.on("end", () => resolve({ status: res.statusCode, bytes, ms: performance.now() - started }));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

const work = tempDir("cook-bench-browse-");
let server;
try {
  log("building the repo (100 MB text file by hash-object)");
  const line = "a line of a very large text file, one of many, for the download\n";
  const source = join(work, "source.git");
  await buildRepo(source, {
    "big.txt": Buffer.from(line.repeat(Math.ceil(bigBytes / line.length))).subarray(0, bigBytes),
    "lib.rs": 'r#"'.repeat(30_000),
    "slow.md": "<x>".repeat(170_000),
    "README.md": "# Demo\n\nA repo with **big** and *slow* files. See [the app](app.ts).\n\n- one\n- two\n\n```ts\nconst x = 1;\n```\n",
    "app.ts": "// entry point\nexport function greet(name: string): string {\n  return `hello ${name}`;\n}\n".repeat(40),
  });
  server = await startCook({ dataDir: join(work, "data") });
  await cook(server.url, ["repo", "add", "big", `--clone=${source}`]);

  const others = ["/repos/big/tree/main", "/repos/big/blob/main/app.ts", "/repos/big/commits/main", "/repos/big"];
  const timed = pageTimer(server, "bench-browse");

  log("\nbaseline: the other pages with nothing else running");
  await waitForQuiet(log);
  for (const path of others) for (let i = 0; i < 3; i++) await timed(path); // warm-up: workers, caches
  const baseline = [];
  for (let i = 0; i < baselineRuns; i++) for (const path of others) baseline.push((await timed(path)).ms);
  const base = summary(baseline);
  log(`  ${baseline.length} requests: server median ${fmtMs(base.median)}, p90 ${fmtMs(base.p90)}, max ${fmtMs(base.max)}`);

  const bigPage = await timed("/repos/big/blob/main/big.txt");
  if (!/too large to (display|show)/.test(bigPage.body)) throw new Error("the 100 MB file's blob page does not say it is too large");
  log(`  blob page of the 100 MB file: server ${fmtMs(bigPage.ms)} ("too large to display")`);

  log("\nunder load: a 100 MB download and the pathological pages, over and over, while the other pages are measured");
  let loading = true;
  let loadError;
  // A failed load loop ends the measurement (and, through `finally`, the server) instead of crashing the run.
  const background = (work) => work.catch((err) => ((loadError ??= err), (loading = false)));
  const downloads = [];
  const pathological = [];
  const downloader = background((async () => {
    while (loading) {
      const d = await download(`${server.url}/repos/big/raw/main/big.txt`);
      if (d.status !== 200 || d.bytes !== bigBytes) throw new Error(`the download answered ${d.status} with ${d.bytes} bytes`);
      downloads.push(d);
    }
  })());
  const renderer = background((async () => {
    for (let i = 0; loading; i++) {
      const path = i % 2 === 0 ? "/repos/big/blob/main/lib.rs" : "/repos/big/blob/main/slow.md";
      const r = await timed(path);
      const notice = /<p class="notice">([^<]*)/.exec(r.body)?.[1] ?? "(none: rendered in full)";
      pathological.push({ path, ms: r.ms, notice });
    }
  })());
  await sleep(1000); // both under way
  const cpuBefore = processCpuMs(server.pid).self;
  const loadStarted = performance.now();
  const underLoad = [];
  const wall = [];
  const byPage = new Map(others.map((path) => [path, []]));
  for (let i = 0; i < loadRequests && loading; i++) {
    const path = others[i % others.length];
    const r = await timed(path);
    underLoad.push(r.ms);
    wall.push(r.wall);
    byPage.get(path).push(r.ms);
  }
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const cpuShare = (processCpuMs(server.pid).self - cpuBefore) / 1000 / loadSeconds;
  loading = false;
  await Promise.all([downloader, renderer]);
  if (loadError) throw loadError;
  const load = summary(underLoad);
  const loadWall = summary(wall);
  const mbps = downloads.reduce((a, d) => a + d.bytes, 0) / 2 ** 20 / (downloads.reduce((a, d) => a + d.ms, 0) / 1000);
  const slow = summary(pathological.map((p) => p.ms));
  const noticeCounts = new Map();
  for (const p of pathological) noticeCounts.set(p.notice.trim(), (noticeCounts.get(p.notice.trim()) ?? 0) + 1);
  const notices = [...noticeCounts].map(([notice, count]) => `${count} × "${notice}"`).join(", ");
  log(`  ${underLoad.length} requests in ${loadSeconds.toFixed(1)} s: server median ${fmtMs(load.median)}, p90 ${fmtMs(load.p90)}, max ${fmtMs(load.max)}; wall median ${fmtMs(loadWall.median)}`);
  log(`  meanwhile ${downloads.length} downloads of 100 MB (${mbps.toFixed(0)} MiB/s) and ${pathological.length} pathological pages (server median ${fmtMs(slow.median)}); server used ${cpuShare.toFixed(2)} cores`);

  const perPage = [...byPage].map(([path, ms]) => {
    const stat = summary(ms);
    return `${path}: median ${round(stat.median)}, max ${round(stat.max)}`;
  });
  for (const line of perPage) log(`    ${line}`);
  const sorted = [...underLoad].sort((a, b) => a - b);
  const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
  const pages = "tree, commits, repo home (README markdown) and a 160-line highlighted .ts blob page, round robin";
  report({
    benchmark: "browse-under-load",
    title: "Browsing under load",
    rows: [
      { metric: "other pages under load, server time p95", value: round(p95), unit: "ms", target: "≤ 100 ms", pass: p95 <= 100, note: `${underLoad.length} requests (${pages}); median ${round(load.median)}, p90 ${round(load.p90)}, max ${round(load.max)}; client wall median ${round(loadWall.median)}; load average ${loadavg()[0].toFixed(2)}` },
      { metric: "other pages under load, by page, server time", value: "see note", unit: "", note: perPage.join("; ") },
      { metric: "other pages, nothing else running, server time median", value: round(base.median), unit: "ms", note: `${baseline.length} requests; p90 ${round(base.p90)}, max ${round(base.max)}` },
      { metric: "100 MB downloads during the measurement", value: downloads.length, unit: "count", note: `${mbps.toFixed(0)} MiB/s, each from its own git cat-file blob; Content-Length set` },
      { metric: "pathological pages during the measurement, server time median", value: round(slow.median), unit: "ms", note: `${pathological.length} pages (lib.rs: 90 KB of r#"; slow.md: 170,000 unclosed <x>), each given up after the 1.5 s budget; max ${round(slow.max)}; pages said ${notices}` },
      { metric: "blob page of the 100 MB file, server time", value: round(bigPage.ms), unit: "ms", note: "too large to display: sized by cat-file info, never read" },
    ],
    notes: [
      "One repo built with git hash-object/mktree/commit-tree: big.txt (100 MiB of text), lib.rs, slow.md, README.md, app.ts; imported with `cook repo add --clone`.",
      "Under load: one client downloads /raw/main/big.txt again and again, reading as fast as it can; another requests lib.rs and slow.md blob pages one after the other; the measured client requests the other pages one at a time. Server time is the request log's `ms`.",
      `The server used ${cpuShare.toFixed(2)} cores (main thread, render workers) during the measurement; the git processes of the downloads are not counted.`,
    ],
  });
} finally {
  await server?.stop();
  removeDir(work);
}
