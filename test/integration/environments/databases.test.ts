import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, it } from "node:test";
import pg from "pg";
import { typeid } from "typeid-js";
import { createEnvironmentDatabases, databaseNameFor, databaseVariables, dropEnvironmentDatabases, roleNameFor } from "../../../src/environments/databases.js";
import { testServerUrl } from "../../helpers/database.js";

const adminUrl = testServerUrl();

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe("environment databases", () => {
  const envIds: string[] = [];
  const otherDatabases: string[] = [];

  function newEnvId(): string {
    const id = typeid("env").toString();
    envIds.push(id);
    return id;
  }

  /** This file's databases that exist on the server, sorted. */
  async function existing(): Promise<string[]> {
    const suffixes = envIds.map((id) => `cook_${id.slice(4)}_%`);
    const rows = await withClient(adminUrl, (c) => c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE ANY($1) ORDER BY datname", [suffixes]));
    return rows.rows.map((row) => row.datname);
  }

  after(async () => {
    const leftovers = [...(await existing()), ...otherDatabases];
    await withClient(adminUrl, async (c) => {
      for (const name of leftovers) await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    });
  });

  it("names a database cook_<the id's 26 characters>_<name>, at most 63 bytes", () => {
    assert.equal(databaseNameFor("env_01JQ3V8Z5K2M4N6P7Q8R9S0T1V", "app"), "cook_01jq3v8z5k2m4n6p7q8r9s0t1v_app");
    const longest = databaseNameFor(typeid("env").toString(), "x".repeat(31));
    assert.equal(Buffer.byteLength(longest), 63);
  });

  it("refuses an id that is not an environment's or a name cook.toml would refuse", () => {
    for (const id of ["brn_01jq3v8z5k2m4n6p7q8r9s0t1v", "env_short", 'env_01jq3v8z5k2m4n6p7q8r9s0t1"', ""]) {
      assert.throws(() => databaseNameFor(id, "app"), { name: "CookError", code: "invalid", message: /is not an environment id/ });
    }
    for (const name of ["App", "1db", "a-b", "x".repeat(32), 'a"; DROP DATABASE postgres; --']) {
      assert.throws(() => databaseNameFor("env_01jq3v8z5k2m4n6p7q8r9s0t1v", name), { code: "invalid", message: /is not a database name/ });
    }
  });

  it("creates a database the returned url connects to, and drops it again", async () => {
    const envId = newEnvId();
    const [app] = await createEnvironmentDatabases(adminUrl, envId, ["app"]);
    assert.ok(app);
    assert.deepEqual({ name: app.name, database: app.database }, { name: "app", database: databaseNameFor(envId, "app") });

    await withClient(app.url, async (c) => {
      await c.query("CREATE TABLE notes (body text)");
      await c.query("INSERT INTO notes VALUES ('hello')");
      assert.equal((await c.query("SELECT current_database() AS db")).rows[0].db, app.database);
    });

    await dropEnvironmentDatabases(adminUrl, [app]);
    assert.deepEqual(await existing(), []);
  });

  it("keeps two environments' databases apart", async () => {
    const [first] = await createEnvironmentDatabases(adminUrl, newEnvId(), ["app"]);
    const [second] = await createEnvironmentDatabases(adminUrl, newEnvId(), ["app"]);
    assert.ok(first && second);
    assert.notEqual(first.database, second.database);

    await withClient(first.url, (c) => c.query("CREATE TABLE only_in_first (id int)"));
    const seen = await withClient(second.url, (c) => c.query("SELECT to_regclass('only_in_first') AS found"));
    assert.equal(seen.rows[0].found, null);

    await dropEnvironmentDatabases(adminUrl, [first, second]);
  });

  it("gives each environment a role of its own in the url, keeping the admin URL's host, port and query", async () => {
    const url = new URL(adminUrl);
    url.password = "s3cret";
    url.searchParams.set("application_name", "cook_env_test");
    const envId = newEnvId();
    const [app] = await createEnvironmentDatabases(url.toString(), envId, ["app"]);
    assert.ok(app);
    const got = new URL(app.url);
    assert.equal(got.username, roleNameFor(envId));
    assert.notEqual(got.password, "s3cret");
    assert.ok(got.password.length >= 24);
    assert.deepEqual([got.host, got.pathname, got.searchParams.get("application_name")], [url.host, `/${app.database}`, "cook_env_test"]);
    const seen = await withClient(app.url, (c) => c.query("SELECT current_user AS role, current_setting('application_name') AS name, (SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user) AS powerful"));
    assert.deepEqual(seen.rows[0], { role: roleNameFor(envId), name: "cook_env_test", powerful: false });
    await dropEnvironmentDatabases(adminUrl, [app]);
    const roles = await withClient(adminUrl, (c) => c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [roleNameFor(envId)]));
    assert.equal(roles.rowCount, 0, "the role goes with its databases");
  });

  it("keeps an environment's role out of the factory's and other environments' databases", async () => {
    const [first] = await createEnvironmentDatabases(adminUrl, newEnvId(), ["app"]);
    const [second] = await createEnvironmentDatabases(adminUrl, newEnvId(), ["app"]);
    assert.ok(first && second);
    const intoSecond = new URL(first.url);
    intoSecond.pathname = `/${second.database}`;
    await assert.rejects(withClient(intoSecond.toString(), (c) => c.query("SELECT 1")), /permission denied for database/);
    // The admin's own database: the role may connect where PUBLIC may, but owns nothing there and can create no database.
    await assert.rejects(withClient(first.url, (c) => c.query("CREATE DATABASE cook_should_not_exist")), /permission denied to create database/);
    await dropEnvironmentDatabases(adminUrl, [first, second]);
  });

  it("copies a template database's tables and rows into each new database", async () => {
    const template = `cook_envtemplate_${randomBytes(6).toString("hex")}`;
    otherDatabases.push(template);
    await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${template}`));
    const templateUrl = new URL(adminUrl);
    templateUrl.pathname = `/${template}`;
    await withClient(templateUrl.toString(), async (c) => {
      await c.query("CREATE TABLE seeds (name text)");
      await c.query("INSERT INTO seeds VALUES ('from the template')");
    });

    const databases = await createEnvironmentDatabases(adminUrl, newEnvId(), ["app", "analytics"], { template });

    for (const { url } of databases) {
      const rows = await withClient(url, async (c) => {
        await c.query("INSERT INTO seeds VALUES ('by the environment')");
        return c.query("SELECT name FROM seeds ORDER BY name DESC");
      });
      assert.deepEqual(rows.rows, [{ name: "from the template" }, { name: "by the environment" }]);
    }
    await dropEnvironmentDatabases(adminUrl, databases);
  });

  it("refuses a template that does not exist, creating nothing", async () => {
    const envId = newEnvId();
    await assert.rejects(createEnvironmentDatabases(adminUrl, envId, ["app"], { template: "no_such_template" }), {
      name: "CookError",
      code: "invalid",
      message: /^template database 'no_such_template' does not exist on postgres:\/\//,
    });
    assert.deepEqual(await existing(), []);
  });

  it("refuses a template that has open connections, creating nothing", async () => {
    const template = `cook_envtemplate_${randomBytes(6).toString("hex")}`;
    otherDatabases.push(template);
    await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${template}`));
    const templateUrl = new URL(adminUrl);
    templateUrl.pathname = `/${template}`;
    const envId = newEnvId();
    await withClient(templateUrl.toString(), async () => {
      await assert.rejects(createEnvironmentDatabases(adminUrl, envId, ["app"], { template }), {
        code: "conflict",
        message: `template database '${template}' has open connections; close them (or set ALLOW_CONNECTIONS false on it) and try again`,
      });
    });
    assert.deepEqual(await existing(), []);
  });

  it("refuses to create an environment's database twice, keeping the first and leaving nothing else behind", async () => {
    const envId = newEnvId();
    const [app] = await createEnvironmentDatabases(adminUrl, envId, ["app"]);
    assert.ok(app);
    await withClient(app.url, (c) => c.query("CREATE TABLE kept (id int)"));

    await assert.rejects(createEnvironmentDatabases(adminUrl, envId, ["cache", "app"]), {
      name: "CookError",
      code: "conflict",
      message: `environment ${envId} already has its databases (role ${roleNameFor(envId)} exists)`,
    });

    assert.deepEqual(await existing(), [app.database]);
    const kept = await withClient(app.url, (c) => c.query("SELECT to_regclass('kept') IS NOT NULL AS found"));
    assert.equal(kept.rows[0].found, true);
    await dropEnvironmentDatabases(adminUrl, [app]);
  });

  it("refuses a name given twice before creating anything", async () => {
    await assert.rejects(createEnvironmentDatabases(adminUrl, newEnvId(), ["app", "app"]), { code: "invalid", message: "database 'app' is named twice" });
    assert.deepEqual(await existing(), []);
  });

  it("drops a database that a program is still connected to, and skips one already gone", async () => {
    const databases = await createEnvironmentDatabases(adminUrl, newEnvId(), ["app", "cache"]);
    const [app, cache] = databases;
    assert.ok(app && cache);
    const connected = new pg.Client({ connectionString: app.url });
    connected.on("error", () => {});
    await connected.connect();
    try {
      await dropEnvironmentDatabases(adminUrl, [cache]);
      await dropEnvironmentDatabases(adminUrl, databases);
      assert.deepEqual(await existing(), []);
    } finally {
      await connected.end().catch(() => {});
    }
  });

  it("refuses to drop a database whose name it could not have made, dropping nothing", async () => {
    const [app] = await createEnvironmentDatabases(adminUrl, newEnvId(), ["app"]);
    assert.ok(app);
    for (const database of ["postgres", "test", "cook_test_0123456789ab", `${app.database}"`]) {
      await assert.rejects(dropEnvironmentDatabases(adminUrl, [app, { database }]), {
        code: "invalid",
        message: /^refusing to drop '.*': it is not the name of an environment's database$/,
      });
    }
    assert.deepEqual(await existing(), [app.database]);
    await dropEnvironmentDatabases(adminUrl, [app]);
  });

  it("reports a server it cannot reach as unavailable", async () => {
    await assert.rejects(createEnvironmentDatabases("postgres://postgres@127.0.0.1:1/postgres", newEnvId(), ["app"]), {
      code: "unavailable",
      message: /^cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/postgres to manage environment databases: /,
    });
  });
});

describe("databaseVariables", () => {
  const db = (name: string) => ({ name, url: `postgres://u@h/cook_x_${name}` });

  it("gives a single database as DATABASE_URL", () => {
    assert.deepEqual(databaseVariables([db("app")]), { DATABASE_URL: "postgres://u@h/cook_x_app" });
  });

  it("gives each of several databases its own variable and the first as DATABASE_URL", () => {
    assert.deepEqual(databaseVariables([db("app"), db("cache_2")]), {
      DATABASE_URL: "postgres://u@h/cook_x_app",
      COOK_DB_APP_URL: "postgres://u@h/cook_x_app",
      COOK_DB_CACHE_2_URL: "postgres://u@h/cook_x_cache_2",
    });
  });

  it("gives no variables without databases", () => {
    assert.deepEqual(databaseVariables([]), {});
  });
});
