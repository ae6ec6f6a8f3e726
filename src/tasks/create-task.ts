import type { Actor } from "../core/actor.js";
import { CookError } from "../core/errors.js";
import { checkExtraYaml } from "../core/front-matter.js";
import { checkBody, checkDependsOn, checkExtra, checkParent, checkPriority, checkResolution, checkStatus, checkTaskId, checkTimestamp, checkTitle, defaultPriority, slugify, type Task } from "../core/task.js";
import { resolutionAfter } from "../core/task-status.js";
import type { Tx } from "../db/db.js";
import { findTask, idsWithPrefix, insertTask } from "../db/task-store.js";
import { appendTaskEvent, checkDependencies, checkParentLineDependencies, checkParentTask, checkRepo, type TaskDeps } from "./deps.js";

/** A task as given by a caller: every field is checked before it is used. */
export interface NewTask {
  id?: unknown;
  title?: unknown;
  priority?: unknown;
  status?: unknown;
  /** Only with status closed: done (the default) or wontfix. */
  resolution?: unknown;
  repo?: unknown;
  dependsOn?: unknown;
  /** A task id of the same repo, or null / "" / absent for none. */
  parent?: unknown;
  body?: unknown;
  createdAt?: unknown;
  updatedAt?: unknown;
  extra?: unknown;
  /** Each extra key's YAML as written in a task file; checked to read back as its value. */
  extraYaml?: unknown;
}

/** `fix-login`, or `fix-login-2`, `-3` … when taken. */
async function freeId(tx: Tx, title: string, taken: ReadonlySet<string>): Promise<string> {
  const base = slugify(title);
  const used = new Set([...(await idsWithPrefix(tx, base)), ...taken]);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) if (!used.has(`${base}-${n}`)) return `${base}-${n}`;
}

/** Validates a new task and fills in defaults; the id is the given one or a free slug of the title. */
export async function prepareTask(deps: TaskDeps, tx: Tx, input: NewTask, taken: ReadonlySet<string> = new Set()): Promise<Task> {
  const title = checkTitle(input.title);
  const repo = checkRepo(deps.dataDir, input.repo);
  let id: string;
  if (input.id !== undefined) {
    id = checkTaskId(input.id);
    if (taken.has(id) || (await findTask(tx, id))) throw new CookError("conflict", `a task with id '${id}' already exists`);
  } else {
    id = await freeId(tx, title, taken);
  }
  const now = new Date().toISOString();
  const extra = input.extra === undefined ? {} : checkExtra(input.extra);
  const status = input.status === undefined ? "open" : checkStatus(input.status);
  const resolution = resolutionAfter(status, input.resolution === undefined ? undefined : checkResolution(input.resolution));
  return {
    id,
    title,
    priority: input.priority === undefined ? defaultPriority : checkPriority(input.priority),
    status,
    ...(resolution ? { resolution } : {}),
    repo,
    dependsOn: input.dependsOn === undefined ? [] : checkDependsOn(input.dependsOn),
    ...parentField(checkParent(input.parent)),
    body: checkBody(input.body ?? ""),
    createdAt: input.createdAt === undefined ? now : checkTimestamp(input.createdAt, "created"),
    updatedAt: input.updatedAt === undefined ? (input.createdAt === undefined ? now : checkTimestamp(input.createdAt, "created")) : checkTimestamp(input.updatedAt, "updated"),
    extra,
    extraYaml: checkExtraYaml(extra, input.extraYaml),
  };
}

/** `{parent}` when there is one: a task without a parent has no key at all. */
export const parentField = (parent: string | undefined): { parent?: string } => (parent === undefined ? {} : { parent });

export async function recordNewTask(deps: TaskDeps, tx: Tx, task: Task, actor: Actor): Promise<Task> {
  const created = await insertTask(tx, task);
  await appendTaskEvent(deps, tx, created.repo, created.id, "created", { title: created.title, priority: created.priority, status: created.status, ...(created.resolution ? { resolution: created.resolution } : {}), ...parentField(created.parent) }, actor);
  return created;
}

export async function createTask(deps: TaskDeps, input: NewTask, actor: Actor): Promise<Task> {
  return deps.db.transaction(async (tx) => {
    const task = await prepareTask(deps, tx, input);
    if (task.dependsOn.includes(task.id)) throw new CookError("invalid", `depends_on would make a cycle: ${task.id} → ${task.id}`);
    await checkDependencies(tx, task.id, task.dependsOn);
    await checkParentTask(tx, task);
    const created = await recordNewTask(deps, tx, task, actor);
    if (created.parent !== undefined && created.dependsOn.length > 0) await checkParentLineDependencies(tx, created.id);
    return created;
  });
}
