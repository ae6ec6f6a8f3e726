import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startBranchFixture, type BranchFixture, type BranchJson } from "../../helpers/branch-fixture.js";
import type { RunningCook } from "../../helpers/cook.js";
import { gitOk, lsRemote, revParse } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

describe("cook branch list, show, adopt, abandon, gc; branches from pushes", () => {
  let fixture: BranchFixture;
  let cook: RunningCook;
  let work: string;
  let mainHead: string;
  before(async () => {
    fixture = await startBranchFixture();
    ({ cook, work, mainHead } = fixture);
  });
  after(() => cook?.stop());
  const json = <T>(args: string[]) => fixture.json<T>(args);
  const refused = (args: string[], message: RegExp) => fixture.refused(args, message);
  const events = (pattern: string) => fixture.events(pattern);
  const task = (title: string) => fixture.task(title);
  const taskStatus = (id: string) => fixture.taskStatus(id);

  it("lists and shows branches with head, ahead/behind and the diff against the base", async () => {
    const { environment } = await json<{ environment: { path: string } }>(["branch", "create", "app", "feature/list-me"]);
    await gitOk(["fetch", "--quiet", "origin"], { cwd: work });
    await gitOk(["checkout", "--quiet", "-b", "feature/list-me", "origin/feature/list-me"], { cwd: work });
    writeFileSync(join(work, "new.txt"), "one\ntwo\n");
    await gitOk(["add", "."], { cwd: work });
    await gitOk(["commit", "--quiet", "-m", "two lines"], { cwd: work });
    await gitOk(["push", "--quiet", "origin", "feature/list-me"], { cwd: work });
    const head = await revParse(work, "HEAD");

    const list = await json<BranchJson[]>(["branch", "list", "--repo=app", "--status=open"]);
    const listed = list.find((b) => b.name === "feature/list-me");
    assert.equal(listed?.head, head);
    assert.deepEqual([listed?.ahead, listed?.behind], [1, 0]);
    assert.equal(listed?.environment?.state, "ready");
    assert.equal(list[0]!.name, "feature/list-me", "the push made it the most recently active");

    const shown = await json<BranchJson>(["branch", "show", "app/feature/list-me"]);
    assert.deepEqual(shown.diff, { files: [{ path: "new.txt", added: 2, deleted: 0 }], added: 2, deleted: 0 });
    assert.equal((await json<BranchJson>(["branch", "show", shown.id])).name, "feature/list-me");
    const text = await cook.cli(["branch", "show", "app/feature/list-me"]);
    assert.match(text.stdout, /^1 file\(s\) changed, \+2 -0 against main\n {2}\+2 -0 {2}new\.txt$/m);
    const table = await cook.cli(["branch", "list", "--repo=app"]);
    assert.match(table.stdout, /^NAME\s+REPO\s+TASK\s+ENVIRONMENT\s+STATUS\s+HEAD\s+AHEAD\/BEHIND\s+ACTIVITY\n/);
    assert.match(table.stdout, new RegExp(`feature/list-me\\s+app\\s+-\\s+local ready\\s+open\\s+${head.slice(0, 8)}\\s+\\+1 -0`));
    assert.ok(existsSync(environment.path));
  });

  it("tracks a pushed branch through the bus, linking -o task=<id>, and abandons it when the push deletes it", async () => {
    const pushedTask = await task("Pushed work");
    await gitOk(["checkout", "--quiet", "-b", "pushed-work", "main"], { cwd: work });
    writeFileSync(join(work, "p.txt"), "p\n");
    await gitOk(["add", "."], { cwd: work });
    await gitOk(["commit", "--quiet", "-m", "p"], { cwd: work });
    const head = await revParse(work, "HEAD");
    await gitOk(["push", "--quiet", "-o", `task=${pushedTask.id}`, "origin", "pushed-work"], { cwd: work });

    const branch = await eventually(async () => (await json<BranchJson[]>(["branch", "list", "--repo=app"])).find((b) => b.name === "pushed-work"), 10_000, "the pushed branch's record");
    assert.equal(branch.origin, "push");
    assert.equal(branch.taskId, pushedTask.id);
    assert.equal(branch.environment, undefined);
    assert.equal(branch.baseCommit, mainHead);
    assert.equal(await taskStatus(pushedTask.id), "in_progress");
    // More pushes to it make no second record and no second created event.
    writeFileSync(join(work, "p.txt"), "p2\n");
    await gitOk(["commit", "--quiet", "-am", "p2"], { cwd: work });
    await gitOk(["push", "--quiet", "origin", "pushed-work"], { cwd: work });
    await eventually(async () => (await events("cook.branch.app.pushed-work.pushed")).length === 2 || undefined);
    assert.equal((await events("cook.branch.app.pushed-work.created")).length, 1);

    const lastHead = await revParse(work, "HEAD");
    await gitOk(["push", "--quiet", "origin", ":pushed-work"], { cwd: work });
    const ended = await eventually(async () => {
      const shown = await json<BranchJson>(["branch", "show", branch.id]);
      return shown.status === "abandoned" ? shown : undefined;
    });
    assert.match(ended.archiveRef ?? "", /^refs\/archive\/pushed-work\/\d{8}T\d{6}Z$/);
    const archived = await gitOk(["--git-dir", join(cook.dataDir, "repos", "app.git"), "rev-parse", ended.archiveRef!]);
    assert.equal(archived.trim(), lastHead, "the archive keeps the last pushed commit");
    assert.notEqual(lastHead, head);
    assert.ok(!Object.keys(await lsRemote(`${cook.url}/app.git`)).some((ref) => ref.startsWith("refs/archive/")), "archived refs are hidden from clients");
    assert.equal(await taskStatus(pushedTask.id), "open");
    await gitOk(["checkout", "--quiet", "main"], { cwd: work });
  });

  it("does not track the default branch, and adopts a branch made behind its back", async () => {
    const bare = join(cook.dataDir, "repos", "app.git");
    await gitOk(["--git-dir", bare, "update-ref", "refs/heads/legacy", mainHead]);
    const adopted = await cook.cli(["branch", "adopt", "app", "legacy"]);
    assert.equal(adopted.code, 0, adopted.stderr);
    assert.match(adopted.stdout, /^tracking app\/legacy \(brn_\w+\), based on main at/);
    await refused(["branch", "adopt", "app", "legacy"], /already tracked/);
    await refused(["branch", "adopt", "app", "main"], /is the default branch of app/);
    await refused(["branch", "adopt", "app", "ghost"], /no branch 'ghost' in app/);
    assert.ok(!(await json<BranchJson[]>(["branch", "list"])).some((b) => b.name === "main"));
  });

  it("abandons a branch: environment torn down, ref archived and hidden, task back to open, record kept", async () => {
    const doomedTask = await task("Doomed");
    const { branch, environment } = await json<{ branch: BranchJson; environment: { path: string } }>(["branch", "create", "app", "--task", doomedTask.id]);
    const result = await cook.cli(["branch", "abandon", branch.name]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^abandoned app/${branch.name}; its commits are kept at refs/archive/${branch.name}/\\d{8}T\\d{6}Z\\n$`));
    assert.ok(!existsSync(environment.path));
    assert.equal((await lsRemote(`${cook.url}/app.git`))[`refs/heads/${branch.name}`], undefined);
    assert.equal(await taskStatus(doomedTask.id), "open");
    const shown = await json<BranchJson>(["branch", "show", branch.id]);
    assert.equal(shown.status, "abandoned");
    assert.equal(shown.environment?.state, "torn_down");
    assert.equal(shown.head, mainHead);
    assert.deepEqual((await events(`cook.*.app.${branch.name}.>`)).map((e) => e.type).filter((type) => !type.startsWith("task.")), ["branch.created", "environment.creating", "environment.ready", "environment.torn_down", "branch.abandoned"]);
    await refused(["branch", "abandon", branch.id], /is abandoned already/);
    await refused(["branch", "exec", branch.id, "--", "true"], /has no live environment \(it is abandoned\)/);
    // The name is free again for new work.
    assert.equal((await cook.cli(["branch", "create", "app", branch.name, "--env=none"])).code, 0);
  });

  it("runs cook.toml's setup with its output streamed; a failing one leaves the branch with a failed environment and its log", async () => {
    await gitOk(["checkout", "--quiet", "-b", "with-setup", "main"], { cwd: work });
    writeFileSync(join(work, "cook.toml"), '[environment]\nsetup = "echo installing; echo warn >&2; test -f ok"\n');
    await gitOk(["add", "."], { cwd: work });
    await gitOk(["commit", "--quiet", "-m", "setup"], { cwd: work });
    await gitOk(["push", "--quiet", "origin", "with-setup"], { cwd: work });

    const failed = await cook.cli(["branch", "create", "app", "setup-fails", "--base=with-setup"]);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /installing\nwarn\n/);
    assert.match(failed.stderr, /environment failed: setup exited with 1/);
    const shown = await json<BranchJson>(["branch", "show", "setup-fails"]);
    assert.equal(shown.status, "open");
    assert.equal(shown.environment?.state, "failed");
    assert.match(shown.setupLog ?? "", /\$ echo installing.*\ninstalling\nwarn\nsetup exited with 1\n/s);
    // A failed environment can still be looked into.
    const look = await cook.cli(["branch", "exec", "setup-fails", "--", "ls", "cook.toml"]);
    assert.equal(look.stdout, "cook.toml\n");
  });

  it("marks an environment whose folder vanished as lost, at use and at start-up, and collects orphaned folders", async () => {
    const { environment } = await json<{ environment: { path: string } }>(["branch", "create", "app", "vanishing"]);
    rmSync(environment.path, { recursive: true, force: true });
    await refused(["branch", "exec", "vanishing", "--", "true"], /is lost: its folder .* is gone/);
    assert.equal((await json<BranchJson>(["branch", "show", "vanishing"])).environment?.state, "lost");

    const orphan = join(cook.dataDir, "envs", "app", "brn_orphan");
    mkdirSync(orphan, { recursive: true });
    const listed = await cook.cli(["branch", "gc"]);
    assert.match(listed.stdout, new RegExp(`orphan  ${orphan}\\n`));
    assert.ok(existsSync(orphan), "gc without --yes removes nothing");
    await cook.cli(["branch", "gc", "--yes"]);
    assert.ok(!existsSync(orphan));
    assert.ok(readdirSync(join(cook.dataDir, "envs", "app")).length > 0, "owned checkouts stay");
  });
});
