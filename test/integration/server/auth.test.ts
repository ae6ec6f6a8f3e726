import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openPostgres } from "../../../src/db/postgres.js";
import { insertToken, revokeToken } from "../../../src/db/token-store.js";
import { startCook, runCli, type RunningCook } from "../../helpers/cook.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.js";

describe("token auth", () => {
  let database: TestDatabase;
  let cook: RunningCook;
  const secrets: Record<string, string> = {};

  before(async () => {
    database = await createTestDatabase();
    const db = openPostgres(database.url);
    try {
      for (const scope of ["admin", "user", "agent:shop/fix-login", "revoked"] as const) {
        const { token, secret } = await insertToken(db, `${scope}-token`, scope === "revoked" ? "user" : scope);
        secrets[scope] = secret;
        if (scope === "revoked") await revokeToken(db, token.id);
      }
    } finally {
      await db.close();
    }
    cook = await startCook({ env: { COOK_DATABASE_URL: database.url }, config: "[auth]\nrequired = true\n" });
  });
  after(async () => {
    await cook?.stop();
    await database?.drop();
  });

  const get = (path: string, authorization?: string) => fetch(`${cook.url}${path}`, { headers: authorization ? { Authorization: authorization } : {} });
  const basic = (secret: string) => `Basic ${Buffer.from(`anyone:${secret}`).toString("base64")}`;

  it("asks for credentials with 401 and WWW-Authenticate when none are sent, even from localhost", async () => {
    for (const path of ["/api/events", "/events", "/"]) {
      const response = await get(path);
      assert.equal(response.status, 401, path);
      assert.match(response.headers.get("www-authenticate") ?? "", /^Basic /, path);
    }
  });

  it("answers a wrong, malformed or revoked token with 401 and WWW-Authenticate, so clients forget it and ask again", async () => {
    for (const header of ["Bearer cook_wrong", basic("cook_wrong"), `Basic ${Buffer.from("me").toString("base64")}`, "Digest abc", `Bearer ${secrets.revoked}`, basic(secrets.revoked!)]) {
      for (const path of ["/api/events", "/events"]) {
        const response = await get(path, header);
        assert.equal(response.status, 401, `${header} ${path}`);
        assert.equal(response.headers.get("www-authenticate"), 'Basic realm="cook"', `${header} ${path}`);
        if (path.startsWith("/api/")) assert.deepEqual(await response.json(), { error: { code: "unauthenticated", message: "the token is not valid: it is unknown, revoked or malformed" } });
      }
    }
  });

  it("keeps 403 for a valid token whose scope forbids the action", async () => {
    const response = await get("/api/tokens", `Bearer ${secrets.user}`);
    assert.equal(response.status, 403);
    assert.equal(response.headers.get("www-authenticate"), null);
  });

  it("accepts a token as Bearer or as the Basic password", async () => {
    assert.equal((await get("/api/events", `Bearer ${secrets.user}`)).status, 200);
    assert.equal((await get("/events", basic(secrets.admin!))).status, 200);
  });

  it("keeps /healthz open so monitors need no token", async () => {
    assert.equal((await get("/healthz")).status, 200);
  });

  it("does not let an agent token announce events, and records nothing", async () => {
    const attempt = await fetch(`${cook.url}/api/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${secrets["agent:shop/fix-login"]}`, "Content-Type": "application/json" },
      body: JSON.stringify({ repo: "shop", name: "forged" }),
    });
    assert.equal(attempt.status, 403);
    const listed = (await (await get("/api/events?subject=cook.custom.shop.forged", `Bearer ${secrets.admin}`)).json()) as { events: unknown[] };
    assert.equal(listed.events.length, 0);
  });

  it("lets the CLI in with COOK_TOKEN and refuses it with one line and exit 1 without", async () => {
    const denied = await cook.cli(["events"]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^cook: authentication required/);
    assert.equal(denied.stderr.trim().split("\n").length, 1);

    const allowed = await cook.cli(["events", "publish", "shop", "deployed", "--json"], { env: { COOK_TOKEN: secrets.user } });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(JSON.parse(allowed.stdout).data.by, /^user-token$/);
  });
});

describe("listening beyond localhost", () => {
  it("is refused without token auth, with a message saying how to enable it", async () => {
    const result = await runCli(["serve", "--host", "0.0.0.0", "--port", "0"], { env: { COOK_DATA_DIR: "/tmp/cook-never-created" } });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, "cook: refusing to listen on 0.0.0.0 without token auth: set [auth] required = true in the config file, or listen on 127.0.0.1\n");
  });

  it("is allowed when auth is required", async () => {
    const cook = await startCook({ args: ["--host", "0.0.0.0"], config: "[auth]\nrequired = true\n" });
    try {
      assert.match(cook.url, /^http:\/\/0\.0\.0\.0:\d+$/);
      const port = new URL(cook.url).port;
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/events`)).status, 401);
    } finally {
      await cook.stop();
    }
  });
});
