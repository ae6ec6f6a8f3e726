#!/usr/bin/env node
// Probe (not run by run-all): where the time of a ref-only push through Cook goes.
//
//   node scripts/bench/probes/push-profile.mjs [--runs=9] [--commits=0] [--cli=<another build>/dist/src/cli/main.js]
//
// One `cook serve` (PGlite), one repo (this project's own history), `--runs` pushes that each create a branch at an existing commit
// (or, with --commits=N, a branch of N new code-like commits, see makeCommits), twice: with the repo's hooks as Cook installs them, then with both hooks replaced by a `sh` script
// that only reads its input (the floor: smart HTTP, receive-pack and git's own work). For each it
// prints medians of the client's wall time and of the server's request times (request log), and the
// CPU each part used per push, from /proc: the client's git processes, the server's Node process,
// and the server's children (receive-pack with everything it waits for: hooks, curl, unpack-objects,
// rev-list, gc --auto). CPU time is what other load on a shared machine disturbs least.
// `--cli` measures another build (e.g. an older commit unpacked with `git archive` and built).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDir, repoRoot, requireBuild, tempDir } from "../lib/common.mjs";
import { cliPath, cook, git, makeCommits, median, processCpuMs, round, startCook } from "../git-transport/lib.mjs";

const flags = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")));
const runs = Number(flags.runs ?? 9);
const commits = Number(flags.commits ?? 0);
const cli = flags.cli ?? cliPath;
requireBuild();

/** CPU ms this process's waited-for children used so far (the client's git processes). */
function ownChildrenCpuMs() {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

const dir = tempDir("cook-probe-push-");
const server = await startCook({ dataDir: join(dir, "data"), cli });
try {
  await cook(server.url, ["repo", "add", "probe"]);
  const work = join(dir, "work");
  await git(["init", "-q", "--bare", work]);
  await git(["fetch", "-q", "--no-tags", repoRoot, "HEAD:refs/heads/main"], { cwd: work });
  await git(["push", "-q", `${server.url}/probe.git`, "main"], { cwd: work });
  const main = (await git(["rev-parse", "main"], { cwd: work })).stdout.trim();
  let seed = 1;
  const hooksDir = join(dir, "data", "repos", "probe.git", "hooks");

  const measure = async (label) => {
    await git(["push", "-q", `${server.url}/probe.git`, `main:refs/heads/${label}-warm-up`], { cwd: work });
    const since = server.requests.length;
    const wall = [];
    const cpu = { client: 0, serverNode: 0, serverChildren: 0 };
    for (let i = 0; i < runs; i++) {
      const branch = `${label}-${i}`;
      if (commits > 0) await makeCommits(work, branch, main, commits, seed++);
      const serverBefore = processCpuMs(server.pid);
      const clientBefore = ownChildrenCpuMs();
      wall.push((await git(["push", "-q", `${server.url}/probe.git`, `${commits > 0 ? branch : "main"}:refs/heads/${branch}`], { cwd: work })).ms);
      const serverAfter = processCpuMs(server.pid);
      cpu.client += ownChildrenCpuMs() - clientBefore;
      cpu.serverNode += serverAfter.self - serverBefore.self;
      cpu.serverChildren += serverAfter.children - serverBefore.children;
    }
    const requestMs = (path) => round(median(server.requests.slice(since).filter((r) => r.path === path).map((r) => r.ms)));
    return {
      label,
      wallMs: round(median(wall)),
      wallRuns: wall.map(Math.round),
      requests: {
        "GET info/refs": requestMs("/probe.git/info/refs"),
        "POST git-receive-pack": requestMs("/probe.git/git-receive-pack"),
        "POST pre-receive hook call": requestMs("/internal/hooks/pre-receive"),
        "POST post-receive hook call": requestMs("/internal/hooks/post-receive"),
      },
      cpuMsPerPush: Object.fromEntries(Object.entries(cpu).map(([part, ms]) => [part, round(ms / runs)])),
    };
  };

  const installed = await measure("hooks");
  const script = readFileSync(join(hooksDir, "pre-receive"), "utf8");
  for (const hook of ["pre-receive", "post-receive"]) writeFileSync(join(hooksDir, hook), "#!/bin/sh\ncat >/dev/null\n", { mode: 0o755 });
  const floor = await measure("no-op-hooks");
  for (const hook of ["pre-receive", "post-receive"]) writeFileSync(join(hooksDir, hook), script, { mode: 0o755 });

  for (const result of [installed, floor]) console.log(JSON.stringify(result));
  console.log(`hooks cost per push: ${round(installed.wallMs - floor.wallMs)} ms wall, ${round(installed.cpuMsPerPush.serverChildren - floor.cpuMsPerPush.serverChildren)} ms CPU in the server's children, ${round(installed.cpuMsPerPush.serverNode - floor.cpuMsPerPush.serverNode)} ms CPU in the server's Node`);
} finally {
  await server.stop();
  removeDir(dir);
}
