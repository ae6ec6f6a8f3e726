import type { Db } from "../db/db.js";
import { countUnpublished, listUnpublished, markPublished } from "../db/event-store.js";
import type { Bus } from "./bus.js";

export interface OutboxRelayOptions {
  db: Db;
  bus: Bus;
  batchSize?: number;
  /** Safety net for events appended by another process, which cannot poke this relay. */
  pollMs?: number;
  retryDelayMs?: { first: number; max: number };
  onError?: (err: unknown) => void;
}

export interface OutboxRelay {
  start(): void;
  /** Wakes the relay now: called when a transaction that appended events has committed. */
  poke(): void;
  /** Stops after the batch in progress. */
  stop(): Promise<void>;
  pending(): Promise<number>;
  lastError(): string | undefined;
}

/**
 * Publishes the event log's unpublished rows in id order, one at a time, each confirmed by the bus
 * before the next: a bus outage stops the relay at the first event that did not get through, and
 * it starts again from there, so order holds. An event published but not yet marked (a crash in
 * between) is sent again; the bus drops it by message id.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const batchSize = options.batchSize ?? 500;
  const pollMs = options.pollMs ?? 1000;
  const retry = options.retryDelayMs ?? { first: 100, max: 5000 };
  let running = false;
  let poked = false;
  let wake: (() => void) | undefined;
  let loop: Promise<void> = Promise.resolve();
  let failure: string | undefined;

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

  async function publishBatch(): Promise<number> {
    const batch = await listUnpublished(options.db, batchSize);
    const published: number[] = [];
    try {
      for (const event of batch) {
        await options.bus.publish(event);
        published.push(event.id);
      }
    } finally {
      await markPublished(options.db, published);
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
        if (count < batchSize && !poked) await sleep(pollMs, true);
      } catch (err) {
        failure = String((err as Error).message ?? err);
        options.onError?.(err);
        await sleep(delay, false);
        delay = Math.min(delay * 2, retry.max);
      }
    }
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
