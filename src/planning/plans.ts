import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { AgentDeps } from "../agents/deps.js";
import { deadline } from "../agents/run-deadline.js";
import { runAgentOnce } from "../agents/run-once.js";
import { checkAgent } from "../agents/sessions.js";
import type { Actor } from "../core/actor.js";
import type { AgentEvent } from "../core/agent-event.js";
import { showInput } from "../core/show-input.js";
import { CookError, isCookError } from "../core/errors.js";
import { newId, isId } from "../core/ids.js";
import { checkRepoName } from "../core/names.js";
import { checkCharacters, type Task } from "../core/task.js";
import type { Tx } from "../db/db.js";
import { findPlan, insertPlan, plansInState, updatePlan, type Plan } from "../db/plan-store.js";
import { backendFor } from "../environments/backends.js";
import { newEvent } from "../events/event.js";
import { subjects } from "../events/subjects.js";
import { readDefaultCookToml } from "../forge/default-cook-toml.js";
import { repoDir } from "../forge/paths.js";
import { requireRepo } from "../forge/repos.js";
import { gateCheckoutsDir, gateEnvironment, makeGateCheckout, removeGateCheckout } from "../gates/gate-checkout.js";
import { finalReply } from "../gates/review-verdict.js";
import { checkDependencies, checkParentLineDependencies, checkParentTask } from "../tasks/deps.js";
import { prepareTask, recordNewTask } from "../tasks/create-task.js";
import { listTasks } from "../tasks/read-tasks.js";
import { acceptedDrafts, parsePlanAnswer, type TaskDraft } from "./plan-format.js";
import { planPrompt } from "./plan-prompt.js";

/** A goal is a paragraph or two, not a document (characters). */
export const maxGoalChars = 4000;
/** A planner that has not answered by then is killed and the plan fails. */
export const planTimeoutMs = 30 * 60_000;
/** Runs of the planner per plan: its answer goes back once with the problems found. */
const maxAttempts = 2;

/** Planners running in this process, by plan id, so a shutdown stops them and waits for their record. */
const running = new Map<string, { abort: AbortController; done: Promise<void> }>();

async function appendPlanEvent(deps: Pick<AgentDeps, "events">, tx: Tx, plan: Plan, action: "started" | "drafted" | "failed" | "accepted", data: object, actor: Actor): Promise<void> {
  await deps.events.append(tx, newEvent(subjects.plan(plan.repo, plan.id, action), plan.repo, { data: { id: plan.id, goal: plan.goal, ...data, by: actor.name } }));
}

/**
 * `cook plan <repo> "<goal>" [--agent]`: records a plan and starts its planner in the background:
 * the agent runs once, read-only, in a throwaway checkout of the default branch, asked to break the
 * goal into task drafts in the fixed ```cook-plan format (plan-format.ts). An answer that cannot be
 * read or fails validation goes back to it once with the problems; then the plan is `drafted`, or
 * `failed` with the reason and the raw answer kept. Throws invalid (no goal, a goal over
 * maxGoalChars, an unknown agent), not_found (repo), conflict (the repo has no default branch or
 * commit to plan on).
 */
export async function startPlan(deps: AgentDeps, input: { repo?: unknown; goal?: unknown; agent?: unknown }, actor: Actor): Promise<Plan> {
  const repo = checkRepoName(input.repo);
  requireRepo(deps.dataDir, repo);
  if (input.goal !== undefined && input.goal !== null && typeof input.goal !== "string") throw new CookError("invalid", `the goal is text, not ${showInput(input.goal)}`);
  if (typeof input.goal !== "string" || input.goal.trim() === "") throw new CookError("invalid", "the goal is empty: say what to plan");
  const goal = input.goal.trim();
  if (goal.length > maxGoalChars * 2 || [...goal].length > maxGoalChars) throw new CookError("too_large", `a goal is at most ${maxGoalChars} characters`);
  // PostgreSQL text holds no NUL and no lone surrogate.
  checkCharacters("the goal", goal);
  const agent = checkAgent(deps, input.agent === undefined || input.agent === "" ? deps.defaultAgent : input.agent);
  const file = await readDefaultCookToml(deps, repo);
  if (!file.ok) throw new CookError("conflict", `cannot plan: ${file.problem}`);
  const plan = await deps.db.transaction(async (tx) => {
    const created = await insertPlan(tx, { id: newId("pln"), repo, goal, agent: agent.name, createdBy: actor.name });
    await appendPlanEvent(deps, tx, created, "started", { agent: agent.name }, actor);
    return created;
  });
  const abort = new AbortController();
  const done = runPlanner(deps, plan, file.head, abort.signal)
    .catch((err: Error) => deps.log.error({ err, plan: plan.id }, "planner failed"))
    .finally(() => running.delete(plan.id));
  running.set(plan.id, { abort, done });
  return plan;
}

/** Runs the planner (twice at most) and records what came of it. */
async function runPlanner(deps: AgentDeps, plan: Plan, head: string, signal: AbortSignal): Promise<void> {
  const actor: Actor = { name: plan.createdBy, scope: "admin" };
  const repoTasks = await listTasks(deps, { repo: plan.repo, limit: 5000 });
  const existing = new Set(repoTasks.map((task) => task.id));
  let previous: { answer: string; problems: string[] } | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const run = await askPlanner(deps, plan, head, attempt, planPrompt({ goal: plan.goal, repo: plan.repo, openTasks: repoTasks.filter((t) => t.status !== "closed"), previous }), signal);
    if ("error" in run) return finish(deps, plan, { state: "failed", error: run.error, answer: run.answer, attempts: attempt }, actor);
    const read = parsePlanAnswer(run.answer, existing);
    if ("drafts" in read) return finish(deps, plan, { state: "drafted", drafts: read.drafts, answer: run.answer, attempts: attempt }, actor);
    previous = { answer: run.answer, problems: read.problems };
  }
  await finish(deps, plan, { state: "failed", error: `the planner's answer could not be used: ${previous!.problems.join("; ")}`, answer: previous!.answer, attempts: maxAttempts }, actor);
}

async function finish(deps: AgentDeps, plan: Plan, outcome: { state: "drafted" | "failed"; drafts?: TaskDraft[]; answer: string; error?: string; attempts: number }, actor: Actor): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const saved = await updatePlan(tx, plan.id, { state: outcome.state, drafts: outcome.drafts, answer: outcome.answer, error: outcome.error ?? null, attempts: outcome.attempts });
    await appendPlanEvent(deps, tx, saved, outcome.state, outcome.state === "drafted" ? { drafts: saved.drafts.length } : { error: outcome.error }, actor);
  });
}

/** One run of the planner: its final reply, or why there is none. */
async function askPlanner(deps: AgentDeps, plan: Plan, head: string, attempt: number, prompt: string, signal: AbortSignal): Promise<{ answer: string } | { error: string; answer: string }> {
  const agent = checkAgent(deps, plan.agent);
  const checkout = join(gateCheckoutsDir(deps.dataDir), `${plan.id}-${attempt}`);
  const environment = gateEnvironment({ runId: `${plan.id}-${attempt}`, branchId: plan.id, backend: "local", network: true }, checkout);
  const limit = deadline(signal, planTimeoutMs);
  const tail: AgentEvent[] = [];
  try {
    await makeGateCheckout(repoDir(deps.dataDir, plan.repo), checkout, head);
    for (const folder of backendFor("local").privateFolders(environment)) mkdirSync(folder, { recursive: true });
    const result = await runAgentOnce({
      agent,
      context: { environment, repo: plan.repo, branch: "", serverUrl: deps.factory.url(), token: "", dataDir: deps.dataDir },
      prompt,
      readOnly: true,
      id: `plan-${plan.id}-${attempt}`,
      env: { COOK_PLAN_ID: plan.id },
      signal: limit.signal,
      onEvent(event) {
        if (event.kind === "tool_call" || event.kind === "tool_result") tail.length = 0;
        tail.push(event);
      },
    });
    const answer = finalReply(tail);
    if (signal.aborted) return { error: "the server stopped while planning; plan again", answer };
    if (limit.timedOut()) return { error: `the planner '${agent.name}' did not answer within ${planTimeoutMs / 60_000} minutes and was killed`, answer };
    if (result.startError) return { error: `could not plan: ${result.startError}`, answer };
    if (result.exitCode !== 0) return { error: `the planner '${agent.name}' exited with code ${result.exitCode}${result.lastError ? `: ${result.lastError.split("\n")[0]!.slice(0, 200)}` : ""}`, answer };
    return { answer };
  } catch (err) {
    if (!isCookError(err)) throw err;
    return { error: `could not plan: ${err.message}`, answer: finalReply(tail) };
  } finally {
    limit.dispose();
    removeGateCheckout(environment);
  }
}

/** A plan by id; throws not_found. */
export async function getPlan(deps: Pick<AgentDeps, "db">, id: unknown): Promise<Plan> {
  const plan = typeof id === "string" && isId("pln", id) ? await findPlan(deps.db, id) : undefined;
  if (!plan) throw new CookError("not_found", `no plan ${showInput(id)}`);
  return plan;
}

/**
 * `cook plan accept <id> [task ids…]`: the drafts a person chose (all not accepted yet when none
 * are named) become tasks, in one transaction, each with `plan: <id>` (and its `stage`) in its
 * front matter; the plan is `accepted`, its ids added to those accepted before (a plan may be
 * accepted in parts). Throws not_found (plan), conflict (the plan is planning or failed, a draft
 * accepted before, none left, a draft's id taken since), invalid (an id not in the plan, a chosen
 * draft depending on, or part of, one neither chosen nor accepted before).
 */
export async function acceptPlan(deps: AgentDeps, id: unknown, selected: unknown, actor: Actor): Promise<{ plan: Plan; tasks: Task[] }> {
  if (selected !== undefined && !(Array.isArray(selected) && selected.every((s) => typeof s === "string"))) throw new CookError("invalid", "tasks must be a list of draft ids");
  return deps.db.transaction(async (tx) => {
    const locked = typeof id === "string" && isId("pln", id) ? await findPlan(tx, id, { forUpdate: true }) : undefined;
    if (!locked) throw new CookError("not_found", `no plan ${showInput(id)}`);
    if (locked.state !== "drafted" && locked.state !== "accepted") throw new CookError("conflict", `plan ${locked.id} is ${locked.state}; only a drafted plan is accepted`);
    const chosen = acceptedDrafts(locked.drafts, (selected as string[] | undefined)?.length ? (selected as string[]) : undefined, locked.accepted);
    if (chosen.length === 0) throw new CookError("conflict", `every draft of plan ${locked.id} is a task already`);
    const prepared: Task[] = [];
    for (const draft of chosen) {
      try {
        prepared.push(await prepareTask(deps, tx, { id: draft.id, title: draft.title, body: draft.body, priority: draft.priority, repo: locked.repo, dependsOn: draft.dependsOn, parent: draft.parent, extra: { plan: locked.id, ...(draft.stage ? { stage: draft.stage } : {}) } }));
      } catch (err) {
        if (isCookError(err) && err.code === "conflict") throw new CookError("conflict", `draft '${draft.id}': ${err.message} (since the plan was made); edit the plan's task file and import it instead`);
        throw err;
      }
    }
    const pending = new Map(prepared.map((task) => [task.id, task.dependsOn]));
    for (const task of prepared) await checkDependencies(tx, task.id, task.dependsOn, pending);
    const parents = new Map(prepared.map((task) => [task.id, { repo: task.repo, parent: task.parent }]));
    for (const task of prepared) await checkParentTask(tx, task, parents);
    const tasks: Task[] = [];
    for (const task of prepared) tasks.push(await recordNewTask(deps, tx, task, actor));
    for (const task of tasks) if (task.parent !== undefined) await checkParentLineDependencies(tx, task.id);
    const saved = await updatePlan(tx, locked.id, { state: "accepted", accepted: [...locked.accepted, ...tasks.map((t) => t.id)] });
    await appendPlanEvent(deps, tx, saved, "accepted", { tasks: tasks.map((t) => t.id) }, actor);
    return { plan: saved, tasks };
  });
}

/** At start-up: a plan still `planning` lost its planner with the server that ran it. */
export async function recoverPlans(deps: AgentDeps): Promise<void> {
  for (const plan of await plansInState(deps.db, "planning")) {
    if (running.has(plan.id)) continue;
    await finish(deps, plan, { state: "failed", error: "the server stopped while planning; plan again", answer: plan.answer ?? "", attempts: plan.attempts }, { name: plan.createdBy, scope: "admin" });
  }
}

/** On shutdown: every planner is killed; its plan fails saying so. */
export async function stopAllPlanners(): Promise<void> {
  const planners = [...running.values()];
  for (const planner of planners) planner.abort.abort();
  await Promise.all(planners.map((planner) => planner.done));
}
