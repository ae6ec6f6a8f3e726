#!/usr/bin/env node
// Branches and environments, side by side with git's own tool, on 127.0.0.1:
//
//   1. `cook branch create <repo> <name> --env=local` (the CLI, end to end: node start, API call,
//      ref, record, clone --shared + checkout) vs `git worktree add -b <name>` on a copy of the same
//      bare repo — the benchmark repo of the forge issue (git-transport/build-repo.mjs). Runs are
//      interleaved, each pair timed back to back; the median of the per-pair ratios   [≤ 1.5×]
//   2. the same with --env=sandbox (creation only: the sandbox wraps processes, not the checkout) [≤ 2×]
//   3. an idle environment costs no server process: processes whose working folder is in an
//      environment, after 100 environments were made and left idle                        [0]
//   (the dashboard with 100 branches: branch-dashboard.mjs)
//
//   npm run build && node scripts/bench/branches.mjs
//   BENCH_BRANCH_RUNS=7 (pairs per backend)   BENCH_QUIET_WAIT_S=120   BENCH_REPO_COMMITS=10000
import { cpSync, readdirSync, readlinkSync, rmSync, mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ensureRepo } from "./git-transport/build-repo.mjs";
import { cook, fmtMs, git, median, round, startCook, waitForQuiet } from "./git-transport/lib.mjs";

const runs = Number(process.env.BENCH_BRANCH_RUNS || 7);
const dashboardBranches = 100;
const log = (line = "") => process.stdout.write(`${line}\n`);
const results = [];
const result = (metric, value, unit, target, pass, detail) => results.push({ metric, value: round(value, unit === "ratio" ? 2 : 1), unit, target, pass, detail });
const timed = async (work) => {
  const at = performance.now();
  await work();
  return performance.now() - at;
};

const root = mkdtempSync(join(tmpdir(), "cook-bench-branches-"));
const { gitDir: benchRepo, meta } = await ensureRepo({ log });
log(`benchmark repo: ${benchRepo} (${meta.commits ?? "?"} commits)`);
const server = await startCook({ dataDir: join(root, "data") });
try {
  await cook(server.url, ["repo", "add", "bench", `--clone=${benchRepo}`]);
  // The peer: git worktree add on its own copy of the same bare repo (worktree add writes into the repo).
  const peerRepo = join(root, "peer.git");
  cpSync(benchRepo, peerRepo, { recursive: true });
  const defaultBranch = (await git(["--git-dir", peerRepo, "symbolic-ref", "--short", "HEAD"])).stdout.toString().trim();

  for (const backend of ["local", "sandbox"]) {
    await waitForQuiet(log);
    const ratios = [];
    const cookMs = [];
    const peerMs = [];
    for (let i = 0; i < runs; i++) {
      const name = `${backend}-${i}`;
      const peer = await timed(() => git(["--git-dir", peerRepo, "worktree", "add", "--quiet", "-b", name, join(root, "worktrees", name), defaultBranch]));
      const ours = await timed(() => cook(server.url, ["branch", "create", "bench", name, `--env=${backend}`]));
      ratios.push(ours / peer);
      cookMs.push(ours);
      peerMs.push(peer);
      log(`  ${backend} #${i}: cook branch create ${fmtMs(ours)}, git worktree add ${fmtMs(peer)} (${(ours / peer).toFixed(2)}×)`);
    }
    const limit = backend === "local" ? 1.5 : 2;
    result(`branch create --env=${backend} / git worktree add`, median(ratios), "ratio", `≤ ${limit}`, median(ratios) <= limit, `median of ${runs} pairs; cook ${fmtMs(median(cookMs))}, git worktree add ${fmtMs(median(peerMs))}`);
  }

  // A small repo for the idle environments: 100 checkouts of the benchmark repo would only fill the disk.
  await cook(server.url, ["repo", "add", "small"]);
  const work = join(root, "small");
  await git(["clone", "--quiet", `${server.url}/small.git`, work]);
  await git(["-C", work, "-c", "user.name=Bench", "-c", "user.email=bench@example.com", "commit", "--quiet", "--allow-empty", "-m", "first"]);
  await git(["-C", work, "push", "--quiet", "origin", "HEAD:main"]);
  for (let i = 0; i < dashboardBranches; i++) await cook(server.url, ["branch", "create", "small", `work-${String(i).padStart(3, "0")}`, "--env=local"]);
  const envRoot = join(root, "data", "envs");
  let inEnvironments = 0;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(envRoot)) inEnvironments++;
    } catch {}
  }
  result("processes in idle environments", inEnvironments, "count", "0", inEnvironments === 0, `${dashboardBranches + 2 * runs} environments, none attached or running a command`);
} finally {
  await server.stop();
  if (!process.env.BENCH_KEEP) rmSync(root, { recursive: true, force: true });
}

log("");
log(`summary (load average ${loadavg().map((l) => l.toFixed(2)).join(" ")})`);
for (const r of results) log(`  ${r.metric.padEnd(52)} ${String(r.value).padStart(8)} ${r.unit.padEnd(6)} ${r.target ? `target ${r.target}` : ""}${r.pass === null ? "" : r.pass ? "  PASS" : "  FAIL"}`);
process.stdout.write(`${JSON.stringify({ name: "branches", results, command: "node scripts/bench/branches.mjs" })}\n`);
