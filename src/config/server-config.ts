import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { CookError } from "../core/errors.js";
import { importFromValues, type ImportFrom } from "../core/import-source.js";
import { agentConfigProblems, agentSections, agentSettingsOf, type AgentSettings } from "./agent-config.js";
import { checkAgainstRules, sectionOf, type SectionRules } from "./schema.js";
import { readTomlFile, type TomlTable } from "./toml-file.js";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface ServerConfig {
  /** The file the config was read from, if any. */
  readonly file: string | undefined;
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly dataDir: string;
    /** The URL people and agents reach the factory at, when it is not the address it listens on (a proxy, a DNS name). */
    readonly publicUrl: string | undefined;
    /**
     * Host names (beyond loopback names, IP literals, the listen host and the public URL's host) that
     * requests may name in `Host`; `*.example.com` matches subdomains. Any other Host is refused,
     * so a page that rebinds its own DNS name to this machine gets nothing.
     */
    readonly allowedHosts: readonly string[];
  };
  readonly auth: { readonly required: boolean };
  /** PostgreSQL URL; unset means the embedded PGlite database in `<dataDir>/db`. */
  readonly databaseUrl: string | undefined;
  /** NATS URL; unset means the in-process bus. */
  readonly natsUrl: string | undefined;
  readonly log: { readonly level: LogLevel };
  readonly defaults: { readonly branch: string; readonly agent: string };
  readonly forge: {
    /** Branch patterns (`*` matches within one path segment, `**` across) that, like the default branch, cannot be pushed to. */
    readonly protectedBranches: readonly string[];
    /** Who may push new tags. */
    readonly tagCreators: TagCreators;
    /** Whether an existing tag may be moved or deleted by a push. */
    readonly tagUpdates: boolean;
    /** Who may import a repo from where (`cook repo add --clone`); see ImportFrom. */
    readonly importFrom: ImportFrom;
  };
  /** Branch environments (src/environments/deps.ts EnvironmentSettings). */
  readonly environments: {
    /** TCP ports handed out in per-environment blocks, inclusive. */
    readonly portRange: { readonly first: number; readonly last: number };
    /** PostgreSQL URL allowed to CREATE DATABASE, for cook.toml `databases`; default: the factory's own PostgreSQL, if it has one. */
    readonly databaseUrl: string | undefined;
    readonly databaseTemplate: string | undefined;
    /** Folder with initdb and postgres, for the server Cook runs itself when there is no databaseUrl; default: found. */
    readonly postgresBindir: string | undefined;
    /** Folder `copy` paths are copied from; `{repo}` becomes the repo's name. */
    readonly copyFrom: string | undefined;
  };
  /** `[agents.<name>]`, `[prices."<model>"]` and `[budgets]` (agent-config.ts). */
  readonly agents: AgentSettings;
  readonly gates: {
    /** How many gate runs execute at once; more wait in a queue. */
    readonly concurrency: number;
    /** A TOML file whose `[[gates]]` judge repos whose cook.toml defines none (read and checked at start-up). */
    readonly defaultsFile: string | undefined;
  };
}

export type TagCreators = "user" | "admin" | "nobody";

export interface ServerConfigFlags {
  config?: string;
  host?: string;
  port?: number;
}

export const systemConfigFile = "/etc/cook/config.toml";
const logLevels: LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

const rules: SectionRules = {
  server: {
    host: { type: "string", check: (v: string) => (v.trim() ? undefined : "a host name or address") },
    port: { type: "integer", check: (v: number) => (v >= 0 && v <= 65535 ? undefined : "an integer from 0 to 65535") },
    data_dir: { type: "string", check: (v: string) => (v.trim() ? undefined : "a directory path") },
    public_url: { type: "string", check: (v: string) => (/^https?:\/\/[^/?#\s]+\/?$/.test(v) ? undefined : "an http:// or https:// URL with no path, e.g. https://cook.example.com") },
    allowed_hosts: { type: "strings", check: (v: string[]) => (v.every((h) => /^(\*\.)?[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/.test(h)) ? undefined : "host names (e.g. cook.internal or *.example.com), no ports or schemes") },
  },
  auth: { required: { type: "boolean" } },
  database: { url: { type: "string", check: (v: string) => (/^postgres(ql)?:\/\//.test(v) ? undefined : "a postgres:// URL") } },
  nats: { url: { type: "string", check: (v: string) => (/^(nats|tls|ws|wss):\/\//.test(v) ? undefined : "a nats:// URL") } },
  log: { level: { type: "string", check: (v: string) => (logLevels.includes(v as LogLevel) ? undefined : `one of ${logLevels.join(", ")}`) } },
  forge: {
    protected_branches: { type: "strings" },
    tag_creators: { type: "string", check: (v: string) => (["user", "admin", "nobody"].includes(v) ? undefined : "one of user, admin, nobody") },
    tag_updates: { type: "boolean" },
    import_from: { type: "string", check: (v: string) => (importFromValues.includes(v as ImportFrom) ? undefined : `one of ${importFromValues.join(", ")}`) },
  },
  environments: {
    port_range: { type: "string", check: (v: string) => (portRangeOf(v) ? undefined : "a range of TCP ports like 20000-29999 (first ≤ last, 1024-65535)") },
    database_url: { type: "string", check: (v: string) => (/^postgres(ql)?:\/\//.test(v) ? undefined : "a postgres:// URL") },
    database_template: { type: "string", check: (v: string) => (/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(v) ? undefined : "a database name") },
    postgres_bindir: { type: "string", check: (v: string) => (v.startsWith("/") ? undefined : "an absolute folder path, e.g. /usr/lib/postgresql/16/bin") },
    copy_from: { type: "string", check: (v: string) => (v.startsWith("/") ? undefined : "an absolute folder path; {repo} is replaced by the repo's name") },
  },
  gates: {
    concurrency: { type: "integer", check: (v: number) => (v >= 1 && v <= 256 ? undefined : "an integer from 1 to 256") },
    defaults_file: { type: "string", check: (v: string) => (v.startsWith("/") ? undefined : "an absolute path to a TOML file with [[gates]] entries") },
  },
  defaults: {
    branch: { type: "string", check: (v: string) => (v.trim() ? undefined : "a branch name") },
    agent: { type: "string", check: (v: string) => (v.trim() ? undefined : "an agent name") },
  },
};

export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const dataHome = env.XDG_DATA_HOME || join(env.HOME || homedir(), ".local", "share");
  return join(dataHome, "cook");
}

function chooseConfigFile(flags: ServerConfigFlags, env: NodeJS.ProcessEnv): string | undefined {
  if (flags.config) return resolve(flags.config);
  if (env.COOK_CONFIG) return resolve(env.COOK_CONFIG);
  return existsSync(systemConfigFile) ? systemConfigFile : undefined;
}

function envProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (env.COOK_DATABASE_URL && !/^postgres(ql)?:\/\//.test(env.COOK_DATABASE_URL)) {
    problems.push(`COOK_DATABASE_URL: expected a postgres:// URL, got ${JSON.stringify(env.COOK_DATABASE_URL)}`);
  }
  if (env.COOK_NATS_URL && !/^(nats|tls|ws|wss):\/\//.test(env.COOK_NATS_URL)) {
    problems.push(`COOK_NATS_URL: expected a nats:// URL, got ${JSON.stringify(env.COOK_NATS_URL)}`);
  }
  if (env.COOK_LOG_LEVEL && !logLevels.includes(env.COOK_LOG_LEVEL as LogLevel)) {
    problems.push(`COOK_LOG_LEVEL: expected one of ${logLevels.join(", ")}, got ${JSON.stringify(env.COOK_LOG_LEVEL)}`);
  }
  return problems;
}

/**
 * Defaults, then the config file, then COOK_* environment variables, then command-line flags.
 * Every problem is listed at once; the result is frozen.
 */
export function loadServerConfig(flags: ServerConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const file = chooseConfigFile(flags, env);
  const doc: TomlTable = file ? readTomlFile(file) : {};
  const generic = Object.fromEntries(Object.entries(doc).filter(([section]) => !agentSections.includes(section)));
  const problems = [...(file ? [...checkAgainstRules(file, generic, rules), ...agentConfigProblems(file, doc)] : []), ...envProblems(env)];
  if (flags.port !== undefined && (!Number.isInteger(flags.port) || flags.port < 0 || flags.port > 65535)) {
    problems.push(`--port: expected an integer from 0 to 65535, got ${flags.port}`);
  }
  if (problems.length > 0) throw new CookError("invalid", problems.join("; "));

  const server = sectionOf(doc, "server");
  const str = (table: TomlTable, key: string) => table[key] as string | undefined;
  const config: ServerConfig = {
    file,
    server: {
      host: flags.host ?? str(server, "host") ?? "127.0.0.1",
      port: flags.port ?? (server.port as number | undefined) ?? 7420,
      dataDir: resolve(env.COOK_DATA_DIR || str(server, "data_dir") || defaultDataDir(env)),
      publicUrl: str(server, "public_url")?.replace(/\/$/, ""),
      allowedHosts: (server.allowed_hosts as string[] | undefined) ?? [],
    },
    auth: { required: (sectionOf(doc, "auth").required as boolean | undefined) ?? false },
    databaseUrl: env.COOK_DATABASE_URL || str(sectionOf(doc, "database"), "url") || undefined,
    natsUrl: env.COOK_NATS_URL || str(sectionOf(doc, "nats"), "url") || undefined,
    log: { level: ((env.COOK_LOG_LEVEL || str(sectionOf(doc, "log"), "level")) as LogLevel | undefined) ?? "info" },
    defaults: {
      branch: str(sectionOf(doc, "defaults"), "branch") ?? "main",
      agent: str(sectionOf(doc, "defaults"), "agent") ?? "claude",
    },
    forge: {
      protectedBranches: (sectionOf(doc, "forge").protected_branches as string[] | undefined) ?? [],
      tagCreators: (str(sectionOf(doc, "forge"), "tag_creators") as TagCreators | undefined) ?? "user",
      tagUpdates: (sectionOf(doc, "forge").tag_updates as boolean | undefined) ?? false,
      importFrom: (str(sectionOf(doc, "forge"), "import_from") as ImportFrom | undefined) ?? "public",
    },
    environments: {
      portRange: portRangeOf(str(sectionOf(doc, "environments"), "port_range") ?? "20000-29999")!,
      databaseUrl: str(sectionOf(doc, "environments"), "database_url") ?? (env.COOK_DATABASE_URL || str(sectionOf(doc, "database"), "url") || undefined),
      databaseTemplate: str(sectionOf(doc, "environments"), "database_template"),
      postgresBindir: str(sectionOf(doc, "environments"), "postgres_bindir"),
      copyFrom: str(sectionOf(doc, "environments"), "copy_from"),
    },
    agents: agentSettingsOf(doc),
    gates: {
      concurrency: (sectionOf(doc, "gates").concurrency as number | undefined) ?? 4,
      defaultsFile: str(sectionOf(doc, "gates"), "defaults_file"),
    },
  };
  return deepFreeze(config);
}

/** `20000-29999` → {first, last}; undefined when it is not a range of unprivileged ports. */
function portRangeOf(text: string): { first: number; last: number } | undefined {
  const match = /^(\d{4,5})-(\d{4,5})$/.exec(text.trim());
  if (!match) return undefined;
  const [first, last] = [Number(match[1]), Number(match[2])];
  return first >= 1024 && last <= 65535 && first <= last ? { first, last } : undefined;
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child && typeof child === "object") deepFreeze(child);
  }
  return Object.freeze(value);
}

export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
