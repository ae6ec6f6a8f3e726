import type { Actor } from "../core/actor.js";
import { checkBranchName, type Branch } from "../core/branch.js";
import { CookError, isCookError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import { checkRepoName } from "../core/names.js";
import { insertBranch } from "../db/branch-store.js";
import { requireRepo } from "../forge/repos.js";
import { getTask } from "../tasks/read-tasks.js";
import { branchHead, defaultBranchOf } from "./branch-git.js";
import { appendBranchEvent, type BranchDeps } from "./deps.js";
import { createBranch } from "./create-branch.js";
import { parentBase } from "./parent-branch.js";
import { linkTaskIn } from "./task-link.js";

export interface TrackedBranchInput {
  repo: string;
  name: string;
  taskId?: string;
  origin: "push" | "adopt";
  /** Known head (a push's new sha); read from the repo when absent. */
  head?: string;
}

/**
 * Makes the record of a git branch that exists without one — pushed (track-pushes.ts) or adopted
 * (`cook branch adopt`) — with no environment, its base the repo's default branch (for a sub-task's
 * branch: its parent task's open branch, made first without an environment when there is none, as
 * `cook branch create` does) and its base commit where the two histories meet. Throws not_found
 * (repo, branch, task), invalid (the default branch, which is never a unit of work), conflict
 * (already tracked, the sub-task's parent closed).
 */
export async function trackBranch(deps: BranchDeps, input: TrackedBranchInput, actor: Actor | string): Promise<Branch> {
  const repo = checkRepoName(input.repo);
  const name = checkBranchName(input.name);
  const gitDir = requireRepo(deps.dataDir, repo);
  const defaultBranch = await defaultBranchOf(deps.git, gitDir, repo);
  if (name === defaultBranch) throw new CookError("invalid", `'${name}' is the default branch of ${repo}; it moves only by merges and is not tracked as work`);
  const head = input.head ?? (await branchHead(deps.git, gitDir, name));
  if (!head) throw new CookError("not_found", `no branch '${name}' in ${repo}`);
  const task = input.taskId ? await getTask(deps, input.taskId) : undefined;
  if (task && task.repo !== repo) throw new CookError("invalid", `task '${task.id}' belongs to ${task.repo}, not ${repo}`);
  const createdBy = typeof actor === "string" ? actor : actor.name;
  // A push names its pusher only; making the parent's branch needs no more than a user's rights.
  const maker: Actor = typeof actor === "string" ? { name: actor, scope: "user" } : actor;
  const parent = task && task.status !== "closed" ? await parentBase(deps, task, async (parentId) => {
    const made = await createBranch(deps, { repo, task: parentId, env: "none" }, maker);
    return { branch: made.branch, madeParents: made.madeParents };
  }).catch((err: unknown) => {
    // The push has happened: a parent that cannot take it (closed, gone) leaves it based on the default branch.
    if (input.origin === "push" && isCookError(err) && err.code !== "unavailable") return undefined;
    throw err;
  }) : undefined;
  const baseBranch = parent?.branch.name ?? defaultBranch;
  const baseHead = await branchHead(deps.git, gitDir, baseBranch);
  const meet = baseHead ? (await deps.git.run(gitDir, ["merge-base", baseHead, head], { okCodes: [1] })).stdout.toString().trim() : "";
  const now = new Date().toISOString();
  return deps.db.transaction(async (tx) => {
    const branch = await insertBranch(tx, { id: newId("brn"), repo, name, baseBranch, baseCommit: meet || baseHead || head, taskId: task?.id, status: "open", origin: input.origin, createdBy, createdAt: now, updatedAt: now, endedAt: undefined, archiveRef: undefined });
    await appendBranchEvent(deps, tx, branch, "created", { origin: input.origin, base: baseBranch, baseCommit: branch.baseCommit, head, task: task?.id ?? null, env: "none", ...(parent ? { parentTask: task!.parent } : {}) }, actor);
    if (task && task.status !== "closed") await linkTaskIn(deps, tx, task.id, actor);
    return branch;
  });
}
