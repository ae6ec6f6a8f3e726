import type { Branch } from "../core/branch.js";
import type { GateDefinition, GateRun } from "../core/gate.js";
import { findBranchById } from "../db/branch-store.js";
import { closeOpenResults, findGateRun, findReusablePass, updateGateResult, updateGateRun } from "../db/gate-run-store.js";
import { reviewWithAgent } from "./agent-review.js";
import { decideApproval } from "./approvals.js";
import { runCommandGate } from "./command-gate.js";
import type { GateDeps } from "./deps.js";
import { appendGateEvent } from "./gate-events.js";
import { handBackFailure } from "./hand-back.js";
import { markTaskWaitingIn } from "../tasks/update-task.js";
import { readTargetGates } from "./target-gates.js";

/** What one gate concluded. */
export interface GateOutcome {
  state: "passed" | "failed" | "canceled" | "waiting";
  /** One line. */
  summary: string;
  /** Review comments, an unparsable reply. */
  detail?: string;
  /** The last lines of a command's output, for the hand-back to the agent. */
  tail?: string;
  exitCode?: number;
  /** The failure is a request for changes (a review, a rejection), not a broken gate. */
  changesRequested?: boolean;
}

/**
 * Executes a recorded run, gate after gate in order, stopping at the first failure (the gates after
 * it stay `not_run`). A gate that passed on the same tree under the same definitions is taken over
 * without running. A human_approval gate with no verdict yet leaves the run `waiting` and its slot
 * free; a verdict puts it in line again and it goes on from there. A canceled run stops quietly
 * (whoever canceled it recorded why); a shutdown leaves it `running` for start-up to interrupt and
 * start again. Listeners in `gateRuntime.ended` hear of every run that ends here.
 */
export async function executeRun(deps: GateDeps, runId: string, signal: AbortSignal): Promise<void> {
  const run = await findGateRun(deps.db, runId);
  if (!run || !(run.state === "queued" || run.state === "running" || run.state === "waiting")) return;
  const branch = await findBranchById(deps.db, run.branchId);
  if (!branch) return;
  if (!(await updateGateRun(deps.db, runId, { state: "running", started: true }))) return;
  const where = await readTargetGates(deps, branch);
  for (const result of run.results) {
    if (result.state === "passed") continue;
    if (signal.aborted) return;
    const gate = result.definition;
    const scope = { repo: branch.repo, branch: branch.name, runId, gate: gate.name };
    const reusedFrom = gate.kind === "human_approval" ? undefined : await findReusablePass(deps.db, run.repo, run.tree, run.configHash, gate.name);
    if (reusedFrom && reusedFrom !== runId) {
      await deps.db.transaction(async (tx) => {
        const summary = `passed on the same tree in ${reusedFrom}`;
        if (await updateGateResult(tx, runId, gate.name, { state: "passed", summary, reusedFrom, started: true, ended: true })) {
          await appendGateEvent(deps, tx, scope, "passed", { head: run.head, summary, reused: reusedFrom });
        }
      });
      continue;
    }
    const moved = await deps.db.transaction(async (tx) => {
      const ok = await updateGateResult(tx, runId, gate.name, { state: "running", started: true });
      // A command gate announces each attempt itself.
      if (ok && gate.kind !== "command") await appendGateEvent(deps, tx, scope, "started", { head: run.head, kind: gate.kind });
      return ok;
    });
    if (!moved) return;
    const outcome = await judge(deps, branch, run, gate, { backend: where.backend, network: where.network }, signal);
    if (outcome.state === "canceled") return;
    if (outcome.state === "waiting") {
      await deps.db.transaction(async (tx) => {
        if (!(await updateGateResult(tx, runId, gate.name, { state: "waiting", summary: outcome.summary }))) return;
        await updateGateRun(tx, runId, { state: "waiting" });
        await appendGateEvent(deps, tx, scope, "waiting", { head: run.head, summary: outcome.summary, reviewers: gate.reviewers });
        // The work waits on a person: it shows under "needs you", and frees autopilot's slot.
        if (branch.taskId) await markTaskWaitingIn(deps, tx, branch.taskId, { name: "cook-gates", scope: "admin" }, `gate '${gate.name}' ${outcome.summary}`);
      });
      return;
    }
    const recorded = await deps.db.transaction(async (tx) => {
      if (!(await updateGateResult(tx, runId, gate.name, { state: outcome.state, summary: outcome.summary, detail: outcome.detail, ended: true }))) return false;
      await appendGateEvent(deps, tx, scope, outcome.state, { head: run.head, summary: outcome.summary, exitCode: outcome.exitCode ?? null, detail: outcome.detail ?? null });
      if (outcome.state === "failed") {
        await closeOpenResults(tx, runId, "not_run");
        await updateGateRun(tx, runId, { state: "failed", ended: true });
      }
      return true;
    });
    if (!recorded) return;
    if (outcome.state === "failed") {
      await announceEnd(deps, runId);
      if (run.reason !== "merge") await handBackFailure(deps, branch, run, gate, outcome, where.policy).catch((err: Error) => deps.log.warn({ run: runId, gate: gate.name, err: err.message }, "gate failure not handed to the agent"));
      return;
    }
  }
  if (await updateGateRun(deps.db, runId, { state: "passed", ended: true })) await announceEnd(deps, runId);
}

async function judge(deps: GateDeps, branch: Branch, run: GateRun, gate: GateDefinition, where: { backend: "local" | "sandbox"; network: boolean }, signal: AbortSignal): Promise<GateOutcome> {
  switch (gate.kind) {
    case "command": {
      const outcome = await runCommandGate(deps, { runId: run.id, branch, gate, head: run.head, targetCommit: run.targetCommit, backend: where.backend, network: where.network, signal });
      return { state: outcome.state, summary: outcome.summary, tail: outcome.tail, exitCode: outcome.exitCode };
    }
    case "human_approval":
      return decideApproval(deps, branch, run, gate);
    case "agent_review":
      return reviewWithAgent(deps, branch, run, gate, where, signal);
  }
}

/** Tells every listener in gateRuntime.ended that the run is over. */
export async function announceEnd(deps: GateDeps, runId: string): Promise<void> {
  const ended = await findGateRun(deps.db, runId);
  if (!ended) return;
  for (const listener of deps.gateRuntime.ended) {
    try {
      listener(ended);
    } catch (err) {
      deps.log.warn({ run: runId, err: (err as Error).message }, "a gate run listener failed");
    }
  }
}
