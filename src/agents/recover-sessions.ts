import { findBranchById } from "../db/branch-store.js";
import { readFileSync } from "node:fs";
import { sessionPid, sessionsInStatus, setSessionPid, updateSession } from "../db/agent-session-store.js";
import type { AgentDeps } from "./deps.js";
import { schedulePausedResume } from "./finish-run.js";
import { appendAgentEvent } from "./session-events.js";

/**
 * At start-up: a session still `running` lost its process with the server that ran it, so it is
 * `interrupted` with that reason (a follow-up prompt resumes it); a `paused` one is scheduled to
 * resume when its rate limit resets. Returns how many were marked interrupted.
 */
export async function recoverSessions(deps: AgentDeps): Promise<number> {
  let interrupted = 0;
  for (const session of await sessionsInStatus(deps.db, ["running", "paused"])) {
    const branch = await findBranchById(deps.db, session.branchId);
    if (!branch) continue;
    if (session.status === "paused") {
      schedulePausedResume(deps, branch, session);
      continue;
    }
    if (deps.liveRuns.has(session.id)) continue;
    await killLeftOver(deps, session.id);
    await deps.db.transaction(async (tx) => {
      const moved = await updateSession(tx, session.id, { status: "interrupted", reason: "the server stopped while it ran; send a follow-up to resume it", runEnded: true });
      await appendAgentEvent(deps, tx, branch, moved, "interrupted", { reason: moved.reason, run: moved.runs });
    });
    interrupted++;
  }
  if (interrupted > 0) deps.log.warn({ interrupted }, "agent sessions interrupted by the restart");
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

/**
 * A server that crashed left its agents running (they lead their own process groups). The group
 * recorded for the session is killed — only if its leader still is that session's process (its
 * environment names the session), so a reused pid is never touched.
 */
async function killLeftOver(deps: AgentDeps, sessionId: string): Promise<void> {
  const pid = await sessionPid(deps.db, sessionId);
  if (!pid) return;
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, "latin1");
    if (environ.split("\0").includes(`COOK_SESSION_ID=${sessionId}`)) {
      process.kill(-pid, "SIGKILL");
      deps.log.warn({ session: sessionId, pid }, "killed an agent left running by a crashed server");
    }
  } catch {
    // Gone already, or not ours to read.
  }
  await setSessionPid(deps.db, sessionId, null);
}
