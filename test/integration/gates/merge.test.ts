import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { gitOk, lsRemote, tempDir } from "../../helpers/git.js";
import { branchGates, eventsOf, pushBranch, runReaching, seedRepo } from "../../helpers/gates.js";
import { eventually } from "../../helpers/wait.js";

describe("merging through gates", () => {
  let cook: RunningCook;
  let app: string;
  const mainOf = async () => (await lsRemote(`${cook.url}/app.git`))["refs/heads/main"]!;
  const bareApp = () => `${cook.dataDir}/repos/app.git`;
  const release = join(tempDir("cook-gate-release-"), "release");
  const merge = (ref: string, ...args: string[]) => cook.cli(["branch", "merge", ref, ...args]);
  const passed = (ref: string, head: string) => runReaching(cook, ref, ["passed"], { head, timeoutMs: 30_000 });

  before(async () => {
    cook = await startCook();
    // ci fails when both x.txt and y.txt are there (so a merge candidate can fail where each branch
    // passed); with slow.txt it runs until the test lets it end.
    app = await seedRepo(cook, "app", {
      "cook.toml": `[[gates]]\nname = "ci"\ncommand = "if [ -f slow.txt ]; then while [ ! -f ${release} ]; do sleep 0.1; done; fi; ! { [ -f x.txt ] && [ -f y.txt ]; }"\n`,
      "c.txt": "base\n",
    });
  });

  after(async () => {
    await cook.stop();
  });

  it("fast-forwards main to a branch whose gates passed, closes its task as done and archives the branch", async () => {
    const task = JSON.parse((await cook.cli(["task", "create", "app", "--title=Add a", "--json"])).stdout) as { id: string };
    assert.equal((await cook.cli(["branch", "create", "app", "add-a", "--task", task.id, "--env", "none"])).code, 0);
    const head = await pushBranch(app, "add-a", { "a.txt": "a\n" });
    await passed("add-a", head);
    const result = await merge("app/add-a");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`merged app/add-a into main: main moved to ${head.slice(0, 12)} \\(fast-forward\\)`));
    assert.equal(await mainOf(), head);
    const shown = JSON.parse((await cook.cli(["branch", "show", "app/add-a", "--json"])).stdout) as { status: string; archiveRef?: string };
    assert.equal(shown.status, "merged");
    assert.match(shown.archiveRef!, /^refs\/archive\/add-a\//);
    assert.equal((await lsRemote(`${cook.url}/app.git`))["refs/heads/add-a"], undefined);
    const status = JSON.parse((await cook.cli(["task", "show", task.id, "--json"])).stdout) as { task: { status: string; resolution?: string } };
    assert.deepEqual([status.task.status, status.task.resolution], ["closed", "done"], "landed work is done: its dependents become ready");
    const merged = await eventsOf(cook, "cook.branch.app.add-a.merged");
    assert.equal(merged.length, 1);
    assert.equal(merged[0]!.data.commit, head);
    const again = await merge("app/add-a");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /branch 'add-a' is merged already/);
  });

  it("lands a branch asked to merge twice at once once, with no refused merge recorded for the second", async () => {
    const head = await pushBranch(app, "add-twice", { "twice.txt": "2\n" });
    await passed("add-twice", head);
    const results = await Promise.all([merge("app/add-twice"), merge("app/add-twice")]);
    assert.deepEqual(results.map((r) => r.code).sort(), [0, 1], results.map((r) => r.stderr).join(""));
    assert.match(results.find((r) => r.code === 1)!.stderr, /^cook: branch 'add-twice' is merged already$/m);
    const gates = await branchGates(cook, "app/add-twice");
    assert.deepEqual(gates.merges.map((m) => m.state), ["merged"]);
  });

  it("gates the merge candidate when main has moved, and lands a merge commit only when it passes", async () => {
    const base = await mainOf();
    const b1 = await pushBranch(app, "add-b1", { "b1.txt": "1\n" });
    const b2 = await pushBranch(app, "add-b2", { "b2.txt": "2\n" });
    await passed("add-b1", b1);
    await passed("add-b2", b2);
    assert.equal((await merge("app/add-b1")).code, 0);
    const result = await merge("app/add-b2");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\(merge\)/);
    const main = await mainOf();
    const parents = (await gitOk(["--git-dir", bareApp(), "rev-list", "--parents", "-n", "1", main])).trim().split(" ");
    assert.deepEqual(parents.slice(1), [b1, b2]);
    const gates = await branchGates(cook, "app/add-b2");
    const candidateRun = gates.runs.find((r) => r.reason === "merge")!;
    assert.equal(candidateRun.head, main, "what landed is what was gated");
    assert.equal(candidateRun.state, "passed");
    assert.notEqual(base, main);
    await gitOk(["--git-dir", bareApp(), "fsck", "--strict", "--no-progress"]);
  });

  it("does not land a candidate that fails its gates, though each side passed alone", async () => {
    const x = await pushBranch(app, "add-x", { "x.txt": "x\n" });
    const y = await pushBranch(app, "add-y", { "y.txt": "y\n" });
    await passed("add-x", x);
    await passed("add-y", y);
    assert.equal((await merge("app/add-x")).code, 0);
    const before = await mainOf();
    const result = await merge("app/add-y");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot merge 'add-y': the merge candidate [0-9a-f]{12} did not pass: gate 'ci' exited with code 1/);
    assert.equal(await mainOf(), before);
    const gates = await branchGates(cook, "app/add-y");
    assert.equal(gates.merges[0]!.state, "failed");
    // The page shows the head's run, the one its "ready to merge" reads, not the candidate's failed run beside it.
    const { id } = JSON.parse((await cook.cli(["branch", "show", "app/add-y", "--json"])).stdout) as { id: string };
    const page = await (await fetch(`${cook.url}/branches/${id}`)).text();
    const facts = /<p class="run-facts meta">([\s\S]*?)<\/p>/.exec(page)?.[1] ?? "";
    assert.match(facts, new RegExp(`<code>${y.slice(0, 12)}</code>`), "the run in focus is on the head");
    assert.doesNotMatch(facts, /An earlier run/);
    assert.match(page, /<span class="ok">Ready to merge:<\/span>/);
    const candidate = gates.runs.find((r) => r.reason === "merge")!;
    assert.match(page, new RegExp(`<a href="/branches/${id}\\?run=${candidate.id}"><code>${candidate.id}</code></a>[^<]*<code>[0-9a-f]{12}</code>[^\n]*merge`), "the candidate's run is among the others");
  });

  it("aborts a conflicting merge cleanly, naming the paths", async () => {
    const one = await pushBranch(app, "conflict-1", { "c.txt": "one\n" });
    const two = await pushBranch(app, "conflict-2", { "c.txt": "two\n" });
    await passed("conflict-1", one);
    await passed("conflict-2", two);
    assert.equal((await merge("app/conflict-1")).code, 0);
    const before = await mainOf();
    const result = await merge("app/conflict-2");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /merging into main conflicts in c\.txt; the target is untouched/);
    assert.equal(await mainOf(), before);
    const gates = await branchGates(cook, "app/conflict-2");
    assert.equal(gates.merges[0]!.state, "conflicted");
    assert.deepEqual(gates.merges[0]!.conflicts, ["c.txt"]);
    const shown = JSON.parse((await cook.cli(["branch", "show", "app/conflict-2", "--json"])).stdout) as { status: string };
    assert.equal(shown.status, "open");
  });

  it("sends the task of a branch whose merge conflicts to a person when no agent resolves it", async () => {
    const taskStatus = async () => (JSON.parse((await cook.cli(["task", "show", "clash", "--json"])).stdout) as { task: { status: string } }).task.status;
    assert.equal((await cook.cli(["task", "create", "app", "--title=Clash", "--id=clash"])).code, 0);
    assert.equal((await cook.cli(["branch", "create", "app", "conflict-3", "--task", "clash", "--env", "none"])).code, 0);
    const head = await pushBranch(app, "conflict-3", { "c.txt": "three\n" });
    await passed("conflict-3", head);
    // Main moves on, changing the same line.
    const other = await pushBranch(app, "conflict-4", { "c.txt": "four\n" });
    await passed("conflict-4", other);
    assert.equal((await merge("app/conflict-4")).code, 0);
    const result = await merge("app/conflict-3", "--auto");
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /conflicts in c\.txt/);
    assert.equal(await taskStatus(), "needs_human", "nobody else will resolve it");
  });

  it("refuses ff-only when main moved, and squashes into one commit", async () => {
    const head = await pushBranch(app, "squashed", { "s1.txt": "1\n" });
    await pushBranch(app, "squashed", { "s2.txt": "2\n" });
    const moved = await pushBranch(app, "mover", { "m.txt": "m\n" });
    await passed("mover", moved);
    assert.equal((await merge("app/mover")).code, 0);
    const latest = (await branchGates(cook, "app/squashed")).runs[0]!.head;
    await passed("squashed", latest);
    assert.notEqual(head, latest);
    const ffOnly = await merge("app/squashed", "--strategy", "ff-only");
    assert.equal(ffOnly.code, 1);
    assert.match(ffOnly.stderr, /cannot fast-forward: the target has moved on/);
    const bad = await merge("app/squashed", "--strategy", "octopus");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /'octopus' is not a merge strategy; use one of auto, ff-only, merge, squash/);
    const squash = await merge("app/squashed", "--strategy", "squash");
    assert.equal(squash.code, 0, squash.stderr);
    const main = await mainOf();
    const parents = (await gitOk(["--git-dir", bareApp(), "rev-list", "--parents", "-n", "1", main])).trim().split(" ");
    assert.equal(parents.length, 2, "one parent");
    assert.equal(parents[1], moved);
    const files = await gitOk(["--git-dir", bareApp(), "ls-tree", "--name-only", main]);
    assert.match(files, /s1\.txt/);
    assert.match(files, /s2\.txt/);
  });

  it("refuses a merge while a gate runs, and --auto lands it once the gates pass", async () => {
    const head = await pushBranch(app, "slow", { "slow.txt": "1\n" });
    await runReaching(cook, "slow", ["running"], { head });
    const early = await merge("app/slow");
    assert.equal(early.code, 1);
    assert.match(early.stderr, /cannot merge 'slow': gate 'ci' is running on [0-9a-f]{12}/);
    const before = await mainOf();
    // The strategy asked for is stored with the auto-merge (it would otherwise have been a fast-forward).
    const auto = await merge("app/slow", "--auto", "--strategy", "squash");
    assert.equal(auto.code, 0, auto.stderr);
    assert.match(auto.stdout, /auto-merge on for app\/slow: it merges once the gates pass on its head \(now: gate 'ci' is running/);
    writeFileSync(release, "go\n");
    await eventually(async () => (await eventsOf(cook, "cook.branch.app.slow.merged")).length === 1, 30_000, "the auto-merge");
    const main = await mainOf();
    const files = await gitOk(["--git-dir", bareApp(), "ls-tree", "--name-only", main]);
    assert.match(files, /slow\.txt/);
    assert.notEqual(main, head, "squashed, not fast-forwarded");
    assert.deepEqual((await gitOk(["--git-dir", bareApp(), "rev-list", "--parents", "-n", "1", main])).trim().split(" ").slice(1), [before]);
  });

  it("serialises racing merges: main ends with both, and git fsck is clean", async () => {
    const r1 = await pushBranch(app, "race-1", { "r1.txt": "1\n" });
    const r2 = await pushBranch(app, "race-2", { "r2.txt": "2\n" });
    await passed("race-1", r1);
    await passed("race-2", r2);
    const [a, b] = await Promise.all([merge("app/race-1"), merge("app/race-2")]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const main = await mainOf();
    const files = await gitOk(["--git-dir", bareApp(), "ls-tree", "--name-only", main]);
    assert.match(files, /r1\.txt/);
    assert.match(files, /r2\.txt/);
    await gitOk(["--git-dir", bareApp(), "fsck", "--strict", "--no-progress"]);
    const queue = (await (await fetch(`${cook.url}/api/repos/app/merges`)).json()) as { queue: unknown[] };
    assert.deepEqual(queue.queue, []);
    // The default branch itself still cannot be pushed to: it moves only through merges.
    const clone = `${tempDir()}/c`;
    await gitOk(["clone", "--quiet", `${cook.url}/app.git`, clone]);
    await gitOk(["commit", "--quiet", "--allow-empty", "-m", "direct"], { cwd: clone });
    await assert.rejects(gitOk(["push", "--quiet", "origin", "main"], { cwd: clone }));
  });
});
