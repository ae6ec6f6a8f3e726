import { agentBranchOf, agentRepoOf } from "../core/authorization.js";
import type { Actor } from "../core/actor.js";
import type { AgentSession } from "../core/agent-session.js";
import { checkBranchName, type Branch } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { checkRepoName } from "../core/names.js";
import { showInput } from "../core/show-input.js";
import { findSession, latestSessionOfBranch, updateSession } from "../db/agent-session-store.js";
import { findOpenBranch } from "../db/branch-store.js";
import { markTaskWaitingIn } from "../tasks/update-task.js";
import type { AgentDeps } from "./deps.js";
import { returnTaskToWork } from "./sessions.js";
import { appendAgentEvent } from "./session-events.js";

/** A help message is at most this many characters. */
export const maxHelpMessageLength = 4000;

/**
 * The branch a report is about: an agent token's own branch (it can name no other), or for people
 * the `repo` and `branch` they give. Throws invalid when a person names none, not_found when the
 * branch is not open.
 */
export async function reportingBranch(deps: Pick<AgentDeps, "db">, actor: Actor, input: { repo?: unknown; branch?: unknown }): Promise<Branch> {
  const agentRepo = agentRepoOf(actor);
  const repo = agentRepo ?? checkRepoName(input.repo);
  const name = agentBranchOf(actor) ?? checkBranchName(input.branch);
  // As everywhere, another repo does not exist for an agent; another branch of its own repo is not its to report on.
  if (agentRepo && input.repo !== undefined && input.repo !== agentRepo) throw new CookError("not_found", `no repo named ${showInput(input.repo)}`);
  if (agentRepo && input.branch !== undefined && input.branch !== name) throw new CookError("forbidden", `an agent token reports only on its own branch (${repo}/${name})`);
  const branch = await findOpenBranch(deps.db, repo, name);
  if (!branch) throw new CookError("not_found", `no open branch '${name}' in ${repo}`);
  return branch;
}

/**
 * `cook done` (after it has pushed): the branch's session is done. A running session ends
 * `completed` when its process exits; one that already ended is `completed` now (a human finishing
 * the work by hand), and its task, if it waited on a human, is back in progress. Returns the
 * session, or undefined when the branch never had one.
 */
export async function reportDone(deps: AgentDeps, branch: Branch, actor: Actor): Promise<AgentSession | undefined> {
  return deps.db.transaction(async (tx) => {
    const latest = await latestSessionOfBranch(tx, branch.id, { forUpdate: true });
    if (!latest) return undefined;
    if (latest.status === "running") return updateSession(tx, latest.id, { outcome: "done" });
    const moved = await updateSession(tx, latest.id, { status: "completed", outcome: "done", reason: `finished with cook done by ${actor.name}`, resumeAt: null });
    await returnTaskToWork(deps, tx, branch, actor);
    await appendAgentEvent(deps, tx, branch, moved, "completed", { reason: moved.reason, by: actor.name });
    return moved;
  });
}

/**
 * `cook ask-for-help "<message>"`: the task goes to needs_human, the session waits on a human with
 * the message as its reason, and `cook.agent.<repo>.<branch>.help` says so. The agent's run is given
 * `help_grace_seconds` to end by itself, then interrupted. Throws invalid for an empty or too long
 * message, conflict when the branch has no session.
 */
export async function reportHelp(deps: AgentDeps, branch: Branch, message: unknown, actor: Actor): Promise<AgentSession> {
  if (typeof message !== "string" || message.trim() === "") throw new CookError("invalid", 'say what you need: cook ask-for-help "<message>"');
  if ([...message].length > maxHelpMessageLength) throw new CookError("too_large", `a help message is at most ${maxHelpMessageLength} characters`);
  const text = message.trim();
  const session = await deps.db.transaction(async (tx) => {
    const latest = await latestSessionOfBranch(tx, branch.id, { forUpdate: true });
    if (!latest) throw new CookError("conflict", `branch '${branch.name}' has no agent session to ask for help from`);
    const reason = `asked for help: ${text}`;
    const moved = await updateSession(tx, latest.id, latest.status === "running" ? { outcome: "help", reason } : { status: "waiting", outcome: "help", reason, resumeAt: null });
    if (branch.taskId) await markTaskWaitingIn(deps, tx, branch.taskId, actor, reason);
    await appendAgentEvent(deps, tx, branch, moved, "help", { message: text, task: branch.taskId ?? null, by: actor.name });
    return moved;
  });
  const live = deps.liveRuns.get(session.id);
  if (live) {
    const timer = setTimeout(() => {
      live.stop ??= { by: "help" };
      live.abort.abort();
    }, deps.agentSettings.budgets.helpGraceSeconds * 1000);
    live.timers.add(timer);
  }
  return (await findSession(deps.db, session.id))!;
}
