import type { AgentDeps } from "../agents/deps.js";
import type { GateDefinition, GateRun } from "../core/gate.js";

/** Server-wide gate settings (`[gates]` of the server config). */
export interface GateSettings {
  /** How many runs execute at once; more wait in the queue. */
  readonly concurrency: number;
  /** Gates for repos whose cook.toml defines none (`[gates] defaults_file`). */
  readonly defaultGates: readonly GateDefinition[];
}

/**
 * What runs now and what waits, in this process: the queue is rebuilt from the store at start-up
 * (recover-gates.ts), so it holds nothing that is not also recorded.
 */
export interface GateRuntime {
  /** Run ids waiting for a slot, oldest first. */
  readonly queue: string[];
  /** Runs executing now, with the controller that cancels them. */
  readonly active: Map<string, AbortController>;
  /** Called with every run that ends (passed, failed, canceled, interrupted): merges wait on their candidate's run this way. */
  readonly ended: Set<(run: GateRun) => void>;
  /** One promise chain per repo: merges into one repo happen one at a time. */
  readonly mergeLocks: Map<string, Promise<unknown>>;
  /** Set while the server shuts down: nothing new starts. */
  closing: boolean;
}

export function createGateRuntime(): GateRuntime {
  return { queue: [], active: new Map(), ended: new Set(), mergeLocks: new Map(), closing: false };
}

/** What the gate and merge services work with; built once by the server (server/services.ts). */
export interface GateDeps extends AgentDeps {
  gateSettings: GateSettings;
  gateRuntime: GateRuntime;
}
