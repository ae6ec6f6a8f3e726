import { join } from "node:path";
import type { ServerConfig } from "../config/server-config.js";
import { CookError } from "../core/errors.js";
import type { Db } from "./db.js";
import { migrate } from "./migrate.js";
import { openPglite } from "./pglite.js";
import { openPostgres } from "./postgres.js";

/** Opens the configured store (PostgreSQL, else embedded PGlite) and brings its schema up to date. */
export async function openDatabase(config: Pick<ServerConfig, "databaseUrl" | "server">): Promise<Db> {
  const db = config.databaseUrl ? openPostgres(config.databaseUrl) : await openPglite(join(config.server.dataDir, "db"));
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => {});
    const where = config.databaseUrl ? redactUrl(config.databaseUrl) : join(config.server.dataDir, "db");
    throw new CookError("unavailable", `cannot open the database at ${where}: ${(err as Error).message}`, { cause: err });
  }
  return db;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(invalid url)";
  }
}
