import { join } from "node:path";
import { CookError } from "../core/errors.js";
import type { Db } from "../db/db.js";
import { selectLiveEnvironments, setEnvironmentDatabases } from "../db/environment-store.js";
import type { EnvironmentLog, EnvironmentSettings } from "./deps.js";
import { startPrivatePostgres, type PrivatePostgres } from "./private-postgres.js";

/** The PostgreSQL server environment databases are made on. */
export interface DatabaseServer {
  /**
   * A URL that may create and drop databases and roles there: `[environments] database_url` when
   * set, else that of Cook's own server under `<data_dir>/env-postgres`, started on first use.
   * Throws CookError "unavailable" saying what to install or set when there can be none.
   */
  adminUrl(): Promise<string>;
  /** Stops Cook's own server, if this started it or took it over. */
  close(): Promise<void>;
}

/** The configured server, or Cook's own (see private-postgres.ts) when none is configured. */
export function createDatabaseServer(deps: { settings: EnvironmentSettings; dataDir: string; db: Db; log: EnvironmentLog }): DatabaseServer {
  const configured = deps.settings.databaseUrl;
  if (configured) return { adminUrl: async () => configured, close: async () => {} };

  let own: Promise<PrivatePostgres> | undefined;
  const start = async () => {
    const started = performance.now();
    const server = await startPrivatePostgres(join(deps.dataDir, "env-postgres"), { bindir: deps.settings.postgresBindir }).catch((err: Error) => {
      throw new CookError("unavailable", `no [environments] database_url is set, and Cook cannot run a PostgreSQL of its own for environment databases: ${err.message}`, { cause: err });
    });
    deps.log.info({ port: server.port, ms: Math.round(performance.now() - started) }, "PostgreSQL for environment databases is running");
    if (server.movedFrom !== undefined) await moveDatabaseUrls(deps, server.movedFrom, server.port);
    return server;
  };
  return {
    adminUrl() {
      // One start for concurrent callers; after a failure the next call tries again (PostgreSQL may have been installed since).
      own ??= start().catch((err: unknown) => {
        own = undefined;
        throw err;
      });
      return own.then((server) => server.adminUrl);
    },
    async close() {
      const server = await own?.catch(() => undefined);
      own = undefined;
      await server?.stop();
    },
  };
}

/**
 * The environments' database URLs name the server's port. When another program took that port
 * while Cook was stopped and its server had to move, the URLs of live environments follow it, so
 * their next process is handed one that works.
 */
async function moveDatabaseUrls(deps: { db: Db; log: EnvironmentLog }, from: number, to: number): Promise<void> {
  const old = `@127.0.0.1:${from}/`;
  let moved = 0;
  for (const environment of await selectLiveEnvironments(deps.db)) {
    if (!environment.databases.some(({ url }) => url.includes(old))) continue;
    await setEnvironmentDatabases(deps.db, environment.id, environment.databases.map((database) => ({ ...database, url: database.url.replace(old, `@127.0.0.1:${to}/`) })));
    moved++;
  }
  deps.log.warn({ from, to, environments: moved }, "the port of environment databases was taken by another program; moved them to another");
}
