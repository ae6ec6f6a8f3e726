import { CookError } from "../core/errors.js";
import { showInput } from "../core/show-input.js";
import type { Db } from "../db/db.js";
import { agentTimePerTask, agentTotals, gateRunsPerDay, mergedPerDay, mergedTaskList, retriedAttempts, type AgentSum, type AgentTaskRow, type MergedTaskRow, type StatsWindow } from "../db/factory-stats-store.js";
import { recentPlans, type PlanState } from "../db/plan-store.js";
import { requireRepo } from "../forge/repos.js";

/** The windows the factory page offers, in days. */
export const windowDays = [7, 30, 90] as const;
export type WindowDays = (typeof windowDays)[number];
export const defaultWindowDays: WindowDays = 30;

/** Points the cycle-time chart draws at most (the newest merges); the numbers count every merge. */
export const maxCyclePoints = 500;
/** Tasks the agent chart shows: those whose sessions ran longest. */
export const topAgentTasks = 10;
/** Plans the page links to. */
export const recentPlanCount = 8;

const dayMs = 86_400_000;

/** `?days=`: 7, 30 or 90; empty or absent → 30. Anything else → invalid. */
export function checkWindowDays(value: unknown): WindowDays {
  if (value === undefined || value === "") return defaultWindowDays;
  const days = typeof value === "string" && /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(windowDays as readonly number[]).includes(days)) throw new CookError("invalid", `days must be one of ${windowDays.join(", ")}, got ${showInput(value)}`);
  return days as WindowDays;
}

/** The last `days` UTC calendar days up to and including today's: `since` is a midnight, `until` the next midnight after now. */
export function windowOf(days: number, now: Date): { since: Date; until: Date; days: string[] } {
  const until = new Date(Math.floor(now.getTime() / dayMs) * dayMs + dayMs);
  const since = new Date(until.getTime() - days * dayMs);
  return { since, until, days: Array.from({ length: days }, (_, i) => new Date(since.getTime() + i * dayMs).toISOString().slice(0, 10)) };
}

/** Cycle-time figures over merged tasks, in ms from the task's creation to its branch's merge. */
export interface CycleFigures {
  medianMs: number;
  p90Ms: number;
  meanMs: number;
}

/** What the factory page and `GET /api/factory` show: counts, ms, USD; days are 'YYYY-MM-DD' (UTC). */
export interface FactoryStats {
  repo: string | undefined;
  windowDays: WindowDays;
  since: string;
  until: string;
  /** Every day of the window, oldest first: the x axis of every chart. */
  days: string[];
  merged: {
    /** Tasks closed as done by a merge of their branch in the window. */
    total: number;
    /** Per day of `days`, in order: tasks merged, and their median cycle time (undefined with none). */
    perDay: Array<{ day: string; count: number; medianCycleMs: number | undefined }>;
    cycle: CycleFigures | undefined;
    /** The newest merged tasks, at most maxCyclePoints, newest first. */
    tasks: MergedTaskRow[];
  };
  gates: {
    passed: number;
    failed: number;
    canceled: number;
    /** passed / (passed + failed), 0-1; undefined when no run reached a verdict. */
    passRate: number | undefined;
    reruns: number;
    branches: number;
    /** Command gate attempts retried after a flaky exit. */
    retriedAttempts: number;
    perDay: Array<{ day: string; passed: number; failed: number; canceled: number; reruns: number; passRate: number | undefined }>;
  };
  agents: {
    /** Every session started in the window. */
    all: AgentSum;
    /** Sessions on a task's branch, and how many tasks they served. */
    onTasks: AgentSum & { tasks: number };
    /** The tasks whose sessions ran longest, longest first (at most topAgentTasks). */
    top: AgentTaskRow[];
  };
  /** The newest plans; `goal` is the first line of each, cut at 200 characters. */
  plans: Array<{ id: string; repo: string; goal: string; state: PlanState; drafts: number; accepted: number; createdAt: string }>;
}

/** A goal's first line, at most 200 characters: a goal may be a page of text. */
const headline = (goal: string) => { const line = goal.split("\n", 1)[0]!; return line.length > 200 ? `${line.slice(0, 199)}…` : line; };

const rate = (passed: number, failed: number) => (passed + failed > 0 ? passed / (passed + failed) : undefined);

/**
 * The factory's numbers over the last `days` days, of one repo or of all. Throws not_found for a
 * repo that does not exist. A handful of aggregate queries, each bounded in rows (a row a day,
 * capped lists), so the live page can read it again on every change.
 */
export async function readFactoryStats(deps: { db: Db; dataDir: string }, options: { repo: string | undefined; days: WindowDays; now?: Date }): Promise<FactoryStats> {
  if (options.repo !== undefined) requireRepo(deps.dataDir, options.repo);
  const { since, until, days } = windowOf(options.days, options.now ?? new Date());
  const w: StatsWindow = { since, until, repo: options.repo };
  const [mergedDays, mergedTasks, gateDays, retried, agentSums, top, plans] = await Promise.all([
    mergedPerDay(deps.db, w),
    mergedTaskList(deps.db, w, maxCyclePoints),
    gateRunsPerDay(deps.db, w),
    retriedAttempts(deps.db, w),
    agentTotals(deps.db, w),
    agentTimePerTask(deps.db, w, topAgentTasks),
    recentPlans(deps.db, options.repo, recentPlanCount),
  ]);
  // The totals row is there also for an empty window (an aggregate over no rows), with count 0.
  const mergedTotal = mergedDays.find((row) => row.day === undefined && row.count > 0);
  const mergedByDay = new Map(mergedDays.map((row) => [row.day, row]));
  const gateTotal = gateDays.find((row) => row.day === undefined) ?? { passed: 0, failed: 0, canceled: 0, reruns: 0, branches: 0 };
  const gateByDay = new Map(gateDays.map((row) => [row.day, row]));
  return {
    repo: options.repo,
    windowDays: options.days,
    since: since.toISOString(),
    until: until.toISOString(),
    days,
    merged: {
      total: mergedTotal?.count ?? 0,
      perDay: days.map((day) => ({ day, count: mergedByDay.get(day)?.count ?? 0, medianCycleMs: mergedByDay.get(day)?.medianMs })),
      cycle: mergedTotal ? { medianMs: mergedTotal.medianMs, p90Ms: mergedTotal.p90Ms, meanMs: mergedTotal.meanMs } : undefined,
      tasks: mergedTasks,
    },
    gates: {
      passed: gateTotal.passed,
      failed: gateTotal.failed,
      canceled: gateTotal.canceled,
      passRate: rate(gateTotal.passed, gateTotal.failed),
      reruns: gateTotal.reruns,
      branches: gateTotal.branches,
      retriedAttempts: retried,
      perDay: days.map((day) => {
        const row = gateByDay.get(day) ?? { passed: 0, failed: 0, canceled: 0, reruns: 0 };
        return { day, passed: row.passed, failed: row.failed, canceled: row.canceled, reruns: row.reruns, passRate: rate(row.passed, row.failed) };
      }),
    },
    agents: { ...agentSums, top },
    plans: plans.map((plan) => ({ id: plan.id, repo: plan.repo, goal: headline(plan.goal), state: plan.state, drafts: plan.drafts.length, accepted: plan.accepted.length, createdAt: plan.createdAt })),
  };
}
