import type { Task } from "./task.js";

/**
 * Dependencies: a task is ready when every task it depends on is closed as done, and blocked by
 * the ones that are not. A dependency closed as wontfix keeps blocking: whether the work that
 * waited on it still makes sense is a human's call (reopen it, drop the dependency, or close the
 * dependent too), not something to assume. All functions here are linear in tasks + dependency edges.
 */

/** The cycle `task → … → task` that giving `task` these dependencies would close, or undefined. */
export function findCycle(task: string, dependsOn: readonly string[], graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const edges = (id: string) => (id === task ? dependsOn : (graph.get(id) ?? []));
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  // Iterative depth-first search: a long chain of dependencies must not overflow the stack.
  const stack: Array<{ id: string; next: number }> = [{ id: task, next: 0 }];
  state.set(task, "visiting");
  path.push(task);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const children = edges(frame.id);
    if (frame.next >= children.length) {
      state.set(frame.id, "done");
      stack.pop();
      path.pop();
      continue;
    }
    const child = children[frame.next++]!;
    if (child === task) return [...path, task];
    if (state.has(child)) continue;
    state.set(child, "visiting");
    path.push(child);
    stack.push({ id: child, next: 0 });
  }
  return undefined;
}

export function describeCycle(cycle: readonly string[]): string {
  return cycle.join(" → ");
}

/** Whether a task, as a dependency, is met: closed as done. The SQL of task-store.ts says the same. */
export function meetsDependency(task: Pick<Task, "status" | "resolution">): boolean {
  return task.status === "closed" && task.resolution === "done";
}

/**
 * The dependencies not met: not closed, or closed as wontfix. An id naming no task blocks nothing,
 * as in the store's queries (dependencies are checked to exist when they are written).
 */
export function blockedBy(dependsOn: readonly string[], taskOf: (id: string) => Pick<Task, "status" | "resolution"> | undefined): string[] {
  return dependsOn.filter((id) => {
    const task = taskOf(id);
    return task !== undefined && !meetsDependency(task);
  });
}
