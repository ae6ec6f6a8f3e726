import type { Actor } from "../../../core/actor.js";
import type { Branch } from "../../../core/branch.js";
import { isCookError } from "../../../core/errors.js";
import { unfinishedRunStates, type GateRun } from "../../../core/gate.js";
import { attemptLogTails, attemptsOfRun, findGateRun, runsOfBranch } from "../../../db/gate-run-store.js";
import { mergesOfBranch } from "../../../db/merge-store.js";
import { mayReview } from "../../../gates/approvals.js";
import { readTargetGates } from "../../../gates/target-gates.js";
import type { Services } from "../../services.js";
import { branchGates } from "../api/gates.js";
import { gateLogChars, presentMerge, presentRun, presentRunBadge, type MergeView, type RunBadge, type RunView } from "./gate-view.js";

/** The Gates section of a branch page (views/branches/_gates.njk). */
export interface GatePanel {
  /** Where the section is read again when a gate or the branch changes (htmx, target branch-gates). */
  url: string;
  open: boolean;
  canChange: boolean;
  mergeable: boolean;
  /** Why it cannot merge now: the gate and its state, or the branch's. */
  reason: string | undefined;
  autoMerge: boolean;
  /** The run shown in full: the one asked for, else the newest (the head's, after a merge candidate's failed). */
  run: RunView | undefined;
  /** The run shown is the one shown by default, not one asked for. */
  newest: boolean;
  /** The other runs, newest first, by their badges. */
  others: Array<RunBadge & { head: string; reason: GateRun["reason"]; createdAt: string; href: string }>;
  merges: MergeView[];
  /** A merge is under way: the section asks again shortly, since its steps announce nothing. */
  mergeUnderWay: boolean;
  /** The repo has a human_approval gate. */
  asksApproval: boolean;
  /** The approval gates this viewer may give a verdict on (empty: no Approve / Reject). */
  reviewGates: string[];
  /** A refused action's reason, shown in the section. */
  error: string | undefined;
  /** What was typed into a refused verdict's comment box. */
  comment: string | undefined;
  /** How much of a log is shown (characters): the live view keeps to it too. */
  logChars: number;
}

const runsShown = 10;

/** Reads the Gates section: mergeability, the run in focus with attempts and log tails, the others, merges, who may review. */
export async function readGatePanel(services: Services, branch: Branch, viewer: { actor: Actor; canChange: boolean; runId?: string; error?: string; comment?: string }): Promise<GatePanel> {
  const [state, approval] = await Promise.all([readGateState(services, branch), approvalGates(services, branch, viewer.actor)]);
  const base = `/branches/${branch.id}`;
  const runHref = (id: string) => `${base}?run=${id}`;
  // The newest run, unless it is a merge candidate's that ended without landing: the section then
  // shows the run on the head, which the merge readiness beside it reads; the candidate's run is
  // among the others and its merge, with why it failed, under Merges.
  const newest = state.runs[0];
  const candidateFailed = branch.status === "open" && newest?.reason === "merge" && !unfinishedRunStates.includes(newest.state);
  const standing = candidateFailed ? (state.runs.find((run) => run.reason !== "merge") ?? newest) : newest;
  let focus = state.runs.find((run) => run.id === viewer.runId) ?? standing;
  // A run older than the newest ten is still shown when asked for by id.
  if (viewer.runId && focus?.id !== viewer.runId) {
    const asked = await findGateRun(services.db, viewer.runId);
    if (asked?.branchId === branch.id) focus = asked;
  }
  const run = focus ? presentRun(focus, await attemptsOfRun(services.db, focus.id), await attemptLogTails(services.db, focus.id, gateLogChars), runHref(focus.id)) : undefined;
  const open = branch.status === "open";
  const merges = state.merges.map((merge) => presentMerge(merge));
  return {
    url: focus && focus.id !== standing?.id ? runHref(focus.id) : base,
    open,
    canChange: viewer.canChange,
    mergeable: state.mergeable,
    reason: state.reason,
    autoMerge: state.autoMerge,
    run,
    newest: focus !== undefined && focus.id === standing?.id,
    others: state.runs.filter((r) => r.id !== focus?.id).map((r) => ({ ...presentRunBadge(r), head: r.head, reason: r.reason, createdAt: r.createdAt, href: runHref(r.id) })),
    merges,
    mergeUnderWay: merges.some((merge) => merge.live),
    asksApproval: approval.asks,
    reviewGates: open && viewer.canChange ? approval.allowed : [],
    error: viewer.error,
    comment: viewer.comment,
    logChars: gateLogChars,
  };
}

/** branchGates; for a branch whose target has no commit yet (so no gates to read), its runs and merges with that reason. */
async function readGateState(services: Services, branch: Branch): Promise<Awaited<ReturnType<typeof branchGates>>> {
  try {
    return await branchGates(services, branch, runsShown);
  } catch (err) {
    if (!isCookError(err) || err.code !== "conflict") throw err;
    const [runs, merges] = await Promise.all([runsOfBranch(services.db, branch.id, runsShown), mergesOfBranch(services.db, branch.id, 5)]);
    return { mergeable: false, reason: err.message, head: undefined, autoMerge: false, runs, merges };
  }
}

/** The repo's human_approval gates, and those of them `actor` may give a verdict on (mayReview). */
async function approvalGates(services: Services, branch: Branch, actor: Actor): Promise<{ asks: boolean; allowed: string[] }> {
  if (branch.status !== "open") return { asks: false, allowed: [] };
  try {
    const asking = (await readTargetGates(services, branch)).gates.filter((gate) => gate.kind === "human_approval");
    return { asks: asking.length > 0, allowed: asking.filter((gate) => mayReview(gate, actor)).map((gate) => gate.name) };
  } catch (err) {
    // A target with no commit has no gates to read, so nothing to approve.
    if (isCookError(err) && err.code === "conflict") return { asks: false, allowed: [] };
    throw err;
  }
}
