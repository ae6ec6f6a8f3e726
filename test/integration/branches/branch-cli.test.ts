import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { git, gitOk, lsRemote, revParse, tempDir } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

interface EventRow {
  id: number;
  subject: string;
  type: string;
  branch?: string;
  data: Record<string, unknown>;
}

interface BranchJson {
  id: string;
  repo: string;
  name: string;
  status: string;
  taskId?: string;
  baseBranch: string;
  baseCommit: string;
  origin: string;
  archiveRef?: string;
  head?: string;
  ahead?: number;
  behind?: number;
  environment?: { id: string; backend: string; state: string; path: string; portBase: number; error?: string };
  diff?: { files: Array<{ path: string; added: number; deleted: number }>; added: number; deleted: number };
  setupLog?: string;
}

describe("cook branch", () => {
  let cook: RunningCook;
  let work: string;
  let mainHead: string;

  before(async () => {
    cook = await startCook();
    assert.equal((await cook.cli(["repo", "add", "app"])).code, 0);
    assert.equal((await cook.cli(["repo", "add", "web"])).code, 0);
    work = join(tempDir(), "app");
    await gitOk(["clone", "--quiet", `${cook.url}/app.git`, work]);
    writeFileSync(join(work, "README.md"), "# app\n");
    await gitOk(["add", "."], { cwd: work });
    await gitOk(["commit", "--quiet", "-m", "first"], { cwd: work });
    await gitOk(["push", "--quiet", "origin", "main"], { cwd: work });
    mainHead = await revParse(work, "HEAD");
  });
  after(() => cook?.stop());

  const json = async <T>(args: string[]): Promise<T> => {
    const result = await cook.cli([...args, "--json"]);
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };
  const refused = async (args: string[], message: RegExp) => {
    const result = await cook.cli(args);
    assert.equal(result.code, 1, `${args.join(" ")} should fail: ${result.stdout}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trimEnd().split("\n").length, 1, `one line on stderr: ${result.stderr}`);
    return result;
  };
  const events = async (pattern: string) => ((await (await fetch(`${cook.url}/api/events?after=0&limit=1000&subject=${encodeURIComponent(pattern)}`)).json()) as { events: EventRow[] }).events;
  const task = async (title: string) => (await json<{ id: string }>(["task", "create", "app", `--title=${title}`]));
  const taskStatus = async (id: string) => (await json<{ task: { status: string } }>(["task", "show", id])).task.status;

  it("creates a branch with a local environment: ref on the forge, one created event, a checkout that shares objects, TASK.md excluded, task in progress", async () => {
    const fix = await task("Fix the login loop");
    const created = await json<{ branch: BranchJson; environment: BranchJson["environment"] }>(["branch", "create", "app", "--task", fix.id, "--env=local"]);
    assert.match(created.branch.id, /^brn_[0-7][0-9a-hjkmnp-tv-z]{25}$/);
    assert.equal(created.branch.name, fix.id);
    assert.equal(created.branch.baseCommit, mainHead);
    assert.equal(created.environment?.state, "ready");
    assert.match(created.environment!.id, /^env_/);
    assert.equal((await lsRemote(`${cook.url}/app.git`))[`refs/heads/${fix.id}`], mainHead);

    const checkout = created.environment!.path;
    assert.equal(checkout, join(cook.dataDir, "envs", "app", created.branch.id));
    assert.equal((await gitOk(["branch", "--show-current"], { cwd: checkout })).trim(), fix.id);
    assert.equal((await gitOk(["remote", "get-url", "origin"], { cwd: checkout })).trim(), `${new URL(cook.url).origin}/app.git`);
    assert.equal(readFileSync(join(checkout, ".git", "objects", "info", "alternates"), "utf8").trim(), join(cook.dataDir, "repos", "app.git", "objects"));
    assert.match(readFileSync(join(checkout, "TASK.md"), "utf8"), /title: Fix the login loop/);
    assert.equal((await gitOk(["status", "--porcelain"], { cwd: checkout })).trim(), "", "TASK.md is excluded from git");
    assert.equal(await taskStatus(fix.id), "in_progress");

    const createdEvents = (await events(`cook.branch.app.>`)).filter((e) => e.type === "branch.created" && e.branch === fix.id);
    assert.equal(createdEvents.length, 1);
    assert.equal(createdEvents[0]!.data.task, fix.id);

    // A second branch for the same task gets the next free name.
    const second = await json<{ branch: BranchJson }>(["branch", "create", "app", "--task", fix.id, "--env=none"]);
    assert.equal(second.branch.name, `${fix.id}-2`);
  });

  it("runs commands in the environment with its variables, streams both streams and passes the exit code on", async () => {
    await json(["branch", "create", "app", "exec-me"]);
    const result = await cook.cli(["branch", "exec", "exec-me", "--", "sh", "-c", 'echo "$COOK_REPO $COOK_BRANCH $COOK_ENV_ID port=$PORT base=$COOK_PORT_BASE"; echo oops >&2; command -v cook; exit 3']);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stdout, /^app exec-me env_\S+ port=(\d+) base=\1\n/);
    assert.match(result.stdout, /\/bin\/cook\n$/);
    assert.equal(result.stderr, "oops\n");
    const server = await cook.cli(["branch", "exec", "exec-me", "--", "sh", "-c", 'test -n "$COOK_TOKEN" && echo "$COOK_SERVER"']);
    assert.equal(server.stdout.trim(), new URL(cook.url).origin);
  });

  it("gives each environment its own port block", async () => {
    const a = await json<{ environment: { portBase: number } }>(["branch", "create", "app", "ports-a"]);
    const b = await json<{ environment: { portBase: number } }>(["branch", "create", "app", "ports-b"]);
    assert.notEqual(a.environment.portBase, b.environment.portBase);
  });

  it("lets work leave the environment only by git push, with a token scoped to its own branch that is in no file", async () => {
    const { environment } = await json<{ environment: { path: string } }>(["branch", "create", "app", "pusher"]);
    const pushed = await cook.cli(["branch", "exec", "pusher", "--", "sh", "-c", "echo hi > hi.txt && git add hi.txt && git commit -qm hi && git push -q origin pusher && git rev-parse HEAD"]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal((await lsRemote(`${cook.url}/app.git`))["refs/heads/pusher"], pushed.stdout.trim());
    const pushEvent = (await events("cook.branch.app.pusher.pushed")).at(-1);
    assert.match(String(pushEvent?.data.pusher), /^env_/, "the push was made with the environment's token");

    const elsewhere = await cook.cli(["branch", "exec", "pusher", "--", "git", "push", "origin", "HEAD:refs/heads/not-mine"]);
    assert.notEqual(elsewhere.code, 0);
    assert.match(elsewhere.stderr, /not-mine/);
    assert.equal((await lsRemote(`${cook.url}/app.git`))["refs/heads/not-mine"], undefined);

    const token = (await cook.cli(["branch", "exec", "pusher", "--", "sh", "-c", 'printf %s "$COOK_TOKEN"'])).stdout;
    assert.match(token, /^cook_env_/);
    const grep = await git(["grep", "--no-index", "-l", "-F", token, "--", "."], { cwd: environment.path });
    assert.equal(grep.stdout, "", "the token is in no file of the checkout");
    assert.ok(!readFileSync(join(environment.path, ".git", "config"), "utf8").includes(token));
  });

  it("refuses bad input with one clear line", async () => {
    await refused(["branch", "create", "app", "bad..name"], /not a valid branch name: a branch name follows git check-ref-format/);
    await refused(["branch", "create", "nope", "x"], /no repo named 'nope'/);
    await refused(["branch", "create", "app", "x", "--base=missing"], /no branch 'missing' in app/);
    await refused(["branch", "create", "app", "x", "--task=no-such-task"], /no task 'no-such-task'/);
    await refused(["branch", "create", "app", "exec-me"], /already exists in app/);
    await refused(["branch", "create", "app", "x", "--env=docker"], /unknown environment backend 'docker'; this server has local, sandbox, none/);
    await refused(["branch", "create", "app"], /give the branch a name, or a task/);
    const closed = await task("Already done");
    assert.equal((await cook.cli(["task", "close", closed.id])).code, 0);
    await refused(["branch", "create", "app", "--task", closed.id], /is closed; reopen it/);
    const other = await json<{ id: string }>(["task", "create", "web", "--title=Web thing"]);
    await refused(["branch", "create", "app", "--task", other.id], /belongs to web, not app/);
    await refused(["branch", "show", "never-made"], /no branch 'never-made'/);
    await refused(["branch", "exec", "never-made", "--", "true"], /no branch 'never-made'/);

    const statuses: Array<[string, number]> = [];
    for (const body of [{ repo: "app", name: "a b" }, { repo: "nope", name: "x" }, { repo: "app", name: "exec-me" }, { repo: "app", name: "y", env: "modal" }]) {
      const response = await fetch(`${cook.url}/api/branches`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      statuses.push([body.name, response.status]);
    }
    assert.deepEqual(statuses, [["a b", 422], ["x", 404], ["exec-me", 409], ["y", 422]]);
  });

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
