import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { packageRoot } from "../../../src/config/package-root.js";
import { seedAppRepo } from "../../helpers/branch-fixture.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { tempDir } from "../../helpers/git.js";

// A program inside the environment, as an app would be: a pg.Pool of 5 on DATABASE_URL, five
// sessions at once, 50 read-modify-write transactions from them concurrently.
const poolProgram = `
const pg = require(${JSON.stringify(join(packageRoot(), "node_modules", "pg"))});
(async () => {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 });
  await pool.query("CREATE TABLE IF NOT EXISTS counter (n int); INSERT INTO counter SELECT 0 WHERE NOT EXISTS (SELECT FROM counter)");
  const clients = await Promise.all([0, 1, 2, 3, 4].map(() => pool.connect()));
  const sessions = new Set(await Promise.all(clients.map(async (c) => (await c.query("SELECT pg_backend_pid() AS pid")).rows[0].pid)));
  for (const c of clients) c.release();
  await Promise.all(Array.from({ length: 50 }, async () => {
    const c = await pool.connect();
    try {
      await c.query("BEGIN");
      const { n } = (await c.query("SELECT n FROM counter FOR UPDATE")).rows[0];
      await c.query("UPDATE counter SET n = $1", [n + 1]);
      await c.query("COMMIT");
    } finally {
      c.release();
    }
  }));
  const { n } = (await pool.query("SELECT n FROM counter")).rows[0];
  const setup = (await pool.query("SELECT to_regclass('made_by_setup') IS NOT NULL AS made")).rows[0].made;
  console.log(JSON.stringify({ sessions: sessions.size, n, setup }));
  await pool.end();
})().catch((err) => { console.error(err.message); process.exit(1); });
`;

// cook.toml's databases on a server with no PostgreSQL configured: Cook runs one of its own.
describe("environment databases with no PostgreSQL configured", () => {
  let cook: RunningCook;
  let dataDir: string;
  const start = async () => (cook = await startCook({ env: { COOK_DATA_DIR: dataDir }, config: '[environments]\nport_range = "33000-33999"\n' }));
  const postmasterPid = () => join(dataDir, "env-postgres", "data", "postmaster.pid");
  const adminUrl = () => {
    const password = readFileSync(join(dataDir, "env-postgres", "admin-password"), "utf8").trim();
    const port = readFileSync(join(dataDir, "env-postgres", "port"), "utf8").trim();
    return `postgres://cook:${password}@127.0.0.1:${port}/postgres`;
  };
  const exec = async (branch: string, command: string[]) => {
    const result = await cook.cli(["branch", "exec", branch, "--", ...command]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim();
  };
  const query = async (url: string, sql: string) => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };

  before(async () => {
    cook = await startCook({ config: '[environments]\nport_range = "33000-33999"\n' });
    dataDir = cook.dataDir;
    await seedAppRepo(cook, { "cook.toml": '[environment]\ndatabases = ["app"]\nsetup = "psql -q \\"$DATABASE_URL\\" -c \'create table made_by_setup (x int)\'"\n' });
  });
  after(async () => {
    await cook?.stop();
    // Whatever a failed test left, no server outlives the file.
    const pid = Number(existsSync(postmasterPid()) ? readFileSync(postmasterPid(), "utf8").split("\n")[0] : 0);
    if (pid) process.kill(pid, "SIGQUIT");
  });

  it("gives each environment a database of its own, which a pool of 5 in the environment uses at once", async () => {
    assert.ok(!existsSync(join(dataDir, "env-postgres")), "nothing runs before an environment asks for a database");
    for (const name of ["first", "second"]) {
      const created = await cook.cli(["branch", "create", "app", name, "--json"]);
      assert.equal(created.code, 0, created.stderr);
      assert.equal(JSON.parse(created.stdout).environment.state, "ready");
    }
    assert.deepEqual(JSON.parse(await exec("first", ["node", "-e", poolProgram])), { sessions: 5, n: 50, setup: true });

    const [first, second] = [await exec("first", ["printenv", "DATABASE_URL"]), await exec("second", ["printenv", "DATABASE_URL"])];
    assert.match(first, /^postgres:\/\/cook_[0-9a-z]{26}:[^@]+@127\.0\.0\.1:\d+\/cook_[0-9a-z]{26}_app$/);
    assert.notEqual(new URL(first).pathname, new URL(second).pathname);
    assert.equal(await exec("second", ["psql", "-qtA", second, "-c", "select to_regclass('counter') is null"]), "t", "the second environment does not see the first's table");
    const intoSecond = first.replace(new URL(first).pathname, new URL(second).pathname);
    await assert.rejects(query(intoSecond, "SELECT 1"), /permission denied for database/);
  });

  it("keeps the databases through a restart, and through a Cook that was killed; the server stops with Cook", async () => {
    assert.equal(await cook.stop(), 0);
    assert.ok(!existsSync(postmasterPid()), "the server stopped with Cook");
    await start();
    assert.equal(await exec("first", ["sh", "-c", 'psql -qtA "$DATABASE_URL" -c "select n from counter"']), "50");

    await cook.stop("SIGKILL");
    assert.ok(existsSync(postmasterPid()), "a killed Cook leaves its server running");
    await start();
    assert.deepEqual(JSON.parse(await exec("first", ["node", "-e", poolProgram])), { sessions: 5, n: 100, setup: true });
  });

  it("hands environments their database at its new port when another program took the old one while Cook was stopped", async () => {
    const old = new URL(await exec("first", ["printenv", "DATABASE_URL"]));
    assert.equal(await cook.stop(), 0);
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(Number(old.port), "127.0.0.1", resolve));
    try {
      await start();
      const moved = new URL(await exec("first", ["printenv", "DATABASE_URL"]));
      assert.notEqual(moved.port, old.port);
      assert.equal(moved.pathname, old.pathname);
      assert.equal(await exec("first", ["sh", "-c", 'psql -qtA "$DATABASE_URL" -c "select n from counter"']), "100");
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it("drops an environment's database and role when its branch is abandoned, and only that one", async () => {
    const url = new URL(await exec("first", ["printenv", "DATABASE_URL"]));
    assert.equal((await cook.cli(["branch", "abandon", "first"])).code, 0);
    const names = (await query(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE 'cook\\_%'")).map((row) => row.datname as string);
    assert.ok(!names.includes(url.pathname.slice(1)), "the abandoned branch's database is gone");
    assert.equal(names.length, 1, "the other environment's stays");
    assert.deepEqual(await query(adminUrl(), `SELECT 1 FROM pg_roles WHERE rolname = '${url.username}'`), []);
  });
});

describe("environment databases with no PostgreSQL configured and none to run", () => {
  let cook: RunningCook | undefined;
  after(() => cook?.stop());

  it("fails the environment with a reason that says what to set, and keeps the branch", async () => {
    const bindir = tempDir("cook-no-postgres-");
    cook = await startCook({ config: `[environments]\nport_range = "33000-33999"\npostgres_bindir = "${bindir}"\n` });
    await seedAppRepo(cook, { "cook.toml": '[environment]\ndatabases = ["app"]\n' });

    const created = await cook.cli(["branch", "create", "app", "wants-a-database", "--json"]);
    const { branch, environment } = JSON.parse(created.stdout) as { branch: { status: string }; environment: { state: string; error: string } };
    assert.equal(branch.status, "open");
    assert.equal(environment.state, "failed");
    assert.equal(
      environment.error,
      `no [environments] database_url is set, and Cook cannot run a PostgreSQL of its own for environment databases: [environments] postgres_bindir ${bindir} has no initdb and postgres programs`,
    );
    assert.ok(!existsSync(join(cook.dataDir, "env-postgres", "data")), "no cluster was made");
  });
});
