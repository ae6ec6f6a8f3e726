import { dirname, join } from "node:path";
import type { Environment } from "../core/branch.js";
import { packageRoot } from "../config/package-root.js";
import { databaseVariables } from "./databases.js";

/** A process to start: argv (argv[0] is the program), working folder, and its whole environment. */
export interface ProcessSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

/** What every process of an environment is told about where it is (the variable list). */
export interface EnvironmentContext {
  environment: Environment;
  repo: string;
  branch: string;
  /** The factory's URL as seen from this machine: COOK_SERVER, and the checkout's origin. */
  serverUrl: string;
  /** The environment token's secret (env-token.ts): COOK_TOKEN. Empty for a gate's checkout, which gets no token and no git credentials. */
  token: string;
  /** The server's data dir: what a sandbox hides. */
  dataDir: string;
}

/** The folder holding the `cook` shim that is put first on every environment's PATH. */
export const cookBinDir = () => join(packageRoot(), "bin");

/**
 * The Cook variables of an environment's processes: COOK_SERVER, COOK_REPO, COOK_BRANCH,
 * COOK_TOKEN, COOK_ENV_ID, PORT and COOK_PORT_BASE (the first port of its block), COOK_PORT_COUNT,
 * the databases' URLs (DATABASE_URL, COOK_DB_<NAME>_URL), and git configuration (through
 * GIT_CONFIG_COUNT, git-config(1) "ENVIRONMENT") that sends the token to the forge with every
 * request, so that git never has to be told 401 first and the token is in no file of the checkout.
 */
export function environmentVariables(context: EnvironmentContext): Record<string, string> {
  const { environment: env } = context;
  const variables: Record<string, string> = {
    COOK_SERVER: context.serverUrl,
    COOK_REPO: context.repo,
    COOK_BRANCH: context.branch,
    COOK_ENV_ID: env.id,
    PORT: String(env.portBase),
    COOK_PORT_BASE: String(env.portBase),
    COOK_PORT_COUNT: String(env.portCount),
  };
  if (context.token !== "") {
    Object.assign(variables, {
      COOK_TOKEN: context.token,
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: `http.${context.serverUrl}/.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Bearer ${context.token}`,
    });
  }
  Object.assign(variables, databaseVariables(env.databases));
  return variables;
}

/** PATH with the `cook` shim and this node first. */
export function environmentPath(hostPath: string | undefined): string {
  return [cookBinDir(), dirname(process.execPath), hostPath || "/usr/local/bin:/usr/bin:/bin"].join(":");
}
