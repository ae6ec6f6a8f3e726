import type { Actor } from "../core/actor.js";
import type { AgentConfig } from "../config/agent-config.js";
import type { AgentSession } from "../core/agent-session.js";
import type { Branch, Environment } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import { showInput } from "../core/show-input.js";
import { findSession, insertSession, latestSessionOfBranch, updateSession } from "../db/agent-session-store.js";
import { findLiveEnvironment } from "../db/environment-store.js";
import { findTask } from "../db/task-store.js";
import type { Tx } from "../db/db.js";
import { usableEnvironment } from "../environments/exec-command.js";
import { updateTaskIn } from "../tasks/update-task.js";
import type { AgentDeps } from "./deps.js";
import { finishRun } from "./finish-run.js";
import { taskPrompt } from "./instruction.js";
import { startRun } from "./run-agent.js";
import { appendAgentEvent } from "./session-events.js";

/** A prompt is at most this many bytes (UTF-8); more is 413. */
export const maxPromptBytes = 64 * 1024;

/** The configured agent of this name; throws invalid naming the configured ones. */
export function checkAgent(deps: Pick<AgentDeps, "agentSettings">, name: unknown): AgentConfig {
  const agents = deps.agentSettings.agents;
  if (typeof name === "string" && Object.hasOwn(agents, name)) return agents[name]!;
  const shown = showInput(name);
  throw new CookError("invalid", `unknown agent ${shown}; this server has ${Object.keys(agents).sort().join(", ")}`);
}

/** A prompt: non-empty text without NUL, at most maxPromptBytes. Throws invalid or too_large. */
export function checkPrompt(prompt: unknown): string {
  if (typeof prompt !== "string" || prompt.trim() === "") throw new CookError("invalid", "give the agent a prompt: non-empty text");
  if (prompt.includes("\0")) throw new CookError("invalid", "a prompt cannot contain NUL characters");
  const bytes = Buffer.byteLength(prompt);
  if (bytes > maxPromptBytes) throw new CookError("too_large", `the prompt is ${bytes} bytes; at most ${maxPromptBytes} bytes (put long context in a file in the branch)`);
  return prompt;
}

// How long a new session waits for its environment's setup script before it gives up.
const setupWaitMs = 30 * 60_000;

/**
 * Starts an agent session on a branch: the record (`running`, run 1) with its
 * `cook.agent.<repo>.<branch>.started` event, then the agent's process in the branch's environment
 * — once the environment is ready, if its setup still runs. A session that cannot start (no login,
 * the program missing, the environment failed) is `failed` at once with the reason and a `failed`
 * event; it is returned either way. Throws invalid (unknown agent, bad prompt), too_large (a
 * prompt over the limit), conflict (the branch is not open, has no environment, or already runs an
 * agent).
 */
export async function startSession(deps: AgentDeps, branch: Branch, request: { agent?: unknown; prompt?: unknown }, actor: Actor): Promise<AgentSession> {
  const config = checkAgent(deps, request.agent === undefined || request.agent === "" ? deps.defaultAgent : request.agent);
  const prompt = request.prompt === undefined || request.prompt === "" ? (branch.taskId ? taskPrompt : checkPrompt(request.prompt)) : checkPrompt(request.prompt);
  if (branch.status !== "open") throw new CookError("conflict", `branch '${branch.name}' is ${branch.status}; an agent works on open branches`);
  const environment = await findLiveEnvironment(deps.db, branch.id);
  if (!environment) throw new CookError("conflict", `branch '${branch.name}' has no environment for an agent to work in; create it with --env=local or --env=sandbox`);
  const session = await deps.db.transaction(async (tx) => {
    const latest = await latestSessionOfBranch(tx, branch.id, { forUpdate: true });
    if (latest?.status === "running") throw new CookError("conflict", `branch '${branch.name}' already runs agent session ${latest.id}; interrupt it or send it a follow-up when it ends`);
    const created = await insertSession(tx, { id: newId("ses"), branchId: branch.id, environmentId: environment.id, agent: config.name, kind: config.kind, model: config.model, createdBy: actor.name });
    await appendAgentEvent(deps, tx, branch, created, "started", { run: 1, kind: config.kind, resumed: false, by: actor.name });
    return created;
  });
  void launchWhenReady(deps, branch, session, prompt, undefined);
  return session;
}

/**
 * A follow-up (or a human's answer) to the branch's latest session: resumes the same native
 * session by its id with `prompt`; a task waiting on a human goes back to in_progress. A branch
 * with no session yet gets a new one of `agent` (default: the configured default agent). Throws
 * conflict when the session is running now (naming it) or `agent` names another agent than the
 * session's, invalid/too_large for a bad prompt.
 */
export async function promptSession(deps: AgentDeps, branch: Branch, request: { prompt?: unknown; agent?: unknown }, actor: Actor): Promise<AgentSession> {
  const prompt = checkPrompt(request.prompt);
  const latest = await latestSessionOfBranch(deps.db, branch.id);
  if (!latest) return startSession(deps, branch, { agent: request.agent, prompt }, actor);
  // A follow-up resumes the session's own agent: another agent named would be silently ignored.
  if (request.agent !== undefined && request.agent !== null && request.agent !== "" && request.agent !== latest.agent) {
    throw new CookError("conflict", `branch '${branch.name}' has a session of agent '${latest.agent}', which a follow-up resumes; --agent names the agent of a branch's first session only`);
  }
  if (branch.status !== "open") throw new CookError("conflict", `branch '${branch.name}' is ${branch.status}; its sessions are kept but cannot be resumed`);
  const environment = await usableEnvironment(deps, branch);
  const resumed = await deps.db.transaction(async (tx) => {
    const session = (await findSession(tx, latest.id, { forUpdate: true }))!;
    if (session.status === "running") throw new CookError("conflict", `agent session ${session.id} on '${branch.name}' is running; wait for it to end or interrupt it (cook branch interrupt)`);
    if (!deps.agentSettings.agents[session.agent]) throw new CookError("conflict", `session ${session.id} ran agent '${session.agent}', which this server no longer has configured`);
    const moved = await updateSession(tx, session.id, { status: "running", reason: null, outcome: null, exitCode: null, newRun: true, resumeAt: null });
    await returnTaskToWork(deps, tx, branch, actor);
    await appendAgentEvent(deps, tx, branch, moved, "started", { run: moved.runs, kind: moved.kind, resumed: true, by: actor.name });
    return moved;
  });
  clearResumeTimer(deps, resumed.id);
  void launchWhenReady(deps, branch, resumed, prompt, resumed.nativeId, environment);
  return resumed;
}

/**
 * Stops the branch's running session: its process tree is killed, and the session is
 * `interrupted` (by whom, in the reason) once its events are stored. A paused session is
 * interrupted too (its resume is cancelled). Throws conflict when nothing runs.
 */
export async function interruptSession(deps: AgentDeps, branch: Branch, actor: Actor): Promise<AgentSession> {
  const latest = await latestSessionOfBranch(deps.db, branch.id);
  if (!latest) throw new CookError("conflict", `branch '${branch.name}' has no agent session to interrupt`);
  const live = deps.liveRuns.get(latest.id);
  if (live) {
    live.stop ??= { by: "human", actor: actor.name };
    live.abort.abort();
    await live.finished;
    return (await findSession(deps.db, latest.id))!;
  }
  if (latest.status === "paused" || latest.status === "running") {
    clearResumeTimer(deps, latest.id);
    return deps.db.transaction(async (tx) => {
      const moved = await updateSession(tx, latest.id, { status: "interrupted", reason: `interrupted by ${actor.name}`, resumeAt: null });
      await appendAgentEvent(deps, tx, branch, moved, "interrupted", { reason: moved.reason, by: actor.name });
      return moved;
    });
  }
  throw new CookError("conflict", `agent session ${latest.id} on '${branch.name}' is not running (it is ${latest.status})`);
}

/** A human answered or prompted: a task that waited on one is back in progress. */
export async function returnTaskToWork(deps: AgentDeps, tx: Tx, branch: Branch, actor: Actor): Promise<void> {
  if (!branch.taskId) return;
  const task = await findTask(tx, branch.taskId, { forUpdate: true });
  if (task?.status === "needs_human" || task?.status === "open") await updateTaskIn(deps, tx, task.id, { status: "in_progress" }, actor);
}

/**
 * Starts the run once the environment can take it: a setup script still running is waited for (up
 * to 30 minutes); an environment that failed, or an agent that cannot start (no login, program
 * missing), fails the session at once with the reason.
 */
export async function launchWhenReady(deps: AgentDeps, branch: Branch, session: AgentSession, prompt: string, resumeId: string | undefined, ready?: Environment): Promise<void> {
  try {
    const environment = ready ?? (await waitForEnvironment(deps, branch));
    // Interrupted (or ended otherwise) while it waited for its environment: nothing to start.
    if ((await findSession(deps.db, session.id))?.status !== "running") return;
    const hasTask = branch.taskId !== undefined;
    startRun(deps, { branch, environment, session, prompt, resumeId, hasTask }, (result) => finishRun(deps, branch, environment, session, result));
  } catch (err) {
    const reason = err instanceof CookError ? err.message : `could not start: ${(err as Error).message}`;
    if (!(err instanceof CookError)) deps.log.warn({ session: session.id, err: (err as Error).message }, "agent could not start");
    await deps.db
      .transaction(async (tx) => {
        const failed = await updateSession(tx, session.id, { status: "failed", reason, runEnded: true });
        await appendAgentEvent(deps, tx, branch, failed, "failed", { reason, run: failed.runs });
      })
      .catch((storeErr: Error) => deps.log.error({ session: session.id, err: storeErr.message }, "could not mark a session failed"));
  }
}

async function waitForEnvironment(deps: AgentDeps, branch: Branch): Promise<Environment> {
  const deadline = Date.now() + setupWaitMs;
  for (;;) {
    const environment = await findLiveEnvironment(deps.db, branch.id);
    if (!environment) throw new CookError("conflict", `branch '${branch.name}' has no environment any more`);
    if (environment.state === "ready") return usableEnvironment(deps, branch);
    if (environment.state !== "creating") throw new CookError("conflict", `the environment of '${branch.name}' is ${environment.state}${environment.error ? `: ${environment.error}` : ""}`);
    if (Date.now() > deadline) throw new CookError("unavailable", `the environment of '${branch.name}' was still being set up after ${setupWaitMs / 60_000} minutes`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export function clearResumeTimer(deps: AgentDeps, sessionId: string): void {
  const timer = deps.resumeTimers.get(sessionId);
  if (timer) clearTimeout(timer);
  deps.resumeTimers.delete(sessionId);
}
