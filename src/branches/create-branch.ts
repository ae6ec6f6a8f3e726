import type { Actor } from "../core/actor.js";
import { branchNameForTask, branchStemForPrompt, checkBranchName, type Branch, type Environment } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { failpoint } from "../core/failpoints.js";
import { newId } from "../core/ids.js";
import { checkRepoName } from "../core/names.js";
import { serializeTask } from "../core/task-document.js";
import type { Task } from "../core/task.js";
import { parseRepoConfig } from "../config/repo-config.js";
import { insertBranch, oldestOpenBranchOfTask, openNamesWithPrefix } from "../db/branch-store.js";
import { childrenOf } from "../db/task-store.js";
import { createEnvironment } from "../environments/create-environment.js";
import { requireRepo } from "../forge/repos.js";
import { listRefs } from "../git/refs.js";
import { getTask } from "../tasks/read-tasks.js";
import { branchHead, createBranchRef, defaultBranchOf, fileAtCommit } from "./branch-git.js";
import { appendBranchEvent, type BranchDeps } from "./deps.js";
import { parseEnvironmentChoice, type EnvironmentChoice } from "./environment-choice.js";
import { parentBase } from "./parent-branch.js";
import { linkTaskIn } from "./task-link.js";

/** `cook branch create` and the API and form behind it. Everything is checked; unknown fields are ignored. */
export interface NewBranch {
  repo?: unknown;
  name?: unknown;
  task?: unknown;
  base?: unknown;
  /** `local`, `local:<absolute path>`, `sandbox` or `none`; default: cook.toml's backend, else local. */
  env?: unknown;
  /** An agent's prompt: with neither a name nor a task, the name is made from its first words. */
  prompt?: unknown;
}

export interface CreatedBranch {
  branch: Branch;
  environment: Environment | undefined;
  /** Branches made first for the task's parents (a sub-task started before its parent had one), nearest first. */
  madeParents: Branch[];
}

/**
 * Creates a branch: the git ref from the base (default: the parent task's branch for a sub-task —
 * made first, without an environment, when the parent has none — else the repo's default branch), the record with
 * its one `cook.branch.<repo>.<name>.created` event (and the task moved to in_progress, in the same
 * transaction), then the environment. Throws invalid (a bad name, no name and no task, a task of
 * another repo, an unknown backend), not_found (repo, base, task), conflict (the branch exists, the
 * task is closed, the task has sub-tasks and a branch already), forbidden (`local:<path>` for a non-admin).
 */
export async function createBranch(deps: BranchDeps, input: NewBranch, actor: Actor): Promise<CreatedBranch> {
  const repo = checkRepoName(input.repo);
  // What can be judged from the request alone is, before anything is looked up.
  const requestedName = input.name === undefined || input.name === "" ? undefined : checkBranchName(input.name);
  const requestedEnv = input.env === undefined ? undefined : parseEnvironmentChoice(input.env);
  const gitDir = requireRepo(deps.dataDir, repo);
  const task = input.task === undefined || input.task === "" ? undefined : await usableTask(deps, input.task, repo);
  if (task) await refuseSecondParentBranch(deps, task);
  const explicitBase = input.base === undefined || input.base === "" ? undefined : checkBranchName(input.base, "base branch");
  // A sub-task's branch starts from its parent's, made first (with no environment) if need be.
  const parent = explicitBase === undefined && task ? await parentBase(deps, task, async (parentId) => {
    const made = await createBranch(deps, { repo, task: parentId, env: "none" }, actor);
    return { branch: made.branch, madeParents: made.madeParents };
  }) : undefined;
  if (parent?.made.length) failpoint("branch:parent-made");
  const baseBranch = explicitBase ?? parent?.branch.name ?? (await defaultBranchOf(deps.git, gitDir, repo));
  const baseCommit = await branchHead(deps.git, gitDir, baseBranch);
  if (!baseCommit) throw new CookError("not_found", `no branch '${baseBranch}' in ${repo} to start from${input.base === undefined ? " (the repo is empty: push a first commit)" : ""}`);

  const cookToml = await fileAtCommit(deps.git, gitDir, baseCommit, "cook.toml");
  const config = parseRepoConfig(cookToml, `cook.toml on ${baseBranch}`).environment;
  const choice: EnvironmentChoice = requestedEnv ?? parseEnvironmentChoice(config.backend ?? "local");
  if (choice.path !== undefined && actor.scope !== "admin") throw new CookError("forbidden", "only an admin may place an environment at a chosen path; leave out :<path>");

  const stem = task?.id ?? (typeof input.prompt === "string" && input.prompt.trim() !== "" ? branchStemForPrompt(input.prompt) : undefined);
  const name = requestedName ?? (await derivedName(deps, gitDir, repo, stem));
  await createBranchRef(deps.git, gitDir, repo, name, baseCommit);
  const now = new Date().toISOString();
  let branch: Branch;
  try {
    branch = await deps.db.transaction(async (tx) => {
      const created = await insertBranch(tx, { id: newId("brn"), repo, name, baseBranch, baseCommit, taskId: task?.id, status: "open", origin: "create", createdBy: actor.name, createdAt: now, updatedAt: now, endedAt: undefined, archiveRef: undefined });
      await appendBranchEvent(deps, tx, created, "created", { origin: "create", base: baseBranch, baseCommit, head: baseCommit, task: task?.id ?? null, env: choice.backend, ...(parent ? { parentTask: task!.parent } : {}) }, actor);
      if (task) await linkTaskIn(deps, tx, task.id, actor);
      return created;
    });
  } catch (err) {
    // The ref was made for this record alone: without the record it goes too.
    await deps.git.run(gitDir, ["update-ref", "-d", `refs/heads/${name}`, baseCommit]).catch(() => {});
    throw err;
  }
  const madeParents = parent?.made ?? [];
  if (choice.backend === "none") return { branch, environment: undefined, madeParents };
  const environment = await createEnvironment(deps, branch, { backend: choice.backend, path: choice.path, config, taskMarkdown: task ? serializeTask(task) : undefined });
  return { branch, environment, madeParents };
}

/** A task with sub-tasks collects them on one branch: a second would get none of their work. */
async function refuseSecondParentBranch(deps: BranchDeps, task: Task): Promise<void> {
  if ((await childrenOf(deps.db, task.id)).length === 0) return;
  const open = await oldestOpenBranchOfTask(deps.db, task.id);
  if (open) throw new CookError("conflict", `task '${task.id}' has sub-tasks, and their branches merge into its branch '${open.name}': work on that one`);
}

async function usableTask(deps: BranchDeps, id: unknown, repo: string): Promise<Task> {
  if (typeof id !== "string") throw new CookError("invalid", "task must be a task id");
  const task = await getTask(deps, id);
  if (task.repo !== repo) throw new CookError("invalid", `task '${task.id}' belongs to ${task.repo}, not ${repo}`);
  if (task.status === "closed") throw new CookError("conflict", `task '${task.id}' is closed; reopen it to work on it`);
  return task;
}

/** The stem (a task's id, or a prompt's first words) made unique with `-2`, `-3` against open records and git branches. */
async function derivedName(deps: BranchDeps, gitDir: string, repo: string, stem: string | undefined): Promise<string> {
  if (!stem) throw new CookError("invalid", "give the branch a name, or a task (--task) or a prompt (--prompt) to name it after");
  const tracked = await openNamesWithPrefix(deps.db, repo, stem);
  const inGit = (await listRefs(deps.git, gitDir, [`refs/heads/${stem}`])).map((ref) => ref.short);
  // for-each-ref matches whole path components: refs/heads/fix also lists refs/heads/fix/x, not fix-2.
  const moreInGit = (await listRefs(deps.git, gitDir, ["refs/heads/"])).map((ref) => ref.short).filter((short) => short.startsWith(`${stem}-`));
  return branchNameForTask(stem, new Set([...tracked, ...inGit, ...moreInGit]));
}
