import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";

describe("cook token", () => {
  let cook: RunningCook;
  let admin: string;

  before(async () => {
    cook = await startCook({ config: "[auth]\nrequired = true\n" });
    admin = readFileSync(join(cook.dataDir, "initial-admin-token"), "utf8").trim();
  });
  after(() => cook?.stop());

  const asAdmin = (args: string[]) => cook.cli(args, { env: { COOK_TOKEN: admin } });

  it("leaves the first admin token in a file only its owner can read", () => {
    const file = join(cook.dataDir, "initial-admin-token");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(admin, /^cook_[A-Za-z0-9_-]{43}$/);
    assert.match(cook.output(), /created one; its secret is in this file/);
  });

  it("creates a token whose secret is printed once and works at once", async () => {
    const created = await asAdmin(["token", "create", "--scope", "user", "--name", "ci"]);
    assert.equal(created.code, 0, created.stderr);
    const secret = created.stdout.trim();
    assert.match(created.stderr, /'ci' \(user\); the secret above is not shown again/);
    const response = await fetch(`${cook.url}/api/events`, { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal(response.status, 200);

    const listed = await asAdmin(["token", "list"]);
    assert.match(listed.stdout, /^ID +NAME +SCOPE/);
    assert.match(listed.stdout, /\bci +user\b/);
    assert.ok(!listed.stdout.includes(secret) && !listed.stdout.includes(admin), "no secret is ever listed");
  });

  it("revokes a token so that it stops working", async () => {
    const created = JSON.parse((await asAdmin(["token", "create", "--scope", "user", "--json"])).stdout) as { token: { id: number }; secret: string };
    const revoked = await asAdmin(["token", "revoke", String(created.token.id)]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const response = await fetch(`${cook.url}/api/events`, { headers: { Authorization: `Bearer ${created.secret}` } });
    assert.equal(response.status, 401);
    assert.match(response.headers.get("www-authenticate") ?? "", /^Basic /);
  });

  it("lets only admins manage tokens", async () => {
    const user = (await asAdmin(["token", "create", "--scope", "user"])).stdout.trim();
    const attempt = await cook.cli(["token", "create", "--scope", "admin"], { env: { COOK_TOKEN: user } });
    assert.equal(attempt.code, 1);
    assert.equal(attempt.stderr, "cook: this needs a token with 'admin' scope; yours is 'user'\n");
  });

  it("refuses a malformed scope or an unknown id with one line", async () => {
    const badScope = await asAdmin(["token", "create", "--scope", "agent:no-branch"]);
    assert.deepEqual([badScope.code, badScope.stderr], [1, "cook: scope must be admin, user or agent:<repo>/<branch>\n"]);
    const unknown = await asAdmin(["token", "revoke", "999999"]);
    assert.deepEqual([unknown.code, unknown.stderr], [1, "cook: no token with id 999999\n"]);
  });

  it("does not make another initial token on restart", async () => {
    await cook.stop();
    cook = await startCook({ env: { COOK_DATA_DIR: cook.dataDir }, config: "[auth]\nrequired = true\n" });
    assert.equal(readFileSync(join(cook.dataDir, "initial-admin-token"), "utf8").trim(), admin);
    const listed = JSON.parse((await asAdmin(["token", "list", "--json"])).stdout) as Array<{ name: string }>;
    assert.equal(listed.filter((t) => t.name === "initial-admin").length, 1);
  });
});
