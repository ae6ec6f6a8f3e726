import type { Db } from "../db/db.js";
import { countUnpublished, listUnpublished, markPublished } from "../db/event-store.js";
import type { Bus } from "./bus.js";

export interface OutboxRelayOptions {
  db: Db;
  bus: Bus;
  batchSize?: number;
  /** Safety net for events appended by another process, which cannot poke this relay. */
  pollMs?: number;
  /** How long published events may wait to be marked as such (they are marked in bulk). */
  markEveryMs?: number;
  retryDelayMs?: { first: number; max: number };
  onError?: (err: unknown) => void;
}

export interface OutboxRelay {
  start(): void;
  /** Wakes the relay now: called when a transaction that appended events has committed. */
  poke(): void;
  /** Stops after the batch in progress and marks what it published. */
  stop(): Promise<void>;
  pending(): Promise<number>;
  lastError(): string | undefined;
}

/**
 * Publishes the event log's unpublished rows in id order, one at a time, each confirmed by the bus
 * before the next: a bus outage stops the relay at the first event that did not get through, and
 * it starts again from there, so order holds. Ids follow commit order (see insertEvent), so once
 * event n is seen nothing below n can still appear, and the relay reads only past the last id it
 * published. Published events are marked in bulk; one published but not yet marked when the
 * process dies is sent again, and the bus drops it by message id.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const batchSize = options.batchSize ?? 500;
  const pollMs = options.pollMs ?? 1000;
  const markEveryMs = options.markEveryMs ?? 50;
  const retry = options.retryDelayMs ?? { first: 100, max: 5000 };
  let running = false;
  let poked = false;
  let wake: (() => void) | undefined;
  let loop: Promise<void> = Promise.resolve();
  let failure: string | undefined;
  let lastPublished = 0;
  let unmarked: number[] = [];
  let lastMarked = Date.now();

  const sleep = (ms: number, wakeOnPoke: boolean) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = wakeOnPoke ? done : () => (running ? undefined : done());
    });

  async function markDue(force: boolean): Promise<void> {
    if (unmarked.length === 0 || (!force && unmarked.length < batchSize && Date.now() - lastMarked < markEveryMs)) return;
    const ids = unmarked;
    unmarked = [];
    lastMarked = Date.now();
    await markPublished(options.db, ids);
  }

  async function publishBatch(): Promise<number> {
    const batch = await listUnpublished(options.db, batchSize, lastPublished);
    try {
      for (const event of batch) {
        await options.bus.publish(event);
        lastPublished = event.id;
        unmarked.push(event.id);
      }
    } finally {
      await markDue(false);
    }
    return batch.length;
  }

  async function run() {
    let delay = retry.first;
    while (running) {
      poked = false;
      try {
        const count = await publishBatch();
        failure = undefined;
        delay = retry.first;
        if (count < batchSize && !poked) await sleep(unmarked.length > 0 ? markEveryMs : pollMs, true);
      } catch (err) {
        failure = String((err as Error).message ?? err);
        options.onError?.(err);
        await markDue(true).catch(() => {});
        await sleep(delay, false);
        delay = Math.min(delay * 2, retry.max);
      }
    }
    await markDue(true).catch((err) => options.onError?.(err));
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    poke() {
      poked = true;
      wake?.();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
    pending: () => countUnpublished(options.db),
    lastError: () => failure,
  };
}
