import type { Branch, Environment } from "../core/branch.js";
import type { WrapOptions } from "./backend.js";
import { backendFor } from "./backends.js";
import type { EnvironmentDeps } from "./deps.js";
import { environmentTokenSecret } from "./env-token.js";
import type { EnvironmentContext, ProcessSpec } from "./process-spec.js";

export function contextOf(deps: Pick<EnvironmentDeps, "factory" | "dataDir">, branch: Branch, environment: Environment): EnvironmentContext {
  return { environment, repo: branch.repo, branch: branch.name, serverUrl: deps.factory.url(), token: environmentTokenSecret(deps.factory.secret, environment.id), dataDir: deps.dataDir };
}

/** The process that runs `command` in a branch's environment, through its backend (sandboxed when it is one). */
export function processIn(deps: Pick<EnvironmentDeps, "factory" | "dataDir">, branch: Branch, environment: Environment, command: readonly string[], options: WrapOptions = {}): ProcessSpec {
  return backendFor(environment.backend).wrap(contextOf(deps, branch, environment), command, options);
}
