import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { selectLiveEnvironments } from "../db/environment-store.js";
import type { EnvironmentDeps } from "./deps.js";

export interface OrphanCheckout {
  /** Absolute folder under `<data_dir>/envs/`. */
  path: string;
  repo: string;
}

const privateSuffix = ".cook";

/**
 * `cook branch gc`: folders under `<data_dir>/envs/<repo>/` that no live environment owns (left by
 * a crash, or copied in by hand). With `remove`, they are deleted; without, only listed.
 */
export async function collectGarbage(deps: Pick<EnvironmentDeps, "dataDir" | "db">, options: { remove: boolean }): Promise<OrphanCheckout[]> {
  const root = join(deps.dataDir, "envs");
  if (!existsSync(root)) return [];
  const owned = new Set((await selectLiveEnvironments(deps.db)).map((environment) => environment.path));
  const orphans: OrphanCheckout[] = [];
  for (const repo of readdirSync(root)) {
    for (const name of readdirSync(join(root, repo))) {
      const path = join(root, repo, name);
      const owner = name.endsWith(privateSuffix) ? path.slice(0, -privateSuffix.length) : path;
      if (!owned.has(owner)) orphans.push({ path, repo });
    }
  }
  if (options.remove) for (const orphan of orphans) rmSync(orphan.path, { recursive: true, force: true, maxRetries: 3 });
  return orphans;
}
