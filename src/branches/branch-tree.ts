/** What placing a branch in the tree needs: where it came from and when. */
export interface TreeBranch {
  id: string;
  repo: string;
  name: string;
  baseBranch: string;
  createdAt: string;
}

/** A branch in tree order: `depth` 0 for a branch whose base is not in the list, 1 for its sub-branches, and so on. */
export type Placed<T> = T & { depth: number; into: string | undefined };

/**
 * Orders branches as a tree: each sub-branch (a branch made from another listed branch of its repo,
 * e.g. a sub-task's from its parent task's) right after its base, one level deeper, keeping the
 * given order among siblings and among roots. A base is the listed branch of that name made before
 * the sub-branch (names are reused once a branch ends). `into` names the base of a sub-branch.
 * Linear in branches.
 */
export function branchTree<T extends TreeBranch>(branches: readonly T[]): Array<Placed<T>> {
  const byName = new Map<string, T[]>();
  for (const branch of branches) {
    const key = `${branch.repo}\u0000${branch.name}`;
    byName.set(key, [...(byName.get(key) ?? []), branch]);
  }
  const baseOf = (branch: T): T | undefined =>
    (byName.get(`${branch.repo}\u0000${branch.baseBranch}`) ?? [])
      .filter((candidate) => candidate.id !== branch.id && candidate.createdAt <= branch.createdAt)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0];
  const children = new Map<string, T[]>();
  const roots: T[] = [];
  for (const branch of branches) {
    const base = baseOf(branch);
    if (base) children.set(base.id, [...(children.get(base.id) ?? []), branch]);
    else roots.push(branch);
  }
  const placed: Array<Placed<T>> = [];
  const seen = new Set<string>();
  // Iterative, so a deep chain cannot overflow the stack; `seen` guards against a loop of equal times.
  const stack = roots.map((branch) => ({ branch, depth: 0, into: undefined as string | undefined })).reverse();
  while (stack.length > 0) {
    const { branch, depth, into } = stack.pop()!;
    if (seen.has(branch.id)) continue;
    seen.add(branch.id);
    placed.push({ ...branch, depth, into });
    for (const child of [...(children.get(branch.id) ?? [])].reverse()) stack.push({ branch: child, depth: depth + 1, into: branch.name });
  }
  // Branches only reachable through a loop (same names, same times) are listed as roots.
  for (const branch of branches) if (!seen.has(branch.id)) placed.push({ ...branch, depth: 0, into: undefined });
  return placed;
}
