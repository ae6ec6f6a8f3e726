import type { Tx } from "../db/db.js";
import { newEvent } from "../events/event.js";
import type { EventLog } from "../events/event-log.js";
import { subjects, type GateAction } from "../events/subjects.js";

/** Which branch, run and gate an event is about. */
export interface GateEventScope {
  repo: string;
  branch: string;
  runId: string;
  gate: string;
}

/**
 * Appends `cook.gate.<repo>.<branch>.<gate>.<action>` in the transaction of the change it
 * announces; data carries the run id and what the action adds (exit code, summary, output text).
 */
export async function appendGateEvent(deps: { events: EventLog }, tx: Tx, scope: GateEventScope, action: GateAction, data: object = {}): Promise<void> {
  await deps.events.append(tx, newEvent(subjects.gate(scope.repo, scope.branch, scope.gate, action), scope.repo, { branch: scope.branch, data: { run: scope.runId, gate: scope.gate, ...data } }));
}
