import type { AgentDeps } from "../agents/deps.js";
import { startSession } from "../agents/sessions.js";
import { promptSession } from "../agents/sessions.js";
import { findSession, latestSessionOfBranch } from "../db/agent-session-store.js";
import { finishDispatch, startingDispatches, isAutopilotBranch } from "../db/autopilot-store.js";
import { findBranchById, selectBranches } from "../db/branch-store.js";
import { findTask } from "../db/task-store.js";
import { markTaskStoppedIn } from "../tasks/update-task.js";
import { appendAutopilotEvent, autopilotActor, autopilotParentBranches, recordStarted } from "./dispatch.js";
import { readAutopilotSettings } from "./settings.js";

/**
 * At start-up, before autopilot dispatches again: every dispatch left `starting` by a server that
 * stopped (or was killed) mid-dispatch is settled, so no task gets a second branch and none stays
 * in_progress without a live one. A dispatch whose branch was made is recorded `started` (auto-merge
 * set as configured, its agent started if it never was); one whose branch was not is `interrupted`
 * (announced as skipped, with why), its task, if it moved, goes back to open, and it is dispatched
 * again like any ready task.
 */
export async function recoverDispatches(deps: AgentDeps): Promise<void> {
  for (const dispatch of await startingDispatches(deps.db)) {
    const [branch] = (await selectBranches(deps.db, { repo: dispatch.repo, taskId: dispatch.taskId, status: "open" })).filter(
      (candidate) => candidate.createdBy === autopilotActor.name && candidate.createdAt >= dispatch.createdAt,
    );
    if (branch) {
      const settings = await readAutopilotSettings(deps, dispatch.repo);
      let session = await latestSessionOfBranch(deps.db, branch.id);
      if (!session) {
        const agent = settings.config.agent ?? deps.defaultAgent;
        session = await startSession(deps, branch, { agent }, autopilotActor).catch((err: Error) => {
          deps.log.warn({ branch: branch.id, err: err.message }, "autopilot could not start the agent of a recovered dispatch");
          return undefined;
        });
      }
      await recordStarted(deps, dispatch.id, dispatch.repo, dispatch.taskId, branch.id, branch.name, settings.config, { agent: session?.agent ?? null, session: session?.id ?? null, recovered: true }, await autopilotParentBranches(deps, dispatch.taskId));
      continue;
    }
    const reason = "the server stopped before the task's branch was made";
    await deps.db.transaction(async (tx) => {
      await finishDispatch(tx, dispatch.id, { state: "interrupted", reason });
      const task = await findTask(tx, dispatch.taskId, { forUpdate: true });
      if (task?.status === "in_progress" && (await selectBranches(tx, { taskId: task.id, status: "open", limit: 1 })).length === 0) await markTaskStoppedIn(deps, tx, task.id, autopilotActor);
      await appendAutopilotEvent(deps, tx, dispatch.repo, "skipped", { task: dispatch.taskId, reason });
    });
  }
}

/** What an autopilot agent is told when the server restarted under it. */
export const resumeAfterRestartPrompt = "The Cook server restarted while you were working; your work so far is in the checkout. Go on with the task in TASK.md, then run `cook done`.";

/**
 * At start-up, after recoverSessions: the sessions it marked interrupted that work on a branch
 * autopilot made are resumed with a follow-up, since no human is watching them. Sessions a person
 * started stay interrupted for that person to resume.
 */
export async function resumeAutopilotSessions(deps: AgentDeps, interrupted: readonly string[]): Promise<void> {
  for (const id of interrupted) {
    const session = await findSession(deps.db, id);
    const branch = session ? await findBranchById(deps.db, session.branchId) : undefined;
    if (!session || !branch || branch.status !== "open" || !branch.taskId) continue;
    if (!(await isAutopilotBranch(deps.db, branch.id))) continue;
    await promptSession(deps, branch, { prompt: resumeAfterRestartPrompt }, autopilotActor).catch((err: Error) =>
      deps.log.warn({ branch: branch.id, err: err.message }, "autopilot could not resume an interrupted session"),
    );
  }
}
