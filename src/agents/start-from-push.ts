import type { Actor } from "../core/actor.js";
import type { Branch } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { parseRepoConfig } from "../config/repo-config.js";
import { findLiveEnvironment } from "../db/environment-store.js";
import { branchHead, fileAtCommit } from "../branches/branch-git.js";
import { parseEnvironmentChoice } from "../branches/environment-choice.js";
import { pushOption } from "../branches/track-pushes.js";
import { createEnvironment } from "../environments/create-environment.js";
import { repoDir } from "../forge/paths.js";
import { serializeTask } from "../core/task-document.js";
import { getTask } from "../tasks/read-tasks.js";
import type { AgentDeps } from "./deps.js";
import { checkAgent, checkPrompt, startSession } from "./sessions.js";

/**
 * `git push -o agent=<name> [-o prompt=<text>] [-o env=local|sandbox]` of a new branch: once the
 * branch has its record (track-pushes.ts), it gets an environment (the option's backend, else
 * cook.toml's, else local) and an agent session with the prompt (default: work on TASK.md when
 * `-o task=` linked one). Does nothing without `agent` or `prompt`. Throws as startSession does;
 * the caller logs it (the push itself has happened).
 */
export async function startAgentFromPush(deps: AgentDeps, branch: Branch, pushOptions: readonly string[], pusher: string): Promise<void> {
  const agent = pushOption(pushOptions, "agent");
  const promptOption = pushOption(pushOptions, "prompt");
  if (agent === undefined && promptOption === undefined) return;
  checkAgent(deps, agent ?? deps.defaultAgent);
  const prompt = promptOption === undefined ? undefined : checkPrompt(promptOption);
  if (prompt === undefined && !branch.taskId) throw new CookError("invalid", "-o agent needs -o prompt=<text> (or -o task=<id>)");
  const actor: Actor = { name: pusher, scope: "user" };
  if (!(await findLiveEnvironment(deps.db, branch.id))) {
    const gitDir = repoDir(deps.dataDir, branch.repo);
    const head = await branchHead(deps.git, gitDir, branch.name);
    const config = parseRepoConfig(head ? await fileAtCommit(deps.git, gitDir, head, "cook.toml") : undefined, `cook.toml on ${branch.name}`).environment;
    const choice = parseEnvironmentChoice(pushOption(pushOptions, "env") ?? config.backend ?? "local");
    if (choice.backend === "none") throw new CookError("invalid", "an agent needs an environment; -o env=none cannot start one");
    if (choice.path !== undefined) throw new CookError("forbidden", "a push cannot place an environment at a chosen path");
    const task = branch.taskId ? await getTask(deps, branch.taskId) : undefined;
    await createEnvironment(deps, branch, { backend: choice.backend, config, taskMarkdown: task ? serializeTask(task) : undefined });
  }
  await startSession(deps, branch, { agent: agent ?? deps.defaultAgent, prompt }, actor);
}
