#!/usr/bin/env node
// Push latency of `cook serve` side by side with the plain peer: Debian's nginx + fcgiwrap +
// git-http-backend serving a copy of the same bare repo (no hooks, http.receivepack on). Same git
// client, same machine, runs interleaved so that other load hits both alike:
//
//   1. a push that only creates a ref (no new objects)          median of BENCH_PUSH_RUNS   [≤ 2× peer]
//   2. a push of 200 new commits (code-like edits of 1–3 files)  median of BENCH_PUSH_RUNS   [≤ 1.1× peer]
//   3. a push creating 10,000 refs: the time the server takes to record it (the post-receive
//      hook's request, from the request log), with PGlite and with PostgreSQL             [≤ 1 s]
//      (receive-pack runs on the repo directly with the hooks' environment: see section 3 below)
//
//   npx tsc -p . && node scripts/bench/push-latency.mjs
//   BENCH_PUSH_RUNS=9 (default)   BENCH_QUIET_WAIT_S=120   BENCH_KEEP=1 (keep the temp dir)
//   BENCH_CLI=<another build's dist/src/cli/main.js> (measure that build's server instead)
//   BENCH_COMPARE_CLI=<another build's dist/src/cli/main.js> (a fourth target, interleaved with the others:
//     that build's server on a copy of the repo, for a before/after that load on the machine hits alike)
//
// Needs nginx and fcgiwrap (Debian: apt-get install nginx-light fcgiwrap); run as root with apt-get
// available, it installs them itself. Prints a summary, then one JSON line (lib/common.mjs report).
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { repoRoot, report, requireBuild, scratchDatabase, tempDir } from "./lib/common.mjs";
import { cliPath, clientEnv, cook, fmtMs, freePort, git, makeCommits, median, round, sleep, startCook, waitForQuiet } from "./git-transport/lib.mjs";

const runs = Number(process.env.BENCH_PUSH_RUNS || 9);
const cli = process.env.BENCH_CLI || cliPath;
const compareCli = process.env.BENCH_COMPARE_CLI;
const manyRefs = 10_000;
const gitHttpBackend = "/usr/lib/git-core/git-http-backend";
const log = (line = "") => process.stdout.write(`${line}\n`);
const rows = [];
const notes = [];
const row = (metric, value, unit, target, pass, note) => rows.push({ metric, value: round(value, unit === "×" ? 2 : 1), unit, target, pass, note });

function ensurePeerInstalled() {
  const missing = () => ["nginx", "fcgiwrap"].filter((cmd) => spawnSync("sh", ["-c", `command -v ${cmd} || test -x /usr/sbin/${cmd}`]).status !== 0);
  if (missing().length && process.getuid?.() === 0 && spawnSync("sh", ["-c", "command -v apt-get"]).status === 0) {
    log(`installing ${missing().join(", ")} (apt-get install nginx-light fcgiwrap)`);
    spawnSync("apt-get", ["install", "-y", "-qq", "nginx-light", "fcgiwrap"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  }
  if (missing().length || !existsSync(gitHttpBackend)) {
    process.stderr.write(`push-latency: needs nginx, fcgiwrap and ${gitHttpBackend}; on Debian: apt-get install nginx-light fcgiwrap git\n`);
    process.exit(1);
  }
}

/** A long-running helper of ours in its own process group (fcgiwrap forks workers): stop() ends the group. */
function daemon(cmd, args) {
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  child.on("exit", (code, signal) => code && log(`  ${cmd} exited ${code ?? signal}: ${stderr.trim()}`));
  return {
    stop() {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
    },
  };
}

/** nginx (one process, temp prefix, loopback port) → fcgiwrap → git-http-backend over projectRoot. */
async function startPeer(dir, projectRoot) {
  const socket = join(dir, "fcgiwrap.sock");
  const fcgiwrap = daemon("fcgiwrap", ["-c", "4", "-s", `unix:${socket}`]);
  for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(10);
  const port = await freePort();
  for (const temp of ["client_body", "fastcgi", "proxy", "uwsgi", "scgi"]) mkdirSync(join(dir, temp), { recursive: true });
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  fastcgi_temp_path ${dir}/fastcgi;
  proxy_temp_path ${dir}/proxy;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 0;
  server {
    listen 127.0.0.1:${port};
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME ${gitHttpBackend};
      fastcgi_param GIT_PROJECT_ROOT ${projectRoot};
      fastcgi_param GIT_HTTP_EXPORT_ALL "";
      fastcgi_param PATH_INFO $uri;
      fastcgi_param REMOTE_USER bench;
      fastcgi_param GIT_CONFIG_NOSYSTEM 1;
      fastcgi_param GIT_CONFIG_GLOBAL /dev/null;
      fastcgi_pass unix:${socket};
    }
  }
}
`,
  );
  const nginx = daemon("nginx", ["-p", dir, "-e", join(dir, "nginx-error.log"), "-c", conf]);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const probe = await git(["ls-remote", `${url}/bench.git`], { allowFail: true });
    if (probe.code === 0) break;
    if (i > 200) throw new Error(`the peer at ${url} does not answer: ${probe.stderr.trim()}`);
    await sleep(25);
  }
  return { url, stop: () => (nginx.stop(), fcgiwrap.stop()) };
}

/** Pushes the refspecs to every target, rotating which goes first each round; returns wall ms by target name. */
async function pushAll(work, targets, refspecs, round) {
  const ms = {};
  for (let k = 0; k < targets.length; k++) {
    const target = targets[(round + k) % targets.length];
    ms[target.name] = (await git(["push", "--quiet", target.url, ...refspecs], { cwd: work })).ms;
  }
  return ms;
}

const serverMs = (server, path, since) => server.requests.slice(since).filter((r) => r.path === path).map((r) => r.ms);

requireBuild();
ensurePeerInstalled();
const dir = tempDir("cook-bench-push-");
let cookServer;
let compareServer;
let pgServer;
let peer;
let database;
try {
  log(`load average at start ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  cookServer = await startCook({ dataDir: join(dir, "cook"), cli });
  await cook(cookServer.url, ["repo", "add", "bench"]);

  // The client's repo: this project's own history as main (real source files), pushed through Cook;
  // the peer serves a copy of that bare repo.
  const work = join(dir, "work");
  await git(["init", "-q", "--bare", work]);
  await git(["fetch", "-q", "--no-tags", repoRoot, "HEAD:refs/heads/main"], { cwd: work });
  await git(["push", "--quiet", `${cookServer.url}/bench.git`, "main"], { cwd: work });
  // A diagnostic third target: the same server and repo with both hooks replaced by a script that
  // only reads its input, which splits Cook's extra time into the hooks' share and the rest.
  await cook(cookServer.url, ["repo", "add", "no-hooks"]);
  await git(["push", "--quiet", `${cookServer.url}/no-hooks.git`, "main"], { cwd: work });
  for (const hook of ["pre-receive", "post-receive"]) writeFileSync(join(dir, "cook", "repos", "no-hooks.git", "hooks", hook), "#!/bin/sh\ncat >/dev/null\n", { mode: 0o755 });
  const peerRoot = join(dir, "peer");
  cpSync(join(dir, "cook", "repos", "bench.git"), join(peerRoot, "bench.git"), { recursive: true });
  for (const hook of ["pre-receive", "post-receive"]) rmSync(join(peerRoot, "bench.git", "hooks", hook), { force: true });
  await git(["--git-dir", join(peerRoot, "bench.git"), "config", "http.receivepack", "true"]);
  peer = await startPeer(dir, peerRoot);
  const targets = [
    { name: "cook", url: `${cookServer.url}/bench.git` },
    { name: "peer", url: `${peer.url}/bench.git` },
    { name: "noHooks", url: `${cookServer.url}/no-hooks.git` },
  ];
  if (compareCli) {
    compareServer = await startCook({ dataDir: join(dir, "cook-compare"), cli: compareCli });
    await cook(compareServer.url, ["repo", "add", "bench"]);
    await git(["push", "--quiet", `${compareServer.url}/bench.git`, "main"], { cwd: work });
    targets.push({ name: "compare", url: `${compareServer.url}/bench.git` });
    log(`compare: ${compareCli} at ${compareServer.url}`);
  }
  const main = (await git(["rev-parse", "main"], { cwd: work })).stdout.trim();
  log(`cook ${cookServer.url}, peer (nginx + fcgiwrap + git-http-backend) ${peer.url}, repo at ${main.slice(0, 12)}`);

  // 1. Ref-only pushes.
  log("\nref-only push");
  await waitForQuiet(log);
  await pushAll(work, targets, [`main:refs/heads/warm-up`], 0);
  const refOnly = Object.fromEntries(targets.map((target) => [target.name, []]));
  const since = cookServer.requests.length;
  for (let i = 0; i < runs; i++) {
    const ms = await pushAll(work, targets, [`main:refs/heads/ref-only-${i}`], i);
    for (const name of Object.keys(refOnly)) refOnly[name].push(ms[name]);
  }
  const pre = median(serverMs(cookServer, "/internal/hooks/pre-receive", since));
  const post = median(serverMs(cookServer, "/internal/hooks/post-receive", since));
  const request = median(serverMs(cookServer, "/bench.git/git-receive-pack", since));
  const refRatio = median(refOnly.cook) / median(refOnly.peer);
  for (const [name, values] of Object.entries(refOnly)) log(`  ${name.padEnd(7)} ${values.map((ms) => Math.round(ms)).join(" ")} ms, median ${fmtMs(median(values))}`);
  log(`  ratio cook / peer ${refRatio.toFixed(2)}; cook server: receive-pack request ${fmtMs(request)}, pre-receive call ${fmtMs(pre)}, post-receive call ${fmtMs(post)} (medians)`);
  row("ref-only push, cook / peer", refRatio, "×", "≤ 2", refRatio <= 2, `git push of one new branch at an existing commit, median of ${runs} each, interleaved; cook ${round(median(refOnly.cook))} ms, peer ${round(median(refOnly.peer))} ms; load average ${loadavg()[0].toFixed(2)}`);
  row("ref-only push, cook", median(refOnly.cook), "ms", undefined, undefined, `client wall time; runs ${refOnly.cook.map((ms) => Math.round(ms)).join(", ")}; in the server: receive-pack request ${round(request)} ms, pre-receive hook call ${round(pre)} ms, post-receive ${round(post)} ms (medians)`);
  row("ref-only push, peer", median(refOnly.peer), "ms", undefined, undefined, `client wall time; runs ${refOnly.peer.map((ms) => Math.round(ms)).join(", ")}`);
  row("ref-only push, cook with no-op hooks", median(refOnly.noHooks), "ms", undefined, undefined, `diagnostic: the same server, hooks replaced by \`cat >/dev/null\`; runs ${refOnly.noHooks.map((ms) => Math.round(ms)).join(", ")}`);
  if (compareCli) row("ref-only push, compared build / peer", median(refOnly.compare) / median(refOnly.peer), "×", undefined, undefined, `${compareCli}: median ${round(median(refOnly.compare))} ms; runs ${refOnly.compare.map((ms) => Math.round(ms)).join(", ")}`);

  // 2. 200 new commits.
  log("\n200 new commits");
  await waitForQuiet(log);
  const commits = Object.fromEntries(targets.map((target) => [target.name, []]));
  for (let i = 0; i < runs; i++) {
    await makeCommits(work, `commits-${i}`, main, 200, i + 1);
    const ms = await pushAll(work, targets, [`refs/heads/commits-${i}`], i);
    for (const name of Object.keys(commits)) commits[name].push(ms[name]);
  }
  const commitRatio = median(commits.cook) / median(commits.peer);
  for (const [name, values] of Object.entries(commits)) log(`  ${name.padEnd(7)} ${values.map((ms) => Math.round(ms)).join(" ")} ms, median ${fmtMs(median(values))}`);
  log(`  ratio cook / peer ${commitRatio.toFixed(2)}`);
  row("200-commit push, cook / peer", commitRatio, "×", "≤ 1.1", commitRatio <= 1.1, `git push of a new branch of 200 new commits (each inserts 20–60 lines from another file into 1–3 of the repo's source files), median of ${runs} each, interleaved; cook ${round(median(commits.cook))} ms, peer ${round(median(commits.peer))} ms`);
  row("200-commit push, cook with no-op hooks", median(commits.noHooks), "ms", undefined, undefined, `diagnostic, as above; runs ${commits.noHooks.map((ms) => Math.round(ms)).join(", ")}`);
  if (compareCli) row("200-commit push, compared build / peer", median(commits.compare) / median(commits.peer), "×", undefined, undefined, `${compareCli}: median ${round(median(commits.compare))} ms; runs ${commits.compare.map((ms) => Math.round(ms)).join(", ")}`);

  // 3. 10,000 refs in one push, recorded by PGlite and by PostgreSQL. git 2.39's HTTP client needs
  // minutes for a push of 10,000 refs (quadratic on the client side: 2,000 refs took 9 s, 10,000 over
  // 4 minutes, to the peer as much as to Cook), so this push runs receive-pack on the server's repo
  // directly, with the environment Cook's smart HTTP handler gives it: the same receive-pack, the same
  // hooks, the same calls to the server.
  log(`\n${manyRefs.toLocaleString("en")} refs in one push (receive-pack run locally with the hooks' environment)`);
  const names = Array.from({ length: manyRefs }, (_, i) => `refs/heads/many/${String(i).padStart(5, "0")}`);
  await git(["update-ref", "--stdin"], { cwd: work, input: names.map((name) => `create ${name} ${main}\n`).join("") });
  database = await scratchDatabase("cook_bench_push");
  pgServer = await startCook({ dataDir: join(dir, "cook-pg"), env: { COOK_DATABASE_URL: database.url }, cli });
  await cook(pgServer.url, ["repo", "add", "bench"]);
  await git(["push", "--quiet", `${pgServer.url}/bench.git`, "main"], { cwd: work });
  for (const [store, server, dataDir] of [["PGlite", cookServer, join(dir, "cook")], ["PostgreSQL", pgServer, join(dir, "cook-pg")]]) {
    await waitForQuiet(log);
    const hookEnv = clientEnv({
      COOK_HOOK_URL: server.url,
      COOK_HOOK_SECRET: readFileSync(join(dataDir, "hook-secret"), "utf8").trim(),
      COOK_REPO: "bench",
      COOK_PUSHER: JSON.stringify({ name: "bench", scope: "admin" }),
    });
    const before = server.requests.length;
    const { ms } = await git(["push", "--quiet", join(dataDir, "repos", "bench.git"), "refs/heads/many/*"], { cwd: work, env: hookEnv });
    const [record] = serverMs(server, "/internal/hooks/post-receive", before);
    const [check] = serverMs(server, "/internal/hooks/pre-receive", before);
    const recorded = (await git(["--git-dir", join(dataDir, "repos", "bench.git"), "for-each-ref", "refs/heads/many/"])).stdout.trim().split("\n").length;
    if (recorded !== manyRefs || record === undefined) throw new Error(`the ${store} server has ${recorded} refs and ${record === undefined ? "no" : "a"} post-receive call`);
    log(`  cook on ${store}: push ${fmtMs(ms)}, pre-receive call ${fmtMs(check)}, post-receive call (records the refs) ${fmtMs(record)}`);
    row(`10,000-ref push recorded, ${store}`, record, "ms", "≤ 1000", record <= 1000, `server time of the post-receive hook call (request log "ms": read, parse, one transaction of ${manyRefs} ref_updates rows and ${manyRefs} events); the pre-receive call took ${round(check)} ms; the whole push ${round(ms)} ms`);
  }

  if (cli !== cliPath) notes.push(`Server: ${cli}.`);
  notes.push(`Peer: Debian's nginx (one process, master_process off) → fcgiwrap -c 4 → ${gitHttpBackend}, on a copy of the same bare repo without Cook's hooks.`);
  notes.push("Cook runs PGlite (the embedded default) except for the PostgreSQL row; both run on 127.0.0.1 with no auth (local trust).");
  notes.push("Each round rotates which target is pushed to first, so load from other work on the machine falls on all alike; a third target, the same Cook with both hooks replaced by `cat >/dev/null`, splits Cook's extra time into the hooks' share and the rest.");
  notes.push("The 10,000-ref push runs receive-pack on Cook's repo directly with the environment Cook's smart HTTP handler gives it (same hooks, same server calls): git 2.39's HTTP client is quadratic in the refs of a push and needs minutes for 10,000, whoever the server is.");
} catch (err) {
  log(`FAILED: ${err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  peer?.stop();
  await cookServer?.stop();
  await compareServer?.stop();
  await pgServer?.stop();
  await database?.drop().catch(() => {});
  if (process.env.BENCH_KEEP !== "1") rmSync(dir, { recursive: true, force: true });
  else log(`kept ${dir}`);
}
if (!process.exitCode) {
  report({ benchmark: "push-latency", title: "Push latency (side by side with nginx + git-http-backend)", rows, notes, raw: {} });
}
