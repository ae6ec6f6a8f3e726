import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BackendName, Environment } from "../core/branch.js";
import { privateRoot } from "../environments/backend.js";
import { runGit } from "../git/run-git.js";

/** Where gate checkouts live; removed wholesale at start-up (nothing there outlives its gate). */
export const gateCheckoutsDir = (dataDir: string) => join(dataDir, "gate-checkouts");

/**
 * A checkout of exactly `sha` that shares the bare repo's objects (clone --shared, no copy of
 * history), detached: nothing of it is pushed anywhere. Throws GitCommandError when git fails.
 */
export async function makeGateCheckout(bareDir: string, path: string, sha: string): Promise<void> {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(join(path, ".."), { recursive: true });
  await runGit(["-c", "protocol.file.allow=always", "clone", "--quiet", "--shared", "--no-checkout", "--", bareDir, path]);
  await runGit(["-C", path, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha]);
}

/** Removes a gate's checkout and its private folders (HOME, /tmp, an agent's state): whatever was written there goes. */
export function removeGateCheckout(environment: Environment): void {
  rmSync(environment.path, { recursive: true, force: true, maxRetries: 3 });
  rmSync(privateRoot(environment), { recursive: true, force: true, maxRetries: 3 });
}

/** Who a gate's process runs for: the run (its id is the environment's), the branch, and where. */
export interface GateProcessScope {
  runId: string;
  branchId: string;
  backend: Exclude<BackendName, "none">;
  network: boolean;
}

/**
 * The environment a gate's process runs in, for the backend to wrap: the gate's own checkout, no
 * token (a gate judges, it does not push), no databases, and PORT=0 (a server started by a test
 * picks a free port).
 */
export function gateEnvironment(scope: GateProcessScope, checkout: string): Environment {
  const now = new Date().toISOString();
  return {
    id: scope.runId,
    branchId: scope.branchId,
    backend: scope.backend,
    path: checkout,
    state: "ready",
    portBase: 0,
    portCount: 0,
    databases: [],
    network: scope.network,
    setupCommand: undefined,
    error: undefined,
    createdAt: now,
    updatedAt: now,
    tornDownAt: undefined,
  };
}
