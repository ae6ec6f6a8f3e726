import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import pg from "pg";
import { typeid } from "typeid-js";
import { createEnvironmentDatabases, dropEnvironmentDatabases } from "../../../src/environments/databases.js";
import { startPrivatePostgres, type PrivatePostgres } from "../../../src/environments/private-postgres.js";
import { tempDir } from "../../helpers/git.js";

/** Runs `work` on a pool of `size` connections to `url` and ends the pool. */
async function withPool<T>(url: string, size: number, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: size, connectionTimeoutMillis: 5000 });
  // pool.end() resolves before its connections have closed: one the server ends just after (a stop) must not throw.
  pool.on("connect", (client) => client.on("error", () => {}));
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

// Cook's own PostgreSQL for environment databases, with the machine's PostgreSQL programs (as root
// here, so through the user namespace too).
describe("Cook's own PostgreSQL for environment databases", () => {
  const dir = join(tempDir("cook-env-postgres-"), "env-postgres");
  let server: PrivatePostgres | undefined;
  after(() => server?.stop());

  it("makes a cluster on first start whose environment databases a pool of 5 uses at once, each connection a session of its own", async () => {
    server = await startPrivatePostgres(dir);
    assert.equal(server.movedFrom, undefined);
    assert.ok(existsSync(join(dir, "data", "PG_VERSION")));
    const [app] = await createEnvironmentDatabases(server.adminUrl, typeid("env").toString(), ["app"]);
    assert.ok(app);
    assert.match(app.url, new RegExp(`^postgres://cook_[0-9a-z]{26}:[^@]+@127\\.0\\.0\\.1:${server.port}/${app.database}$`));

    await withPool(app.url, 5, async (pool) => {
      await pool.query("CREATE TABLE counter (n int); INSERT INTO counter VALUES (0)");
      const clients = await Promise.all(Array.from({ length: 5 }, () => pool.connect()));
      try {
        const pids = await Promise.all(clients.map(async (client, i) => {
          await client.query(`SET application_name = 'client_${i}'`);
          return (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
        }));
        assert.equal(new Set(pids).size, 5, "five server sessions");
        const [first, second] = clients as [pg.PoolClient, pg.PoolClient];
        assert.equal((await first.query("SHOW application_name")).rows[0].application_name, "client_0", "a SET stays in its session");
        await first.query("BEGIN");
        await first.query("UPDATE counter SET n = 100");
        assert.equal((await second.query("SELECT n FROM counter")).rows[0].n, 0, "another session does not see uncommitted work, and is not held up by it");
        await first.query("ROLLBACK");
      } finally {
        for (const client of clients) client.release();
      }
      // 50 read-modify-write transactions from 5 connections at once: row locks serialize them, none is lost.
      await Promise.all(Array.from({ length: 50 }, async () => {
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          const { n } = (await client.query<{ n: number }>("SELECT n FROM counter FOR UPDATE")).rows[0]!;
          await client.query("UPDATE counter SET n = $1", [n + 1]);
          await client.query("COMMIT");
        } finally {
          client.release();
        }
      }));
      assert.equal((await pool.query("SELECT n FROM counter")).rows[0].n, 50);
    });
    await dropEnvironmentDatabases(server.adminUrl, [app]);
  });

  it("keeps two environments apart: neither sees the other's tables, nor may its role connect to the other's database", async () => {
    assert.ok(server);
    const [first] = await createEnvironmentDatabases(server.adminUrl, typeid("env").toString(), ["app"]);
    const [second] = await createEnvironmentDatabases(server.adminUrl, typeid("env").toString(), ["app"]);
    assert.ok(first && second);
    await withPool(first.url, 1, (pool) => pool.query("CREATE TABLE only_in_first (id int)"));
    assert.equal((await withPool(second.url, 1, (pool) => pool.query("SELECT to_regclass('only_in_first') AS found"))).rows[0].found, null);
    const intoSecond = first.url.replace(`/${first.database}`, `/${second.database}`);
    await assert.rejects(withPool(intoSecond, 1, (pool) => pool.query("SELECT 1")), /permission denied for database/);
    await dropEnvironmentDatabases(server.adminUrl, [first, second]);
  });

  it("starts again on the same port with its data, and takes over a server a killed Cook left running", async () => {
    assert.ok(server);
    const [app] = await createEnvironmentDatabases(server.adminUrl, typeid("env").toString(), ["app"]);
    assert.ok(app);
    await withPool(app.url, 1, (pool) => pool.query("CREATE TABLE kept AS SELECT 'still here' AS note"));
    const { port } = server;
    await server.stop();
    assert.ok(!existsSync(join(dir, "data", "postmaster.pid")), "stopped");
    await assert.rejects(withPool(app.url, 1, (pool) => pool.query("SELECT 1")), /ECONNREFUSED/);

    server = await startPrivatePostgres(dir);
    assert.deepEqual([server.port, server.movedFrom], [port, undefined]);
    assert.deepEqual((await withPool(app.url, 1, (pool) => pool.query("SELECT note FROM kept"))).rows, [{ note: "still here" }]);

    // A Cook that dies does not stop its server; the next one finds it answering and uses it as it is.
    const pid = readFileSync(join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0];
    server = await startPrivatePostgres(dir);
    assert.equal(readFileSync(join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0], pid);
    assert.deepEqual((await withPool(app.url, 1, (pool) => pool.query("SELECT note FROM kept"))).rows, [{ note: "still here" }]);
    await dropEnvironmentDatabases(server.adminUrl, [app]);
  });

  it("moves to another port when another program took its own while it was stopped, and says from which", async () => {
    assert.ok(server);
    const { port } = server;
    await server.stop();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      server = await startPrivatePostgres(dir);
      assert.notEqual(server.port, port);
      assert.equal(server.movedFrom, port);
      assert.equal((await withPool(server.adminUrl, 1, (pool) => pool.query("SELECT 1 AS one"))).rows[0].one, 1);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it("refuses, naming what to install or set, when the PostgreSQL programs are not where it is told, and makes nothing", async () => {
    const elsewhere = join(tempDir("cook-env-postgres-"), "env-postgres");
    const bindir = tempDir("cook-no-postgres-");
    await assert.rejects(startPrivatePostgres(elsewhere, { bindir }), {
      name: "CookError",
      code: "unavailable",
      message: `[environments] postgres_bindir ${bindir} has no initdb and postgres programs`,
    });
    assert.ok(!existsSync(join(elsewhere, "data")));
  });
});
