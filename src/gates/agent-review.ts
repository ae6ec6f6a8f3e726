import type { Branch } from "../core/branch.js";
import type { GateDefinition, GateRun } from "../core/gate.js";
import type { GateDeps } from "./deps.js";
import type { GateOutcome } from "./execute-run.js";

/** agent_review: being built (see issue 10); until then such a gate fails, never passes. */
export async function reviewWithAgent(_deps: GateDeps, _branch: Branch, _run: GateRun, gate: GateDefinition, _signal: AbortSignal): Promise<GateOutcome> {
  return { state: "failed", summary: `agent_review gate '${gate.name}' cannot run on this server yet` };
}
