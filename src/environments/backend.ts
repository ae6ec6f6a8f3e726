import type { BackendName, Environment } from "../core/branch.js";
import { environmentPath, environmentVariables, type EnvironmentContext, type ProcessSpec } from "./process-spec.js";

/**
 * An environment backend (the spec's interface): where the checkout lives and how a process is
 * started inside it. `setup` (the checkout) is shared by today's backends (checkout.ts); what
 * differs is `wrap`: the local backend runs a command as it is, the sandbox backend under
 * bubblewrap. exec (run-command.ts) and attach (the terminal) start what `wrap` returns.
 */
export interface EnvironmentBackend {
  readonly name: Exclude<BackendName, "none">;
  /** The process that runs `command` (argv) in the environment; `interactive` for a terminal's shell, `env` added to (and over) the environment's own variables. */
  wrap(context: EnvironmentContext, command: readonly string[], options?: WrapOptions): ProcessSpec;
  /** Folders besides the checkout that belong to the environment (private HOME, /tmp), made at setup, removed at teardown. */
  privateFolders(environment: Environment): string[];
}

export interface WrapOptions {
  interactive?: boolean;
  env?: Readonly<Record<string, string>>;
  /** Host folders the process needs to read even where a sandbox hides them (an agent's program installed in a home or under /tmp). */
  readOnly?: readonly string[];
}

/** A sandboxed environment's private HOME and /tmp live next to its checkout, never inside it. */
export const privateRoot = (environment: Environment) => `${environment.path}.cook`;

// The server's own settings must not leak into work done in an environment (a `cook serve` there
// would otherwise open the factory's database).
const serverOnly = /^(COOK_|NODE_OPTIONS$|npm_)/;

export const localBackend: EnvironmentBackend = {
  name: "local",
  wrap(context, command, options = {}) {
    const host = Object.fromEntries(Object.entries(process.env).filter(([key, value]) => value !== undefined && !serverOnly.test(key))) as Record<string, string>;
    // PWD and OLDPWD are the server's own folders: programs that trust PWD over getcwd() (OpenCode,
    // Codex) would take the server's working folder for their project and work there.
    const { PWD: _pwd, OLDPWD: _oldpwd, ...inherited } = host;
    const env: Record<string, string> = { ...inherited, ...environmentVariables(context), PATH: environmentPath(process.env.PATH), ...options.env, PWD: context.environment.path };
    if (options.interactive) env.TERM = "xterm-256color";
    return { argv: [...command], cwd: context.environment.path, env };
  },
  // Agents keep their per-session state there (agents/state-dir.ts).
  privateFolders: (environment) => [privateRoot(environment)],
};
