import { CookError } from "../core/errors.js";
import { localBackend, type EnvironmentBackend } from "./backend.js";
import { sandboxBackend } from "./sandbox-backend.js";

const backends: Record<string, EnvironmentBackend> = { local: localBackend, sandbox: sandboxBackend };

/** The backend of this name; throws invalid naming the ones this server has. */
export function backendFor(name: string): EnvironmentBackend {
  const backend = Object.hasOwn(backends, name) ? backends[name] : undefined;
  if (!backend) throw new CookError("invalid", `unknown environment backend '${name}'; this server has ${Object.keys(backends).join(", ")}`);
  return backend;
}
