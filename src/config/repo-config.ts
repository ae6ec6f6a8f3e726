import { CookError } from "../core/errors.js";
import { relativePathProblem } from "../core/relative-path.js";
import { parseToml, type TomlTable } from "./toml-file.js";

import { backendNames as environmentBackends, type BackendName as EnvironmentBackend } from "../core/branch.js";

/** A repository's own settings, from the `cook.toml` at the root of its base branch. */
export interface RepoConfig {
  readonly environment: {
    /** Where this repo's branches get their environments; undefined leaves the choice to the server. */
    readonly backend: EnvironmentBackend | undefined;
    /** A shell command run in a new checkout, after the files in `copy` are in place. */
    readonly setup: string | undefined;
    /** Paths relative to the server's copy_from folder, copied to the same place in each checkout. */
    readonly copy: readonly string[];
    /** How many consecutive TCP ports each environment gets, 1 to 100. */
    readonly ports: number;
    /** Names of the PostgreSQL databases each environment gets, in the order given. */
    readonly databases: readonly string[];
    /** Whether a sandboxed environment may reach the network. */
    readonly network: boolean;
  };
}

export const maxPorts = 100;
export const maxDatabases = 8;

/** A database name as cook.toml may give it: short enough that databaseNameFor stays within PostgreSQL's 63 bytes. */
export function isEnvironmentDatabaseName(name: string): boolean {
  return /^[a-z][a-z0-9_]{0,30}$/.test(name);
}

const defaults: RepoConfig["environment"] = { backend: undefined, setup: undefined, copy: [], ports: 1, databases: [], network: true };

type Check = (value: unknown, key: string, problems: string[]) => void;

const environmentKeys: Record<string, Check> = {
  backend(value, key, problems) {
    if (!environmentBackends.includes(value as EnvironmentBackend)) {
      problems.push(`${key} must be one of ${environmentBackends.map((b) => JSON.stringify(b)).join(", ")} (got ${describe(value)})`);
    }
  },
  setup(value, key, problems) {
    if (typeof value !== "string" || value.trim() === "") problems.push(`${key} must be a shell command (got ${describe(value)})`);
  },
  copy(value, key, problems) {
    if (!isStringArray(value)) {
      problems.push(`${key} must be an array of relative paths (got ${describe(value)})`);
      return;
    }
    value.forEach((path, index) => {
      const problem = relativePathProblem(path);
      if (problem) problems.push(`${key}[${index}] must be a relative path inside the repository, outside .git (got ${describe(path)}: ${problem})`);
    });
  },
  ports(value, key, problems) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > maxPorts) {
      problems.push(`${key} must be an integer from 1 to ${maxPorts} (got ${describe(value)})`);
    }
  },
  databases(value, key, problems) {
    if (!isStringArray(value)) {
      problems.push(`${key} must be an array of database names (got ${describe(value)})`);
      return;
    }
    if (value.length > maxDatabases) problems.push(`${key} may name at most ${maxDatabases} databases (got ${value.length})`);
    value.forEach((name, index) => {
      if (!isEnvironmentDatabaseName(name)) {
        problems.push(`${key}[${index}] must be 1-31 lowercase letters, digits or '_', starting with a letter (got ${describe(name)})`);
      } else if (value.indexOf(name) !== index) {
        problems.push(`${key}[${index}] names ${describe(name)} a second time`);
      }
    });
  },
  network(value, key, problems) {
    if (typeof value !== "boolean") problems.push(`${key} must be true or false (got ${describe(value)})`);
  },
};

/**
 * Parses the text of a repo's cook.toml (undefined: the repo has none, so every default) into a
 * frozen, fully defaulted RepoConfig. Every problem is listed in one CookError("invalid") whose
 * message names `source`, the key and the value: a TOML syntax error (with line and column), a
 * value of the wrong type or out of range, and any unknown key under [environment], so a typo is
 * never silently ignored. Other top-level tables are left alone for the settings that will use them.
 */
export function parseRepoConfig(text: string | undefined, source = "cook.toml"): RepoConfig {
  const doc: TomlTable = text === undefined ? {} : parseToml(text, source);
  const table = doc.environment;
  const problems: string[] = [];
  if (table !== undefined && !isTable(table)) {
    problems.push(`[environment] must be a table (got ${describe(table)})`);
  }
  const environment = isTable(table) ? table : {};
  for (const [key, value] of Object.entries(environment)) {
    const check = Object.hasOwn(environmentKeys, key) ? environmentKeys[key] : undefined;
    if (check) check(value, `environment.${key}`, problems);
    else problems.push(`unknown key environment.${key} (known keys: ${Object.keys(environmentKeys).join(", ")})`);
  }
  if (problems.length > 0) throw new CookError("invalid", problems.map((problem) => `${source}: ${problem}`).join("; "));

  const given = environment as Partial<Record<keyof RepoConfig["environment"], never>>;
  return deepFreeze({
    environment: {
      backend: given.backend ?? defaults.backend,
      setup: given.setup ?? defaults.setup,
      copy: [...(given.copy ?? defaults.copy)],
      ports: given.ports ?? defaults.ports,
      databases: [...(given.databases ?? defaults.databases)],
      network: given.network ?? defaults.network,
    },
  });
}

// smol-toml's dates are Date objects, so a date is an object but not a table.
function isTable(value: unknown): value is TomlTable {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (value !== null && typeof value === "object") return "a table";
  return String(value);
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child && typeof child === "object") deepFreeze(child);
  }
  return Object.freeze(value);
}
