#!/usr/bin/env node
// Git transport and code browser benchmarks of `cook serve`, with a real git client, on 127.0.0.1:
//
//   1. the benchmark repo (build-repo.mjs; built once, then cached): ≥ 50 MB packed, ≥ 10,000 commits
//   2. clone through the forge vs `git clone --no-local` of the same bare repo on disk   [≤ 1.10]
//   3. push of every branch and tag to an empty forge repo vs to an empty file:// repo   [≤ 1.15]
//   4. 20 concurrent clones through the forge: wall time, errors                          [0 errors]
//   5. `git ls-remote` of one branch of a repo with 10,000 branches, protocol v2          [< 100 ms]
//   6. tree page of a 5,000-entry folder [≤ 100 ms] and a blob page [≤ 30 ms], server time
//
// The latency measurements (6, then 5) run first, before the heavy ones. The machine's load average
// is printed: on a shared 2-core machine other work moves these numbers a lot.
// Prints a human summary, then one JSON line: {"name":"git-transport","results":[…],…}.
//
//   npm run build && node scripts/bench/git-transport/run.mjs
//   BENCH_CLONE_RUNS=5 BENCH_PUSH_RUNS=5 BENCH_CONCURRENCY=20 BENCH_CONCURRENT_BASELINE=1
//   BENCH_CLONE_CHECKOUT=1 (clone with a checkout; default: --bare, the transport alone)
//   BENCH_TIMEOUT_MS=2400000 (the whole run's limit)
//   BENCH_QUIET_WAIT_S=120 (before each section, wait up to this long for the machine to be < 15% busy)
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ensureRepo, packSizeMB } from "./build-repo.mjs";
import { cliPath, cook, fmtMs, git, httpGet, killActive, median, processCpuMs, round, startCook, summary, waitForQuiet } from "./lib.mjs";

const started = performance.now();
const cloneRuns = Number(process.env.BENCH_CLONE_RUNS || 5);
const pushRuns = Number(process.env.BENCH_PUSH_RUNS || 5);
const concurrency = Number(process.env.BENCH_CONCURRENCY || 20);
const concurrentBaseline = process.env.BENCH_CONCURRENT_BASELINE !== "0";
const cloneCheckout = process.env.BENCH_CLONE_CHECKOUT === "1";
const lsRemoteRuns = 20;
const pageRuns = 30;
const branchCount = 10_000;
const totalTimeoutMs = Number(process.env.BENCH_TIMEOUT_MS || 40 * 60_000);

const results = [];
const log = (line = "") => process.stdout.write(`${line}\n`);
function result(metric, value, unit, target, pass, detail) {
  results.push({ metric, value: typeof value === "number" ? round(value, unit === "ratio" ? 3 : 1) : value, unit, target, pass, detail });
}

let server;
let work;
let gitVersion = "?";
function finish(code) {
  log("");
  log(`summary (load average at the end ${loadavg().map((l) => l.toFixed(2)).join(" ")})`);
  for (const r of results) {
    const verdict = r.pass === null ? "" : r.pass ? "  PASS" : "  FAIL";
    log(`  ${r.metric.padEnd(34)} ${String(r.value).padStart(10)} ${r.unit.padEnd(5)} ${r.target ? `target ${r.target}` : ""}${verdict}`);
  }
  process.stdout.write(`${JSON.stringify({ name: "git-transport", results, command: "node scripts/bench/git-transport/run.mjs", tookMs: Math.round(performance.now() - started) })}\n`);
  process.exitCode = code;
}

const watchdog = setTimeout(() => {
  result("run", "timed out", "ms", null, false, `the whole run went over ${totalTimeoutMs} ms and was stopped`);
  killActive();
  void server?.stop();
  finish(1);
  if (work && process.env.BENCH_KEEP !== "1") rmSync(work, { recursive: true, force: true });
  process.exit(1);
}, totalTimeoutMs);
watchdog.unref();

/** Runs one section; a failure becomes a failed row rather than the end of the run. */
async function section(name, body) {
  log("");
  log(name);
  const busy = await waitForQuiet(log);
  if (busy > 0.15) log(`  (measuring anyway: machine ${Math.round(busy * 100)}% busy)`);
  try {
    await body();
  } catch (err) {
    log(`  FAILED: ${err.stack ?? err}`);
    result(`${name}.error`, "error", "count", null, false, String(err.message ?? err).slice(0, 500));
  }
}

const cloneArgs = cloneCheckout ? ["clone", "-q"] : ["clone", "-q", "--bare"];

async function timedClone(source, dest, expectedHead) {
  const args = [...cloneArgs, ...(source.startsWith("/") ? ["--no-local"] : []), source, dest];
  const { ms } = await git(args, { timeoutMs: 10 * 60_000 });
  if (expectedHead) {
    const gitDir = cloneCheckout ? join(dest, ".git") : dest;
    const head = (await git(["--git-dir", gitDir, "rev-parse", "refs/heads/main"])).stdout.trim();
    if (head !== expectedHead) throw new Error(`clone of ${source} has main at ${head}, not ${expectedHead}`);
  }
  rmSync(dest, { recursive: true, force: true });
  return ms;
}

try {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build first`);
  gitVersion = (await git(["--version"])).stdout.trim().replace(/^git version /, "");
  work = mkdtempSync(join(process.env.TMPDIR || tmpdir(), "cook-bench-git-"));
  const dataDir = join(work, "data");
  mkdirSync(dataDir);
  const out = join(work, "out");
  mkdirSync(out);

  log(`git ${gitVersion}, node ${process.version}, ${availableParallelism()} CPUs, load average at start ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);

  // 1. The repository.
  log("");
  log("repository");
  const ensureStarted = performance.now();
  const built = await ensureRepo({ log });
  const ensureMs = performance.now() - ensureStarted;
  const { gitDir: source, meta } = built;
  const sizeMB = packSizeMB(source);
  log(`  ${built.cached ? "cached" : "built"}: ${source}`);
  log(`  ${meta.commits} commits, ${meta.branches} branches, ${meta.tags} tags, ${meta.objects} objects, size-pack ${sizeMB.toFixed(1)} MB`);
  log(`  build took ${fmtMs(meta.buildMs)}${built.cached ? " (when it was built; reused now)" : ""}`);
  result("repo.size-pack", sizeMB, "MB", "≥ 50", sizeMB >= 50, `git count-objects size-pack after repack -adf and gc (${(sizeMB / 1.048576).toFixed(1)} MiB), ${meta.objects} objects, one pack with bitmap; ${source}`);
  result("repo.commits", meta.commits, "count", "≥ 10000", meta.commits >= 10_000, `${meta.branches} branches, ${meta.tags} annotated tags, ${meta.headFiles} files at main from ${meta.corpusFiles} node_modules sources`);
  result("repo.build", meta.buildMs, "ms", null, null, `${built.cached ? `cached (found in ${fmtMs(ensureMs)} this run): this is the time it took when built` : "built in this run"} (fast-import ${fmtMs(meta.importMs)}, repack+gc ${fmtMs(meta.gcMs)})`);

  server = await startCook({ dataDir });
  const url = server.url;
  log(`  cook serve at ${url}, data dir ${dataDir}`);
  await cook(url, ["repo", "add", "big", `--clone=${source}`]);
  const forgeDir = join(dataDir, "repos", "big.git");
  const head = meta.head;
  log(`  imported as big (${readdirSync(join(forgeDir, "objects", "pack")).filter((f) => f.endsWith(".bitmap")).length ? "with" : "without"} a bitmap)`);

  // 6. Code browser pages (first: the latency measurements run while nothing else of ours does).
  await section("code browser", async () => {
    const page = async (name, path, check) => {
      const pageUrl = `${url}${path}`;
      for (let i = 0; i < 5; i++) {
        const r = await httpGet(pageUrl);
        if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}`);
        check(r.body);
      }
      const wall = [];
      const serverMs = [];
      let bytes = 0;
      const cpuBefore = processCpuMs(server.pid).self;
      for (let i = 0; i < pageRuns; i++) {
        const id = `bench-${name}-${i}-${process.pid}`;
        const r = await httpGet(pageUrl, { requestId: id });
        if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}`);
        bytes = Buffer.byteLength(r.body);
        wall.push(r.ms);
        const entry = await server.entry(id);
        if (!entry) throw new Error(`no request log line for ${id}`);
        serverMs.push(entry.ms);
      }
      const cpuMs = (processCpuMs(server.pid).self - cpuBefore) / pageRuns;
      return { wall: summary(wall), server: summary(serverMs), bytes, cpuMs };
    };
    const treeEntries = (await git(["--git-dir", source, "ls-tree", "main", "generated/strings/"])).stdout.trim().split("\n").length;
    const tree = await page("tree", "/repos/big/tree/main/generated/strings", (body) => {
      if (!body.includes("s-4949.ts") || !body.includes("group-49")) throw new Error("the tree page does not list the folder's entries");
    });
    log(`  tree of ${treeEntries} entries: server median ${fmtMs(tree.server.median)} (p90 ${fmtMs(tree.server.p90)}), wall median ${fmtMs(tree.wall.median)}, server CPU ${fmtMs(tree.cpuMs)} a request, ${(tree.bytes / 1024).toFixed(0)} KiB`);
    result("browse.tree.server.median", tree.server.median, "ms", "≤ 100", tree.server.median <= 100, `GET /repos/big/tree/main/generated/strings (${treeEntries} entries), ${pageRuns} runs after 5 warm-ups; server "ms" p90 ${round(tree.server.p90)}; server CPU ${round(tree.cpuMs)} ms a request; load average ${loadavg()[0].toFixed(2)}; page ${Math.round(tree.bytes / 1024)} KiB`);
    result("browse.tree.wall.median", tree.wall.median, "ms", null, null, `client wall time of the same requests, p90 ${round(tree.wall.p90)}`);

    // The blob: the median-sized .js/.ts file at main, and the one at the 95th percentile.
    const files = (await git(["--git-dir", source, "ls-tree", "-r", "-l", "main", "deps/"])).stdout
      .trim()
      .split("\n")
      .map((line) => {
        const [meta, path] = line.split("\t");
        return { path, size: Number(meta.trim().split(/\s+/)[3]) };
      })
      .filter((f) => /\.(js|ts)$/.test(f.path) && !f.path.endsWith(".d.ts"))
      .sort((a, b) => a.size - b.size || (a.path < b.path ? -1 : 1));
    for (const [label, p] of [["blob", 0.5], ["blob-p95", 0.95]]) {
      const file = files[Math.floor((files.length - 1) * p)];
      const blobPath = `/repos/big/blob/main/${file.path.split("/").map(encodeURIComponent).join("/")}`;
      const blob = await page(label, blobPath, (body) => {
        if (!body.includes(file.path.split("/").pop())) throw new Error(`the blob page of ${file.path} does not name it`);
      });
      const lines = (await git(["--git-dir", source, "cat-file", "blob", `main:${file.path}`])).stdout.split("\n").length;
      log(`  blob ${file.path} (${(file.size / 1024).toFixed(1)} KiB, ${lines} lines, ${label === "blob" ? "median" : "p95"} size of ${files.length} .js/.ts files): server median ${fmtMs(blob.server.median)}, wall median ${fmtMs(blob.wall.median)}, server CPU ${fmtMs(blob.cpuMs)} a request`);
      const target = label === "blob" ? "≤ 30" : null;
      result(`browse.${label}.server.median`, blob.server.median, "ms", target, target ? blob.server.median <= 30 : null, `GET ${blobPath} (${file.size} bytes, ${lines} lines, highlighted; ${label === "blob" ? "median" : "95th percentile"} size of the ${files.length} .js/.ts files at main), ${pageRuns} runs; server "ms" p90 ${round(blob.server.p90)}; server CPU ${round(blob.cpuMs)} ms a request; load average ${loadavg()[0].toFixed(2)}`);
      result(`browse.${label}.wall.median`, blob.wall.median, "ms", null, null, `client wall time, p90 ${round(blob.wall.p90)}; page ${Math.round(blob.bytes / 1024)} KiB`);
    }
  });

  // 5. ls-remote of one branch among 10,000, protocol v2.
  await section("ls-remote", async () => {
    const manySource = join(work, "many-src.git");
    await git(["clone", "--bare", "-q", source, manySource]);
    const revs = (await git(["--git-dir", manySource, "rev-list", `--max-count=${branchCount}`, "main"])).stdout.trim().split("\n");
    const names = revs.map((_, i) => `branch-${String(i).padStart(5, "0")}`);
    await git(["--git-dir", manySource, "update-ref", "--stdin"], { input: names.map((n, i) => `create refs/heads/${n} ${revs[i]}\n`).join("") });
    await git(["--git-dir", manySource, "pack-refs", "--all"]);
    await cook(url, ["repo", "add", "many", `--clone=${manySource}`]);
    const manyDir = join(dataDir, "repos", "many.git");
    const total = (await git(["--git-dir", manyDir, "for-each-ref"])).stdout.trim().split("\n").length;
    const wanted = "refs/heads/branch-05000";
    const expected = `${revs[5000]}\t${wanted}`;
    const manyUrl = `${url}/many.git`;
    // A client that already has every object: its fetch of one branch is ls-refs and nothing else.
    const fetcher = join(work, "fetcher.git");
    await git(["clone", "--bare", "-q", source, fetcher]);

    const variants = {
      // What the issue names. git ≥ 2.20 sends no ref-prefix for ls-remote patterns (they are tail
      // matches: `main` also matches refs/remotes/x/main), so the server lists every ref.
      "ls-remote": {
        args: (v) => ["-c", `protocol.version=${v}`, "ls-remote", manyUrl, wanted],
        check: (r) => r.stdout.trim() === expected,
        prefix: `ref-prefix ${wanted}`,
      },
      // --heads sends `ref-prefix refs/heads/`: every branch, no tags.
      "ls-remote --heads": {
        args: (v) => ["-c", `protocol.version=${v}`, "ls-remote", "--heads", manyUrl, "branch-05000"],
        check: (r) => r.stdout.trim() === expected,
        prefix: "ref-prefix refs/heads/",
      },
      // fetch of an exact ref sends `ref-prefix refs/heads/branch-05000`: the server lists one ref.
      fetch: {
        args: (v) => ["--git-dir", fetcher, "-c", `protocol.version=${v}`, "fetch", "-q", "--no-tags", "--no-write-fetch-head", manyUrl, wanted],
        check: (r) => r.code === 0,
        prefix: `ref-prefix ${wanted}`,
      },
    };
    const { clientEnv } = await import("./lib.mjs");
    const measured = {};
    for (const [label, variant] of Object.entries(variants)) {
      const once = async (version, env) => {
        const r = await git(variant.args(version), { timeoutMs: 60_000, ...(env ? { env } : {}) });
        if (!variant.check(r)) throw new Error(`${label} printed ${JSON.stringify(r.stdout.slice(0, 200))}, not ${expected}`);
        return r;
      };
      const traceFile = join(work, `trace-${label.replace(/\W+/g, "-")}.txt`);
      await once(2, clientEnv({ GIT_TRACE_PACKET: traceFile }));
      const trace = readFileSync(traceFile, "utf8");
      const prefixes = [...trace.matchAll(/> ref-prefix (\S+)/g)].map((m) => m[1]).filter((p, i, all) => all.indexOf(p) === i);
      const v2 = /< version 2$/m.test(trace);
      for (let i = 0; i < 3; i++) await once(2);
      const before = server.requests.length;
      const times = [];
      for (let i = 0; i < lsRemoteRuns; i++) times.push((await once(2)).ms);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const logged = server.requests.slice(before);
      const advertMs = median(logged.filter((r) => r.path === "/many.git/info/refs").map((r) => r.ms));
      const lsRefsMs = median(logged.filter((r) => r.path === "/many.git/git-upload-pack").map((r) => r.ms));
      measured[label] = { times: summary(times), prefixes, v2, advertMs, lsRefsMs };
      log(`  ${label}: median ${fmtMs(median(times))} (min ${fmtMs(Math.min(...times))}, max ${fmtMs(Math.max(...times))}); v2 ${v2 ? "yes" : "NO"}; ref-prefix sent: ${prefixes.length ? `${prefixes[0]}${prefixes.length > 1 ? ` (+${prefixes.length - 1} more)` : ""}` : "none"}; server: info/refs ${fmtMs(advertMs)}, POST ${fmtMs(lsRefsMs)}`);
    }
    const v0 = [];
    for (let i = 0; i < 5; i++) v0.push((await git(variants["ls-remote"].args(0), { timeoutMs: 60_000 })).ms);
    log(`  ls-remote over protocol v0 (every ref advertised), for reference: median ${fmtMs(median(v0))}`);

    const plain = measured["ls-remote"];
    const heads = measured["ls-remote --heads"];
    const fetch = measured.fetch;
    result("ls-remote.v2.median", plain.times.median, "ms", "< 100", plain.times.median < 100 && plain.v2, `git -c protocol.version=2 ls-remote <url> ${wanted}, ${total} refs (packed), ${lsRemoteRuns} runs (min ${Math.round(plain.times.min)}, max ${Math.round(plain.times.max)}); v2: ${plain.v2}; ref-prefix sent: ${plain.prefixes.length ? plain.prefixes.join(", ") : `none (git ${gitVersion} ls-remote never sends patterns as prefixes: they are tail matches), so the server lists all refs`}; server ms: info/refs ${round(plain.advertMs)}, ls-refs ${round(plain.lsRefsMs)}; v0 for reference ${Math.round(median(v0))} ms; load average ${loadavg()[0].toFixed(2)}`);
    result("ls-remote.v2.heads.median", heads.times.median, "ms", "< 100", heads.times.median < 100 && heads.v2 && heads.prefixes.length > 0, `git -c protocol.version=2 ls-remote --heads <url> branch-05000; ref-prefix sent: ${heads.prefixes.join(", ") || "none"}; server ms: info/refs ${round(heads.advertMs)}, ls-refs ${round(heads.lsRefsMs)}`);
    result("fetch.one-ref.v2.median", fetch.times.median, "ms", "< 100", fetch.times.median < 100 && fetch.v2 && fetch.prefixes.includes(wanted), `git -c protocol.version=2 fetch --no-tags <url> ${wanted} into a repo that has the objects (ls-refs only); ref-prefix sent: ${fetch.prefixes.join(", ") || "none"} (the refs a fetch of that name may mean); server ms: info/refs ${round(fetch.advertMs)}, ls-refs ${round(fetch.lsRefsMs)}`);
  });

  // 2. Clone: forge vs git clone --no-local of the same bare repo.
  await section("clone", async () => {
    const forgeUrl = `${url}/big.git`;
    log(`  git ${cloneArgs.join(" ")}: ${forgeUrl} vs --no-local ${forgeDir}; 1 warm-up each, then ${cloneRuns} alternating pairs`);
    await timedClone(forgeUrl, join(out, "warm-forge"), head);
    await timedClone(forgeDir, join(out, "warm-direct"), head);
    const forge = [];
    const direct = [];
    for (let i = 0; i < cloneRuns; i++) {
      const order = i % 2 === 0 ? ["forge", "direct"] : ["direct", "forge"];
      for (const which of order) {
        if (which === "forge") forge.push(await timedClone(forgeUrl, join(out, `clone-f${i}`)));
        else direct.push(await timedClone(forgeDir, join(out, `clone-d${i}`)));
      }
      log(`  run ${i + 1}: forge ${fmtMs(forge[i])}, direct ${fmtMs(direct[i])}`);
    }
    const ratio = median(forge) / median(direct);
    const pairRatios = forge.map((f, i) => f / direct[i]);
    result("clone.forge.median", median(forge), "ms", null, null, `git ${cloneArgs.join(" ")} ${forgeUrl}; runs ${forge.map((v) => Math.round(v)).join(", ")}`);
    result("clone.direct.median", median(direct), "ms", null, null, `git ${cloneArgs.join(" ")} --no-local <bare repo>; runs ${direct.map((v) => Math.round(v)).join(", ")}`);
    result("clone.ratio", ratio, "ratio", "≤ 1.10", ratio <= 1.1, `median forge / median direct over ${cloneRuns} runs each; median of pairwise ratios ${median(pairRatios).toFixed(3)}; load average ${loadavg()[0].toFixed(2)}`);
  });

  // 3. Push every branch and tag into an empty repo: forge vs file://.
  await section("push", async () => {
    const refspecs = ["refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"];
    const expectedRefs = (await git(["--git-dir", source, "for-each-ref"])).stdout.trim().split("\n").length;
    const countRefs = async (gitDir) => (await git(["--git-dir", gitDir, "for-each-ref"])).stdout.trim().split("\n").filter(Boolean).length;
    const forge = [];
    const file = [];
    const noHooks = [];
    const serverMs = [];
    const hookMs = [];
    log(`  git push of ${meta.branches} branches and ${meta.tags} tags into an empty repo; ${pushRuns} rounds of forge, file://, and (diagnostic) forge with the repo's hooks removed`);
    for (let i = 0; i < pushRuns; i++) {
      const order = [["forge", "file", "nohooks"], ["file", "nohooks", "forge"], ["nohooks", "forge", "file"]][i % 3];
      for (const which of order) {
        if (which === "forge" || which === "nohooks") {
          const name = `${which === "forge" ? "push" : "push-nohooks"}-${i}`;
          await cook(url, ["repo", "add", name]);
          const repoPath = join(dataDir, "repos", `${name}.git`);
          // Diagnostic only: without pre-receive and post-receive the push is git's transport alone.
          if (which === "nohooks") for (const hook of ["pre-receive", "post-receive"]) rmSync(join(repoPath, "hooks", hook), { force: true });
          const before = server.requests.length;
          const { ms } = await git(["--git-dir", source, "push", "-q", `${url}/${name}.git`, ...refspecs], { timeoutMs: 15 * 60_000 });
          (which === "forge" ? forge : noHooks).push(ms);
          if (which === "forge") {
            await new Promise((resolve) => setTimeout(resolve, 50));
            const logged = server.requests.slice(before);
            serverMs.push(logged.filter((r) => r.path === `/${name}.git/git-receive-pack`).reduce((sum, r) => sum + r.ms, 0));
            hookMs.push(logged.filter((r) => r.path.startsWith("/internal/hooks/")).reduce((sum, r) => sum + r.ms, 0));
          }
          const got = await countRefs(repoPath);
          if (got !== expectedRefs) throw new Error(`forge repo ${name} has ${got} refs after the push, not ${expectedRefs}`);
        } else {
          const target = join(out, `push-${i}.git`);
          await git(["init", "--bare", "-q", "--initial-branch=main", target]);
          const { ms } = await git(["--git-dir", source, "push", "-q", `file://${target}`, ...refspecs], { timeoutMs: 15 * 60_000 });
          file.push(ms);
          const got = await countRefs(target);
          if (got !== expectedRefs) throw new Error(`file repo has ${got} refs after the push, not ${expectedRefs}`);
          rmSync(target, { recursive: true, force: true });
        }
      }
      log(`  run ${i + 1}: forge ${fmtMs(forge[i])} (receive-pack POSTs ${fmtMs(serverMs[i])}, hook endpoints ${fmtMs(hookMs[i])} server time), file:// ${fmtMs(file[i])}, forge without hooks ${fmtMs(noHooks[i])}`);
    }
    const ratio = median(forge) / median(file);
    const noHooksRatio = median(noHooks) / median(file);
    result("push.forge-nohooks.median", median(noHooks), "ms", null, null, `diagnostic: the forge push with the repo's pre-receive and post-receive hooks deleted, ratio to file:// ${noHooksRatio.toFixed(3)}; runs ${noHooks.map((v) => Math.round(v)).join(", ")}; the hooks' own endpoints took ${Math.round(median(hookMs))} ms server time (median) of the forge pushes`);
    result("push.forge.median", median(forge), "ms", null, null, `git push <url> ${refspecs.join(" ")} into a new empty forge repo; runs ${forge.map((v) => Math.round(v)).join(", ")}`);
    result("push.file.median", median(file), "ms", null, null, `same push to file:// of an empty bare repo; runs ${file.map((v) => Math.round(v)).join(", ")}`);
    result("push.ratio", ratio, "ratio", "≤ 1.15", ratio <= 1.15, `median forge / median file:// over ${pushRuns} runs each; ${expectedRefs} refs each; load average ${loadavg()[0].toFixed(2)}`);
  });

  // 4. Concurrent clones.
  await section("concurrent clones", async () => {
    const once = async (sourceUrl, prefix) => {
      const t0 = performance.now();
      const settled = await Promise.allSettled(Array.from({ length: concurrency }, (_, i) => timedClone(sourceUrl, join(out, `${prefix}-${i}`), head)));
      const wall = performance.now() - t0;
      const ok = settled.filter((s) => s.status === "fulfilled").map((s) => s.value);
      const errors = settled.filter((s) => s.status === "rejected").map((s) => String(s.reason?.message ?? s.reason));
      return { wall, ok, errors };
    };
    const warningsBefore = server.warnings.length;
    const requestsBefore = server.requests.length;
    const forge = await once(`${url}/big.git`, "conc-f");
    const badStatus = server.requests.slice(requestsBefore).filter((r) => r.status !== 200).length;
    const gitErrors = server.warnings.slice(warningsBefore).length;
    const s = summary(forge.ok);
    log(`  ${concurrency} clones through the forge: wall ${fmtMs(forge.wall)}, ${forge.errors.length} failed, per clone median ${fmtMs(s.median)} max ${fmtMs(s.max)}; server: ${badStatus} non-200, ${gitErrors} warnings`);
    for (const e of forge.errors.slice(0, 3)) log(`    ${e}`);
    let baselineNote = "";
    if (concurrentBaseline) {
      const direct = await once(forgeDir, "conc-d");
      log(`  ${concurrency} clones --no-local of the bare repo (reference): wall ${fmtMs(direct.wall)}, ${direct.errors.length} failed`);
      baselineNote = `; the same ${concurrency} clones with --no-local from disk: ${fmtMs(direct.wall)} (forge/disk ${(forge.wall / direct.wall).toFixed(3)})`;
      result("clone.concurrent.direct-wall", direct.wall, "ms", null, null, `${concurrency} concurrent git ${cloneArgs.join(" ")} --no-local of the bare repo, for reference`);
    }
    result("clone.concurrent.wall", forge.wall, "ms", null, null, `${concurrency} concurrent git ${cloneArgs.join(" ")} through the forge; per clone median ${Math.round(s.median)} ms, max ${Math.round(s.max)} ms${baselineNote}`);
    const errors = forge.errors.length + badStatus + gitErrors;
    result("clone.concurrent.errors", errors, "count", "0", errors === 0, `${forge.errors.length} clients failed or got a wrong main, ${badStatus} non-200 answers, ${gitErrors} server warnings${forge.errors[0] ? `; first: ${forge.errors[0].slice(0, 200)}` : ""}`);
  });

  await server.stop();
  server = undefined;
  finish(results.some((r) => r.pass === false) ? 1 : 0);
} catch (err) {
  log(`FAILED: ${err.stack ?? err}`);
  if (server) log(server.output().slice(-3000));
  result("run", "error", "count", null, false, String(err.message ?? err).slice(0, 500));
  await server?.stop();
  finish(1);
} finally {
  clearTimeout(watchdog);
  if (work && process.env.BENCH_KEEP !== "1") rmSync(work, { recursive: true, force: true });
}
