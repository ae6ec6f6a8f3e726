import type nunjucks from "nunjucks";
import type { Branch } from "../../../core/branch.js";
import type { Event } from "../../../events/event.js";
import type { FormattedMessage } from "../../live/sse.js";
import type { Services } from "../../services.js";
import { renderFragment } from "../../views.js";
import { agentLiveMessage } from "./branch-agent.js";

/** Whether an event is about this branch: its own events and its environments' and agents' (by id), anything else under its subject. */
export function isAbout(event: Event, branch: Branch): boolean {
  const data = (event.data ?? {}) as { id?: unknown; branchId?: unknown };
  if (event.type.startsWith("environment.") || event.type.startsWith("agent.")) return data.branchId === branch.id;
  // The forge's ref events (pushed, deleted) carry no record id: the subject names the branch.
  if (event.type.startsWith("branch.")) return data.id === undefined || data.id === branch.id;
  return true;
}

/** What changes a dashboard row: a branch's, an environment's, an agent's or a gate's state, not each line of output. */
export const changesDashboard = (event: Event) => /^(branch|environment|agent|gate)\./.test(event.type) && !event.type.endsWith(".output");

/**
 * What an event of a branch means for its page, as SSE messages: `setup-output` and `gate-output`
 * (text to append, views/branches/_output.njk and _gate-output.njk), `gate-change` (the Gates
 * section reads itself again), `agent` (the Agent tab, when `followsAgent`) and `branch-change`
 * (the summary and the panel read themselves again).
 */
export async function branchLiveMessage(services: Services, views: nunjucks.Environment, branch: Branch, event: Event, viewer: { followsAgent: boolean; canChange: boolean }): Promise<FormattedMessage> {
  const data = (event.data ?? {}) as { text?: unknown; run?: unknown; gate?: unknown; attempt?: unknown; offset?: unknown };
  if (event.type === "environment.output") return { event: "setup-output", data: renderFragment(views, "branches/_output", { text: String(data.text ?? "") }) };
  if (event.type === "gate.output") {
    const key = `${String(data.run)}/${String(data.gate)}/${String(data.attempt)}`;
    const text = String(data.text ?? "");
    return { event: "gate-output", data: renderFragment(views, "branches/_gate-output", { key, offset: data.offset, bytes: Buffer.byteLength(text), text }) };
  }
  const change = { event: "branch-change", data: String(event.id) };
  if (event.type.startsWith("gate.")) return { event: "gate-change", data: String(event.id) };
  if (!event.type.startsWith("agent.")) return change;
  const agent = viewer.followsAgent ? await agentLiveMessage(services, views, branch, event, viewer.canChange) : undefined;
  // Output changes no fact of the summary; a session's start and end do.
  return [...(agent ? [agent] : []), ...(event.type === "agent.output" ? [] : [change])];
}
