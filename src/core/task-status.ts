import { CookError } from "./errors.js";
import type { Task, TaskResolution, TaskStatus } from "./task.js";

/**
 * The one place task status changes are decided. A closed task can only be reopened; work that
 * needs a human goes back to an agent (in_progress) or back to the queue (open).
 */
const allowed: Record<TaskStatus, readonly TaskStatus[]> = {
  open: ["in_progress", "closed"],
  in_progress: ["open", "needs_human", "closed"],
  needs_human: ["in_progress", "open", "closed"],
  closed: ["open"],
};

export function canMove(from: TaskStatus, to: TaskStatus): boolean {
  return allowed[from].includes(to);
}

export function checkTransition(id: string, from: TaskStatus, to: TaskStatus): void {
  if (from === to) throw new CookError("conflict", `task '${id}' is already ${to.replace("_", " ")}`);
  if (!canMove(from, to)) {
    throw new CookError("conflict", `task '${id}' cannot go from ${from} to ${to}; from ${from} it can go to ${allowed[from].join(" or ")}`);
  }
}

/**
 * The resolution a task has after a change to `status`: one exactly when closed. A close that
 * names none is done; a closed task keeps its own unless the change names another. Naming one for
 * any other status is refused, so a reopened task cannot carry one along.
 */
export function resolutionAfter(status: TaskStatus, given: TaskResolution | undefined, current?: Pick<Task, "status" | "resolution">): TaskResolution | undefined {
  if (status !== "closed") {
    if (given !== undefined) throw new CookError("invalid", `resolution is only for a closed task; the status is ${status}`);
    return undefined;
  }
  return given ?? (current?.status === "closed" ? current.resolution : undefined) ?? "done";
}

const resolutionNames: Record<TaskResolution, string> = { done: "done", wontfix: "won't fix" };

/** `done`, `won't fix`: a resolution as people read it. */
export function describeResolution(resolution: TaskResolution): string {
  return resolutionNames[resolution];
}

/** The status as lists and pages show it: a closed task says how it ended, `closed (won't fix)`. */
export function describeStatus(task: Pick<Task, "status" | "resolution">): string {
  return task.status === "closed" ? `closed (${describeResolution(task.resolution ?? "done")})` : task.status;
}
