import type { Actor } from "../core/actor.js";
import type { Tx } from "../db/db.js";
import type { EventLog } from "../events/event-log.js";
import { newEvent } from "../events/event.js";
import { subjects, type AutopilotAction } from "../events/subjects.js";

/** Who autopilot's branches, sessions and merges are by. */
export const autopilotActor: Actor = { name: "cook-autopilot", scope: "admin" };

/** Appends `cook.autopilot.<repo>.<action>` with `data` and who decided (`by`: autopilot unless a person did). */
export async function appendAutopilotEvent(deps: { events: EventLog }, tx: Tx, repo: string, action: AutopilotAction, data: object, actor: Actor = autopilotActor): Promise<void> {
  await deps.events.append(tx, newEvent(subjects.autopilot(repo, action), repo, { data: { ...data, by: actor.name } }));
}
