import { rmSync } from "node:fs";
import type { Branch, Environment } from "../core/branch.js";
import { findLiveEnvironment } from "../db/environment-store.js";
import { revokeTokensNamed } from "../db/token-store.js";
import { backendFor } from "./backends.js";
import { dropEnvironmentDatabases } from "./databases.js";
import type { EnvironmentDeps } from "./deps.js";
import { moveEnvironment } from "./environment-events.js";

/**
 * Tears down the branch's live environment, if it has one: stops what runs in it, revokes its
 * token, drops its databases, removes its folders, and marks it `torn_down` (the record and the
 * setup log stay). A database that cannot be dropped is logged, not fatal: the branch must still end.
 */
export async function teardownEnvironment(deps: EnvironmentDeps, branch: Branch): Promise<Environment | undefined> {
  const environment = await findLiveEnvironment(deps.db, branch.id);
  if (!environment) return undefined;
  for (const abort of deps.running.get(environment.id) ?? []) abort.abort();
  deps.running.delete(environment.id);
  await revokeTokensNamed(deps.db, environment.id);
  if (environment.databases.length > 0) {
    const dropped = deps.databaseServer.adminUrl().then((adminUrl) => dropEnvironmentDatabases(adminUrl, environment.databases));
    await dropped.catch((err: Error) =>
      deps.log.warn({ env: environment.id, err: err.message }, "could not drop an environment's databases"),
    );
  }
  for (const folder of [environment.path, ...backendFor(environment.backend).privateFolders(environment)]) {
    rmSync(folder, { recursive: true, force: true, maxRetries: 3 });
  }
  return moveEnvironment(deps, branch, environment, "torn_down");
}
