import { existsSync } from "node:fs";
import { findBranchById } from "../db/branch-store.js";
import { selectLiveEnvironments } from "../db/environment-store.js";
import type { EnvironmentDeps } from "./deps.js";
import { repointOrigin } from "./checkout.js";
import { forgeUrlOf } from "./create-environment.js";
import { moveEnvironment } from "./environment-events.js";

/**
 * At start-up: an environment whose folder vanished is marked `lost` (never silently dropped), and
 * one still `creating` had its setup cut off by the stop, so it is `failed` with that reason. The
 * others get their checkout's `origin` pointed at the forge as it listens now (another port).
 * When live environments have databases, their server is started (Cook's own, when it runs one),
 * so they work again without waiting for the next environment to be made. Returns how many were marked.
 */
export async function recoverEnvironments(deps: EnvironmentDeps): Promise<{ lost: number; interrupted: number }> {
  let lost = 0;
  let interrupted = 0;
  const live = await selectLiveEnvironments(deps.db);
  if (live.some((environment) => environment.databases.length > 0)) {
    await deps.databaseServer.adminUrl().catch((err: Error) => deps.log.warn({ err: err.message }, "environments have databases, but their server cannot be started"));
  }
  for (const environment of live) {
    const branch = await findBranchById(deps.db, environment.branchId);
    if (!branch) continue;
    if (environment.state !== "lost" && !existsSync(environment.path)) {
      await moveEnvironment(deps, branch, environment, "lost", `its folder ${environment.path} was gone when the server started`);
      lost++;
    } else if (environment.state === "creating") {
      await moveEnvironment(deps, branch, environment, "failed", "the server stopped while the environment was being set up");
      interrupted++;
    } else if (environment.state !== "lost") {
      try {
        repointOrigin(environment.path, forgeUrlOf(deps, branch.repo));
      } catch (err) {
        deps.log.warn({ env: environment.id, err: (err as Error).message }, "could not point an environment's origin at the forge");
      }
    }
  }
  if (lost + interrupted > 0) deps.log.warn({ lost, interrupted }, "environments marked at start-up");
  return { lost, interrupted };
}
