import type { TaskDraft } from "../planning/plan-format.js";
import type { Queryable } from "./db.js";

export type PlanState = "planning" | "drafted" | "failed" | "accepted";

/** A goal broken into task drafts by an agent, and what came of it. */
export interface Plan {
  id: string;
  repo: string;
  goal: string;
  agent: string;
  state: PlanState;
  drafts: TaskDraft[];
  /** The agent's last answer, kept as it was (also when it could not be read). */
  answer: string | undefined;
  /** Why the plan failed. */
  error: string | undefined;
  /** Runs of the planner: 1, or 2 when its first answer went back with the problems found. */
  attempts: number;
  /** Ids of the drafts that became tasks. */
  accepted: string[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

interface PlanRow {
  id: string;
  repo: string;
  goal: string;
  agent: string;
  state: PlanState;
  drafts: TaskDraft[];
  answer: string | null;
  error: string | null;
  attempts: number;
  accepted: string[];
  created_by: string;
  created_at: Date;
  updated_at: Date;
  [key: string]: unknown;
}

const columns = "id, repo, goal, agent, state, drafts, answer, error, attempts, accepted, created_by, created_at, updated_at";

const toPlan = (row: PlanRow): Plan => ({
  id: row.id,
  repo: row.repo,
  goal: row.goal,
  agent: row.agent,
  state: row.state,
  drafts: row.drafts,
  answer: row.answer ?? undefined,
  error: row.error ?? undefined,
  attempts: row.attempts,
  accepted: row.accepted,
  createdBy: row.created_by,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export async function insertPlan(q: Queryable, plan: { id: string; repo: string; goal: string; agent: string; createdBy: string }): Promise<Plan> {
  const rows = await q.query<PlanRow>(`INSERT INTO plans (id, repo, goal, agent, state, created_by) VALUES ($1, $2, $3, $4, 'planning', $5) RETURNING ${columns}`, [plan.id, plan.repo, plan.goal, plan.agent, plan.createdBy]);
  return toPlan(rows[0]!);
}

export async function findPlan(q: Queryable, id: string, options: { forUpdate?: boolean } = {}): Promise<Plan | undefined> {
  const rows = await q.query<PlanRow>(`SELECT ${columns} FROM plans WHERE id = $1${options.forUpdate ? " FOR UPDATE" : ""}`, [id]);
  return rows[0] ? toPlan(rows[0]) : undefined;
}

export async function plansOfRepo(q: Queryable, repo: string, limit = 20): Promise<Plan[]> {
  return recentPlans(q, repo, limit);
}

/** The newest `limit` plans of a repo, or of every repo, newest first. */
export async function recentPlans(q: Queryable, repo: string | undefined, limit: number): Promise<Plan[]> {
  const rows = await q.query<PlanRow>(`SELECT ${columns} FROM plans WHERE $1::text IS NULL OR repo = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, [repo ?? null, limit]);
  return rows.map(toPlan);
}

export async function plansInState(q: Queryable, state: PlanState): Promise<Plan[]> {
  const rows = await q.query<PlanRow>(`SELECT ${columns} FROM plans WHERE state = $1`, [state]);
  return rows.map(toPlan);
}

export async function updatePlan(q: Queryable, id: string, change: { state: PlanState; drafts?: TaskDraft[]; answer?: string; error?: string | null; attempts?: number; accepted?: string[] }): Promise<Plan> {
  const rows = await q.query<PlanRow>(
    `UPDATE plans SET state = $2, drafts = COALESCE($3::jsonb, drafts), answer = COALESCE($4, answer), error = CASE WHEN $5::boolean THEN $6 ELSE error END,
       attempts = COALESCE($7, attempts), accepted = COALESCE($8, accepted), updated_at = now() WHERE id = $1 RETURNING ${columns}`,
    [id, change.state, change.drafts ? JSON.stringify(change.drafts) : null, change.answer ?? null, change.error !== undefined, change.error ?? null, change.attempts ?? null, change.accepted ?? null],
  );
  return toPlan(rows[0]!);
}
