import { waitsOnHuman, type AgentSession, type SessionUsage } from "../core/agent-session.js";
import type { Branch } from "../core/branch.js";
import type { Db } from "../db/db.js";
import { lastAgentEventSeq, readAgentEvents, type AgentEventRecord } from "../db/agent-event-store.js";
import { findSession, latestSessionsOfBranches, sessionsOfBranch, usageOfBranches } from "../db/agent-session-store.js";
import { branchIdsOfTasks, branchIdsWhere, selectBranches } from "../db/branch-store.js";
import { waitingReasonsOfTasks } from "../db/task-store.js";

export type { AgentEventRecord };

/** Sums over sessions: tokens, cost, time and how many. */
export type UsageSum = SessionUsage & { durationMs: number; sessions: number; turns: number };

/** A stretch of a session's events, in order, and how many there are around it. */
export interface EventWindow {
  events: AgentEventRecord[];
  /** Events of the session before the first one here. */
  earlier: number;
  /** Events of the session after the last one here (0: the window reaches the newest). */
  later: number;
  /** The session's newest seq (0 when it has none). */
  lastSeq: number;
}

/** A branch's sessions, newest first. */
export async function listBranchSessions(deps: { db: Db }, branchId: string): Promise<AgentSession[]> {
  return (await sessionsOfBranch(deps.db, branchId)).reverse();
}

export async function findAgentSession(deps: { db: Db }, id: string): Promise<AgentSession | undefined> {
  return findSession(deps.db, id);
}

/**
 * At most `limit` events of a session: the newest, or those just before `beforeSeq`. Seqs run
 * 1, 2, 3 … without gaps (run-agent.ts), so a window is a range of seqs and costs one indexed read.
 */
export async function readEventWindow(deps: { db: Db }, sessionId: string, options: { limit: number; beforeSeq?: number }): Promise<EventWindow> {
  const lastSeq = await lastAgentEventSeq(deps.db, sessionId);
  const end = Math.min(lastSeq, options.beforeSeq === undefined ? lastSeq : Math.max(0, options.beforeSeq - 1));
  const start = Math.max(0, end - options.limit);
  const events = end > start ? await readAgentEvents(deps.db, sessionId, { afterSeq: start, limit: end - start }) : [];
  return { events, earlier: start, later: lastSeq - end, lastSeq };
}

/** The newest session of each branch that has one, by branch id: what lists show as a branch's agent status. */
export async function latestSessionsOf(deps: { db: Db }, branchIds: readonly string[]): Promise<Map<string, AgentSession>> {
  return latestSessionsOfBranches(deps.db, [...new Set(branchIds)]);
}

/**
 * What waits on a human: each open branch whose newest session waits on one (asked for help, or
 * ended with nothing to push), newest first, at most `limit`.
 */
export async function listWaitingSessions(deps: { db: Db }, limit = 50): Promise<Array<{ branch: Branch; session: AgentSession }>> {
  const open = await selectBranches(deps.db, { status: "open", limit: 1000 });
  const latest = await latestSessionsOfBranches(deps.db, open.map((branch) => branch.id));
  return open
    .flatMap((branch) => {
      const session = latest.get(branch.id);
      return session && waitsOnHuman(session) ? [{ branch, session }] : [];
    })
    .sort((a, b) => (a.session.updatedAt < b.session.updatedAt ? 1 : -1))
    .slice(0, limit);
}

/** For each task, the newest of its branches' latest sessions that `keep` accepts, by task id. */
async function newestSessionsOfTasks(deps: { db: Db }, taskIds: readonly string[], keep: (session: AgentSession) => boolean): Promise<Map<string, AgentSession>> {
  const branchesOf = await branchIdsOfTasks(deps.db, [...new Set(taskIds)]);
  const latest = await latestSessionsOfBranches(deps.db, [...branchesOf.values()].flat());
  const out = new Map<string, AgentSession>();
  for (const [taskId, branchIds] of branchesOf) {
    const kept = branchIds.flatMap((id) => (latest.has(id) && keep(latest.get(id)!) ? [latest.get(id)!] : [])).sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
    if (kept[0]) out.set(taskId, kept[0]);
  }
  return out;
}

/**
 * Why each task waits on a person, by task id: the reason kept when it moved to needs_human (the
 * help it asked for, the budget, conflict, approval or failing gate that stopped it, why its last
 * run failed). A task that moved before reasons were kept falls back to what its newest session
 * says. A task with neither (moved there by hand) has no entry.
 */
export async function humanReasonsOfTasks(deps: { db: Db }, taskIds: readonly string[]): Promise<Map<string, string>> {
  const out = await waitingReasonsOfTasks(deps.db, taskIds);
  const unstated = taskIds.filter((id) => !out.has(id));
  if (unstated.length === 0) return out;
  const newest = await newestSessionsOfTasks(deps, unstated, () => true);
  for (const [taskId, session] of newest) if (session.reason && (waitsOnHuman(session) || session.status === "failed")) out.set(taskId, session.reason);
  return out;
}

/**
 * For each task, the newest session of its branches that waits on a human, by task id: the help
 * message a task in needs_human shows.
 */
export function waitingSessionsOfTasks(deps: { db: Db }, taskIds: readonly string[]): Promise<Map<string, AgentSession>> {
  return newestSessionsOfTasks(deps, taskIds, waitsOnHuman);
}

/** Tokens, cost and time of every session of a branch, of a task's branches, or of a repo's branches. */
export async function usageOf(deps: { db: Db }, of: { branchId: string } | { taskId: string } | { repo: string }): Promise<UsageSum> {
  const ids = "branchId" in of ? [of.branchId] : await branchIdsWhere(deps.db, of);
  return usageOfBranches(deps.db, ids);
}
