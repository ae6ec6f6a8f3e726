import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import type { Db } from "../../src/db/db.js";
import { migrate, readMigrations } from "../../src/db/migrate.js";
import { openPglite } from "../../src/db/pglite.js";
import { openPostgres } from "../../src/db/postgres.js";

export interface TestDatabase {
  url: string;
  /** Terminates every connection to the database and drops it. */
  drop(): Promise<void>;
}

/** The server the tests use; the same default as scripts/run-tests.mjs. */
export function testServerUrl(): string {
  return process.env.COOK_TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
}

function databaseUrl(name: string): string {
  const url = new URL(testServerUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

// Names are generated here from [a-z0-9_] only, so quoting is enough to use them as identifiers.
const ident = (name: string) => `"${name}"`;

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  // A short connect timeout: an unreachable server must fail the test file quickly, not hang it.
  const client = new pg.Client({ connectionString: testServerUrl(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Changes whenever a migration file is added or edited, so a stale template is never cloned. */
export function templateDatabaseName(): string {
  const hash = createHash("sha256");
  for (const migration of readMigrations()) hash.update(`${migration.version}\0${migration.name}\0${migration.sql}\0`);
  return `cook_template_${hash.digest("hex").slice(0, 16)}`;
}

let templateReady: Promise<string> | undefined;

/**
 * Builds the migrated template once per server. Test files run in parallel processes, so the check
 * and the build happen under a session advisory lock; the template is marked IS_TEMPLATE only once
 * fully migrated, which tells a later process that a build which died half-way must be redone.
 */
async function ensureTemplate(): Promise<string> {
  const name = templateDatabaseName();
  await withAdmin(async (admin) => {
    await admin.query("SELECT pg_advisory_lock(hashtext($1))", [name]);
    try {
      const rows = await admin.query<{ datistemplate: boolean }>("SELECT datistemplate FROM pg_database WHERE datname = $1", [name]);
      if (rows.rows[0]?.datistemplate) return;
      if (rows.rows[0]) await admin.query(`DROP DATABASE ${ident(name)} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${ident(name)} TEMPLATE template0`);
      const db = openPostgres(databaseUrl(name), { max: 1 });
      try {
        await migrate(db);
      } finally {
        await db.close();
      }
      // No connections: CREATE DATABASE … TEMPLATE fails while anyone is connected to the template.
      await admin.query(`ALTER DATABASE ${ident(name)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    } finally {
      await admin.query("SELECT pg_advisory_unlock(hashtext($1))", [name]);
    }
  });
  return name;
}

/** A fresh, migrated PostgreSQL database for one test file (or, with `empty`, one with no schema at all). */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const template = options.empty ? "template0" : await (templateReady ??= ensureTemplate());
  const name = `cook_test_${randomBytes(6).toString("hex")}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(template)}`));
  const url = databaseUrl(name);
  if (!options.empty) {
    // The clone copies the template's instance id, and NATS message ids are `<instance>:<event id>`:
    // two test databases sharing one id would have their events dropped by JetStream as duplicates.
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    await client.connect();
    await client.query("UPDATE instance SET id = gen_random_uuid()").finally(() => client.end());
  }
  return {
    url,
    async drop() {
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`));
    },
  };
}

export interface OpenedStore {
  db: Db;
  /** Closes the store and throws its data away. */
  close(): Promise<void>;
}

export interface StoreKind {
  name: "pglite" | "postgres";
  /** A store of its own; migrated unless `empty`. */
  open(options?: { empty?: boolean }): Promise<OpenedStore>;
}

/** Both stores Cook runs on, for suites that must behave the same on each. */
export const storeKinds: StoreKind[] = [
  {
    name: "pglite",
    async open(options = {}) {
      const db = await openPglite(undefined);
      if (!options.empty) await migrate(db);
      return { db, close: () => db.close() };
    },
  },
  {
    name: "postgres",
    async open(options = {}) {
      const database = await createTestDatabase(options);
      const db = openPostgres(database.url);
      return {
        db,
        async close() {
          await db.close();
          await database.drop();
        },
      };
    },
  },
];
