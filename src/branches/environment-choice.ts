import { checkBackendName, type BackendName } from "../core/branch.js";
import { CookError } from "../core/errors.js";

export interface EnvironmentChoice {
  backend: BackendName;
  /** `local:<path>`: where the checkout goes instead of the data dir. */
  path?: string;
}

/** `--env=local[:<path>]|sandbox|none`; an unknown backend is refused naming the ones this server has. */
export function parseEnvironmentChoice(value: unknown): EnvironmentChoice {
  if (typeof value !== "string") throw new CookError("invalid", "env must be local, local:<path>, sandbox or none");
  if (value.startsWith("local:")) {
    const path = value.slice("local:".length);
    if (path === "" || path.includes("\0")) throw new CookError("invalid", "local:<path> needs an absolute folder path");
    return { backend: "local", path };
  }
  return { backend: checkBackendName(value) };
}
