import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { encodeSseMessage } from "../../../src/server/live/sse.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { rawRequest } from "../../helpers/raw-http.js";

const json = { "Content-Type": "application/json", Accept: "application/json" };

describe("requests naming a host the server does not answer to (DNS rebinding)", () => {
  let cook: RunningCook;
  let port: string;
  before(async () => {
    cook = await startCook({ config: '[server]\nallowed_hosts = ["cook.internal", "*.example.org"]\npublic_url = "https://factory.example.com"\n' });
    port = new URL(cook.url).port;
    const added = await cook.cli(["repo", "add", "shop"]);
    assert.equal(added.code, 0, added.stderr);
  });
  after(() => cook?.stop());

  const tokenCount = async () => ((await (await fetch(`${cook.url}/api/tokens`)).json()) as { tokens: unknown[] }).tokens.length;

  it("refuses a rebinding page's POST /api/tokens with 421 and creates no token", async () => {
    const before = await tokenCount();
    const response = await rawRequest(cook.url, {
      method: "POST",
      path: "/api/tokens",
      headers: { ...json, Host: `evil.example:${port}`, Origin: `http://evil.example:${port}`, "Sec-Fetch-Site": "same-origin" },
      body: JSON.stringify({ scope: "admin", name: "stolen" }),
    });
    assert.equal(response.status, 421);
    assert.match(JSON.parse(response.body).error.message, /does not answer to host 'evil\.example'/);
    assert.equal(await tokenCount(), before);
  });

  it("refuses every kind of route under a foreign Host: pages, API, SSE, static files, health, git", async () => {
    for (const path of ["/", "/tasks", "/repos/shop", "/events/live", "/api/events", "/api/events/stream", "/public/css/cook.css", "/healthz", "/shop.git/info/refs?service=git-upload-pack", "/shop.git/info/refs?service=git-receive-pack"]) {
      for (const host of [`evil.example:${port}`, "evil.example", "localhost.evil.example", `127.0.0.1.evil.example:${port}`, "cook.internal.evil.example"]) {
        const response = await rawRequest(cook.url, { path, headers: { Host: host } });
        assert.equal(response.status, 421, `${path} with Host ${host}`);
      }
    }
  });

  it("answers loopback names, IP literals, the listen host, the public URL's host and configured names", async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`, `app.localhost:${port}`, "cook.internal", "ci.example.org", "factory.example.com", `localhost.:${port}`]) {
      const response = await rawRequest(cook.url, { path: "/api/events?limit=1", headers: { Host: host, Accept: "application/json" } });
      assert.equal(response.status, 200, `Host ${host}: ${response.body}`);
    }
    assert.equal((await rawRequest(cook.url, { path: "/api/events", headers: { Host: "example.org" } })).status, 421, "*.example.org does not match example.org itself");
  });

  it("refuses a config with a malformed allowed_hosts or public_url, naming the key", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cook-hosts-")), "config.toml");
    writeFileSync(file, '[server]\nallowed_hosts = ["http://x"]\npublic_url = "ftp://x"\n');
    const result = await cook.cli(["serve", "--port", "0", "--config", file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /\[server\] allowed_hosts/);
    assert.match(result.stderr, /\[server\] public_url/);
  });
});

describe("what the server keeps on disk and echoes back", () => {
  let cook: RunningCook;
  before(async () => {
    cook = await startCook();
    const added = await cook.cli(["repo", "add", "private"]);
    assert.equal(added.code, 0, added.stderr);
  });
  after(() => cook?.stop());

  /** Paths under `dir` that another local user could read, write or enter, were the folders above open. */
  function looseEntries(dir: string, options: { filesToo: boolean }): string[] {
    const loose: string[] = [];
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink()) continue;
      const mode = statSync(path).mode;
      if ((entry.isDirectory() || options.filesToo) && (mode & 0o077) !== 0) loose.push(`${path} (${(mode & 0o777).toString(8)})`);
      if (entry.isDirectory()) loose.push(...looseEntries(path, options));
    }
    return loose;
  }

  it("creates the data dir, the database, the repos and every file in them readable by its owner only", () => {
    assert.equal(statSync(cook.dataDir).mode & 0o777, 0o700);
    for (const sub of ["db", "db/PG_VERSION", "repos", "repos/private.git", "repos/private.git/HEAD", "hook-secret"]) assert.equal(statSync(join(cook.dataDir, sub)).mode & 0o077, 0, sub);
    const outsideDb = readdirSync(cook.dataDir).filter((name) => name !== "db").flatMap((name) => {
      const path = join(cook.dataDir, name);
      return [...((statSync(path).mode & 0o077) !== 0 ? [path] : []), ...(statSync(path).isDirectory() ? looseEntries(path, { filesToo: true }) : [])];
    });
    assert.deepEqual(outsideDb, []);
    // PGlite creates some files 0666 while it runs (its file layer ignores the umask): the folders
    // above them are what keep them private.
    assert.deepEqual(looseEntries(join(cook.dataDir, "db"), { filesToo: false }), []);
  });

  it("keeps a well-formed X-Request-Id and replaces one that could forge log lines or markup", async () => {
    const kept = await rawRequest(cook.url, { path: "/nowhere", headers: { "X-Request-Id": "proxy-42.a:b", Accept: "application/json" } });
    assert.equal(kept.headers["x-request-id"], "proxy-42.a:b");
    for (const hostile of ["<script>alert(1)</script>", "a b", "x".repeat(65), "id\"}{\"level\":60", "é"]) {
      const response = await rawRequest(cook.url, { path: "/nowhere", headers: { "X-Request-Id": Buffer.from(hostile).toString("latin1"), Accept: "text/html" } });
      assert.equal(response.status, 404);
      assert.match(String(response.headers["x-request-id"]), /^[0-9a-f-]{36}$/, hostile);
      assert.doesNotMatch(response.body, /<script>alert/);
    }
    assert.doesNotMatch(cook.output(), /<script>alert|"level":60/);
  });
});

describe("server-sent event framing", () => {
  it("turns every line terminator in a payload (CR, LF, CRLF) into its own data line, so no field can be injected", () => {
    const frame = encodeSseMessage(7, { event: "cook-event", data: "a\rid: 999\r\nretry: 1\nevent: evil\r\rb" });
    const lines = frame.split(/\r\n|\r|\n/);
    assert.deepEqual(lines, ["id: 7", "event: cook-event", "data: a", "data: id: 999", "data: retry: 1", "data: event: evil", "data: ", "data: b", "", ""]);
    assert.ok(!frame.includes("\r"));
  });

  it("refuses an event name that holds a line break", () => {
    assert.throws(() => encodeSseMessage(1, { event: "a\rretry: 1", data: "" }));
  });
});
