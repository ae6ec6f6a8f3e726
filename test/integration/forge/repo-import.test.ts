import assert from "node:assert/strict";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadServerConfig } from "../../../src/config/server-config.js";
import { cloneArgs, planImport } from "../../../src/forge/import-source.js";
import { runGit } from "../../../src/git/run-git.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { git, gitOk, lsRemote, makeWorkRepo, tempDir } from "../../helpers/git.js";

interface ApiAnswer {
  status: number;
  text: string;
  message: string | undefined;
}

/** A port on loopback that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A git host that takes its token from the URL's query (`?access_token=…`, as some hosts and CI
 * systems do) and serves Cook's repos behind it. git appends to such a URL as to any other:
 * `/src.git?access_token=T/info/refs&service=git-upload-pack`. It reaches Cook with its own token.
 */
async function startQueryTokenProxy(target: string, token: string, upstreamToken: string): Promise<{ port: number; served: number; stop(): Promise<void> }> {
  const state = { served: 0 };
  const server = createHttpServer((req, res) => {
    const match = /^([^?]*)\?access_token=([^/&]*)(\/[^&]*)(?:&(.*))?$/.exec(req.url ?? "");
    if (!match || match[2] !== token) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="proxy"' }).end("token required\n");
      return;
    }
    state.served++;
    const upstream = new URL(target);
    const headers = { ...req.headers };
    delete headers.host;
    headers.authorization = `Bearer ${upstreamToken}`;
    const forwarded = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: `${match[1]}${match[3]}${match[4] ? `?${match[4]}` : ""}`, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on("error", () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    get served() {
      return state.served;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every file under a folder, with its bytes as latin1 text (so any byte sequence can be searched). */
function filesUnder(dir: string): Array<{ path: string; text: string }> {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, text: readFileSync(path, "latin1") }));
}

async function startGuarded(importFrom?: string): Promise<{ cook: RunningCook; admin: string; user: string }> {
  const cook = await startCook({ config: `[auth]\nrequired = true\n${importFrom ? `[forge]\nimport_from = "${importFrom}"\n` : ""}` });
  const admin = readFileSync(join(cook.dataDir, "initial-admin-token"), "utf8").trim();
  const created = await cook.cli(["token", "create", "--scope", "user", "--name", "someone"], { env: { COOK_TOKEN: admin } });
  assert.equal(created.code, 0, created.stderr);
  return { cook, admin, user: created.stdout.trim() };
}

function importAs(cook: RunningCook, token: string) {
  return async (name: string, clone: string): Promise<ApiAnswer> => {
    const response = await fetch(`${cook.url}/api/repos`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ name, clone }),
    });
    const text = await response.text();
    return { status: response.status, text, message: (JSON.parse(text) as { error?: { message: string } }).error?.message };
  };
}

async function allEvents(cook: RunningCook, token: string): Promise<Array<{ type: string; repo: string; data: Record<string, unknown> }>> {
  const response = await fetch(`${cook.url}/api/events?after=0&limit=1000`, { headers: { Authorization: `Bearer ${token}` } });
  return ((await response.json()) as { events: Array<{ type: string; repo: string; data: Record<string, unknown> }> }).events;
}

describe("repo import with [forge] import_from = public (the default)", () => {
  let cook: RunningCook;
  let admin: string;
  let user: string;
  let seed: string;
  let port: string;
  let closed: number;
  let asUser: ReturnType<typeof importAs>;
  let asAdmin: ReturnType<typeof importAs>;

  before(async () => {
    ({ cook, admin, user } = await startGuarded());
    asUser = importAs(cook, user);
    asAdmin = importAs(cook, admin);
    seed = await makeWorkRepo([{ "README.md": "seed\n" }]);
    port = new URL(cook.url).port;
    closed = await closedPort();
    const added = await asAdmin("src", seed);
    assert.equal(added.status, 201, added.text);
  });
  after(() => cook?.stop());

  const repoNames = () => readdirSync(join(cook.dataDir, "repos")).sort();

  /**
   * Refused with 422 and the one message a user gets for every source it cannot have (the source
   * itself aside), and nothing made.
   */
  async function assertRefusedAlike(pairs: Array<[string, string]>): Promise<void> {
    const reposBefore = repoNames();
    const eventsBefore = (await allEvents(cook, admin)).length;
    for (const [exists, missing] of pairs) {
      const answers = [await asUser("taken-from-server", exists), await asUser("taken-from-server", missing)];
      for (const [i, answer] of answers.entries()) {
        assert.equal(answer.status, 422, `${[exists, missing][i]}: ${answer.text}`);
        assert.match(answer.message!, /^cannot import from '.*': it is not a git repository this server can import for you \(users may import only from http\(s\):\/\/ and git:\/\/ URLs of public hosts\)$/);
      }
      const shape = (answer: ApiAnswer) => answer.message!.replace(/'.*'/, "'…'");
      assert.equal(shape(answers[0]!), shape(answers[1]!), `${exists} and ${missing} are refused alike`);
    }
    assert.deepEqual(repoNames(), reposBefore);
    assert.equal((await allEvents(cook, admin)).length, eventsBefore, "no event for a refused import");
  }

  it("refuses a user's local path and file:// URL alike for a path that exists and one that does not", async () => {
    const serverRepo = join(cook.dataDir, "repos", "src.git");
    await assertRefusedAlike([
      [seed, "/nonexistent/repo"],
      [serverRepo, join(cook.dataDir, "repos", "nope.git")],
      [`file://${serverRepo}`, "file:///nonexistent/repo"],
      ["/etc", "/etc/nonexistent"],
      ["localhost:/etc", "localhost:/nonexistent"],
    ]);
    const cli = await cook.cli(["repo", "add", "from-disk", `--clone=${serverRepo}`], { env: { COOK_TOKEN: user } });
    assert.deepEqual([cli.code, cli.stderr], [1, `cook: cannot import from '${serverRepo}': it is not a git repository this server can import for you (users may import only from http(s):// and git:// URLs of public hosts)\n`]);
    assert.equal(existsSync(join(cook.dataDir, "repos", "from-disk.git")), false);
  });

  it("refuses a user's loopback URL in every spelling alike for an open and a closed port", async () => {
    const hosts = ["127.0.0.1", "localhost", "2130706433", "0x7f.1", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]", "[::1]", "[::127.0.0.1]"];
    const pairs: Array<[string, string]> = [];
    for (const host of hosts) {
      pairs.push([`http://${host}:${port}/src.git`, `http://${host}:${closed}/src.git`]);
      pairs.push([`git://${host}:${port}/src.git`, `git://${host}:${closed}/src.git`]);
    }
    pairs.push([`https://127.0.0.1:${port}/src.git`, `https://127.0.0.1:${closed}/src.git`]);
    pairs.push([`http://x:${admin}@127.0.0.1:${port}/src.git`, `http://x:${admin}@127.0.0.1:${closed}/src.git`]);
    await assertRefusedAlike(pairs);
  });

  it("tells a user the same for an internal host that resolves and one that does not, and for any refused source", async () => {
    // localhost resolves (to loopback); a name under .invalid never does (RFC 6761).
    await assertRefusedAlike([
      [`http://localhost:${port}/src.git`, `http://no-such-host.invalid:${port}/src.git`],
      [`git://localhost:${port}/src.git`, "git://no-such-host.invalid/src.git"],
      [`https://localhost:${closed}/x.git`, "https://no-such-host.invalid/x.git"],
      [seed, "http://no-such-host.invalid/x.git"],
      ["ssh://localhost/etc", "http://no-such-host.invalid/"],
    ]);
  });

  it("refuses a user's private, link-local, unspecified and ssh sources", async () => {
    await assertRefusedAlike([
      ["http://169.254.169.254/latest/meta-data", "http://[fe80::1]/x.git"],
      ["http://10.0.0.1/x.git", "http://192.168.1.1/x.git"],
      ["http://172.16.0.1/x.git", "http://100.64.0.1/x.git"],
      ["http://[fd00::1]/x.git", "http://0.0.0.0/x.git"],
      ["ssh://git@example.com/x.git", "git@example.com:x.git"],
    ]);
  });

  it("lets an admin import a local path and a loopback URL, storing the URL without its credentials", async () => {
    const local = await asAdmin("admin-local", seed);
    assert.equal(local.status, 201, local.text);

    const cloneToken = (await cook.cli(["token", "create", "--scope", "user", "--name", "clone-only"], { env: { COOK_TOKEN: admin } })).stdout.trim();
    const secret = cloneToken.slice("cook_".length);
    const imported = await asAdmin("admin-remote", `http://someone:${cloneToken}@127.0.0.1:${port}/src.git`);
    assert.equal(imported.status, 201, imported.text);
    assert.equal((await lsRemote(`http://x:${admin}@127.0.0.1:${port}/admin-remote.git`))["refs/heads/main"], (await lsRemote(seed))["refs/heads/main"]);

    const event = (await allEvents(cook, admin)).find((e) => e.type === "repo.imported" && e.repo === "admin-remote");
    assert.equal(event?.data.source, `http://127.0.0.1:${port}/src.git`);
    assert.ok(!imported.text.includes(secret), "not in the response");
    for (const file of filesUnder(join(cook.dataDir, "repos", "admin-remote.git"))) assert.ok(!file.text.includes(secret), `not in ${file.path}`);
    assert.ok(!JSON.stringify(await allEvents(cook, admin)).includes(secret), "in no event");
    assert.ok(!cook.output().includes(secret), "not in the server log");

    const failed = await asAdmin("admin-missing", `http://someone:${cloneToken}@127.0.0.1:${port}/missing.git`);
    assert.equal(failed.status, 422, failed.text);
    assert.match(failed.message!, new RegExp(`^cannot import from 'http://127\\.0\\.0\\.1:${port}/missing\\.git': .+`));
    assert.ok(!failed.text.includes(secret), "not in an admin's error either");
  });

  it("uses a token in the URL's query for the clone, and stores, publishes, logs and shows the URL without it", async () => {
    const secret = `qs-${Date.now().toString(36)}-secret-value`;
    const proxy = await startQueryTokenProxy(cook.url, secret, admin);
    try {
      const source = `http://127.0.0.1:${proxy.port}/src.git?access_token=${secret}`;
      const imported = await asAdmin("by-query-token", source);
      assert.equal(imported.status, 201, imported.text);
      assert.ok(proxy.served > 0, "the clone went through the token-checking host");
      const event = (await allEvents(cook, admin)).find((e) => e.type === "repo.imported" && e.repo === "by-query-token");
      assert.equal(event?.data.source, `http://127.0.0.1:${proxy.port}/src.git`);

      const wrong = `${secret}-but-wrong`;
      const failed = await asAdmin("by-wrong-query-token", `http://127.0.0.1:${proxy.port}/src.git?private_token=${wrong}&ref=main`);
      assert.equal(failed.status, 422, failed.text);
      assert.match(failed.message!, new RegExp(`^cannot import from 'http://127\\.0\\.0\\.1:${proxy.port}/src\\.git\\?ref=main': `));
      for (const [where, text] of [["the answers", imported.text + failed.text], ["the events", JSON.stringify(await allEvents(cook, admin))], ["the server log", cook.output()]] as const) {
        assert.ok(!text.includes(secret), `no token in ${where}`);
      }
      for (const file of filesUnder(join(cook.dataDir, "repos", "by-query-token.git"))) assert.ok(!file.text.includes(secret), `not in ${file.path}`);
    } finally {
      await proxy.stop();
    }
  });

  it("refuses transport helpers and unknown schemes for everyone, without echoing credentials", async () => {
    for (const source of ["ext::sh -c touch% /tmp/pwned", "fd::3", "ftp://user:hunter2hunter2@example.com/x.git", "--upload-pack=touch /tmp/pwned"]) {
      const answer = await asAdmin("helper", source);
      assert.equal(answer.status, 422, `${source}: ${answer.text}`);
      assert.ok(!answer.text.includes("hunter2hunter2"), answer.text);
    }
  });
});

describe("repo import with [forge] import_from = any", () => {
  let cook: RunningCook;
  let user: string;
  before(async () => ({ cook, user } = await startGuarded("any")));
  after(() => cook?.stop());

  it("lets a user import from a loopback URL, and tells the user only that a failed source did not answer", async () => {
    const admin = readFileSync(join(cook.dataDir, "initial-admin-token"), "utf8").trim();
    const asUser = importAs(cook, user);
    const seed = await makeWorkRepo([{ "a.txt": "a\n" }]);
    assert.equal((await importAs(cook, admin)("src", seed)).status, 201);
    const port = new URL(cook.url).port;
    const ok = await asUser("copy", `http://x:${user}@127.0.0.1:${port}/src.git`);
    assert.equal(ok.status, 201, ok.text);

    const closed = await closedPort();
    for (const source of [`http://127.0.0.1:${closed}/src.git`, `http://127.0.0.1:${port}/missing.git`, "http://no-such-host.invalid/src.git", "/nonexistent/repo", join(cook.dataDir, "db")]) {
      const failed = await asUser("failed", source);
      assert.equal(failed.status, 422, failed.text);
      assert.equal(failed.message, `cannot import from '${source}': it is not a git repository this server can import for you`);
    }
  });
});

describe("repo import with [forge] import_from = none", () => {
  let cook: RunningCook;
  let admin: string;
  let user: string;
  before(async () => ({ cook, admin, user } = await startGuarded("none")));
  after(() => cook?.stop());

  it("refuses every import, an admin's too, and still creates empty repos", async () => {
    const seed = await makeWorkRepo([{ "a.txt": "a\n" }]);
    for (const token of [admin, user]) {
      const cli = await cook.cli(["repo", "add", "copy", `--clone=${seed}`], { env: { COOK_TOKEN: token } });
      assert.deepEqual([cli.code, cli.stderr], [1, 'cook: importing repos is turned off on this server ([forge] import_from = "none")\n']);
    }
    assert.equal(existsSync(join(cook.dataDir, "repos", "copy.git")), false);
    assert.equal((await cook.cli(["repo", "add", "empty"], { env: { COOK_TOKEN: user } })).code, 0);
  });
});

describe("planImport", () => {
  const user = { name: "u", scope: "user" as const };
  const admin = { name: "a", scope: "admin" as const };
  let cook: RunningCook;
  before(async () => {
    // It answers to the made-up name the clone is pinned to (a server refuses Host names it does not know).
    cook = await startCook({ config: '[server]\nallowed_hosts = ["factory.test"]\n' });
    assert.equal((await cook.cli(["repo", "add", "src", `--clone=${await makeWorkRepo([{ "a.txt": "a\n" }])}`])).code, 0);
  });
  after(() => cook?.stop());

  it("pins git to the addresses it checked, so git does not resolve the name again", async () => {
    const url = `http://factory.test:${new URL(cook.url).port}/src.git`;
    const unpinned = await git(["ls-remote", url]);
    assert.notEqual(unpinned.code, 0, "the name does not resolve by itself");

    const plan = await planImport(url, { actor: admin, importFrom: "public" }, async (host) => (host === "factory.test" ? ["127.0.0.1"] : []));
    const dir = join(tempDir(), "pinned.git");
    await runGit(cloneArgs(plan, dir));
    assert.equal((await gitOk(["--git-dir", dir, "rev-parse", "main"])).trim(), (await lsRemote(`${cook.url}/src.git`))["refs/heads/main"]);
  });

  it("refuses a host if any one of its addresses is not public", async () => {
    const resolve = async () => ["93.184.216.34", "10.0.0.7"];
    await assert.rejects(planImport("https://mixed.example/x.git", { actor: user, importFrom: "public" }, resolve), {
      code: "invalid",
      message: "cannot import from 'https://mixed.example/x.git': it is not a git repository this server can import for you (users may import only from http(s):// and git:// URLs of public hosts)",
    });
  });

  it("gives a user's clone of a public host the checked address and no redirects", async () => {
    const resolve = async () => ["93.184.216.34", "2606:2800:220:1::1"];
    const https = await planImport("https://u:s3cret-pass@example.com/r.git", { actor: user, importFrom: "public" }, resolve);
    assert.equal(https.display, "https://example.com/r.git");
    assert.equal(https.cloneSource, "https://u:s3cret-pass@example.com/r.git", "the clone itself keeps the credentials");
    assert.ok(https.gitOptions.includes("http.curloptResolve=example.com:443:93.184.216.34,[2606:2800:220:1::1]"), https.gitOptions.join(" "));
    assert.ok(https.gitOptions.includes("http.followRedirects=false"));
    assert.ok(https.gitOptions.includes("protocol.allow=never") && !https.gitOptions.includes("protocol.file.allow=always"));
    assert.equal(
      https.describeFailure("fatal: unable to access 'https://u:s3cret-pass@example.com/r.git/': Could not resolve host"),
      "cannot import from 'https://example.com/r.git': it is not a git repository this server can import for you (users may import only from http(s):// and git:// URLs of public hosts)",
    );

    const daemon = await planImport("git://example.com/r.git", { actor: user, importFrom: "public" }, resolve);
    assert.equal(daemon.cloneSource, "git://93.184.216.34:9418/r.git");
  });
});

describe("[forge] import_from", () => {
  it("defaults to public and accepts only public, any or none", () => {
    const file = join(tempDir(), "config.toml");
    const load = (text: string) => {
      writeFileSync(file, text);
      return loadServerConfig({ config: file }, {});
    };
    assert.equal(load("").forge.importFrom, "public");
    assert.equal(load('[forge]\nimport_from = "none"\n').forge.importFrom, "none");
    assert.throws(() => load('[forge]\nimport_from = "everyone"\n'), { code: "invalid", message: `${file}: [forge] import_from: expected one of public, any, none, got "everyone"` });
  });
});
