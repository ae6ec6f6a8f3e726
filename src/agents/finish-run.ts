import type { Actor } from "../core/actor.js";
import { stoppedByServerReason, type AgentSession, type SessionStatus } from "../core/agent-session.js";
import type { Branch, Environment } from "../core/branch.js";
import { errorSignature } from "../core/error-signature.js";
import { findSession, updateSession } from "../db/agent-session-store.js";
import type { Tx } from "../db/db.js";
import { countAgentFailures } from "../db/agent-failure-store.js";
import { isAutopilotBranch } from "../db/autopilot-store.js";
import { branchHead } from "../branches/branch-git.js";
import { repoDir } from "../forge/paths.js";
import { markTaskWaitingIn } from "../tasks/update-task.js";
import type { AgentAction } from "../events/subjects.js";
import { checkoutHead, pushCheckout, uncommittedPaths } from "./checkout-git.js";
import type { AgentDeps } from "./deps.js";
import { handOver } from "./fallback.js";
import type { RunResult } from "./run-agent.js";
import { appendAgentEvent } from "./session-events.js";

/** What a run's end makes of its session. */
interface Verdict {
  status: SessionStatus;
  reason: string | undefined;
  /** The task goes to needs_human with this reason. */
  needsHuman?: string;
  /** Counted against the task's attempt budget (same error N times → needs_human). */
  errorSignature?: string;
  /** Resume at once with this prompt (a watchdog's nudge). */
  nudge?: string;
  /** Paused until then. */
  resumeAt?: string;
  /** Hand the work to this agent (rate limit with a fallback). */
  fallback?: string;
}

const actionOf: Record<SessionStatus, AgentAction> = {
  running: "started",
  completed: "completed",
  failed: "failed",
  waiting: "help",
  interrupted: "interrupted",
  paused: "paused",
};

const factoryActor: Actor = { name: "cook", scope: "admin" };
// Sessions nudged once by a watchdog: a second stop is for good.
const nudged = new Set<string>();
const defaultRateLimitPauseMs = 5 * 60_000;

/**
 * Decides and records what a run's end makes of its session: `completed` (it said `cook done`, or
 * ended with commits, which are pushed as `cook done` would), `waiting` (it asked for help, or ended
 * with uncommitted changes or no commits: the task goes to needs_human with that reason),
 * `failed`, `interrupted`, or `paused` (rate limit); one event announces it. A watchdog's first
 * stop resumes the session at once with a nudge; a rate limit with a fallback hands the work over.
 */
export async function finishRun(deps: AgentDeps, branch: Branch, environment: Environment, started: AgentSession, result: RunResult): Promise<void> {
  const session = (await findSession(deps.db, started.id))!;
  const config = deps.agentSettings.agents[session.agent];
  const verdict = await decide(deps, branch, environment, session, result);
  const final = await deps.db.transaction(async (tx) => {
    let moved = await updateSession(tx, session.id, {
      status: verdict.nudge ? "running" : verdict.status,
      reason: verdict.reason ?? null,
      exitCode: result.exitCode ?? null,
      runEnded: true,
      resumeAt: verdict.resumeAt ?? null,
    });
    if (verdict.nudge) {
      moved = await updateSession(tx, session.id, { newRun: true });
      await appendAgentEvent(deps, tx, branch, moved, "started", { run: moved.runs, kind: moved.kind, resumed: true, nudge: verdict.reason, by: "cook" });
      return moved;
    }
    const needsHuman = verdict.needsHuman ?? (verdict.errorSignature ? await attemptsExhausted(deps, tx, branch, verdict) : undefined) ?? (await unattendedFailure(tx, branch, verdict));
    if (needsHuman && branch.taskId) await markTaskWaitingIn(deps, tx, branch.taskId, factoryActor, needsHuman);
    // Asking for help was announced when the agent asked; the run's end only updates the session.
    const announced = moved.status === "waiting" && session.outcome === "help";
    await appendAgentEvent(deps, tx, branch, moved, announced ? "output" : actionOf[moved.status], {
      ...(announced ? { events: [] } : {}),
      run: moved.runs,
      reason: moved.reason ?? null,
      exitCode: result.exitCode ?? null,
      ...(verdict.errorSignature ? { errorSignature: verdict.errorSignature, task: branch.taskId ?? null } : {}),
      ...(needsHuman ? { needsHuman } : {}),
    });
    return moved;
  });
  if (verdict.nudge) {
    const { launchWhenReady } = await import("./sessions.js");
    await launchWhenReady(deps, branch, final, verdict.nudge, final.nativeId, environment);
    return;
  }
  if (verdict.resumeAt) schedulePausedResume(deps, branch, final);
  if (verdict.fallback && config) await handOver(deps, branch, environment, final, verdict.fallback).catch((err: Error) => deps.log.warn({ session: final.id, err: err.message }, "could not hand over to the fallback agent"));
}

async function decide(deps: AgentDeps, branch: Branch, environment: Environment, session: AgentSession, result: RunResult): Promise<Verdict> {
  const config = deps.agentSettings.agents[session.agent];
  const stop = result.stop;
  if (result.startError) return { status: "failed", reason: result.startError };
  if (stop?.by === "shutdown") return { status: "interrupted", reason: stoppedByServerReason };
  if (stop?.by === "human") return { status: "interrupted", reason: `interrupted by ${stop.actor}` };
  if (stop?.by === "resume_mismatch") return { status: "failed", reason: stop.reason };
  if (stop?.by === "budget") return { status: "failed", reason: `stopped: ${stop.reason}`, needsHuman: stop.reason };
  if (stop?.by === "watchdog") {
    if (stop.nudge && !nudged.has(session.id)) {
      nudged.add(session.id);
      return { status: "running", reason: `nudged: ${stop.reason}`, nudge: stop.nudge };
    }
    nudged.delete(session.id);
    return { status: "failed", reason: `stopped by a watchdog: ${stop.reason}`, needsHuman: stop.reason };
  }
  if (stop?.by === "rate_limit") {
    const fallback = config?.fallback.find((name) => name !== session.agent && deps.agentSettings.agents[name]);
    if (fallback) return { status: "failed", reason: `rate limited (${stop.reason}); handed over to ${fallback}`, fallback };
    const resumeAt = stop.retryAt && Date.parse(stop.retryAt) > Date.now() ? new Date(Date.parse(stop.retryAt)).toISOString() : new Date(Date.now() + defaultRateLimitPauseMs).toISOString();
    return { status: "paused", reason: `rate limited: ${stop.reason}; resumes at ${resumeAt}`, resumeAt };
  }
  if (stop?.by === "help" || session.outcome === "help") return { status: "waiting", reason: session.reason ?? "asked for help" };
  if (session.outcome === "done") return { status: "completed", reason: undefined };
  if (result.exitCode !== 0 || result.reportedError) {
    const reason = result.lastError ? `${result.lastError}` : `the agent exited with ${result.exitCode}`;
    return { status: "failed", reason: reason.split("\n")[0]!.slice(0, 500), errorSignature: errorSignature(reason) };
  }
  if (config?.onExit === "wait") return { status: "waiting", reason: "the run ended without cook done; waiting for you", needsHuman: "the agent's run ended without cook done" };
  return settleUnreportedEnd(deps, branch, environment);
}

/** A clean exit without `cook done` or `cook ask-for-help`: push commits as done would, else wait on a human saying why. */
async function settleUnreportedEnd(deps: AgentDeps, branch: Branch, environment: Environment): Promise<Verdict> {
  try {
    const dirty = await uncommittedPaths(deps, branch, environment);
    if (dirty.length > 0) {
      const listed = dirty.slice(0, 10).join(", ") + (dirty.length > 10 ? ` and ${dirty.length - 10} more` : "");
      const reason = `the run ended with uncommitted changes: ${listed}`;
      return { status: "waiting", reason, needsHuman: reason };
    }
    const head = await checkoutHead(deps, branch, environment);
    const forgeHead = await branchHead(deps.git, repoDir(deps.dataDir, branch.repo), branch.name);
    if (head && head !== forgeHead) {
      const pushed = await pushCheckout(deps, branch, environment);
      if (pushed.code !== 0) {
        const reason = `the run ended with commits that could not be pushed: ${pushed.stderr.trim().split("\n").pop()}`;
        return { status: "waiting", reason, needsHuman: reason };
      }
      return { status: "completed", reason: "the run ended without cook done; its commits were pushed" };
    }
    if (!head || head === branch.baseCommit) {
      const reason = "the run ended without commits";
      return { status: "waiting", reason, needsHuman: reason };
    }
    return { status: "completed", reason: "the run ended without cook done; its commits were already pushed" };
  } catch (err) {
    const reason = `the run ended and its checkout could not be read: ${(err as Error).message}`;
    return { status: "waiting", reason, needsHuman: reason };
  }
}

/** With this error seen `sameErrorAttempts` times on the task (this one included), the task needs a human. */
async function attemptsExhausted(deps: AgentDeps, tx: Tx, branch: Branch, verdict: Verdict): Promise<string | undefined> {
  if (!branch.taskId || !verdict.errorSignature) return undefined;
  const before = await countAgentFailures(tx, branch.taskId, verdict.errorSignature);
  const limit = deps.agentSettings.budgets.sameErrorAttempts;
  return before + 1 >= limit ? `the same error ${before + 1} times: ${verdict.reason}` : undefined;
}

/** A failed run on a branch autopilot made has nobody watching it: its task goes to a person (and frees its slot) rather than sit in progress. */
async function unattendedFailure(tx: Tx, branch: Branch, verdict: Verdict): Promise<string | undefined> {
  if (verdict.status !== "failed" || verdict.fallback || !(await isAutopilotBranch(tx, branch.id))) return undefined;
  return `the agent's run failed: ${verdict.reason ?? "no reason given"}`;
}

/** A paused session resumes with "continue" when its rate limit resets. */
export function schedulePausedResume(deps: AgentDeps, branch: Branch, session: AgentSession): void {
  if (!session.resumeAt) return;
  const existing = deps.resumeTimers.get(session.id);
  if (existing) clearTimeout(existing);
  const delay = Math.max(0, Date.parse(session.resumeAt) - Date.now());
  const timer = setTimeout(() => {
    deps.resumeTimers.delete(session.id);
    void import("./sessions.js").then(({ promptSession }) =>
      promptSession(deps, branch, { prompt: "The rate limit has reset; continue where you left off." }, factoryActor).catch((err: Error) =>
        deps.log.warn({ session: session.id, err: err.message }, "could not resume a paused session"),
      ),
    );
  }, Math.min(delay, 2 ** 31 - 1));
  timer.unref();
  deps.resumeTimers.set(session.id, timer);
}
