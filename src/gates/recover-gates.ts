import { rmSync } from "node:fs";
import { killProcesses, processesWithVariable } from "../agents/session-processes.js";
import { findBranchById } from "../db/branch-store.js";
import { closeOpenResults, interruptRunningAttempts, unfinishedRuns, updateGateRun } from "../db/gate-run-store.js";
import { branchHead } from "../branches/branch-git.js";
import { repoDir } from "../forge/paths.js";
import { gateCheckoutsDir } from "./gate-checkout.js";
import type { GateDeps } from "./deps.js";
import { appendGateEvent } from "./gate-events.js";
import { enqueueRun } from "./run-queue.js";
import { startGateRun } from "./start-run.js";

/**
 * At start-up, before pushes are handled: gate checkouts left by a stopped server are removed; a
 * run that was `running` is marked `interrupted` (its open gates too, with an event each) and,
 * when its branch is still open at the same head, started again (gates that passed are re-used
 * by tree); `queued` runs go back in line; `waiting` runs keep waiting for their reviewer.
 * Merge candidates' runs are left to the merge recovery. Returns how many runs were started again.
 */
export async function recoverGateRuns(deps: GateDeps): Promise<number> {
  rmSync(gateCheckoutsDir(deps.dataDir), { recursive: true, force: true });
  let restarted = 0;
  for (const run of await unfinishedRuns(deps.db)) {
    if (run.state === "waiting") continue;
    if (run.state === "queued") {
      enqueueRun(deps, run.id);
      continue;
    }
    // A gate's processes outlive a server that was killed: they are found by the run id they inherit.
    killProcesses(processesWithVariable("COOK_RUN_ID", run.id));
    const branch = await findBranchById(deps.db, run.branchId);
    if (!branch) continue;
    await deps.db.transaction(async (tx) => {
      for (const result of run.results.filter((r) => r.state === "running")) {
        await appendGateEvent(deps, tx, { repo: branch.repo, branch: branch.name, runId: run.id, gate: result.gate }, "canceled", { head: run.head, summary: "interrupted by a server restart", interrupted: true });
      }
      await interruptRunningAttempts(tx, run.id);
      await closeOpenResults(tx, run.id, "interrupted");
      await updateGateRun(tx, run.id, { state: "interrupted", error: "the server stopped during the run; it was started again", ended: true });
    });
    if (run.reason === "merge" || branch.status !== "open") continue;
    const head = await branchHead(deps.git, repoDir(deps.dataDir, branch.repo), branch.name);
    if (head !== run.head) continue;
    await startGateRun(deps, branch, { reason: "restart", head }, "cook-restart").catch((err: Error) => deps.log.warn({ run: run.id, err: err.message }, "interrupted gate run not started again"));
    restarted++;
  }
  return restarted;
}
