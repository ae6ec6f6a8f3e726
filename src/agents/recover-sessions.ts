import { stoppedByServerReason } from "../core/agent-session.js";
import { findBranchById } from "../db/branch-store.js";
import { sessionsInStatus, updateSession } from "../db/agent-session-store.js";
import { killSessionProcesses } from "./session-processes.js";
import type { AgentDeps } from "./deps.js";
import { schedulePausedResume } from "./finish-run.js";
import { appendAgentEvent } from "./session-events.js";

/**
 * At start-up: a session still `running` lost its process with the server that ran it (a crash),
 * so it is `interrupted` with that reason (a follow-up prompt resumes it); a `paused` one is
 * scheduled to resume when its rate limit resets. Returns the ids of the sessions of open branches
 * that a stop of the server interrupted: those marked now, and those a graceful stop marked itself.
 */
export async function recoverSessions(deps: AgentDeps): Promise<string[]> {
  const interrupted: string[] = [];
  for (const session of await sessionsInStatus(deps.db, ["running", "paused", "interrupted"])) {
    const branch = await findBranchById(deps.db, session.branchId);
    if (!branch) continue;
    if (session.status === "interrupted") {
      if (session.reason === stoppedByServerReason && branch.status === "open") interrupted.push(session.id);
      continue;
    }
    if (session.status === "paused") {
      schedulePausedResume(deps, branch, session);
      continue;
    }
    if (deps.liveRuns.has(session.id)) continue;
    const killed = killSessionProcesses(session.id);
    if (killed > 0) deps.log.warn({ session: session.id, processes: killed }, "killed an agent left running by a server that stopped without ending it");
    await deps.db.transaction(async (tx) => {
      const moved = await updateSession(tx, session.id, { status: "interrupted", reason: stoppedByServerReason, runEnded: true });
      await appendAgentEvent(deps, tx, branch, moved, "interrupted", { reason: moved.reason, run: moved.runs });
    });
    interrupted.push(session.id);
  }
  if (interrupted.length > 0) deps.log.warn({ interrupted: interrupted.length }, "agent sessions interrupted by the server's stop");
  return interrupted;
}

/** On shutdown: every run is stopped and recorded as interrupted by the stop. */
export async function stopAllRuns(deps: AgentDeps): Promise<void> {
  const runs = [...deps.liveRuns.values()];
  for (const run of runs) {
    run.stop ??= { by: "shutdown" };
    run.abort.abort();
  }
  await Promise.all(runs.map((run) => run.finished));
  for (const timer of deps.resumeTimers.values()) clearTimeout(timer);
  deps.resumeTimers.clear();
}

