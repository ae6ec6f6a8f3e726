import { CookError, isCookError } from "../core/errors.js";
import { describeCycle, findCycle } from "../core/task-graph.js";
import { checkBody, checkPriority, checkTaskId, checkTitle, defaultPriority } from "../core/task.js";

/** The most drafts one plan may propose. */
export const maxDrafts = 100;

/** A task a plan proposes; it becomes a task only when a person accepts it. */
export interface TaskDraft {
  id: string;
  title: string;
  /** Markdown, with the acceptance criteria. */
  body: string;
  priority: number;
  /** Ids of other drafts of the plan, or of tasks that exist already. */
  dependsOn: string[];
  stage: string | undefined;
  /** The draft (or existing task) this one is a sub-task of; undefined for none. */
  parent?: string | undefined;
}

/** The fence the planner's answer must put its drafts in: ```cook-plan … ``` holding JSON. */
export const planFence = "cook-plan";

/**
 * Reads a planner's answer: the last ```cook-plan fenced block, JSON `{"tasks": [{id, title, body,
 * priority?, depends_on?, stage?, parent?}]}`. Returns the drafts, or every problem found: no block,
 * not JSON, a task without a valid id or title, a repeated id, a dependency or parent naming neither
 * a draft nor an `existing` task, a cycle of dependencies or of parents (named), more than maxDrafts.
 */
export function parsePlanAnswer(answer: string, existing: ReadonlySet<string>): { drafts: TaskDraft[] } | { problems: string[] } {
  const blocks = [...answer.matchAll(/```cook-plan[^\n]*\n([\s\S]*?)\n?```/g)];
  if (blocks.length === 0) return { problems: [`the answer has no \`\`\`${planFence} block`] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(blocks.at(-1)![1]!);
  } catch (err) {
    return { problems: [`the ${planFence} block is not JSON: ${(err as Error).message}`] };
  }
  const list = (parsed as { tasks?: unknown } | null)?.tasks;
  if (!Array.isArray(list) || list.length === 0) return { problems: [`the ${planFence} block must be {"tasks": [ … ]} with at least one task`] };
  const problems: string[] = [];
  if (list.length > maxDrafts) problems.push(`a plan has at most ${maxDrafts} tasks (got ${list.length})`);
  const drafts: TaskDraft[] = [];
  const seen = new Set<string>();
  list.slice(0, maxDrafts).forEach((entry, index) => {
    const where = `tasks[${index}]`;
    const item = (entry ?? {}) as Record<string, unknown>;
    const check = <T>(what: () => T): T | undefined => {
      try {
        return what();
      } catch (err) {
        if (!isCookError(err)) throw err;
        problems.push(`${where}: ${err.message}`);
        return undefined;
      }
    };
    const id = check(() => checkTaskId(item.id));
    if (id && seen.has(id)) problems.push(`${where}: id '${id}' is used twice`);
    if (id) seen.add(id);
    if (id && existing.has(id)) problems.push(`${where}: id '${id}' is taken by an existing task`);
    const title = check(() => checkTitle(item.title));
    const body = check(() => checkBody(item.body ?? ""));
    const priority = check(() => (item.priority === undefined ? defaultPriority : checkPriority(item.priority)));
    const rawDeps = item.depends_on ?? [];
    const dependsOn = Array.isArray(rawDeps) && rawDeps.every((d) => typeof d === "string") ? [...new Set(rawDeps as string[])] : (problems.push(`${where}: depends_on must be a list of task ids`), []);
    const stage = item.stage === undefined || item.stage === null ? undefined : typeof item.stage === "string" || Number.isInteger(item.stage) ? String(item.stage) : (problems.push(`${where}: stage must be a name or a whole number`), undefined);
    const parent = item.parent === undefined || item.parent === null ? undefined : check(() => checkTaskId(item.parent));
    if (id && title !== undefined && body !== undefined && priority !== undefined) drafts.push({ id, title, body, priority, dependsOn, stage, ...(parent ? { parent } : {}) });
  });
  const ids = new Set(drafts.map((d) => d.id));
  const graph = new Map(drafts.map((d) => [d.id, d.dependsOn]));
  for (const draft of drafts) {
    const unknown = draft.dependsOn.filter((dep) => !ids.has(dep) && !existing.has(dep));
    if (unknown.length) problems.push(`task '${draft.id}' depends on ${unknown.map((u) => `'${u}'`).join(", ")}, which is neither in the plan nor an existing task`);
  }
  const parents = new Map(drafts.flatMap((d) => (d.parent ? [[d.id, [d.parent]] as [string, string[]]] : [])));
  for (const draft of drafts) {
    if (draft.parent && !ids.has(draft.parent) && !existing.has(draft.parent)) problems.push(`task '${draft.id}' names parent '${draft.parent}', which is neither in the plan nor an existing task`);
  }
  for (const draft of drafts) {
    const cycle = draft.parent ? findCycle(draft.id, [draft.parent], parents) : undefined;
    if (cycle) {
      problems.push(`the parents make a cycle: ${describeCycle(cycle)}`);
      break;
    }
  }
  for (const draft of drafts) {
    const cycle = findCycle(draft.id, draft.dependsOn, graph);
    if (cycle) {
      problems.push(`the dependencies make a cycle: ${describeCycle(cycle)}`);
      break;
    }
  }
  return problems.length > 0 ? { problems } : { drafts };
}

/**
 * The drafts a person accepted: `selected` ids (undefined: all). Throws invalid for an id not in
 * the plan, or a selected draft depending on, or a sub-task of, a draft left out (naming both).
 */
export function acceptedDrafts(drafts: readonly TaskDraft[], selected: readonly string[] | undefined, accepted: readonly string[] = []): TaskDraft[] {
  const already = new Set(accepted);
  if (selected === undefined) return drafts.filter((d) => !already.has(d.id));
  const byId = new Map(drafts.map((d) => [d.id, d]));
  const unknown = selected.filter((id) => !byId.has(id));
  if (unknown.length) throw new CookError("invalid", `the plan has no task ${unknown.map((u) => `'${u}'`).join(", ")}; its tasks: ${drafts.map((d) => d.id).join(", ")}`);
  const again = selected.filter((id) => already.has(id));
  if (again.length) throw new CookError("conflict", `${again.map((a) => `'${a}'`).join(", ")} ${again.length > 1 ? "are tasks" : "is a task"} already: accepted before`);
  // A draft accepted before is a task now: what depends on it may be accepted alone.
  const chosen = new Set([...selected, ...already]);
  for (const id of selected) {
    const missing = byId.get(id)!.dependsOn.filter((dep) => byId.has(dep) && !chosen.has(dep));
    if (missing.length) throw new CookError("invalid", `'${id}' depends on ${missing.map((m) => `'${m}'`).join(", ")} of the plan: accept ${missing.length > 1 ? "them" : "it"} too, or leave '${id}' out`);
    const parent = byId.get(id)!.parent;
    if (parent && byId.has(parent) && !chosen.has(parent)) throw new CookError("invalid", `'${id}' is a sub-task of '${parent}' of the plan: accept it too, or leave '${id}' out`);
  }
  return drafts.filter((d) => chosen.has(d.id) && !already.has(d.id));
}
