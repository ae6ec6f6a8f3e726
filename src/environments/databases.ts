import { randomBytes } from "node:crypto";
import pg from "pg";
import { isEnvironmentDatabaseName } from "../config/repo-config.js";
import { CookError } from "../core/errors.js";
import { showInput } from "../core/show-input.js";
import { redactUrl } from "../db/open.js";

/** One PostgreSQL database of an environment: its name in cook.toml, its name on the server, and how to reach it. */
export interface EnvironmentDatabase {
  readonly name: string;
  readonly database: string;
  /** The admin URL's server, this database as its path, and the environment's own role and password as credentials. */
  readonly url: string;
}

// TypeIDs: the `env` prefix, then a 26-character base32 UUIDv7.
const envIdPattern = /^env_([0-9a-z]{26})$/;
// What databaseNameFor makes, and so the only names dropEnvironmentDatabases will drop.
const environmentDatabasePattern = /^cook_[0-9a-z]{26}_[a-z][a-z0-9_]{0,30}$/;

/**
 * The server-side name of database `name` of environment `envId`: `cook_<the id's 26 characters>_<name>`,
 * lowercase letters, digits and `_`, at most 63 bytes (PostgreSQL's limit: it would silently cut a
 * longer name, and two environments could then share a database). The id's `env_` prefix is left
 * out because `cook_env_<26>_<31-character name>` would be 67 bytes. Throws CookError("invalid")
 * for an id that is not an environment TypeID or a name cook.toml would refuse.
 */
export function databaseNameFor(envId: string, name: string): string {
  const suffix = envIdPattern.exec(envId.toLowerCase())?.[1];
  if (!suffix) throw new CookError("invalid", `${showInput(envId)} is not an environment id (env_ and 26 letters and digits)`);
  if (!isEnvironmentDatabaseName(name)) {
    throw new CookError("invalid", `${showInput(name)} is not a database name: 1-31 lowercase letters, digits or '_', starting with a letter`);
  }
  return `cook_${suffix}_${name}`;
}

/**
 * Creates the environment's databases on the server `adminUrl` names (a role allowed to create
 * databases), each empty or, with `template`, a copy of that database; all or none: when one
 * fails, those already made by this call are dropped. Each url is `adminUrl` with the database as
 * its path (same credentials, host, port and query). Throws CookError "invalid" for a template that
 * does not exist, "conflict" when the environment already has one of the databases or the template
 * is in use, and "unavailable" when the server cannot be reached or refuses the role.
 */
export async function createEnvironmentDatabases(
  adminUrl: string,
  envId: string,
  names: readonly string[],
  options: { template?: string } = {},
): Promise<EnvironmentDatabase[]> {
  const role = roleNameFor(envId);
  const password = randomBytes(24).toString("base64url");
  const databases = names.map((name) => ({ name, database: databaseNameFor(envId, name), url: "" }));
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) throw new CookError("invalid", `database '${repeated}' is named twice`);
  for (const database of databases) database.url = databaseUrl(adminUrl, database.database, { user: role, password });
  if (databases.length === 0) return [];

  return withAdmin(adminUrl, async (admin) => {
    const { template } = options;
    if (template !== undefined) {
      const found = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
      if (found.rowCount === 0) {
        throw new CookError("invalid", `template database ${showInput(template)} does not exist on ${redactUrl(adminUrl)}`);
      }
      // PostgreSQL waits 5 seconds for a template's sessions to end before it gives up; asking first fails at once.
      const sessions = await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 LIMIT 1", [template]);
      if (sessions.rowCount !== 0) throw templateInUse(template);
    }
    // The environment connects as a role of its own that owns its databases and nothing else: the
    // admin URL's credentials never reach it, so an agent cannot read or drop the factory's database.
    await admin.query(`CREATE ROLE ${pg.escapeIdentifier(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${pg.escapeLiteral(password)}`).catch((err: { code?: string }) => {
      if (err.code === "42710") throw new CookError("conflict", `environment ${envId} already has its databases (role ${role} exists)`, { cause: err });
      throw createError(err, { envId, name: role, database: role, template, adminUrl });
    });
    const created: string[] = [];
    try {
      for (const { name, database } of databases) {
        const sql = `CREATE DATABASE ${pg.escapeIdentifier(database)} OWNER ${pg.escapeIdentifier(role)}${template === undefined ? "" : ` TEMPLATE ${pg.escapeIdentifier(template)}`}`;
        await admin.query(sql).catch((err: unknown) => {
          throw createError(err, { envId, name, database, template, adminUrl });
        });
        created.push(database);
        await admin.query(`REVOKE ALL ON DATABASE ${pg.escapeIdentifier(database)} FROM PUBLIC`);
        if (template !== undefined) await grantTemplateObjects(adminUrl, database, role);
      }
    } catch (err) {
      const force = await supportsForce(admin).catch(() => false);
      for (const database of created) await dropOne(admin, database, force).catch(() => {});
      await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`).catch(() => {});
      throw err;
    }
    return databases;
  });
}

/** `cook_<the id's 26 characters>`: the login role of one environment's databases. */
export function roleNameFor(envId: string): string {
  const suffix = envIdPattern.exec(envId.toLowerCase())?.[1];
  if (!suffix) throw new CookError("invalid", `${showInput(envId)} is not an environment id (env_ and 26 letters and digits)`);
  return `cook_${suffix}`;
}

// A copy of a template keeps its tables' owner: the environment's role is given them, so the copy is its to change.
async function grantTemplateObjects(adminUrl: string, database: string, role: string): Promise<void> {
  await withAdmin(databaseUrl(adminUrl, database), async (admin) => {
    const to = pg.escapeIdentifier(role);
    await admin.query(`GRANT ALL ON SCHEMA public TO ${to}; GRANT ALL ON ALL TABLES IN SCHEMA public TO ${to}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${to}`);
  });
}

/**
 * Drops the environment's databases, closing any connections still open to them; a database that
 * is already gone is skipped. Refuses (CookError "invalid", before dropping anything) a name that
 * databaseNameFor could not have made, so a damaged record cannot drop someone else's database.
 */
export async function dropEnvironmentDatabases(adminUrl: string, databases: ReadonlyArray<Pick<EnvironmentDatabase, "database">>): Promise<void> {
  for (const { database } of databases) {
    if (!environmentDatabasePattern.test(database)) {
      throw new CookError("invalid", `refusing to drop ${showInput(database)}: it is not the name of an environment's database`);
    }
  }
  if (databases.length === 0) return;
  await withAdmin(adminUrl, async (admin) => {
    const force = await supportsForce(admin);
    for (const { database } of databases) await dropOne(admin, database, force);
    // Every database of an environment is named after its role (databaseNameFor), so the role is known from any of them.
    for (const role of new Set(databases.map(({ database }) => database.slice(0, "cook_".length + 26)))) {
      // A role that still owns a database not named here (2BP01) stays until that one goes too.
      await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`).catch((err: { code?: string }) => {
        if (err.code !== "2BP01") throw err;
      });
    }
  });
}

/**
 * The environment variables that tell a program where its databases are: DATABASE_URL for the
 * first (the only one, usually), and COOK_DB_<NAME>_URL for each when there are several.
 */
export function databaseVariables(databases: ReadonlyArray<Pick<EnvironmentDatabase, "name" | "url">>): Record<string, string> {
  const variables: Record<string, string> = {};
  const [first] = databases;
  if (!first) return variables;
  variables.DATABASE_URL = first.url;
  if (databases.length > 1) {
    for (const { name, url } of databases) variables[`COOK_DB_${name.toUpperCase()}_URL`] = url;
  }
  return variables;
}

/**
 * `adminUrl` with its path replaced by `/database` and, given `login`, its credentials by the login's;
 * the rest of the text is kept as written (a socket URL such as `postgres://u@/db?host=/run/postgresql` is not a WHATWG URL).
 */
function databaseUrl(adminUrl: string, database: string, login?: { user: string; password: string }): string {
  const match = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(?:\/[^?#]*)?(.*)$/s.exec(adminUrl);
  if (!match) throw new CookError("invalid", `the database admin URL must be a postgres:// URL (got ${showInput(redactUrl(adminUrl))})`);
  const credentials = login ? `${encodeURIComponent(login.user)}:${encodeURIComponent(login.password)}@` : (match[2] ?? "");
  return `${match[1]}${credentials}${match[3]}/${database}${match[4]}`;
}

async function withAdmin<T>(adminUrl: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  // A server that goes away mid-call fails the query in hand; the client's own error event must not take the process down.
  admin.on("error", () => {});
  try {
    await admin.connect();
  } catch (err) {
    await admin.end().catch(() => {});
    throw new CookError("unavailable", `cannot reach PostgreSQL at ${redactUrl(adminUrl)} to manage environment databases: ${(err as Error).message}`, { cause: err });
  }
  try {
    return await work(admin);
  } finally {
    await admin.end().catch(() => {});
  }
}

/** Whether the server has DROP DATABASE … WITH (FORCE), new in PostgreSQL 13. */
async function supportsForce(admin: pg.Client): Promise<boolean> {
  const version = await admin.query<{ server_version_num: string }>("SHOW server_version_num");
  return Number(version.rows[0]?.server_version_num) >= 130000;
}

async function dropOne(admin: pg.Client, database: string, force: boolean): Promise<void> {
  const name = pg.escapeIdentifier(database);
  if (force) {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    return;
  }
  // Before PostgreSQL 13 there is no FORCE: new connections are refused first, so none can slip in
  // between terminating the open ones and the drop.
  const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
  if (exists.rowCount === 0) return;
  await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
  await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [database]);
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
}

function templateInUse(template: string, cause?: unknown): CookError {
  return new CookError("conflict", `template database ${showInput(template)} has open connections; close them (or set ALLOW_CONNECTIONS false on it) and try again`, { cause });
}

function createError(err: unknown, what: { envId: string; name: string; database: string; template: string | undefined; adminUrl: string }): Error {
  const code = (err as { code?: string }).code;
  if (code === "42P04") {
    return new CookError("conflict", `environment ${what.envId} already has its '${what.name}' database (${what.database})`, { cause: err });
  }
  if (code === "55006" && what.template !== undefined) return templateInUse(what.template, err);
  if (code === "42501") {
    return new CookError("unavailable", `the role in the database admin URL (${redactUrl(what.adminUrl)}) may not create databases; grant it CREATEDB`, { cause: err });
  }
  return err as Error;
}
