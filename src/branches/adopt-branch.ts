import type { Actor } from "../core/actor.js";
import { checkBranchName, type Branch } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import { checkRepoName } from "../core/names.js";
import { insertBranch } from "../db/branch-store.js";
import { requireRepo } from "../forge/repos.js";
import { getTask } from "../tasks/read-tasks.js";
import { branchHead, defaultBranchOf } from "./branch-git.js";
import { appendBranchEvent, type BranchDeps } from "./deps.js";
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
 * (`cook branch adopt`) — with no environment, its base the repo's default branch and its base
 * commit where the two histories meet. Throws not_found (repo, branch, task), invalid (the default
 * branch, which is never a unit of work), conflict (already tracked).
 */
export async function trackBranch(deps: BranchDeps, input: TrackedBranchInput, actor: Actor | string): Promise<Branch> {
  const repo = checkRepoName(input.repo);
  const name = checkBranchName(input.name);
  const gitDir = requireRepo(deps.dataDir, repo);
  const baseBranch = await defaultBranchOf(deps.git, gitDir, repo);
  if (name === baseBranch) throw new CookError("invalid", `'${name}' is the default branch of ${repo}; it moves only by merges and is not tracked as work`);
  const head = input.head ?? (await branchHead(deps.git, gitDir, name));
  if (!head) throw new CookError("not_found", `no branch '${name}' in ${repo}`);
  const baseHead = await branchHead(deps.git, gitDir, baseBranch);
  const meet = baseHead ? (await deps.git.run(gitDir, ["merge-base", baseHead, head], { okCodes: [1] })).stdout.toString().trim() : "";
  const task = input.taskId ? await getTask(deps, input.taskId) : undefined;
  if (task && task.repo !== repo) throw new CookError("invalid", `task '${task.id}' belongs to ${task.repo}, not ${repo}`);
  const now = new Date().toISOString();
  const createdBy = typeof actor === "string" ? actor : actor.name;
  return deps.db.transaction(async (tx) => {
    const branch = await insertBranch(tx, { id: newId("brn"), repo, name, baseBranch, baseCommit: meet || baseHead || head, taskId: task?.id, status: "open", origin: input.origin, createdBy, createdAt: now, updatedAt: now, endedAt: undefined, archiveRef: undefined });
    await appendBranchEvent(deps, tx, branch, "created", { origin: input.origin, base: baseBranch, baseCommit: branch.baseCommit, head, task: task?.id ?? null, env: "none" }, actor);
    if (task && task.status !== "closed") await linkTaskIn(deps, tx, task.id, actor);
    return branch;
  });
}
