import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { gitOk, lsRemote } from "../../helpers/git.js";
import { commitFiles, eventsOf, runReaching, seedRepo } from "../../helpers/gates.js";
import { eventually } from "../../helpers/wait.js";

interface BranchJson {
  id: string;
  name: string;
  baseBranch: string;
  baseCommit: string;
  status: string;
  taskId?: string;
}

describe("sub-tasks and the parent's branch", () => {
  let cook: RunningCook;
  let app: string;
  const bareApp = () => `${cook.dataDir}/repos/app.git`;
  const cli = async (...args: string[]) => {
    const result = await cook.cli(args);
    assert.equal(result.code, 0, `cook ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const branchesOf = async (task: string) => JSON.parse(await cli("branch", "list", "--repo", "app", "--task", task, "--json")) as BranchJson[];
  const taskOf = async (id: string) => (JSON.parse(await cli("task", "show", id, "--json")) as { task: { status: string; resolution?: string } }).task;
  /** Why the task waits on a person, as `cook autopilot status` (and every "needs you" list) says it. */
  const reasonShown = async (repo: string, id: string) =>
    (JSON.parse(await cli("autopilot", "status", repo, "--json")) as { needsYou: Array<{ id: string; reason?: string }> }).needsYou.find((task) => task.id === id)?.reason;
  /** Checks the branch out as the server has it, commits files to it and pushes; returns the head. */
  const work = async (branch: string, files: Record<string, string>) => {
    await gitOk(["fetch", "--quiet", "origin"], { cwd: app });
    await gitOk(["checkout", "--quiet", "-B", branch, `origin/${branch}`], { cwd: app });
    const head = await commitFiles(app, files, `work on ${branch}`);
    await gitOk(["push", "--quiet", "origin", branch], { cwd: app });
    return head;
  };

  before(async () => {
    cook = await startCook();
    // ci fails while broken.txt is there.
    app = await seedRepo(cook, "app", { "cook.toml": '[[gates]]\nname = "ci"\ncommand = "test ! -f broken.txt"\n', "README.md": "# app\n" });
    await cli("task", "create", "app", "--title=Checkout flow", "--id=checkout");
    await cli("task", "create", "app", "--title=Cart page", "--id=cart", "--parent=checkout");
    await cli("task", "create", "app", "--title=Payment page", "--id=payment", "--parent=checkout");
  });

  after(async () => {
    await cook?.stop();
  });

  it("refuses a parent that is unknown, in another repo, the task itself, or closes a loop, each with one line", async () => {
    assert.equal((await cook.cli(["repo", "add", "other"])).code, 0);
    await cli("task", "create", "other", "--title=Elsewhere", "--id=elsewhere");
    const refused = async (args: string[], message: RegExp) => {
      const result = await cook.cli(args);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    };
    await refused(["task", "create", "app", "--title=T", "--parent=nope"], /^cook: parent names unknown task 'nope'$/m);
    await refused(["task", "create", "app", "--title=T", "--parent=elsewhere"], /parent 'elsewhere' belongs to other, not app/);
    await refused(["task", "create", "app", "--title=T", "--id=me", "--parent=me"], /a task cannot be its own parent/);
    await refused(["task", "edit", "checkout", "--set", "parent=cart"], /parent would make a cycle: checkout → cart → checkout/);
    // A parent closes after its sub-tasks; a sub-task starts after the dependencies above it: along the line, a dependency waits for itself.
    await refused(["task", "edit", "checkout", "--set", "depends_on=cart"], /^cook: depends_on could never be met: 'checkout' would wait for 'cart', a task below it \(its sub-task or one below\), and a parent waits for its sub-tasks$/m);
    await refused(["task", "create", "app", "--title=T", "--id=loopy", "--parent=checkout", "--depends-on=checkout"], /^cook: depends_on could never be met: 'loopy' would wait for 'checkout', a task above it/m);
    assert.equal((await cook.cli(["task", "show", "loopy"])).code, 1, "nothing was written");
    assert.deepEqual((JSON.parse(await cli("task", "show", "checkout", "--json")) as { task: { dependsOn: string[] } }).task.dependsOn, []);
    await refused(["task", "create", "app", "--title=T", "--parent=Bad Id"], /^cook: parent: 'Bad Id' is not a valid task id/m);
    await refused(["task", "create", "app", "--title=T", `--parent=${"p".repeat(65)}`], /^cook: parent: a task id is 65 characters; the limit is 64$/m);
    // The API says the same with 422, and nothing was written.
    const response = await fetch(`${cook.url}/api/tasks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ repo: "app", title: "T", id: "orphan", parent: 42 }) });
    assert.equal(response.status, 422);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /parent must be a task id/);
    assert.equal((await cook.cli(["task", "show", "orphan"])).code, 1);
    const detail = JSON.parse(await cli("task", "show", "checkout", "--json")) as { children: Array<{ id: string }>; markdown: string };
    assert.deepEqual(detail.children.map((c) => c.id), ["cart", "payment"]);
    assert.doesNotMatch(detail.markdown, /^parent:/m);
    const cart = JSON.parse(await cli("task", "show", "cart", "--json")) as { parent: { id: string }; markdown: string };
    assert.equal(cart.parent.id, "checkout");
    assert.match(cart.markdown, /^parent: checkout$/m, "the task file names its parent");
    assert.match(await cli("task", "show", "cart"), /^part of: checkout/m);
  });

  it("starts a sub-task's branch from its parent's, made first without an environment", async () => {
    const said = await cli("branch", "create", "app", "--task", "cart", "--env", "none");
    const [parent] = await branchesOf("checkout");
    assert.ok(parent, "the parent task got its branch");
    const [madeLine, cartLine] = said.trim().split("\n");
    assert.equal(madeLine, `created branch ${parent.name} (${parent.id}) for parent task checkout, from main at ${parent.baseCommit.slice(0, 8)}, without an environment`, "the CLI says it made the parent's branch too");
    const [made] = await branchesOf("cart");
    assert.equal(cartLine, `created branch ${made!.name} (${made!.id}) in app from ${parent.name} at ${made!.baseCommit.slice(0, 8)}`);
    assert.equal(parent.baseBranch, "main");
    assert.equal((await taskOf("checkout")).status, "in_progress");
    const [cart] = await branchesOf("cart");
    assert.equal(cart!.baseBranch, parent.name, "the sub-task's branch starts from the parent's");
    // The second sub-task shares the parent's branch.
    await cli("branch", "create", "app", "--task", "payment", "--env", "none");
    assert.equal((await branchesOf("checkout")).length, 1);
    assert.equal((await branchesOf("payment"))[0]!.baseBranch, parent.name);
    // The parent collects its sub-tasks on that one branch: a second is refused.
    const second = await cook.cli(["branch", "create", "app", "--task", "checkout", "--env", "none"]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`^cook: task 'checkout' has sub-tasks, and their branches merge into its branch '${parent.name}': work on that one$`, "m"));
    const created = await eventsOf(cook, "cook.branch.app.*.created");
    assert.equal(created.find((e) => e.data.task === "cart")!.data.parentTask, "checkout");
  });

  it("merges a sub-task into the parent's branch, gates the parent on its new head, and holds the parent until every sub-task is closed", async () => {
    const [parent] = await branchesOf("checkout");
    const head = await work("cart", { "cart.txt": "cart\n" });
    await runReaching(cook, "app/cart", ["passed"], { head, timeoutMs: 30_000 });
    const mainBefore = (await lsRemote(`${cook.url}/app.git`))["refs/heads/main"];
    const merged = await cook.cli(["branch", "merge", "app/cart"]);
    assert.equal(merged.code, 0, merged.stderr);
    assert.match(merged.stdout, new RegExp(`into ${parent!.name}`));
    const refs = await lsRemote(`${cook.url}/app.git`);
    assert.equal(refs["refs/heads/main"], mainBefore, "main does not move for a sub-task");
    assert.equal(refs[`refs/heads/${parent!.name}`], head, "the parent's branch took the sub-task's work");
    assert.deepEqual(await taskOf("cart"), { ...(await taskOf("cart")), status: "closed", resolution: "done" });
    // The merge moved the parent's branch as a push would: its gates run on the new head.
    await runReaching(cook, `app/${parent!.name}`, ["passed"], { head, timeoutMs: 30_000 });
    const early = await cook.cli(["branch", "merge", `app/${parent!.name}`]);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /sub-task 'payment' \(in progress\) of task 'checkout' is not closed yet/);
    assert.equal((await lsRemote(`${cook.url}/app.git`))["refs/heads/main"], mainBefore);
    // Given up while a sub-task's branch merges into it, that branch would land on main instead.
    const abandon = await cook.cli(["branch", "abandon", `app/${parent!.name}`]);
    assert.equal(abandon.code, 1);
    assert.match(abandon.stderr, /^cook: the branches of sub-tasks of 'checkout' merge into 'checkout': payment; merge or abandon them first$/m);
    assert.equal((await branchesOf("checkout"))[0]!.status, "open");
  });

  it("sends a parent whose gates fail once its sub-tasks are in to a human, then lands it on main", async () => {
    const [parent] = await branchesOf("checkout");
    await cli("branch", "abandon", "app/payment");
    await cli("task", "close", "payment", "--resolution", "wontfix");
    // A change pushed to the parent's branch breaks its gate: nobody's agent is there to fix it.
    const broken = await work(parent!.name, { "broken.txt": "x\n" });
    await runReaching(cook, `app/${parent!.name}`, ["failed"], { head: broken, timeoutMs: 30_000 });
    await eventually(async () => ((await taskOf("checkout")).status === "needs_human" ? true : undefined), 10_000, "the parent task waiting on a human");
    assert.match((await reasonShown("app", "checkout")) ?? "", /^gate 'ci' failed on the branch that collects the sub-tasks of 'checkout': /, "it says why, with no agent session to say it");
    await gitOk(["rm", "--quiet", "broken.txt"], { cwd: app });
    await gitOk(["commit", "--quiet", "-m", "unbreak"], { cwd: app });
    await gitOk(["push", "--quiet", "origin", parent!.name], { cwd: app });
    const fixed = (await gitOk(["rev-parse", "HEAD"], { cwd: app })).trim();
    await runReaching(cook, `app/${parent!.name}`, ["passed"], { head: fixed, timeoutMs: 30_000 });
    const landed = await cook.cli(["branch", "merge", `app/${parent!.name}`]);
    assert.equal(landed.code, 0, landed.stderr);
    assert.match(landed.stdout, /into main/);
    assert.equal((await lsRemote(`${cook.url}/app.git`))["refs/heads/main"], fixed);
    assert.equal((await gitOk(["--git-dir", bareApp(), "show", "main:cart.txt"])).trim(), "cart");
    assert.deepEqual(await taskOf("checkout"), { ...(await taskOf("checkout")), status: "closed", resolution: "done" });
  });

  it("sends a task whose merge candidate fails its gates to a person, instead of leaving it in progress", async () => {
    // ci fails only with a.txt and b.txt together: each sub-task passes alone, not both in the parent.
    const combo = await seedRepo(cook, "combo", { "cook.toml": '[[gates]]\nname = "ci"\ncommand = "! { [ -f a.txt ] && [ -f b.txt ]; }"\n' });
    await cli("task", "create", "combo", "--title=Whole", "--id=whole");
    await cli("task", "create", "combo", "--title=Part A", "--id=part-a", "--parent=whole");
    await cli("task", "create", "combo", "--title=Part B", "--id=part-b", "--parent=whole");
    await cli("branch", "create", "combo", "--task", "part-a", "--env", "none");
    await cli("branch", "create", "combo", "--task", "part-b", "--env", "none");
    const push = async (branch: string, file: string) => {
      await gitOk(["fetch", "--quiet", "origin"], { cwd: combo });
      await gitOk(["checkout", "--quiet", "-B", branch, `origin/${branch}`], { cwd: combo });
      const head = await commitFiles(combo, { [file]: "x\n" }, `work on ${branch}`);
      await gitOk(["push", "--quiet", "origin", branch], { cwd: combo });
      await runReaching(cook, `combo/${branch}`, ["passed"], { head, timeoutMs: 30_000 });
    };
    await push("part-a", "a.txt");
    await push("part-b", "b.txt");
    assert.equal((await cook.cli(["branch", "merge", "combo/part-a"])).code, 0);
    const failed = await cook.cli(["branch", "merge", "combo/part-b"]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /the merge candidate [0-9a-f]{12} did not pass: gate 'ci'/);
    assert.equal((await taskOf("part-b")).status, "needs_human", "nobody else will fix it");
    assert.match((await reasonShown("combo", "part-b")) ?? "", /^merging into \S+ fails: .*gate 'ci'/);
  });

  it("bases a branch pushed for a sub-task on its parent's branch, made first as cook branch create would", async () => {
    const pushed = await seedRepo(cook, "pushed", { "README.md": "# pushed\n" });
    await cli("task", "create", "pushed", "--title=Release", "--id=release");
    await cli("task", "create", "pushed", "--title=Notes", "--id=notes", "--parent=release");
    await gitOk(["checkout", "--quiet", "-b", "write-notes"], { cwd: pushed });
    await commitFiles(pushed, { "NOTES.md": "notes\n" }, "notes");
    await gitOk(["push", "--quiet", "-o", "task=notes", "origin", "write-notes"], { cwd: pushed });
    const listed = async (task: string) => JSON.parse(await cli("branch", "list", "--repo", "pushed", "--task", task, "--json")) as BranchJson[];
    const notes = await eventually(async () => (await listed("notes"))[0], 10_000, "the pushed branch's record");
    const [release] = await listed("release");
    assert.ok(release, "the parent task got its branch");
    assert.equal(release.baseBranch, "main");
    assert.equal(notes.baseBranch, release.name, "the pushed sub-task branch merges into the parent's");
    const created = await eventsOf(cook, "cook.branch.pushed.*.created");
    assert.equal(created.find((e) => e.data.task === "notes")!.data.parentTask, "release");
    // A parent closed since leaves the push based on the default branch, with its task.
    await cli("task", "create", "pushed", "--title=Old", "--id=old");
    await cli("task", "create", "pushed", "--title=Late", "--id=late", "--parent=old");
    await cli("task", "close", "old", "--resolution=wontfix");
    await gitOk(["checkout", "--quiet", "-b", "late-work", "main"], { cwd: pushed });
    await commitFiles(pushed, { "LATE.md": "late\n" }, "late");
    await gitOk(["push", "--quiet", "-o", "task=late", "origin", "late-work"], { cwd: pushed });
    const late = await eventually(async () => (await listed("late"))[0], 10_000, "the late branch's record");
    assert.equal(late.baseBranch, "main");
  });
});
