import type { Task } from "../core/task.js";
import type { Db } from "../db/db.js";
import type { Plan } from "../db/plan-store.js";
import { tasksByIds } from "../db/task-store.js";
import { layoutPlanGraph, type PlanGraph, type PlanGraphItem, type PlanNodeState } from "./plan-graph.js";

/** A task's state as a graph node shows it: closed splits into done and won't fix. */
export function nodeStateOf(task: Pick<Task, "status" | "resolution">): PlanNodeState {
  if (task.status === "closed") return task.resolution === "wontfix" ? "wontfix" : "done";
  return task.status;
}

/**
 * The graph of a plan's drafts with each one's state now: an accepted draft shows its task's
 * state, a draft of a plan not accepted yet is a draft, one left out of an accepted plan is "not
 * accepted". Tasks that existed before the plan and that drafts depend on are nodes too, with
 * their state. Undefined for a plan without drafts.
 */
export async function readPlanGraph(deps: { db: Db }, plan: Plan): Promise<PlanGraph | undefined> {
  if (plan.drafts.length === 0) return undefined;
  const draftIds = new Set(plan.drafts.map((d) => d.id));
  const accepted = new Set(plan.accepted);
  const outside = [...new Set(plan.drafts.flatMap((d) => d.dependsOn))].filter((id) => !draftIds.has(id));
  const tasks = new Map((await tasksByIds(deps.db, [...accepted, ...outside])).map((task) => [task.id, task]));
  const href = (id: string) => `/tasks/${encodeURIComponent(id)}`;
  const items: PlanGraphItem[] = [
    ...outside.flatMap((id): PlanGraphItem[] => {
      const task = tasks.get(id);
      return task ? [{ id, title: task.title, state: nodeStateOf(task), dependsOn: [], href: href(id) }] : [];
    }),
    ...plan.drafts.map((draft): PlanGraphItem => {
      const task = accepted.has(draft.id) ? tasks.get(draft.id) : undefined;
      const parent = draft.parent ? { parent: draft.parent } : {};
      if (task) return { id: draft.id, title: task.title, state: nodeStateOf(task), dependsOn: draft.dependsOn, ...parent, href: href(draft.id) };
      return { id: draft.id, title: draft.title, state: plan.state === "accepted" ? "not_accepted" : "draft", dependsOn: draft.dependsOn, ...parent, href: `#draft-${draft.id}` };
    }),
  ];
  return layoutPlanGraph(items);
}
