import type { Actor } from "../core/actor.js";
import type { AgentSession } from "../core/agent-session.js";
import { CookError } from "../core/errors.js";
import { createBranch, type CreatedBranch, type NewBranch } from "../branches/create-branch.js";
import type { AgentDeps } from "./deps.js";
import { checkAgent, checkPrompt, startSession } from "./sessions.js";

export interface NewBranchWithAgent extends NewBranch {
  /** A configured agent name; with a prompt and no agent, the default agent. */
  agent?: unknown;
}

/**
 * `cook branch create … --agent=<name> --prompt="…"`: the branch and its environment, then a
 * session of the agent in it. The agent and the prompt are judged before anything is made (an
 * unknown agent is 422 naming the configured ones, a prompt over the limit 413); without an agent
 * or a prompt this is createBranch. With a task and no prompt, the prompt is "work on TASK.md".
 */
export async function createBranchWithAgent(deps: AgentDeps, input: NewBranchWithAgent, actor: Actor): Promise<CreatedBranch & { session?: AgentSession }> {
  const given = (value: unknown) => value !== undefined && value !== null && value !== "";
  if (!given(input.agent) && !given(input.prompt)) return createBranch(deps, input, actor);
  const agent = checkAgent(deps, given(input.agent) ? input.agent : deps.defaultAgent);
  if (given(input.prompt)) checkPrompt(input.prompt);
  else if (!given(input.task)) throw new CookError("invalid", "give the agent a prompt (--prompt), or a task (--task) whose TASK.md it works on");
  if (input.env === "none") throw new CookError("invalid", "an agent needs an environment to work in; leave out --env=none");
  const created = await createBranch(deps, input, actor);
  if (!created.environment) return created;
  const session = await startSession(deps, created.branch, { agent: agent.name, prompt: given(input.prompt) ? input.prompt : undefined }, actor);
  return { ...created, session };
}
