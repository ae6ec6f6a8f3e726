import type { AgentDeps } from "../agents/deps.js";
import { humanReasonsOfTasks } from "../agents/read-sessions.js";
import type { Actor } from "../core/actor.js";
import { CookError } from "../core/errors.js";
import { checkRepoName } from "../core/names.js";
import { showInput } from "../core/show-input.js";
import type { Task } from "../core/task.js";
import { recordStageContinue, stageContinues } from "../db/autopilot-store.js";
import { requireRepo } from "../forge/repos.js";
import { listTasks } from "../tasks/read-tasks.js";
import { appendAutopilotEvent } from "./events.js";

/** Tasks read per repo to work out its stages. */
const maxStageTasks = 5000;

/**
 * A stage: the tasks whose front matter says `stage: <name>`, run in order. It has **ended** when
 * none of its tasks is open or in progress (each closed, or waiting on a human), and the next
 * stage's tasks start only once a person has continued past it (`cook stage continue`).
 */
export interface StageSummary {
  name: string;
  tasks: number;
  /** Closed as done (merged, or done by a person). */
  done: number;
  wontfix: number;
  /** Open or in progress. */
  working: number;
  /** Waiting on a human, with what they wait for. */
  needsHuman: Array<{ id: string; title: string; reason: string | undefined }>;
  ended: boolean;
  continued: { by: string; at: string } | undefined;
  /** running: its tasks may start; held: an earlier stage has not been continued past; ended: waits for a person; continued. */
  state: "running" | "held" | "ended" | "continued";
  /** "3 merged, 1 failed: <reason>": what a person reads before continuing. */
  summary: string;
}

/** A task's stage: front-matter `stage`, a text or a whole number; undefined for none. */
export function stageOf(task: Pick<Task, "extra">): string | undefined {
  const value = task.extra.stage;
  if (typeof value === "number" && Number.isInteger(value)) return String(value);
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  return undefined;
}

/** Stage order: names that are whole numbers by value and first, then the rest alphabetically (1, 2, 10, design, ship). */
export function compareStages(a: string, b: string): number {
  const numeric = (s: string) => (/^\d+$/.test(s) ? Number(s) : undefined);
  const [na, nb] = [numeric(a), numeric(b)];
  if (na !== undefined && nb !== undefined) return na - nb;
  if (na !== undefined) return -1;
  if (nb !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The stages of a repo in order, each with its counts, whether it ended, who continued past it, and its state. */
export async function readStages(deps: AgentDeps, repo: string): Promise<StageSummary[]> {
  const tasks = (await listTasks(deps, { repo, limit: maxStageTasks })).filter((task) => stageOf(task) !== undefined);
  const names = [...new Set(tasks.map((task) => stageOf(task)!))].sort(compareStages);
  const [continues, waiting] = await Promise.all([stageContinues(deps.db, repo), humanReasonsOfTasks(deps, tasks.filter((t) => t.status === "needs_human").map((t) => t.id))]);
  let held = false;
  return names.map((name) => {
    const mine = tasks.filter((task) => stageOf(task) === name);
    const done = mine.filter((t) => t.status === "closed" && t.resolution !== "wontfix").length;
    const wontfix = mine.filter((t) => t.status === "closed" && t.resolution === "wontfix").length;
    const working = mine.filter((t) => t.status === "open" || t.status === "in_progress").length;
    const needsHuman = mine.filter((t) => t.status === "needs_human").map((t) => ({ id: t.id, title: t.title, reason: waiting.get(t.id) }));
    const ended = working === 0;
    const continued = continues.get(name);
    const state: StageSummary["state"] = held ? "held" : continued && ended ? "continued" : ended ? "ended" : "running";
    if (state !== "continued") held = true;
    const started = mine.filter((t) => t.status === "in_progress").length;
    const notStarted = working - started;
    const parts = [`${done} merged`, ...(wontfix ? [`${wontfix} won't fix`] : []), ...(needsHuman.length ? [`${needsHuman.length} failed: ${needsHuman.map((t) => `${t.id} (${t.reason ?? "needs a human"})`).join("; ")}`] : []), ...(started ? [`${started} still working`] : []), ...(notStarted ? [`${notStarted} not started`] : [])];
    return { name, tasks: mine.length, done, wontfix, working, needsHuman, ended, continued, state, summary: parts.join(", ") };
  });
}

/** Whether autopilot may start a task of this stage now (a task without a stage always may). */
export function stageAllows(stages: readonly StageSummary[], stage: string | undefined): boolean {
  if (stage === undefined) return true;
  const found = stages.find((s) => s.name === stage);
  return found !== undefined && found.state !== "held";
}

/**
 * `cook stage continue <repo> <stage>`: a person has looked at an ended stage's summary, and the
 * next stage's tasks may start. Announced as `cook.autopilot.<repo>.continued`. Throws not_found for
 * an unknown repo or stage, conflict while the stage still has tasks working, or an earlier stage
 * has not been continued past, or it was continued already.
 */
export async function continueStage(deps: AgentDeps, repoName: unknown, stage: unknown, actor: Actor): Promise<StageSummary[]> {
  const repo = checkRepoName(repoName);
  requireRepo(deps.dataDir, repo);
  if (typeof stage !== "string" || stage.trim() === "") throw new CookError("invalid", "name the stage to continue past");
  const stages = await readStages(deps, repo);
  // YAML reads `stage: 01` as the number 1: "01" names that stage too.
  const wanted = /^\d+$/.test(stage.trim()) ? String(Number(stage.trim())) : stage.trim();
  const found = stages.find((s) => s.name === stage.trim()) ?? stages.find((s) => s.name === wanted);
  // The name came in a URL, as long as the sender liked: the message echoes only its start.
  if (!found) throw new CookError("not_found", `${repo} has no stage ${showInput(stage, 80)}; its stages: ${stages.map((s) => s.name).join(", ") || "none"}`);
  if (found.state === "held") throw new CookError("conflict", `stage '${found.name}' has not started: continue past the stages before it first`);
  if (found.state === "continued") throw new CookError("conflict", `stage '${found.name}' was continued past already, by ${found.continued!.by}`);
  if (!found.ended) throw new CookError("conflict", `stage '${found.name}' has not ended: ${found.summary}`);
  await deps.db.transaction(async (tx) => {
    if (!(await recordStageContinue(tx, repo, found.name, actor.name))) throw new CookError("conflict", `stage '${found.name}' was continued past already`);
    await appendAutopilotEvent(deps, tx, repo, "continued", { stage: found.name, summary: found.summary }, actor);
  });
  return readStages(deps, repo);
}
