import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, afterEach, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { makeWorkRepo } from "../../helpers/git.js";
import { attach, environmentProcesses, handshake, lines, opened, startTerminalFixture, terminalServerEnv } from "../../helpers/terminal-client.js";
import { eventually } from "../../helpers/wait.js";

describe("cook branch attach: refusals, scopes and teardown", () => {
  let cook: RunningCook;
  let env: Record<string, { id: string; path: string }> = {};

  before(async () => {
    ({ cook, env } = await startTerminalFixture());
  });
  afterEach(() => {
    for (const attached of opened.splice(0)) attached.pty.kill("SIGKILL");
  });
  after(() => cook?.stop());

  it("refuses, in one line with exit 1, a branch without a live environment and one that does not exist", async () => {
    const result = await cook.cli(["branch", "attach", "no-env"]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, "cook: branch 'no-env' has no live environment; make one with cook branch create --env\n");
    const unknown = await cook.cli(["branch", "attach", "nowhere"]);
    assert.deepEqual([unknown.code, unknown.stderr], [1, "cook: no branch 'nowhere' is tracked\n"]);
  });

  it("lets an agent token attach to its own branch only", async () => {
    const token = (await cook.cli(["branch", "exec", "other", "--", "sh", "-c", 'printf %s "$COOK_TOKEN"'])).stdout;
    assert.ok(token.length > 20);
    const refused = await cook.cli(["branch", "attach", "attach-me"], { env: { COOK_TOKEN: token } });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^cook: an agent token may only work on its own branch \(app\/other\)\n$/);
    assert.deepEqual(environmentProcesses(env["attach-me"]!.id), []);
    const own = await cook.cli(["branch", "attach", "other"], { env: { COOK_TOKEN: token }, input: "exit 5\n" });
    assert.equal(own.code, 5, own.stderr);
  });

  it("refuses a handshake from another site's page and one naming a host it does not answer to, before any shell starts", async () => {
    const url = `${cook.url}/api/branches/attach-me/terminal`;
    const crossOrigin = await handshake(url, {}, "http://evil.example");
    assert.equal(typeof crossOrigin === "object" && crossOrigin.status, 403);
    assert.match((crossOrigin as { body: string }).body, /cross-site request refused/);
    const crossSite = await handshake(url, { "Sec-Fetch-Site": "cross-site" }, new URL(cook.url).origin);
    assert.equal(typeof crossSite === "object" && crossSite.status, 403);
    const rebound = await handshake(url, { Host: `evil.example:${new URL(cook.url).port}` }, `http://evil.example:${new URL(cook.url).port}`);
    assert.equal(typeof rebound === "object" && rebound.status, 421);
    assert.deepEqual(environmentProcesses(env["attach-me"]!.id), []);
    // The factory's own pages are let in.
    assert.equal(await handshake(url, { "Sec-Fetch-Site": "same-origin" }, new URL(cook.url).origin), "open");
  });

  it("runs the shell of a sandbox branch inside its sandbox", async () => {
    const t = attach(cook, ["boxed"]);
    await t.prompt();
    const mark = t.output().length;
    t.pty.write(`id -u; cat ${cook.dataDir}/hook-secret >/dev/null 2>&1 || echo secret-unreadable; sleep 987653 & echo started\r`);
    await t.waitFor(lines("1000", "secret-unreadable"), mark);
    await t.waitFor(lines("started"), mark);
    await t.prompt();
    t.pty.write("exit\r");
    assert.equal(await t.exited, 0);
    await eventually(() => environmentProcesses(env.boxed!.id).length === 0, 10_000, "no process left in the sandbox");
  });

  it("ends the terminal, saying why, when the environment is torn down", async () => {
    const t = attach(cook, ["doomed"]);
    await t.prompt();
    const abandoned = await cook.cli(["branch", "abandon", "doomed"]);
    assert.equal(abandoned.code, 0, abandoned.stderr);
    await t.waitFor(/the server closed this terminal: its environment is being torn down/);
    assert.equal(await t.exited, 129, "the shell was hung up (SIGHUP)");
    assert.deepEqual(environmentProcesses(env.doomed!.id), []);
  });

  it("still shows a branch named <x>/terminal to a plain GET", async () => {
    assert.equal((await cook.cli(["branch", "create", "app", "tools/terminal", "--env=none"])).code, 0);
    const shown = await cook.cli(["branch", "show", "tools/terminal", "--json"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as { name: string }).name, "tools/terminal");
  });
});

describe("cook branch attach with [auth] required", () => {
  let cook: RunningCook;
  let admin: string;

  before(async () => {
    cook = await startCook({ config: "[auth]\nrequired = true\n", env: terminalServerEnv() });
    admin = readFileSync(`${cook.dataDir}/initial-admin-token`, "utf8").trim();
    const seed = await makeWorkRepo([{ "README.md": "# app\n" }]);
    for (const args of [["repo", "add", "app", `--clone=${seed}`], ["branch", "create", "app", "locked", "--env=local"]]) {
      const result = await cook.cli(args, { env: { COOK_TOKEN: admin } });
      assert.equal(result.code, 0, result.stderr);
    }
  });
  after(() => cook?.stop());

  it("asks for a token, refuses a wrong one, and lets a user's token in, as Bearer or as Basic password", async () => {
    const anonymous = await cook.cli(["branch", "attach", "locked"]);
    assert.deepEqual([anonymous.code, anonymous.stderr], [1, "cook: authentication required: send a token (cook token create) as Bearer or Basic password\n"]);
    const wrong = await cook.cli(["branch", "attach", "locked"], { env: { COOK_TOKEN: "cook_not-a-token" } });
    assert.deepEqual([wrong.code, wrong.stderr], [1, "cook: the token is not valid: it is unknown, revoked or malformed\n"]);
    const user = (await cook.cli(["token", "create", "--scope", "user"], { env: { COOK_TOKEN: admin } })).stdout.trim();
    const attached = await cook.cli(["branch", "attach", "locked"], { env: { COOK_TOKEN: user }, input: "exit 2\n" });
    assert.equal(attached.code, 2, attached.stderr);
    const basic = `Basic ${Buffer.from(`me:${user}`).toString("base64")}`;
    assert.equal(await handshake(`${cook.url}/api/branches/app/locked/terminal`, { Authorization: basic }), "open");
  });
});
