import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { AgentConfig } from "../config/agent-config.js";
import type { Environment } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { privateRoot } from "../environments/backend.js";
import type { AgentAdapter } from "./adapters/index.js";

/**
 * The session's private config folder: where its CLI keeps login, settings and session history,
 * so that sessions never share CLI state. It lies in the environment's private home (writable
 * inside a sandbox, never inside the checkout) and goes with the environment at teardown.
 */
export function sessionStateDir(environment: Environment, sessionId: string): string {
  return join(privateRoot(environment), "home", ".cook-agents", sessionId);
}

/**
 * The session's TMPDIR: the CLIs leave sockets, logs and native libraries there (Claude Code's
 * cc-socks/, OpenCode's 5.5 MB .so per start), which must go with the session, not pile up in /tmp.
 */
export const sessionTmpDir = (stateDir: string) => join(stateDir, "tmp");

/**
 * Makes the state folder (0700) and seeds it with the user's login: a configured `home` is copied
 * whole; the CLI's default login folder only by its top-level files (login and settings, not the
 * user's history). Copies are 0600. Nothing is copied when there is no login folder, nor on a
 * session's later runs.
 */
export function prepareStateDir(stateDir: string, adapter: AgentAdapter, config: AgentConfig): void {
  const seeded = existsSync(stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  mkdirSync(sessionTmpDir(stateDir), { recursive: true, mode: 0o700 });
  // Seeded once: later runs of the session find the CLI's own state as it left it.
  if (seeded) return;
  const target = adapter.loginTarget(stateDir);
  if (!target || !config.home || !existsSync(config.home) || !statSync(config.home).isDirectory()) return;
  mkdirSync(target, { recursive: true, mode: 0o700 });
  if (config.homeIsDefault) {
    for (const name of readdirSync(config.home)) {
      const from = join(config.home, name);
      if (!lstatSync(from).isFile()) continue;
      copyFileSync(from, join(target, name));
      chmodSync(join(target, name), 0o600);
    }
  } else {
    cpSync(config.home, target, { recursive: true, dereference: true, force: true });
  }
}

/**
 * Throws unavailable with the adapter's advice ("run `claude login` …") when the agent has no login:
 * none of its API-key variables is set (in its config or the server's environment), and its login
 * folder holds none of its login files.
 */
export function checkLogin(adapter: AgentAdapter, config: AgentConfig): void {
  if (adapter.kind === "command") return;
  if (adapter.keyVariables.some((name) => config.env[name] || process.env[name])) return;
  const home = config.home;
  if (home && existsSync(home)) {
    const files = adapter.loginFiles;
    if (files === undefined ? readdirSync(home).length > 0 : files.some((file) => existsSync(join(home, file)))) return;
  }
  throw new CookError("unavailable", `agent '${config.name}' has no login: ${adapter.loginAdvice}`);
}

/**
 * The agent's program as found on `path` (as the shell would look it up); throws unavailable when
 * it is missing or not executable: a session must fail at once with that, never hang.
 */
export function checkProgram(config: AgentConfig, program: string, path: string): string {
  const candidates = program.includes("/") ? [program] : path.split(":").filter(Boolean).map((dir) => join(dir, program));
  let found: string | undefined;
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
    } catch {
      continue;
    }
    found = candidate;
    try {
      // eslint-disable-next-line no-bitwise
      if ((statSync(candidate).mode & 0o111) !== 0) return candidate;
    } catch {
      // Checked below.
    }
  }
  if (found) throw new CookError("unavailable", `agent '${config.name}': ${found} is not executable`);
  throw new CookError("unavailable", `agent '${config.name}': program '${program}' not found${program.includes("/") ? "" : " on PATH"}; install it or set [agents.${config.name}] command`);
}

/** The folders a sandbox must show for `program` to run: its own and, for a symlink, its target's. */
export function programFolders(program: string): string[] {
  const folders = new Set([dirname(program)]);
  try {
    folders.add(dirname(realpathSync(program)));
  } catch {
    // Not there: the run fails and says so.
  }
  return [...folders].filter((folder) => folder !== "/" && isAbsolute(folder));
}
