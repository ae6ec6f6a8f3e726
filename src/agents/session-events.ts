import type { AgentSession } from "../core/agent-session.js";
import type { Branch } from "../core/branch.js";
import type { Tx } from "../db/db.js";
import { newEvent, type NewEvent } from "../events/event.js";
import type { EventLog } from "../events/event-log.js";
import { subjects, type AgentAction } from "../events/subjects.js";

/**
 * Appends `cook.agent.<repo>.<branch>.<action>` in the caller's transaction, naming the session
 * (`session`, `agent`, `status`) with `data`. `output` events carry the session's new agent
 * events (`events: [{seq, run, …AgentEvent}]`), batched.
 */
export async function appendAgentEvent(deps: { events: EventLog }, tx: Tx, branch: Branch, session: AgentSession, action: AgentAction, data: object = {}): Promise<void> {
  await deps.events.append(tx, agentEventOf(branch, session, action, data));
}

/** The event appendAgentEvent appends, for a caller that appends many at once. */
export function agentEventOf(branch: Branch, session: Pick<AgentSession, "id" | "agent" | "status">, action: AgentAction, data: object = {}): NewEvent {
  return newEvent(subjects.agent(branch.repo, branch.name, action), branch.repo, {
    branch: branch.name,
    data: { session: session.id, branchId: branch.id, agent: session.agent, status: session.status, ...data },
  });
}
