import type { Actor } from "../core/actor.js";
import { CookError } from "../core/errors.js";
import { parseTaskDocument } from "../core/task-document.js";
import type { Task } from "../core/task.js";
import { checkDependencies, checkParentLineDependencies, checkParentTask, type TaskDeps } from "./deps.js";
import { prepareTask, recordNewTask } from "./create-task.js";

export interface TaskFile {
  /** Where it came from, for error messages: `tasks/fix-login.md`. */
  name: string;
  text: string;
}

/**
 * Imports task files all or nothing: one transaction, dependencies may point at other files of
 * the same import, and every problem names its file. Times and extra keys are kept as written,
 * so an export imported into an empty factory reproduces every task exactly.
 */
export async function importTasks(deps: TaskDeps, files: readonly TaskFile[], actor: Actor): Promise<Task[]> {
  const inFile = async <T>(file: TaskFile, work: () => Promise<T> | T): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof CookError) throw new CookError(err.code, `${file.name}: ${err.message}`);
      throw err;
    }
  };
  const docs = await Promise.all(files.map((file) => inFile(file, () => parseTaskDocument(file.text))));
  return deps.db.transaction(async (tx) => {
    const prepared: Task[] = [];
    const taken = new Set<string>();
    for (const [i, doc] of docs.entries()) {
      const task = await inFile(files[i]!, () => prepareTask(deps, tx, doc, taken));
      taken.add(task.id);
      prepared.push(task);
    }
    const pending = new Map(prepared.map((task) => [task.id, task.dependsOn]));
    for (const [i, task] of prepared.entries()) await inFile(files[i]!, () => checkDependencies(tx, task.id, task.dependsOn, pending));
    const parents = new Map(prepared.map((task) => [task.id, { repo: task.repo, parent: task.parent }]));
    for (const [i, task] of prepared.entries()) await inFile(files[i]!, () => checkParentTask(tx, task, parents));
    const created: Task[] = [];
    for (const task of prepared) created.push(await recordNewTask(deps, tx, { ...task, dependsOn: task.dependsOn }, actor));
    for (const [i, task] of created.entries()) if (task.parent !== undefined) await inFile(files[i]!, () => checkParentLineDependencies(tx, task.id));
    return created;
  });
}
