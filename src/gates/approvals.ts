import type { Actor } from "../core/actor.js";
import type { Branch } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import type { Approval, GateDefinition, GateRun } from "../core/gate.js";
import { newId } from "../core/ids.js";
import { showInput } from "../core/show-input.js";
import { approvalsOf, insertApproval } from "../db/approval-store.js";
import { runsOfBranch } from "../db/gate-run-store.js";
import { latestSessionOfBranch } from "../db/agent-session-store.js";
import { markTaskResumedIn } from "../tasks/update-task.js";
import { branchHead } from "../branches/branch-git.js";
import { repoDir } from "../forge/paths.js";
import type { GateDeps } from "./deps.js";
import type { GateOutcome } from "./execute-run.js";
import { enqueueRun } from "./run-queue.js";
import { readTargetGates } from "./target-gates.js";

const maxCommentLength = 10_000;

/** Whether `reviewer` may give a verdict on this gate: a person (never an agent token), named in `reviewers` when it lists any. */
export function mayReview(gate: GateDefinition, actor: Actor): boolean {
  if (actor.scope.startsWith("agent:")) return false;
  return gate.reviewers.length === 0 || gate.reviewers.includes(actor.name);
}

/**
 * A human_approval gate's conclusion on the run's commit: the latest verdict given on that very
 * commit by an allowed reviewer (a new push leaves earlier verdicts behind with their commit), or
 * `waiting` when there is none yet.
 */
export async function decideApproval(deps: GateDeps, branch: Branch, run: GateRun, gate: GateDefinition): Promise<GateOutcome> {
  const verdicts = (await approvalsOf(deps.db, branch.id, run.head, gate.name)).filter((a) => gate.reviewers.length === 0 || gate.reviewers.includes(a.reviewer));
  const latest = verdicts.at(-1);
  const who = gate.reviewers.length > 0 ? gate.reviewers.join(" or ") : "any user";
  if (!latest) return { state: "waiting", summary: `waits for approval by ${who}` };
  const comment = latest.comment ? `: ${latest.comment.split("\n")[0]!.slice(0, 200)}` : "";
  if (latest.verdict === "approve") return { state: "passed", summary: `approved by ${latest.reviewer}${comment}`, detail: latest.comment };
  return { state: "failed", summary: `rejected by ${latest.reviewer}${comment}`, detail: latest.comment, changesRequested: latest.comment !== undefined };
}

/**
 * `cook branch approve|reject <branch> [--comment] [--gate]`: records the verdict on the branch's
 * current head, for its human_approval gate (the only one, or the one named), and puts a run
 * waiting on it back in line; an approval moves a task that waited on it back to in_progress. Throws forbidden for someone the gate does not list (and for agent
 * tokens), conflict when no gate asks for approval or the branch has ended, invalid for a bad
 * comment or an unknown gate.
 */
export async function giveVerdict(deps: GateDeps, branch: Branch, request: { verdict: Approval["verdict"]; comment?: unknown; gate?: unknown }, actor: Actor): Promise<Approval> {
  if (branch.status !== "open") throw new CookError("conflict", `branch '${branch.name}' is ${branch.status}`);
  if (request.comment !== undefined && typeof request.comment !== "string") throw new CookError("invalid", "a comment is text");
  const comment = typeof request.comment === "string" && request.comment.trim() !== "" ? request.comment.trim() : undefined;
  if (comment && [...comment].length > maxCommentLength) throw new CookError("too_large", `a comment is at most ${maxCommentLength} characters`);
  if (request.gate !== undefined && typeof request.gate !== "string") throw new CookError("invalid", "name the gate once");
  const { gates } = await readTargetGates(deps, branch);
  const asking = gates.filter((g) => g.kind === "human_approval");
  if (asking.length === 0) throw new CookError("conflict", `no gate of ${branch.repo} asks for approval (see [[gates]] kind = "human_approval" in cook.toml)`);
  const gate = request.gate === undefined ? asking[0]! : asking.find((g) => g.name === request.gate);
  if (!gate) throw new CookError("invalid", `${showInput(request.gate)} is not an approval gate of ${branch.repo}; those are ${asking.map((g) => g.name).join(", ")}`);
  if (!mayReview(gate, actor)) {
    throw new CookError("forbidden", actor.scope.startsWith("agent:") ? "an agent cannot approve or reject" : `gate '${gate.name}' takes verdicts from ${gate.reviewers.join(", ")} only, not ${actor.name}`);
  }
  const head = await branchHead(deps.git, repoDir(deps.dataDir, branch.repo), branch.name);
  if (!head) throw new CookError("conflict", `branch '${branch.name}' has no commit to approve`);
  const approval = await deps.db.transaction(async (tx) => {
    const given = await insertApproval(tx, { id: newId("apr"), branchId: branch.id, head, gate: gate.name, reviewer: actor.name, verdict: request.verdict, comment });
    // What the task waited on is given; an agent's own call for help still waits for its answer.
    const session = await latestSessionOfBranch(tx, branch.id);
    if (request.verdict === "approve" && branch.taskId && session?.status !== "waiting") await markTaskResumedIn(deps, tx, branch.taskId, actor);
    return given;
  });
  const waiting = (await runsOfBranch(deps.db, branch.id, 5)).find((run) => run.head === head && run.state === "waiting");
  if (waiting) enqueueRun(deps, waiting.id);
  return approval;
}
