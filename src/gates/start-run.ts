import type { Actor } from "../core/actor.js";
import type { Branch } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { gateConfigHash, type GateDefinition, type GateRun, type GateRunReason } from "../core/gate.js";
import { newId } from "../core/ids.js";
import { showInput } from "../core/show-input.js";
import type { Tx } from "../db/db.js";
import { findBranchById } from "../db/branch-store.js";
import { closeOpenResults, findGateRun, insertGateRun, runsOfBranch, unfinishedRuns, updateGateRun } from "../db/gate-run-store.js";
import { repoDir } from "../forge/paths.js";
import type { GateDeps } from "./deps.js";
import { appendGateEvent } from "./gate-events.js";
import { announceEnd } from "./execute-run.js";
import { headOf, treeOf } from "./merge-git.js";
import { enqueueRun } from "./run-queue.js";
import { invalidBranchConfig, readTargetGates } from "./target-gates.js";

export interface StartRunRequest {
  reason: GateRunReason;
  /** The commit to judge; default: the branch's head now. */
  head?: string;
  /** Run only these gates of the definitions (a re-run of one gate); default: all. */
  only?: string;
  /** For a merge candidate: only command gates run, and older runs of the branch are left alone. */
  commandGatesOnly?: boolean;
}

/**
 * Starts judging a commit of a branch: the target's gates are read, a run is recorded `queued`
 * with one `pending` result per gate, and it waits for a slot (`[gates] concurrency`). A push's
 * run cancels the runs of older heads of the branch (their processes are killed); a push or
 * `cook done` for a head that already has a run not canceled gets that run back instead of a
 * second one. A cook.toml that cannot be read makes the run `failed` at once with the reason.
 * Throws conflict when the branch has ended or has no commit, invalid for an unknown gate in `only`.
 */
export async function startGateRun(deps: GateDeps, branch: Branch, request: StartRunRequest, actor: Actor | string): Promise<GateRun> {
  if (branch.status !== "open") throw new CookError("conflict", `branch '${branch.name}' is ${branch.status}; its gates are kept but do not run again`);
  const gitDir = repoDir(deps.dataDir, branch.repo);
  const head = request.head ?? (await headOf(deps.git, gitDir, branch.name));
  if (!head) throw new CookError("conflict", `branch '${branch.name}' has no commit in ${branch.repo} to judge`);
  const read = await readTargetGates(deps, branch);
  // A branch bringing an invalid cook.toml fails before it can land: merged, nothing could land after it.
  const target = read.error ? read : { ...read, error: await invalidBranchConfig(deps, branch, head, read) };
  let gates: GateDefinition[] = target.gates;
  if (request.commandGatesOnly) gates = gates.filter((gate) => gate.kind === "command");
  if (request.only !== undefined) {
    gates = gates.filter((gate) => gate.name === request.only);
    if (gates.length === 0 && target.error === undefined) {
      throw new CookError("invalid", `${branch.repo} has no gate ${showInput(request.only)}; its gates are ${target.gates.map((g) => g.name).join(", ") || "none"}`);
    }
  }
  const tree = await treeOf(deps.git, gitDir, head);
  const by = typeof actor === "string" ? actor : actor.name;
  const canceled: string[] = [];
  const run = await deps.db.transaction(async (tx) => {
    // The branch row is the lock that orders runs started for one branch at once.
    const current = await findBranchById(tx, branch.id, { forUpdate: true });
    if (current?.status !== "open") throw new CookError("conflict", `branch '${branch.name}' is ${current?.status ?? "gone"}`);
    const unfinished = await unfinishedRuns(tx, branch.id);
    if (request.reason === "push" || request.reason === "done") {
      // A head is judged once: a redelivered push, or `cook done` after the push, gets the run it has.
      const same = (await runsOfBranch(tx, branch.id, 20)).find((r) => r.head === head && r.reason !== "merge" && r.state !== "canceled" && r.state !== "interrupted");
      if (same) return same;
    }
    if (request.reason !== "merge") {
      for (const older of unfinished.filter((r) => r.head !== head || request.reason === "rerun")) {
        if (request.reason === "rerun" && older.head === head && older.reason === "merge") continue;
        await cancelRunIn(deps, tx, branch, older, `a newer ${request.reason === "rerun" ? "run" : "push"} (${head.slice(0, 12)}) replaced it`);
        canceled.push(older.id);
      }
    }
    const id = newId("run");
    const created = await insertGateRun(
      tx,
      {
        id,
        branchId: branch.id,
        repo: branch.repo,
        head,
        tree,
        target: target.target,
        targetCommit: target.targetCommit,
        configHash: gateConfigHash(target.gates),
        reason: request.reason,
        state: target.error ? "failed" : "queued",
        error: target.error,
        requestedBy: by,
      },
      target.error ? [] : gates,
    );
    if (target.error) {
      await updateGateRun(tx, id, { state: "failed", started: true, ended: true });
      await appendGateEvent(deps, tx, { repo: branch.repo, branch: branch.name, runId: id, gate: "config" }, "failed", { head, summary: target.error });
    }
    return created;
  });
  for (const id of canceled) {
    deps.gateRuntime.active.get(id)?.abort();
    await announceEnd(deps, id);
  }
  if (run.state === "queued" && !canceled.includes(run.id)) enqueueRun(deps, run.id);
  return (await findGateRun(deps.db, run.id))!;
}

/** Marks a run canceled with the reason (its open results too) and announces each open gate's cancellation. */
export async function cancelRunIn(deps: GateDeps, tx: Tx, branch: Branch, run: GateRun, reason: string): Promise<void> {
  for (const result of run.results.filter((r) => r.state === "running" || r.state === "waiting")) {
    await appendGateEvent(deps, tx, { repo: branch.repo, branch: branch.name, runId: run.id, gate: result.gate }, "canceled", { head: run.head, summary: reason });
  }
  await closeOpenResults(tx, run.id, "canceled");
  await updateGateRun(tx, run.id, { state: "canceled", error: reason, ended: true });
}
