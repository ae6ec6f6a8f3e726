import type { RunningCook } from "./cook.js";
import { eventually } from "./wait.js";

/** An event as `GET /api/events` lists it. */
export interface EventRow {
  id: number;
  subject: string;
  type: string;
  branch?: string;
  data: Record<string, unknown>;
}

/**
 * The events whose subject matches `pattern` (NATS wildcards), oldest first, once every event
 * committed so far has been published (`/healthz` bus.pending is 0): the API lists published events
 * only, and the relay marks them in bulk a little after the state change a test saw was committed.
 */
export async function publishedEvents(cook: RunningCook, pattern: string): Promise<EventRow[]> {
  const pending = async () => ((await (await fetch(`${cook.url}/healthz`)).json()) as { bus: { pending?: number } }).bus.pending;
  await eventually(async () => (await pending()) === 0 || undefined, 10_000, "the outbox to drain");
  const response = await fetch(`${cook.url}/api/events?after=0&limit=1000&subject=${encodeURIComponent(pattern)}`);
  return ((await response.json()) as { events: EventRow[] }).events;
}
