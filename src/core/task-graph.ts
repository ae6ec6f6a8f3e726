/**
 * Dependencies: a task is ready when every task it depends on is closed, and blocked by the ones
 * that are not. All functions here are linear in tasks + dependency edges.
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

/** The dependencies that are not closed yet. */
export function blockedBy(dependsOn: readonly string[], statusOf: (id: string) => string | undefined): string[] {
  return dependsOn.filter((id) => statusOf(id) !== "closed");
}
