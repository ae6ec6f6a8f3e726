import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { git, gitOk, lsRemote, makeWorkRepo, revParse, tempDir } from "../../helpers/git.js";

describe("git over HTTP with auth required", () => {
  let cook: RunningCook;
  let admin: string;
  let agent: string;
  let seed: string;
  const withToken = (secret: string, repo = "guarded") => cook.url.replace("http://", `http://x:${secret}@`) + `/${repo}.git`;

  before(async () => {
    cook = await startCook({ config: "[auth]\nrequired = true\n" });
    admin = readFileSync(join(cook.dataDir, "initial-admin-token"), "utf8").trim();
    seed = await makeWorkRepo([{ "README.md": "guarded\n" }]);
    for (const repo of ["guarded", "other"]) {
      const added = await cook.cli(["repo", "add", repo, `--clone=${seed}`], { env: { COOK_TOKEN: admin } });
      assert.equal(added.code, 0, added.stderr);
    }
    agent = (await cook.cli(["token", "create", "--scope", "agent:guarded/agent/fix"], { env: { COOK_TOKEN: admin } })).stdout.trim();
  });
  after(() => cook?.stop());

  it("answers a clone without credentials with 401 and asks for Basic auth", async () => {
    const result = await git(["clone", `${cook.url}/guarded.git`, join(tempDir(), "c")], { env: { GIT_TRACE_CURL: "1", GIT_TRACE_CURL_NO_DATA: "1" } });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /HTTP\/1\.1 401/);
    assert.match(result.stderr, /WWW-Authenticate: Basic/i);
    for (const service of ["git-upload-pack", "git-receive-pack"]) {
      const response = await fetch(`${cook.url}/guarded.git/info/refs?service=${service}`);
      assert.equal(response.status, 401, service);
    }
  });

  it("answers a stored wrong or revoked token with 401, so git's credential helper erases it and git asks again", async () => {
    const dir = tempDir();
    const log = join(dir, "helper.log");
    const stored = join(dir, "stored");
    // A credential store that logs each call git makes of it: get, store, erase.
    const helper = join(dir, "helper.sh");
    writeFileSync(
      helper,
      `#!/bin/sh\necho "$1" >> '${log}'\ncat > /dev/null\ncase "$1" in\n  get) test -f '${stored}' && printf 'username=me\\npassword=%s\\n' "$(cat '${stored}')" ;;\n  erase) rm -f '${stored}' ;;\n  store) echo stored-by-git > '${stored}' ;;\nesac\nexit 0\n`,
      { mode: 0o755 },
    );
    const url = cook.url.replace("http://", "http://me@") + "/guarded.git";
    const revoked = JSON.parse((await cook.cli(["token", "create", "--scope", "user", "--json"], { env: { COOK_TOKEN: admin } })).stdout) as { token: { id: number }; secret: string };
    assert.equal((await cook.cli(["token", "revoke", String(revoked.token.id)], { env: { COOK_TOKEN: admin } })).code, 0);

    for (const stale of ["cook_not-a-token", revoked.secret]) {
      writeFileSync(stored, stale);
      writeFileSync(log, "");
      const refused = await git(["-c", `credential.helper=${helper}`, "ls-remote", url], { env: { GIT_TRACE_CURL: "1", GIT_TRACE_CURL_NO_DATA: "1" } });
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /Authentication failed/);
      assert.doesNotMatch(refused.stderr, /HTTP\/1\.1 403/);
      assert.equal(readFileSync(log, "utf8"), "get\nerase\n", stale);
      assert.equal(existsSync(stored), false, "the helper was told to forget the stale token");
    }

    // The next run finds nothing stored, so git asks (here GIT_ASKPASS answers for the person) and
    // hands the good token to the helper to keep.
    const askpass = join(dir, "askpass.sh");
    writeFileSync(askpass, `#!/bin/sh\nprintf '%s\\n' '${admin}'\n`, { mode: 0o755 });
    writeFileSync(log, "");
    const listed = await git(["-c", `credential.helper=${helper}`, "ls-remote", url], { env: { GIT_ASKPASS: askpass } });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /refs\/heads\/main/);
    assert.equal(readFileSync(log, "utf8"), "get\nstore\n");
  });

  it("clones and pushes with a token as the password", async () => {
    const dir = join(tempDir(), "c");
    await gitOk(["clone", "--quiet", withToken(admin), dir]);
    await gitOk(["checkout", "--quiet", "-b", "admin-work"], { cwd: dir });
    await gitOk(["commit", "--quiet", "--allow-empty", "-m", "work"], { cwd: dir });
    await gitOk(["push", "--quiet", "origin", "admin-work"], { cwd: dir });
    assert.equal((await lsRemote(withToken(admin)))["refs/heads/admin-work"], await revParse(dir, "HEAD"));
  });

  it("leaves refs untouched when a hand-made receive-pack POST comes without credentials", async () => {
    const before = await lsRemote(withToken(admin));
    const zero = "0".repeat(40);
    const command = `${zero} ${before["refs/heads/main"]} refs/heads/injected\0 report-status\n`;
    const pkt = (command.length + 4).toString(16).padStart(4, "0") + command;
    for (const path of ["/guarded.git/git-receive-pack", "/guarded/git-receive-pack"]) {
      const response = await fetch(`${cook.url}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/x-git-receive-pack-request" },
        body: `${pkt}0000`,
      });
      assert.equal(response.status, 401, path);
    }
    assert.deepEqual(await lsRemote(withToken(admin)), before);
  });

  it("lets an agent token push its own branch only, and hides other repos from it", async () => {
    const dir = join(tempDir(), "agent");
    await gitOk(["clone", "--quiet", withToken(agent), dir]);
    await gitOk(["checkout", "--quiet", "-b", "agent/fix"], { cwd: dir });
    await gitOk(["commit", "--quiet", "--allow-empty", "-m", "agent work"], { cwd: dir });
    await gitOk(["push", "--quiet", "origin", "agent/fix"], { cwd: dir });

    await gitOk(["checkout", "--quiet", "-b", "agent/other"], { cwd: dir });
    const elsewhere = await git(["push", "origin", "agent/other"], { cwd: dir });
    assert.match(elsewhere.stderr, /remote: cook: refs\/heads\/agent\/other: this agent token may only push to guarded\/agent\/fix/);
    assert.equal((await lsRemote(withToken(admin)))["refs/heads/agent/other"], undefined);

    const tag = await git(["push", "origin", "HEAD:refs/tags/agent-tag"], { cwd: dir });
    assert.match(tag.stderr, /remote: cook: refs\/tags\/agent-tag: agent tokens cannot push tags/);

    const otherRepo = await git(["ls-remote", withToken(agent, "other")]);
    assert.notEqual(otherRepo.code, 0);
    assert.match(otherRepo.stderr, /not found|404/);
  });

  it("answers a user name with an empty password, an empty Bearer and empty Basic with 401, so git asks its credential helper", async () => {
    const headers = { "me:": `Basic ${Buffer.from("me:").toString("base64")}`, ":": `Basic ${Buffer.from(":").toString("base64")}`, "empty Basic": "Basic ", "empty Bearer": "Bearer " };
    for (const [what, authorization] of Object.entries(headers)) {
      for (const path of ["/guarded.git/info/refs?service=git-upload-pack", "/guarded/info/refs?service=git-receive-pack", "/api/tasks"]) {
        const response = await fetch(`${cook.url}${path}`, { headers: { Authorization: authorization, Accept: "text/html" } });
        assert.equal(response.status, 401, `${what} ${path}`);
        assert.match(response.headers.get("www-authenticate") ?? "", /^Basic /, `${what} ${path}`);
      }
    }

    const helperLog = join(tempDir(), "asked");
    const helper = `!f() { test "$1" = get || exit 0; echo asked >> '${helperLog}'; printf 'username=me\\npassword=%s\\n' '${admin}'; }; f`;
    const dir = join(tempDir(), "c");
    await gitOk(["-c", `credential.helper=${helper}`, "clone", "--quiet", cook.url.replace("http://", "http://me@") + "/guarded.git", dir]);
    assert.equal(readFileSync(helperLog, "utf8"), "asked\n");
  });

  it("answers git's refusals in plain text, even to a browser", async () => {
    for (const [path, headers, status] of [
      ["/guarded.git/info/refs?service=git-upload-pack", {}, 401],
      ["/guarded.git/info/refs?service=git-upload-pack", { Authorization: "Bearer cook_not-a-token" }, 401],
      ["/guarded/git-upload-pack", { Authorization: `Basic ${Buffer.from(`me:${agent}`).toString("base64")}` }, 400],
      ["/other.git/info/refs?service=git-upload-pack", { Authorization: `Basic ${Buffer.from(`me:${agent}`).toString("base64")}` }, 404],
    ] as const) {
      const response = await fetch(`${cook.url}${path}`, { headers: { Accept: "text/html", ...headers } });
      assert.equal(response.status, status, path);
      assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8", path);
      assert.match(await response.text(), /^[^<\n]+\n$/, path);
    }
  });
});

describe("git over HTTP on a trusted localhost server", () => {
  let cook: RunningCook;

  before(async () => {
    cook = await startCook();
    const seed = await makeWorkRepo([{ "README.md": "trusted\n" }]);
    assert.equal((await cook.cli(["repo", "add", "open", `--clone=${seed}`])).code, 0);
  });
  after(() => cook?.stop());

  it("takes a user name with an empty password, or empty credentials, as no credentials: the local user", async () => {
    for (const authorization of [`Basic ${Buffer.from("me:").toString("base64")}`, `Basic ${Buffer.from(":").toString("base64")}`, "Bearer ", "Basic "]) {
      for (const path of ["/open.git/info/refs?service=git-upload-pack", "/open/info/refs?service=git-receive-pack", "/api/repos"]) {
        const response = await fetch(`${cook.url}${path}`, { headers: { Authorization: authorization } });
        assert.equal(response.status, 200, `${authorization} ${path}`);
        await response.arrayBuffer();
      }
    }
    // Clients that send the URL's user name up front (isomorphic-git, dulwich) do just this.
    const dir = join(tempDir(), "c");
    await gitOk(["-c", "http.extraHeader=Authorization: Basic bWU6", "clone", "--quiet", cook.url.replace("http://", "http://me@") + "/open.git", dir]);
    await gitOk(["checkout", "--quiet", "-b", "mine"], { cwd: dir });
    await gitOk(["commit", "--quiet", "--allow-empty", "-m", "mine"], { cwd: dir });
    await gitOk(["-c", "http.extraHeader=Authorization: Basic bWU6", "push", "--quiet", "origin", "mine"], { cwd: dir });
    assert.equal((await lsRemote(`${cook.url}/open.git`))["refs/heads/mine"], await revParse(dir, "HEAD"));
  });

  it("still refuses a token that is not valid, with 401 so git's credential helper forgets it", async () => {
    const response = await fetch(`${cook.url}/open.git/info/refs?service=git-upload-pack`, { headers: { Authorization: `Basic ${Buffer.from("me:cook_not-a-token").toString("base64")}` } });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("www-authenticate"), 'Basic realm="cook"');
  });
});
