import type { Actor } from "../core/actor.js";
import type { Branch } from "../core/branch.js";
import type { GateDefinition, GateRun } from "../core/gate.js";
import type { GatePolicy } from "../config/gate-config.js";
import { latestSessionOfBranch, updateSession } from "../db/agent-session-store.js";
import { branchHead } from "../branches/branch-git.js";
import { isAutopilotBranch } from "../db/autopilot-store.js";
import { repoDir } from "../forge/paths.js";
import { findBranchById } from "../db/branch-store.js";
import { handBacksOfBranch, markHandedBack } from "../db/gate-run-store.js";
import { childrenOf, findTask } from "../db/task-store.js";
import { appendAgentEvent } from "../agents/session-events.js";
import { promptSession } from "../agents/sessions.js";
import { markTaskWaitingIn } from "../tasks/update-task.js";
import type { GateDeps } from "./deps.js";
import type { GateOutcome } from "./execute-run.js";
import { tailLines } from "./gate-log.js";

const gatesActor: Actor = { name: "cook-gates", scope: "admin" };

/** The follow-up prompt that hands a failed gate to the branch's agent. */
export function handBackPrompt(gate: GateDefinition, run: GateRun, outcome: GateOutcome): string {
  if (outcome.changesRequested) {
    return [
      `The ${gate.kind === "agent_review" ? "review" : "reviewer"} of gate '${gate.name}' asked for changes on commit ${run.head.slice(0, 12)}:`,
      "",
      outcome.detail ?? outcome.summary,
      "",
      "Make the changes, commit, push the branch, then run `cook done`.",
    ].join("\n");
  }
  const lines = [
    `Gate '${gate.name}' failed on commit ${run.head.slice(0, 12)}: ${outcome.summary}.`,
    ...(gate.command ? [`Command: ${gate.command}`] : []),
    ...(outcome.exitCode !== undefined ? [`Exit code: ${outcome.exitCode}`] : []),
  ];
  if (outcome.tail) lines.push("", `Last ${tailLines} lines of its output:`, "```", outcome.tail.trimEnd(), "```");
  lines.push("", "Fix the cause, commit, push the branch, then run `cook done`.");
  return lines.join("\n");
}

/**
 * Sends a failed gate to the branch's agent as a follow-up that resumes its session, when the gate
 * says `on_fail = "agent"` (or, for a review asking for changes, the repo says
 * `on_changes_requested = "agent"`) and the branch has an agent session: at most `max_fixes` times
 * per branch, after which the task goes to needs_human with the reason. A session still running is
 * waited for first. A parent task's branch, which has no agent, goes to a human once its sub-tasks
 * are in. Does nothing otherwise.
 */
export async function handBackFailure(deps: GateDeps, branch: Branch, run: GateRun, gate: GateDefinition, outcome: GateOutcome, policy: GatePolicy): Promise<void> {
  const session = await latestSessionOfBranch(deps.db, branch.id);
  if (!session) return sendParentToHuman(deps, branch, gate, outcome);
  const wanted = outcome.changesRequested ? policy.onChangesRequested === "agent" || gate.onFail === "agent" : gate.onFail === "agent";
  // Its run ends first (the push being judged often came from its own `cook done`): what it said then must not overwrite what is decided here.
  await deps.liveRuns.get(session.id)?.finished;
  if (!wanted) return stopUnattended(deps, branch, run, gate, outcome);
  if ((await handBacksOfBranch(deps.db, branch.id)) >= policy.maxFixes) {
    await sendToHuman(deps, branch, `gate '${gate.name}' still fails after ${policy.maxFixes} ${policy.maxFixes === 1 ? "fix" : "fixes"} by the agent: ${outcome.summary}`);
    return;
  }
  const current = await findBranchById(deps.db, branch.id);
  if (current?.status !== "open") return;
  await markHandedBack(deps.db, run.id, gate.name);
  await promptSession(deps, current, { prompt: handBackPrompt(gate, run, outcome) }, gatesActor);
}

/**
 * A failure the agent is not to fix (`on_fail = "stop"`) on a branch autopilot made has nobody
 * watching it: its task goes to a person (freeing its slot) rather than sit in progress, unless a
 * newer push is being judged already. A branch a person made stays theirs to look at.
 */
async function stopUnattended(deps: GateDeps, branch: Branch, run: GateRun, gate: GateDefinition, outcome: GateOutcome): Promise<void> {
  if (!(await isAutopilotBranch(deps.db, branch.id))) return;
  const current = await findBranchById(deps.db, branch.id);
  if (current?.status !== "open" || (await branchHead(deps.git, repoDir(deps.dataDir, current.repo), current.name)) !== run.head) return;
  await sendToHuman(deps, current, `gate '${gate.name}' failed: ${outcome.summary}`);
}

/**
 * A parent task's branch has no agent of its own: once its sub-tasks are all in, a gate failing on
 * what they make together is a person's to look at (the task goes to needs_human with the reason).
 */
async function sendParentToHuman(deps: GateDeps, branch: Branch, gate: GateDefinition, outcome: GateOutcome): Promise<void> {
  if (!branch.taskId) return;
  const children = await childrenOf(deps.db, branch.taskId);
  if (children.length === 0 || children.some((child) => child.status !== "closed")) return;
  await sendToHuman(deps, branch, `gate '${gate.name}' failed on the branch that collects the sub-tasks of '${branch.taskId}': ${outcome.summary}`);
}

/**
 * The branch's work waits on a person (the agent has had its fixes, a merge conflict nobody else
 * resolves, a parent branch failing): its session waits on a human with `reason` (shown where an agent's
 * own ask-for-help is: the task's "waiting" badge, home's waiting list, the Agent tab), the task
 * goes to needs_human, and `cook.agent.<repo>.<branch>.help` says why.
 */
export async function sendToHuman(deps: GateDeps, branch: Branch, reason: string): Promise<void> {
  deps.log.info({ repo: branch.repo, branch: branch.name, reason }, "branch goes to a human");
  await deps.db.transaction(async (tx) => {
    const latest = await latestSessionOfBranch(tx, branch.id, { forUpdate: true });
    if (latest) {
      const moved = await updateSession(tx, latest.id, latest.status === "running" ? { outcome: "help", reason } : { status: "waiting", outcome: "help", reason, resumeAt: null });
      await appendAgentEvent(deps, tx, branch, moved, "help", { message: reason, task: branch.taskId ?? null, by: gatesActor.name });
    }
    if (branch.taskId) await markTaskWaitingIn(deps, tx, branch.taskId, gatesActor, reason);
  });
}
