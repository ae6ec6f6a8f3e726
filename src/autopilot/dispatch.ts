import { createBranchWithAgent } from "../agents/create-with-agent.js";
import type { AgentDeps } from "../agents/deps.js";
import { isCookError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import type { Task } from "../core/task.js";
import type { AutopilotConfig } from "../config/autopilot-config.js";
import { claimDispatch, dispatchesHoldingSlots, finishDispatch, latestDispatchesOf, type Dispatch } from "../db/autopilot-store.js";
import { countOpenBranchesOfTask, oldestOpenBranchOfTask, setAutoMerge } from "../db/branch-store.js";
import { ancestorsOf, findTask, withOpenChildren, type AncestorRow } from "../db/task-store.js";
import { maxParentDepth } from "../tasks/deps.js";
import type { Branch } from "../core/branch.js";
import { failpoint } from "../core/failpoints.js";
import { listTasks, type ListedTask } from "../tasks/read-tasks.js";
import { appendAutopilotEvent, autopilotActor } from "./events.js";
import { overlapGuard } from "./overlaps.js";
import { readAutopilotSettings, type AutopilotSettings } from "./settings.js";
import { readStages, stageAllows, stageOf } from "./stages.js";

export { appendAutopilotEvent, autopilotActor };


/** A task passed over (its branch could not be made) is tried again after it changes, after the switch is flipped, or after this long. */
export const skipRetryMs = 5 * 60_000;

/** Ready tasks looked at per pass; more wait for the next pass. */
const readyTasksPerPass = 500;

/**
 * The labels of a task: front-matter `labels` as a list of strings, or one comma-separated string.
 * Anything else has none.
 */
export function labelsOf(task: Pick<Task, "extra">): string[] {
  const value = task.extra.labels;
  if (typeof value === "string") return value.split(",").map((label) => label.trim()).filter(Boolean);
  if (Array.isArray(value)) return value.filter((label): label is string => typeof label === "string");
  return [];
}

/** What a dispatch pass looks at (see dispatchQueue). */
export interface DispatchQueue {
  /** Ready tasks to start, in order. */
  tasks: ListedTask[];
  /** Ready tasks passed over lately, with the dispatch that says why. */
  skipped: Array<{ task: ListedTask; dispatch: Dispatch }>;
  /** Ready tasks whose stage waits for an earlier one. */
  held: ListedTask[];
  /** Ready tasks carrying none of `[autopilot] labels` (when it names some): left to people. */
  unlabelled: ListedTask[];
  /** Ready sub-tasks whose parent cannot take them yet, and ready tasks whose dependency's work is still on a parent's branch (dependencyWorkAway), with why. */
  waitingOnParent: Array<{ task: ListedTask; reason: string }>;
}

/**
 * The ready tasks autopilot would start next in this repo, in the order it starts them: open, every
 * dependency met, carrying one of `config.labels` (any task when there are none), by priority then
 * age (listTasks' order), without a skip it should not retry yet, and not held by its stage
 * (`held`: ready, but an earlier stage has not been continued past). A task with sub-tasks not
 * closed is no agent's work (its branch comes with its first sub-task); a sub-task starts only once each task above it is open
 * with its own dependencies met (`waitingOnParent`).
 */
export async function dispatchQueue(deps: AgentDeps, settings: AutopilotSettings): Promise<DispatchQueue> {
  const wanted = settings.config.labels;
  const ready = await listTasks(deps, { repo: settings.repo, status: "open", ready: true, limit: readyTasksPerPass });
  const carries = (task: ListedTask) => wanted.length === 0 || labelsOf(task).some((label) => wanted.includes(label));
  const labelled = ready.filter(carries);
  const unlabelled = ready.filter((task) => !carries(task));
  const { work, waitingOnParent } = await sortOutSubTasks(deps, labelled);
  // A task of a stage waits until every stage before it has ended and a person continued past it.
  const stages = await readStages(deps, settings.repo);
  const held = work.filter((task) => !stageAllows(stages, stageOf(task)));
  const startable = work.filter((task) => stageAllows(stages, stageOf(task)));
  const latest = await latestDispatchesOf(deps.db, startable.map((task) => task.id));
  const skipped: Array<{ task: ListedTask; dispatch: Dispatch }> = [];
  const now = Date.now();
  const tasks = startable.filter((task) => {
    const last = latest.get(task.id);
    if (last?.state !== "skipped") return true;
    const retry = task.updatedAt > last.updatedAt || (settings.switch !== undefined && settings.switch.changedAt > last.updatedAt) || now - Date.parse(last.updatedAt) > skipRetryMs;
    if (!retry) skipped.push({ task, dispatch: last });
    return retry;
  });
  return { tasks, skipped, held, waitingOnParent, unlabelled };
}

/** Splits ready tasks into an agent's work and sub-tasks whose parents cannot take them yet; parents of open sub-tasks are neither. */
async function sortOutSubTasks(deps: AgentDeps, ready: ListedTask[]): Promise<Pick<DispatchQueue, "waitingOnParent"> & { work: ListedTask[] }> {
  const withChildren = await withOpenChildren(deps.db, ready.map((task) => task.id));
  const work: ListedTask[] = [];
  const waitingOnParent: DispatchQueue["waitingOnParent"] = [];
  for (const task of ready) {
    if (withChildren.has(task.id)) continue;
    const ancestors = task.parent ? await ancestorsOf(deps.db, task.id, maxParentDepth + 1) : [];
    const reason = parentHold(ancestors) ?? (await dependencyWorkAway(deps, task, ancestors));
    if (reason) waitingOnParent.push({ task, reason });
    else work.push(task);
  }
  return { work, waitingOnParent };
}

/**
 * A dependency that is a sub-task is closed once merged into its parent's branch, but the task that
 * waits for it starts from the default branch (or its own parent's): until the branches above the
 * dependency have merged up to a task both share (or to the default branch), its work is not where
 * the dependent starts. Why the task waits, or undefined. A sibling sub-task's work is at once.
 */
async function dependencyWorkAway(deps: AgentDeps, task: ListedTask, ancestors: AncestorRow[]): Promise<string | undefined> {
  const shared = new Set([task.id, ...ancestors.map((a) => a.id)]);
  for (const dependency of task.dependsOn) {
    for (const above of await ancestorsOf(deps.db, dependency, maxParentDepth + 1)) {
      if (shared.has(above.id)) break;
      if (above.status !== "closed") return `its dependency '${dependency}' is merged into '${above.id}', which has not merged yet: its work is not where this task starts`;
    }
  }
  return undefined;
}

/** Why a sub-task cannot start under these parents (nearest first), or undefined when it can. */
function parentHold(ancestors: AncestorRow[]): string | undefined {
  for (const parent of ancestors) {
    if (parent.status === "closed") return `its parent task '${parent.id}' is closed (${parent.resolution === "wontfix" ? "won't fix" : "done"}): there is no branch to merge into`;
    if (parent.blockedBy.length > 0) return `its parent task '${parent.id}' waits for ${parent.blockedBy.map((id) => `'${id}'`).join(", ")}`;
  }
  return undefined;
}

/**
 * One pass of autopilot over a repo: when it is enabled and slots are free (`concurrency` minus the
 * dispatches holding one), the next ready tasks each get a branch with an environment and the
 * agent started on them, auto-merge on when `merge = "auto"`. Returns how many were dispatched.
 * With `serialize_overlaps`, a task overlapping an open branch waits in the queue (overlaps.ts).
 * Each decision is an event, `cook.autopilot.<repo>.dispatched|skipped`, with its reason; an enabled
 * autopilot that cannot work (an invalid cook.toml) says so once with `paused`.
 */
export async function dispatchReadyTasks(deps: AgentDeps, repo: string): Promise<number> {
  const settings = await readAutopilotSettings(deps, repo);
  if (settings.enabled && settings.problem) await announcePause(deps, repo, settings.problem);
  if (!settings.enabled || settings.problem) return 0;
  announcedPauses.delete(repo);
  let free = settings.config.concurrency - (await dispatchesHoldingSlots(deps.db, repo)).length;
  if (free <= 0) return 0;
  const { tasks } = await dispatchQueue(deps, settings);
  const overlaps = overlapGuard(deps, settings, tasks);
  let dispatched = 0;
  for (const task of tasks) {
    if (free <= 0) break;
    if (await overlaps.holdsBack(task)) continue;
    if (await dispatchTask(deps, repo, task.id, settings.config)) {
      dispatched++;
      free--;
      overlaps.started();
    }
  }
  return dispatched;
}

// The problem each repo's autopilot was last announced paused for, in this process: said once, not every pass.
const announcedPauses = new Map<string, string>();

/** `cook.autopilot.<repo>.paused` with the reason, once per distinct reason (an invalid cook.toml, an empty repo). */
async function announcePause(deps: AgentDeps, repo: string, reason: string): Promise<void> {
  if (announcedPauses.get(repo) === reason) return;
  announcedPauses.set(repo, reason);
  await deps.db.transaction((tx) => appendAutopilotEvent(deps, tx, repo, "paused", { reason }));
}

/**
 * Gives one task a branch, once: the dispatch is claimed in the store first (a task being
 * dispatched elsewhere is left alone), the task is checked again under the claim (still open, no
 * open branch), then the branch is made with its environment and agent. A branch that cannot be
 * made (name taken, unknown agent, no base) ends the dispatch `skipped` with the reason and the task
 * stays open. Returns whether a branch was made.
 */
export async function dispatchTask(deps: AgentDeps, repo: string, taskId: string, config: AutopilotConfig): Promise<boolean> {
  const id = newId("dsp");
  if (!(await claimDispatch(deps.db, { id, repo, taskId }))) return false;
  failpoint("autopilot:claimed");
  try {
    const task = await findTask(deps.db, taskId);
    const passOver = task?.status !== "open" ? `the task is ${task ? task.status.replace("_", " ") : "gone"}` : (await countOpenBranchesOfTask(deps.db, taskId)) > 0 ? "the task has an open branch already" : undefined;
    if (passOver) {
      await deps.db.transaction((tx) => finishDispatch(tx, id, { state: "skipped", reason: passOver }));
      return false;
    }
    const agent = config.agent ?? deps.defaultAgent;
    const created = await createBranchWithAgent(deps, { repo, task: taskId, env: config.backend, agent }, autopilotActor);
    failpoint("autopilot:branch-created");
    const parents = await autopilotParentBranches(deps, taskId);
    await recordStarted(deps, id, repo, taskId, created.branch.id, created.branch.name, config, { agent, session: created.session?.id ?? null, ...(created.madeParents.length ? { parents: created.madeParents.map((b) => b.name) } : {}) }, parents);
    return true;
  } catch (err) {
    const reason = isCookError(err) ? err.message : `unexpected error: ${(err as Error).message}`;
    if (!isCookError(err)) deps.log.error({ err, repo, task: taskId }, "autopilot could not dispatch a task");
    await deps.db.transaction(async (tx) => {
      await finishDispatch(tx, id, { state: "skipped", reason });
      await appendAutopilotEvent(deps, tx, repo, "skipped", { task: taskId, reason });
    });
    return false;
  }
}

/**
 * The open branches (the oldest of each) of the tasks above `taskId` that autopilot made: they
 * land like the rest with `merge = "auto"`, whether made in this dispatch or in one a crash cut
 * short. A parent branch a person made stays theirs to merge.
 */
export async function autopilotParentBranches(deps: AgentDeps, taskId: string): Promise<Branch[]> {
  const branches: Branch[] = [];
  for (const ancestor of await ancestorsOf(deps.db, taskId, maxParentDepth + 1)) {
    const branch = await oldestOpenBranchOfTask(deps.db, ancestor.id);
    if (branch?.createdBy === autopilotActor.name) branches.push(branch);
  }
  return branches;
}

/** The branch exists: auto-merge as configured (on autopilot's parent branches above it too), the dispatch `started`, and its `dispatched` event, together. */
export async function recordStarted(deps: AgentDeps, id: string, repo: string, taskId: string, branchId: string, branchName: string, config: AutopilotConfig, extra: object, parentBranches: readonly Branch[] = []): Promise<void> {
  await deps.db.transaction(async (tx) => {
    // Parent branches autopilot made for a sub-task land like the rest once their sub-tasks are in.
    if (config.merge === "auto") for (const branch of [...parentBranches, { id: branchId }]) await setAutoMerge(tx, branch.id, true);
    await finishDispatch(tx, id, { state: "started", branchId });
    await appendAutopilotEvent(deps, tx, repo, "dispatched", { task: taskId, branch: branchName, branchId, merge: config.merge, ...extra });
  });
}

