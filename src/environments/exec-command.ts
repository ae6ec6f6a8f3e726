import { existsSync } from "node:fs";
import type { Branch, Environment } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { findLiveEnvironment } from "../db/environment-store.js";
import { processIn } from "./context.js";
import type { EnvironmentDeps } from "./deps.js";
import { moveEnvironment } from "./environment-events.js";
import { runCommand, type CommandOutput } from "./run-command.js";

/**
 * The branch's environment if a process can run in it now: `ready`, or `failed` (to look into why).
 * Throws conflict, saying why, when it has none, is still being made, or its folder is gone (which
 * also marks it `lost`).
 */
export async function usableEnvironment(deps: Pick<EnvironmentDeps, "db" | "events">, branch: Branch): Promise<Environment> {
  const environment = await findLiveEnvironment(deps.db, branch.id);
  if (!environment) throw new CookError("conflict", `branch '${branch.name}' has no live environment${branch.status === "open" ? "; make one with cook branch create --env" : ` (it is ${branch.status})`}`);
  if (environment.state === "creating") throw new CookError("conflict", `the environment of '${branch.name}' is still being set up; wait for it to be ready`);
  if (environment.state === "lost" || !existsSync(environment.path)) {
    if (environment.state !== "lost") await moveEnvironment(deps, branch, environment, "lost", `its folder ${environment.path} is gone`);
    throw new CookError("conflict", `the environment of '${branch.name}' is lost: its folder ${environment.path} is gone`);
  }
  return environment;
}

/**
 * `cook branch exec`: runs `argv` in the branch's environment (inside the sandbox when it uses one)
 * with the environment's variables and stdin closed, streaming output; resolves with the exit code.
 * `signal` kills the command and what it started. Throws as usableEnvironment does, and invalid for an empty argv.
 */
export async function execInEnvironment(deps: EnvironmentDeps, branch: Branch, argv: readonly string[], output: CommandOutput, signal?: AbortSignal): Promise<number> {
  checkArgv(argv);
  const environment = await usableEnvironment(deps, branch);
  const abort = new AbortController();
  signal?.addEventListener("abort", () => abort.abort(), { once: true });
  const running = deps.running.get(environment.id) ?? new Set();
  running.add(abort);
  deps.running.set(environment.id, running);
  try {
    return await runCommand(processIn(deps, branch, environment, argv), output, abort.signal);
  } finally {
    running.delete(abort);
  }
}

/** A command as argv: a non-empty list of strings without NUL. Throws invalid otherwise. */
export function checkArgv(argv: unknown): string[] {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((arg) => typeof arg !== "string" || arg.includes("\0"))) {
    throw new CookError("invalid", "give a command to run: a list of arguments, the first being the program");
  }
  return argv as string[];
}
