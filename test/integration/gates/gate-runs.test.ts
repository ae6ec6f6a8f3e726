import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { gitOk, revParse, tempDir } from "../../helpers/git.js";
import { branchGates, eventsOf, pushBranch, runReaching, seedRepo } from "../../helpers/gates.js";
import { eventually } from "../../helpers/wait.js";

const statMs = (path: string) => statSync(path).mtimeMs;
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2]!.startsWith("Z");

describe("gate runs on every push", () => {
  let cook: RunningCook;
  let app: string;
  const scratch = tempDir("cook-gate-scratch-");

  before(async () => {
    const defaults = join(scratch, "default-gates.toml");
    writeFileSync(defaults, '[[gates]]\nname = "server-default"\ncommand = "echo judged by the default gates"\n');
    cook = await startCook({ config: `[gates]\nconcurrency = 4\ndefaults_file = "${defaults}"\n` });
    // The gates live on main: ci checks a file, slow sleeps (so a newer push can cancel it), flaky
    // fails with the declared flaky code on its first attempt of a commit.
    app = await seedRepo(cook, "app", {
      "cook.toml": [
        "[[gates]]",
        'name = "ci"',
        `command = "echo checking $COOK_GATE at $COOK_COMMIT; test -f ok.txt || { echo 'ok.txt is missing' >&2; exit 3; }"`,
        "",
        "[[gates]]",
        'name = "flaky"',
        `command = "n=$(cat ${scratch}/$COOK_COMMIT 2>/dev/null || echo 0); echo $((n+1)) > ${scratch}/$COOK_COMMIT; if [ -f flaky.txt ] && [ $n = 0 ]; then exit 75; fi; if [ -f slow.txt ]; then echo $$ > ${scratch}/slow.pid; sleep 30; fi"`,
        "retries = { exit_codes = [75], limit = 2 }",
        "",
        "[[gates]]",
        'name = "last"',
        `command = "printf 'nul:\\\\0:end\\\\n'"`,
        "",
      ].join("\n"),
    });
  });

  after(async () => {
    await cook.stop();
  });

  it("runs the target's gates on a pushed branch, in a clean checkout of the exact commit, and announces each step", async () => {
    const head = await pushBranch(app, "good", { "ok.txt": "ok\n" });
    const run = await runReaching(cook, "good", ["passed", "failed"], { head });
    assert.equal(run.state, "passed", JSON.stringify(run));
    assert.deepEqual(run.results.map((r) => [r.gate, r.state]), [["ci", "passed"], ["flaky", "passed"], ["last", "passed"]]);
    const events = await eventsOf(cook, "cook.gate.app.good.>");
    const ci = events.filter((e) => e.subject.startsWith("cook.gate.app.good.ci."));
    assert.deepEqual(ci.map((e) => e.type), ["gate.started", "gate.output", "gate.passed"]);
    assert.match(String(ci[1]!.data.text), new RegExp(`checking ci at ${head}`));
    const log = await (await fetch(`${cook.url}/api/gate-runs/${run.id}/log?gate=ci&attempt=1`)).text();
    assert.match(log, new RegExp(`checking ci at ${head}`));
    // A NUL in the output (which PostgreSQL text cannot hold) is kept as U+FFFD, not lost with its chunk.
    assert.equal(await (await fetch(`${cook.url}/api/gate-runs/${run.id}/log?gate=last&attempt=1`)).text(), "nul:\uFFFD:end\n");
    const detail = (await (await fetch(`${cook.url}/api/gate-runs/${run.id}`)).json()) as { attempts: Array<{ gate: string; attempt: number; exitCode: number; durationMs: number; state: string }> };
    assert.deepEqual(detail.attempts.map((a) => [a.gate, a.attempt, a.state, a.exitCode]), [["ci", 1, "passed", 0], ["flaky", 1, "passed", 0], ["last", 1, "passed", 0]]);
    const show = await cook.cli(["branch", "show", "app/good"]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /ci\s+passed\s+passed in/);
    assert.match(show.stdout, /^mergeable$/m);
  });

  it("stops at the first failure: the gates after it are not run, and the branch is not mergeable", async () => {
    const head = await pushBranch(app, "bad", { "other.txt": "x\n" });
    const run = await runReaching(cook, "bad", ["passed", "failed"], { head });
    assert.equal(run.state, "failed");
    assert.deepEqual(run.results.map((r) => [r.gate, r.state]), [["ci", "failed"], ["flaky", "not_run"], ["last", "not_run"]]);
    assert.match(run.results[0]!.summary!, /exited with code 3: ok.txt is missing/);
    const merge = await cook.cli(["branch", "merge", "app/bad"]);
    assert.equal(merge.code, 1);
    assert.match(merge.stderr, /cannot merge 'bad': gate 'ci' is failed on [0-9a-f]{12}: exited with code 3/);
    assert.equal(merge.stderr.trimEnd().split("\n").length, 1);
  });

  it("retries only a declared flaky exit code, keeping every attempt", async () => {
    const head = await pushBranch(app, "flaky", { "ok.txt": "ok\n", "flaky.txt": "1\n" });
    const run = await runReaching(cook, "flaky", ["passed", "failed"], { head });
    assert.equal(run.state, "passed", JSON.stringify(run));
    assert.match(run.results[1]!.summary!, /attempt 2/);
    const detail = (await (await fetch(`${cook.url}/api/gate-runs/${run.id}`)).json()) as { attempts: Array<{ gate: string; attempt: number; exitCode: number; state: string }> };
    assert.deepEqual(detail.attempts.filter((a) => a.gate === "flaky").map((a) => [a.attempt, a.state, a.exitCode]), [[1, "failed", 75], [2, "passed", 0]]);
  });

  it("cancels the older head's run when a newer push arrives, killing its process", async () => {
    const first = await pushBranch(app, "moving", { "ok.txt": "ok\n", "slow.txt": "1\n" });
    await eventually(() => existsSync(join(scratch, "slow.pid")), 20_000, "the slow gate to start");
    const pid = Number(readFileSync(join(scratch, "slow.pid"), "utf8"));
    assert.ok(alive(pid));
    const second = await pushBranchWithout(app, "moving", "slow.txt");
    const latest = await runReaching(cook, "moving", ["passed"], { head: second });
    assert.equal(latest.state, "passed");
    const runs = (await branchGates(cook, "moving")).runs;
    const older = runs.find((r) => r.head === first)!;
    assert.equal(older.state, "canceled");
    assert.equal(older.results.find((r) => r.gate === "flaky")!.state, "canceled");
    await eventually(() => !alive(pid), 5000, "the canceled gate's process to be killed");
    const canceled = await eventsOf(cook, "cook.gate.app.moving.flaky.canceled");
    assert.equal(canceled.length, 1);
  });

  it("cancels the runs of a branch that is abandoned", async () => {
    rmSync(join(scratch, "slow.pid"), { force: true });
    const head = await pushBranch(app, "dropped", { "ok.txt": "ok\n", "slow.txt": "1\n" });
    await eventually(() => existsSync(join(scratch, "slow.pid")), 20_000, "the slow gate to start");
    const pid = Number(readFileSync(join(scratch, "slow.pid"), "utf8"));
    const abandoned = await cook.cli(["branch", "abandon", "app/dropped"]);
    assert.equal(abandoned.code, 0, abandoned.stderr);
    const run = await runReaching(cook, "app/dropped", ["canceled"], { head });
    assert.match(run.error!, /the branch was abandoned/);
    await eventually(() => !alive(pid), 5000, "the gate's process to be killed");
  });

  it("reads the gates from the target branch: a branch cannot weaken the gates that judge it", async () => {
    const head = await pushBranch(app, "weaken", { "cook.toml": '[[gates]]\nname = "ci"\ncommand = "true"\n' });
    const run = await runReaching(cook, "weaken", ["passed", "failed"], { head });
    assert.equal(run.state, "failed");
    assert.deepEqual(run.results.map((r) => r.gate), ["ci", "flaky", "last"]);
  });

  it("answers a re-run on an unchanged tree from the stored result, and runs one named gate when asked", async () => {
    const before = await runReaching(cook, "good", ["passed"]);
    const rerun = await cook.cli(["branch", "gate", "app/good", "--follow"]);
    assert.equal(rerun.code, 0, rerun.stderr + rerun.stdout);
    assert.match(rerun.stdout, /ci: passed — passed on the same tree in run_/);
    const runs = (await branchGates(cook, "good")).runs;
    assert.equal(runs[0]!.reason, "rerun");
    // Any earlier pass on this tree serves (the "moving" branch ended on the same tree too).
    assert.ok(runs[0]!.results.every((r) => r.reusedFrom !== undefined && r.reusedFrom !== runs[0]!.id), JSON.stringify(runs[0]));
    assert.ok(before.results.every((r) => r.reusedFrom === undefined));
    // Another commit with the very same tree (an empty rebase) is not run again either.
    const sameTree = await pushBranch(app, "good", {}, "empty commit");
    const again = await runReaching(cook, "good", ["passed"], { head: sameTree });
    assert.ok(again.results.every((r) => r.reusedFrom !== undefined));
    const one = await cook.cli(["branch", "gate", "app/good", "--gate", "last", "--json"]);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual((JSON.parse(one.stdout) as { results: Array<{ gate: string }> }).results.map((r) => r.gate), ["last"]);
    const unknown = await cook.cli(["branch", "gate", "app/good", "--gate", "nope"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /app has no gate 'nope'; its gates are ci, flaky, last/);
  });

  it("fails a gate whose command is not found, and one that hangs is killed at its timeout", async () => {
    const work = await seedRepo(cook, "tools", {
      "cook.toml": '[[gates]]\nname = "missing"\ncommand = "no-such-tool-anywhere --check"\n\n[[gates]]\nname = "hang"\ncommand = "sleep 60"\ntimeout = "2s"\n',
    });
    const head = await pushBranch(work, "try", { "a.txt": "a\n" });
    const missing = await runReaching(cook, "tools/try", ["failed"], { head });
    assert.match(missing.results[0]!.summary!, /command not found: .*no-such-tool-anywhere/);
    assert.equal(missing.results[1]!.state, "not_run");
    const work2 = await seedRepo(cook, "hangs", { "cook.toml": '[[gates]]\nname = "hang"\ncommand = "sleep 60"\ntimeout = "2s"\n' });
    const started = Date.now();
    const head2 = await pushBranch(work2, "try", { "a.txt": "a\n" });
    const hung = await runReaching(cook, "hangs/try", ["failed"], { head: head2, timeoutMs: 30_000 });
    assert.match(hung.results[0]!.summary!, /timed out after 2 s and was killed/);
    assert.ok(Date.now() - started < 15_000);
  });

  it("fails a run at once when the target's cook.toml is invalid, naming the line", async () => {
    const work = await seedRepo(cook, "broken", { "cook.toml": '[[gates]]\nname = "ci"\n\n[[gates]]\nname = "ci"\ncommand = "true"\nkind = "vote"\n' });
    const head = await pushBranch(work, "try", { "a.txt": "a\n" });
    const run = await runReaching(cook, "broken/try", ["failed"], { head });
    assert.match(run.error!, /cook\.toml on main:1: \[\[gates\]\] #1: a command gate needs command/);
    assert.match(run.error!, /cook\.toml on main:4: \[\[gates\]\] #2: name "ci" is used by an earlier gate/);
    assert.deepEqual(run.results, []);
    await eventually(async () => (await eventsOf(cook, "cook.gate.broken.try.config.failed")).length === 1, 10_000, "the config.failed event");
  });

  it("fails the run of a branch bringing an invalid cook.toml, which merged would leave its target no gate that runs", async () => {
    const head = await pushBranch(app, "bad-config", { "cook.toml": '[[gates]]\nname = 7\ntimeout = "forever"\n' });
    const run = await runReaching(cook, "bad-config", ["failed"], { head });
    assert.match(run.error!, /^cook\.toml on bad-config:\d+: .*\(merged into main, it would stop every gate there: fix it on this branch\)$/s);
    const merge = await cook.cli(["branch", "merge", "bad-config"]);
    assert.equal(merge.code, 1);
    assert.match(merge.stderr, /cook\.toml on bad-config/);
  });

  it("judges a repo without gates by the server's default gates", async () => {
    const work = await seedRepo(cook, "bare-repo", { "README.md": "no cook.toml here\n" });
    const head = await pushBranch(work, "topic", { "a.txt": "a\n" });
    const run = await runReaching(cook, "bare-repo/topic", ["passed"], { head });
    assert.deepEqual(run.results.map((r) => r.gate), ["server-default"]);
  });

  it("runs a sandboxed repo's command gates inside the sandbox, which hides the data dir", async () => {
    const work = await seedRepo(cook, "boxed", {
      "cook.toml": `[environment]\nbackend = "sandbox"\n\n[[gates]]\nname = "inside"\ncommand = "test \\"$(id -u)\\" = 1000 && test ! -e ${cook.dataDir}/db && test -f a.txt && ! touch /usr/cook-gate-was-here && echo boxed"\n`,
    });
    const head = await pushBranch(work, "topic", { "a.txt": "a\n" });
    const run = await runReaching(cook, "boxed/topic", ["passed", "failed"], { head, timeoutMs: 30_000 });
    const log = await (await fetch(`${cook.url}/api/gate-runs/${run.id}/log?gate=inside&attempt=1`)).text();
    assert.equal(run.state, "passed", `${run.results[0]!.summary}\n${log}`);
    assert.match(log, /boxed/);
  });

  it("runs at most [gates] concurrency runs at once and queues the rest, losing none", async () => {
    const work = await seedRepo(cook, "busy", {
      "cook.toml": `[[gates]]\nname = "slow"\ncommand = "touch ${scratch}/busy-start-$COOK_RUN_ID; sleep 1; touch ${scratch}/busy-end-$COOK_RUN_ID"\n`,
    });
    const heads = [];
    for (let i = 0; i < 6; i++) heads.push(await pushBranch(work, `b${i}`, { [`f${i}.txt`]: `${i}\n` }));
    for (let i = 0; i < 6; i++) await runReaching(cook, `busy/b${i}`, ["passed"], { head: heads[i], timeoutMs: 30_000 });
    const times = (prefix: string) => readdirSync(scratch).filter((f) => f.startsWith(prefix)).map((f) => ({ run: f.slice(prefix.length), at: statMs(join(scratch, f)) }));
    const starts = times("busy-start-");
    const ends = new Map(times("busy-end-").map((e) => [e.run, e.at]));
    assert.equal(starts.length, 6);
    const most = Math.max(...starts.map((s) => starts.filter((o) => o.at <= s.at && ends.get(o.run)! > s.at).length));
    assert.ok(most <= 4, `at most 4 at once, saw ${most}`);
  });
});


/** Pushes `branch` with `path` deleted. */
async function pushBranchWithout(work: string, branch: string, path: string): Promise<string> {
  await gitOk(["checkout", "--quiet", branch], { cwd: work });
  await gitOk(["rm", "--quiet", path], { cwd: work });
  await gitOk(["commit", "--quiet", "-m", `drop ${path}`], { cwd: work });
  await gitOk(["push", "--quiet", "origin", branch], { cwd: work });
  return revParse(work, "HEAD");
}
