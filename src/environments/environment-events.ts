import type { Branch, Environment, EnvironmentState } from "../core/branch.js";
import type { Tx } from "../db/db.js";
import { setEnvironmentState } from "../db/environment-store.js";
import { newEvent } from "../events/event.js";
import { subjects, type EnvironmentAction } from "../events/subjects.js";
import type { EnvironmentDeps } from "./deps.js";

export async function appendEnvironmentEvent(deps: Pick<EnvironmentDeps, "events">, tx: Tx, branch: Branch, action: EnvironmentAction, data: object): Promise<void> {
  await deps.events.append(tx, newEvent(subjects.environment(branch.repo, branch.name, action), branch.repo, { branch: branch.name, data: { branchId: branch.id, ...data } }));
}

/** Moves an environment to a new state with its event (`cook.environment.<repo>.<branch>.<state>`), in one transaction. */
export async function moveEnvironment(deps: Pick<EnvironmentDeps, "db" | "events">, branch: Branch, environment: Environment, state: EnvironmentState, error?: string): Promise<Environment> {
  return deps.db.transaction(async (tx) => {
    const moved = await setEnvironmentState(tx, environment.id, state, error);
    await appendEnvironmentEvent(deps, tx, branch, state, { id: environment.id, backend: environment.backend, ...(error ? { error } : {}) });
    return moved;
  });
}
