import type { AgentSession } from "../core/agent-session.js";
import type { Branch, Environment } from "../core/branch.js";
import { readAgentEvents } from "../db/agent-event-store.js";
import { gitInCheckout } from "./checkout-git.js";
import type { AgentDeps } from "./deps.js";

const maxDiffChars = 20_000;

/**
 * Hands a rate-limited session's work to its fallback agent: a new session on the same branch,
 * told the task, the diff so far (against the branch's base) and the last messages of the session
 * it takes over from. Returns the new session.
 */
export async function handOver(deps: AgentDeps, branch: Branch, environment: Environment, from: AgentSession, agent: string): Promise<AgentSession> {
  const diff = await gitInCheckout(deps, branch, environment, ["diff", "--stat", "-p", branch.baseCommit]).catch(() => undefined);
  const events = await readAgentEvents(deps.db, from.id);
  const messages = events
    .map((record) => record.event)
    .filter((event) => event.kind === "assistant_message")
    .slice(-3)
    .map((event) => (event.kind === "assistant_message" ? event.text : ""));
  const patch = diff && diff.code === 0 ? diff.stdout : "";
  const prompt = [
    `You are taking over this branch from the agent '${from.agent}' (session ${from.id}), which hit a rate limit.`,
    branch.taskId ? "The task is in TASK.md." : "",
    patch ? `Its work so far (uncommitted changes included), against the branch's base:\n\n${patch.length > maxDiffChars ? `${patch.slice(0, maxDiffChars)}\n… (diff cut)` : patch}` : "It had not changed anything yet.",
    messages.length > 0 ? `Its last messages:\n\n${messages.join("\n\n---\n\n")}` : "",
    "Carry on from there.",
  ]
    .filter((part) => part !== "")
    .join("\n\n");
  const { startSession } = await import("./sessions.js");
  return startSession(deps, branch, { agent, prompt: prompt.length > 60_000 ? prompt.slice(0, 60_000) : prompt }, { name: "cook", scope: "admin" });
}
