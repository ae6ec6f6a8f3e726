import type { Db } from "../db/db.js";
import type { EventLog } from "../events/event-log.js";
import type { Git } from "../git/git.js";
import type { DatabaseServer } from "./database-server.js";

/** Server-wide environment settings (`[environments]` in the server config). */
export interface EnvironmentSettings {
  /** TCP ports handed out in blocks, one block per environment. */
  readonly portRange: { readonly first: number; readonly last: number };
  /** PostgreSQL URL with the right to CREATE DATABASE, for `databases` in cook.toml; unset: Cook runs a server of its own (database-server.ts). */
  readonly databaseUrl: string | undefined;
  /** Database every environment database is created from, if any. */
  readonly databaseTemplate: string | undefined;
  /** Where initdb and postgres are, for Cook's own server; unset: looked for. */
  readonly postgresBindir: string | undefined;
  /** Folder that `copy` in cook.toml copies from; `{repo}` is replaced by the repo's name. */
  readonly copyFrom: string | undefined;
}

export interface EnvironmentLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** What the environment service works with. */
export interface EnvironmentDeps {
  dataDir: string;
  db: Db;
  events: EventLog;
  git: Git;
  environmentSettings: EnvironmentSettings;
  /** Where `databases` of cook.toml are made and dropped. */
  databaseServer: Pick<DatabaseServer, "adminUrl">;
  /** The factory as its environments reach it (loopback) and the secret their tokens derive from. */
  factory: { url(): string; secret: string };
  log: EnvironmentLog;
  /** Setup scripts and commands running now, by environment id: a teardown stops them. */
  running: Map<string, Set<AbortController>>;
}
