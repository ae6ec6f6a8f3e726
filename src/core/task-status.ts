import { CookError } from "./errors.js";
import type { TaskStatus } from "./task.js";

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
