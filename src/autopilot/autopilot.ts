import type { AgentDeps } from "../agents/deps.js";
import type { Bus, Subscription } from "../events/bus.js";
import { listRepoNames } from "../forge/repos.js";
import { dispatchReadyTasks } from "./dispatch.js";

/** The running autopilot of a server: passes over repos when something changes in them, and on a timer. */
export interface Autopilot {
  /** Asks for a pass over `repo` soon; passes over one repo never overlap, and pokes during one are one more pass. */
  poke(repo: string): void;
  /** Stops listening and waits for passes under way to end. */
  stop(): Promise<void>;
}

/** Every repo is looked at this often even when no event says so (events lost to a restart, a cook.toml pushed). */
export const sweepIntervalMs = 10_000;

/**
 * Starts autopilot: a pass over a repo (dispatch.ts) follows any task, branch or autopilot event of
 * it (a task became ready, a branch merged or ended, a slot freed, the switch flipped), and every
 * repo gets one every sweepIntervalMs. The subscription is not durable: the sweep covers what it
 * misses, and dispatch decisions are read from the store, not from the events.
 */
export async function startAutopilot(deps: AgentDeps, bus: Bus): Promise<Autopilot> {
  const passes = new Map<string, { running: Promise<void>; again: boolean }>();
  let stopped = false;

  const poke = (repo: string) => {
    if (stopped) return;
    const current = passes.get(repo);
    if (current) {
      current.again = true;
      return;
    }
    const entry = { running: Promise.resolve(), again: false };
    entry.running = (async () => {
      do {
        entry.again = false;
        await dispatchReadyTasks(deps, repo).catch((err: Error) => deps.log.error({ err, repo }, "autopilot pass failed"));
      } while (entry.again && !stopped);
      passes.delete(repo);
    })();
    passes.set(repo, entry);
  };

  const subscriptions: Subscription[] = [];
  for (const pattern of ["cook.task.>", "cook.branch.>", "cook.autopilot.>"]) {
    subscriptions.push(
      await bus.subscribe(pattern, (event) => {
        // Its own decisions change nothing it would decide next, except a flipped switch.
        if (event.type.startsWith("autopilot.") && event.type !== "autopilot.switched") return;
        poke(event.repo);
      }),
    );
  }
  const sweep = () => {
    for (const repo of listRepoNames(deps.dataDir)) poke(repo);
  };
  const timer = setInterval(sweep, sweepIntervalMs);
  timer.unref();
  sweep();

  return {
    poke,
    async stop() {
      stopped = true;
      clearInterval(timer);
      for (const subscription of subscriptions) await subscription.unsubscribe();
      await Promise.all([...passes.values()].map((pass) => pass.running));
    },
  };
}
