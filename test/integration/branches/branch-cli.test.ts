import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startBranchFixture, type BranchFixture, type BranchJson } from "../../helpers/branch-fixture.js";
import type { RunningCook } from "../../helpers/cook.js";
import { git, gitOk, lsRemote } from "../../helpers/git.js";

describe("cook branch create and exec", () => {
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
    // The request's own mistakes are named before anything is looked up: web is empty, and still the name is what is wrong.
    await refused(["branch", "create", "web", "bad..name"], /not a valid branch name/);
    await refused(["branch", "create", "web", "fine", "--env=docker"], /unknown environment backend 'docker'/);
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

});
