import type { Actor } from "../core/actor.js";
import type { Branch } from "../core/branch.js";
import { CookError, isCookError } from "../core/errors.js";
import { mergeStrategies, type GateRun, type Merge, type MergeStrategy } from "../core/gate.js";
import { newId } from "../core/ids.js";
import { showInput } from "../core/show-input.js";
import { autoMergeOf, autoMergeStrategyOf, endBranch, findBranchById, setArchiveRef, setAutoMerge, setMergedCommit } from "../db/branch-store.js";
import { findGateRun, latestRunsOfBranches } from "../db/gate-run-store.js";
import { findMerge, insertMerge, mergesOfBranch, updateMerge, type MergeUpdate } from "../db/merge-store.js";
import { childrenOf, findTask } from "../db/task-store.js";
import { latestSessionOfBranch } from "../db/agent-session-store.js";
import { promptSession } from "../agents/sessions.js";
import { archiveBranchRef } from "../branches/branch-git.js";
import { appendBranchEvent } from "../branches/deps.js";
import { teardownEnvironment } from "../environments/teardown-environment.js";
import { repoDir } from "../forge/paths.js";
import { updateTaskIn } from "../tasks/update-task.js";
import type { GateDeps } from "./deps.js";
import { buildCandidate, compareAndSwapRef, headOf, treeOf } from "./merge-git.js";
import { failpoint } from "../core/failpoints.js";
import { startGateRun } from "./start-run.js";
import { readTargetGates } from "./target-gates.js";
import { sendToHuman } from "./hand-back.js";

/** Whether a branch may land now, and if not, why (naming the gate and its state). */
export type Readiness = { ok: true; head: string; run: GateRun | undefined } | { ok: false; head: string | undefined; reason: string };

/**
 * A branch is mergeable when every gate passed on its current head: the newest run judging the
 * branch itself must be for that head and `passed`. A repo with no gates at all is mergeable. The
 * branch of a parent task waits, too, until every sub-task of it is closed.
 */
export async function mergeReadiness(deps: GateDeps, branch: Branch): Promise<Readiness> {
  if (branch.status !== "open") return { ok: false, head: undefined, reason: `branch '${branch.name}' is ${branch.status}` };
  const head = await headOf(deps.git, repoDir(deps.dataDir, branch.repo), branch.name);
  if (!head) return { ok: false, head, reason: `branch '${branch.name}' has no commit in ${branch.repo}` };
  // A parent task's branch collects its sub-tasks' work: it lands once each of them is closed.
  const unfinished = branch.taskId ? (await childrenOf(deps.db, branch.taskId)).filter((child) => child.status !== "closed") : [];
  if (unfinished.length > 0) {
    const shown = unfinished.slice(0, 5).map((child) => `'${child.id}' (${child.status.replace("_", " ")})`).join(", ");
    return { ok: false, head, reason: `sub-task${unfinished.length > 1 ? "s" : ""} ${shown}${unfinished.length > 5 ? ` and ${unfinished.length - 5} more` : ""} of task '${branch.taskId}' ${unfinished.length > 1 ? "are" : "is"} not closed yet` };
  }
  const run = (await latestRunsOfBranches(deps.db, [branch.id])).get(branch.id);
  const short = head.slice(0, 12);
  if (!run || run.head !== head) {
    const { gates, error } = await readTargetGates(deps, branch);
    if (error) return { ok: false, head, reason: `the gates cannot be read: ${error}` };
    if (gates.length === 0) return { ok: true, head, run: undefined };
    return { ok: false, head, reason: `no gates have run on ${short} yet (gates: ${gates.map((g) => g.name).join(", ")})` };
  }
  if (run.state === "passed") return { ok: true, head, run };
  if (run.error) return { ok: false, head, reason: `gates ${run.state} on ${short}: ${run.error}` };
  const blocking = run.results.find((r) => r.state !== "passed");
  if (!blocking) return { ok: false, head, reason: `gates are ${run.state} on ${short}` };
  const why = blocking.summary ? `: ${blocking.summary}` : "";
  const state = blocking.state === "pending" ? `not started (run ${run.state})` : blocking.state.replace("_", " ");
  return { ok: false, head, reason: `gate '${blocking.gate}' is ${state} on ${short}${why}` };
}

export interface MergeRequest {
  strategy?: unknown;
  /** true: merge as soon as the gates pass on the head (now, if they have); false: stop waiting to. */
  auto?: unknown;
}

export interface MergeAnswer {
  /** The merge done or attempted now; undefined when only auto-merge was switched. */
  merge: Merge | undefined;
  autoMerge: boolean;
  /** Why it did not merge now, when auto-merge waits. */
  waiting: string | undefined;
}

/**
 * `cook branch merge <name> [--strategy] [--auto]`: lands the branch on its target when every gate
 * passed on its head, through the repo's merge queue (merges into one repo happen one at a time).
 * The merge is recorded before the target moves and its result after; the target moves by
 * compare-and-swap, so a merge that lost a race is built and gated again on the new target. When
 * the target moved since the gates ran, the merge candidate's command gates run before anything
 * moves (what lands is what was tested). A conflict leaves the target untouched and the merge
 * `conflicted` with the paths. After landing: branch merged, task closed, environment torn down,
 * ref archived, `cook.branch.<repo>.<name>.merged` announced with the commit.
 * Throws conflict naming the gate and its state when it is not mergeable (without --auto), and
 * when a merge of the branch is already under way; invalid for an unknown strategy.
 */
export async function mergeBranch(deps: GateDeps, branch: Branch, request: MergeRequest, actor: Actor): Promise<MergeAnswer> {
  const strategy = await strategyOf(deps, branch, request.strategy);
  if (request.auto !== undefined && typeof request.auto !== "boolean") throw new CookError("invalid", "auto is true or false");
  if (branch.status !== "open") throw new CookError("conflict", `branch '${branch.name}' is ${branch.status}${branch.status === "merged" ? " already" : ""}`);
  if (request.auto !== undefined) await setAutoMerge(deps.db, branch.id, request.auto, request.strategy === undefined || request.strategy === "" ? undefined : strategy);
  if (request.auto === false) return { merge: undefined, autoMerge: false, waiting: undefined };
  const ready = await mergeReadiness(deps, branch);
  if (!ready.ok) {
    if (request.auto === true) return { merge: undefined, autoMerge: true, waiting: ready.reason };
    throw new CookError("conflict", `cannot merge '${branch.name}': ${ready.reason}`);
  }
  const merge = await inRepoQueue(deps, branch.repo, () => landBranch(deps, branch, strategy, actor));
  if (failedForTheBranch(merge)) await handMergeBack(deps, branch, merge);
  if (merge.state !== "merged") throw new CookError("conflict", `cannot merge '${branch.name}': ${merge.message ?? merge.state}`);
  return { merge, autoMerge: request.auto === true, waiting: undefined };
}

/**
 * A merge that could not land for what the branch holds — a conflict, or a merge candidate failing
 * its gates — goes back to the branch's agent to rebase and fix, with `[merge] on_conflict =
 * "agent"` and an agent session on the branch, at most `max_fixes` times; otherwise (or after that)
 * to a person: the task goes to needs_human with the reason. Without this a branch waiting to
 * auto-merge, and a parent task's branch (no agent), would wait in progress with nobody told.
 */
async function handMergeBack(deps: GateDeps, branch: Branch, merge: Merge): Promise<void> {
  const { policy } = await readTargetGates(deps, branch);
  const session = await latestSessionOfBranch(deps.db, branch.id);
  const tries = (await mergesOfBranch(deps.db, branch.id, 100)).filter(failedForTheBranch).length;
  const what = merge.state === "conflicted" ? `conflicts in ${merge.conflicts.join(", ")}` : `fails: ${merge.message ?? "the merge candidate did not pass its gates"}`;
  if (policy.onConflict === "agent" && session && tries <= policy.maxFixes) {
    const prompt = [
      `Merging this branch into ${merge.target} ${merge.state === "conflicted" ? `conflicts in: ${merge.conflicts.join(", ")}` : what}.`,
      merge.state === "conflicted"
        ? `Fetch ${merge.target}, rebase the branch onto origin/${merge.target}, resolve the conflicts, run the tests, push (force-with-lease), then run \`cook done\`.`
        : `Fetch ${merge.target}, rebase the branch onto origin/${merge.target}, make the gates pass on the result, push (force-with-lease), then run \`cook done\`.`,
    ].join("\n");
    await promptSession(deps, branch, { prompt }, { name: "cook-merge", scope: "admin" }).catch((err: Error) => deps.log.warn({ branch: branch.id, err: err.message }, "merge problem not handed to the agent"));
    return;
  }
  const tried = policy.onConflict === "agent" && session ? ` (the agent's ${policy.maxFixes} tries did not fix it)` : "";
  await sendToHuman(deps, branch, `merging into ${merge.target} ${what}${tried}: rebase the branch onto ${merge.target}, fix it and push`);
}

/** A merge that ended for what the branch holds: a conflict, or a candidate that failed its gates. */
const failedForTheBranch = (merge: Merge) => merge.state === "conflicted" || (merge.state === "failed" && merge.gateRunId !== undefined);

async function strategyOf(deps: GateDeps, branch: Branch, value: unknown): Promise<MergeStrategy> {
  if (value === undefined || value === "") return (await readTargetGates(deps, branch)).policy.strategy;
  if (typeof value === "string" && mergeStrategies.includes(value as MergeStrategy)) return value as MergeStrategy;
  throw new CookError("invalid", `${showInput(value)} is not a merge strategy; use one of ${mergeStrategies.join(", ")}`);
}

/** Runs `work` after every merge queued before it in this repo has finished. */
export function inRepoQueue<T>(deps: GateDeps, repo: string, work: () => Promise<T>): Promise<T> {
  const locks = deps.gateRuntime.mergeLocks;
  const previous = locks.get(repo) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(work);
  const settled = next.catch(() => undefined);
  locks.set(repo, settled);
  void settled.then(() => {
    if (locks.get(repo) === settled) locks.delete(repo);
  });
  return next;
}

const maxRaces = 3;

/** Lands the branch (the caller holds the repo's queue): records intent, builds and gates the candidate, moves the ref, records the result. */
async function landBranch(deps: GateDeps, branch: Branch, strategy: MergeStrategy, actor: Actor): Promise<Merge> {
  // Two requests can queue for one branch (auto-merge, and a parent's last sub-task closing): the
  // later finds it landed, which is no refusal worth a record on the branch and the repo page.
  const before = await findBranchById(deps.db, branch.id);
  if (!before || before.status !== "open") throw new CookError("conflict", `branch '${branch.name}' is ${before?.status ?? "gone"} already`);
  const target = (await readTargetGates(deps, branch)).target;
  const merge = await insertMerge(deps.db, { id: newId("mrg"), branchId: branch.id, repo: branch.repo, target, strategy, requestedBy: actor.name });
  try {
    return await attemptLanding(deps, branch, merge, actor);
  } catch (err) {
    const message = isCookError(err) ? err.message : `merge failed: ${(err as Error).message.split("\n")[0]}`;
    await updateMerge(deps.db, merge.id, { state: "failed", message, ended: true });
    throw err;
  }
}

/** Moves a merge on; ends it with the reason when it cannot land. */
async function attemptLanding(deps: GateDeps, branch: Branch, merge: Merge, actor: Actor): Promise<Merge> {
  const gitDir = repoDir(deps.dataDir, branch.repo);
  const end = (fields: MergeUpdate) => updateMerge(deps.db, merge.id, { ...fields, ended: true });
  for (let race = 0; race < maxRaces; race++) {
    const current = await findBranchById(deps.db, branch.id);
    if (!current || current.status !== "open") return end({ state: "refused", message: `branch '${branch.name}' is ${current?.status ?? "gone"}` });
    const ready = await mergeReadiness(deps, current);
    if (!ready.ok) return end({ state: "refused", message: ready.reason });
    const targetOld = await headOf(deps.git, gitDir, merge.target);
    if (!targetOld) return end({ state: "refused", message: `the target branch ${merge.target} does not exist` });
    await updateMerge(deps.db, merge.id, { state: "merging", head: ready.head, targetOld });
    const candidate = await buildCandidate(deps.git, gitDir, { targetOld, head: ready.head, strategy: merge.strategy, message: await mergeMessage(deps, current, merge.strategy) });
    if (candidate.kind === "refused") return end({ state: "refused", message: candidate.message });
    if (candidate.kind === "conflict") return end({ state: "conflicted", conflicts: candidate.paths, message: `merging into ${merge.target} conflicts in ${candidate.paths.join(", ")}; the target is untouched` });
    // A candidate with the tree the gates passed on was tested already; any other is gated itself first.
    if (candidate.tree !== (await treeOf(deps.git, gitDir, ready.head))) {
      const run = await startGateRun(deps, current, { reason: "merge", head: candidate.commit, commandGatesOnly: true }, actor);
      await updateMerge(deps.db, merge.id, { state: "gating", candidate: candidate.commit, gateRunId: run.id });
      const judged = await runEnded(deps, run.id);
      if (judged.state !== "passed") {
        const failed = judged.results.find((r) => r.state === "failed");
        return end({ state: "failed", message: `the merge candidate ${candidate.commit.slice(0, 12)} did not pass: ${failed ? `gate '${failed.gate}' ${failed.summary ?? "failed"}` : (judged.error ?? judged.state)}` });
      }
    }
    await updateMerge(deps.db, merge.id, { state: "merging", candidate: candidate.commit });
    failpoint("merge:intent-recorded");
    if (await compareAndSwapRef(deps.git, gitDir, `refs/heads/${merge.target}`, candidate.commit, targetOld, `cook: merge ${branch.name} (${merge.id})`)) {
      failpoint("merge:ref-moved");
      return recordLanded(deps, current, (await findMerge(deps.db, merge.id))!, candidate.kind, actor);
    }
    // The target moved under us: build and gate again on the new target.
  }
  return end({ state: "failed", message: `${merge.target} kept moving during the merge (${maxRaces} tries); merge again` });
}

async function mergeMessage(deps: GateDeps, branch: Branch, strategy: MergeStrategy): Promise<string> {
  const task = branch.taskId ? await findTask(deps.db, branch.taskId) : undefined;
  const title = task ? `${task.title} (${task.id})` : undefined;
  if (strategy === "squash") return `${title ?? branch.name}\n\nSquashed from branch '${branch.name}' by Cook.\n`;
  return `Merge branch '${branch.name}'${title ? `: ${title}` : ""}\n`;
}

/** The run once it has ended (passed, failed, canceled, interrupted). */
function runEnded(deps: GateDeps, runId: string): Promise<GateRun> {
  return new Promise((resolve, reject) => {
    const listener = (run: GateRun) => {
      if (run.id !== runId) return;
      deps.gateRuntime.ended.delete(listener);
      resolve(run);
    };
    deps.gateRuntime.ended.add(listener);
    // It may have ended before the listener was there (every gate re-used).
    findGateRun(deps.db, runId).then((run) => {
      if (run && !["queued", "running", "waiting"].includes(run.state)) listener(run);
    }, reject);
  });
}

/**
 * The target has moved to the merge's candidate: the merge, the branch (merged, with the commit)
 * and its task (closed) are recorded with the `merged` event in one transaction; then the
 * environment is torn down and the ref archived. Start-up recovery (recover-merges.ts) calls this
 * for a merge whose ref moved but whose record did not.
 */
export async function recordLanded(deps: GateDeps, branch: Branch, merge: Merge, kind: string, actor: Actor | string): Promise<Merge> {
  const commit = merge.candidate!;
  const landed = await deps.db.transaction(async (tx) => {
    const current = await findBranchById(tx, branch.id, { forUpdate: true });
    const done = await updateMerge(tx, merge.id, { state: "merged", message: `${merge.target} moved to ${commit.slice(0, 12)} (${kind})`, ended: true });
    if (current?.status !== "open") return done;
    await endBranch(tx, branch.id, "merged", undefined);
    await setMergedCommit(tx, branch.id, commit);
    await appendBranchEvent(deps, tx, branch, "merged", { commit, target: merge.target, kind, strategy: merge.strategy, merge: merge.id, task: branch.taskId ?? null }, actor);
    if (branch.taskId) {
      const task = await findTask(tx, branch.taskId, { forUpdate: true });
      // Landed work is done: its dependents are unblocked. A task a human already closed (as
      // wontfix too) keeps the resolution they gave it.
      if (task && task.status !== "closed") await updateTaskIn(deps, tx, task.id, { status: "closed", resolution: "done" }, typeof actor === "string" ? { name: actor, scope: "user" } : actor);
    }
    return done;
  });
  await archiveMerged(deps, branch);
  return landed;
}

/** How long a merged branch's agent is given to end its run (it has usually just run `cook done`) before its environment goes, and the run with it. */
const agentEndGraceMs = 10_000;

/** The branch's agent run, if one is live, has ended or had `graceMs` to: a run cut off by the teardown would read as failed. */
async function agentRunEnded(deps: GateDeps, branch: Pick<Branch, "id">, graceMs = agentEndGraceMs): Promise<void> {
  const session = await latestSessionOfBranch(deps.db, branch.id);
  const live = session ? deps.liveRuns.get(session.id) : undefined;
  if (!live) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([live.finished.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
}

/** Tears down a merged branch's environment (after its agent's run ended, or had 10 s to) and moves its ref under refs/archive/ (kept, hidden). */
export async function archiveMerged(deps: GateDeps, branch: Branch): Promise<void> {
  await agentRunEnded(deps, branch);
  await teardownEnvironment(deps, branch).catch((err: Error) => deps.log.warn({ branch: branch.id, err: err.message }, "merged branch's environment not torn down"));
  const gitDir = repoDir(deps.dataDir, branch.repo);
  const head = await headOf(deps.git, gitDir, branch.name);
  if (!head) return;
  const archiveRef = await archiveBranchRef(deps.git, gitDir, branch.name, head, { deleteHead: true });
  await setArchiveRef(deps.db, branch.id, archiveRef);
}

/** How long auto-merge waits for the branch's agent run to end before landing anyway. */
const autoMergeAgentWaitMs = 60_000;

/** Auto-merge: a run that passed on the head of a branch waiting to merge lands it, once the branch's agent run has ended (or had a minute to). */
export function autoMergeOnPass(deps: GateDeps): (run: GateRun) => void {
  return (run) => {
    if (run.state !== "passed" || run.reason === "merge") return;
    void (async () => {
      if (!(await autoMergeOf(deps.db, run.branchId))) return;
      // The agent pushed and is about to say `cook done` (which pushes again): landing under it would
      // delete the ref its push then makes anew. Its run gets a minute to end first.
      await agentRunEnded(deps, { id: run.branchId }, autoMergeAgentWaitMs);
      const branch = (await findBranchById(deps.db, run.branchId))!;
      const strategy = await autoMergeStrategyOf(deps.db, branch.id);
      await mergeBranch(deps, branch, { strategy }, { name: "cook-auto-merge", scope: "admin" });
    })().catch((err: Error) => deps.log.info({ branch: run.branchId, reason: err.message }, "auto-merge did not land"));
  };
}
