import type { AgentEvent } from "../core/agent-event.js";
import type { SessionUsage } from "../core/agent-session.js";
import { insertAgentEventBatches } from "../db/agent-event-store.js";
import { addSessionUsages, updateSession } from "../db/agent-session-store.js";
import type { Db } from "../db/db.js";
import type { NewEvent } from "../events/event.js";
import type { EventLog } from "../events/event-log.js";

/** What one run hands over to be stored: its next events, what they used, and their announcement. */
export interface EventBatch {
  sessionId: string;
  run: number;
  /** The seq of the first event; the others follow on. */
  firstSeq: number;
  events: AgentEvent[];
  /** Token counts and cost these events add to the session, with the turns they took. */
  usage: { added: SessionUsage; turns: number; costSource: "reported" | "price_table" | undefined } | undefined;
  /** The CLI named its session in these events. */
  nativeId: string | undefined;
  /** `cook.agent.<repo>.<branch>.output` carrying the events. */
  announcement: NewEvent;
}

export interface AgentEventWriter {
  /** Resolves once the batch is committed; rejects with its error when it cannot be. */
  write(batch: EventBatch): Promise<void>;
}

/**
 * Writes the events of every running agent together: batches that arrive within `windowMs` of each
 * other commit in one transaction of a fixed number of statements (all events in one insert, all
 * usage in one update, all announcements in one append), so 20 agents printing 50 lines a second
 * cost a few dozen small transactions a second, and nothing queues behind round trips. When a
 * shared transaction fails, each batch is tried alone, so one bad batch fails only itself.
 */
export function createAgentEventWriter(deps: { db: Db; events: EventLog }, windowMs = 10): AgentEventWriter {
  let queue: Array<{ batch: EventBatch; resolve(): void; reject(err: unknown): void }> = [];
  let scheduled = false;
  let chain = Promise.resolve();

  const store = (batches: EventBatch[]) =>
    deps.db.transaction(async (tx) => {
      await insertAgentEventBatches(tx, batches);
      await addSessionUsages(tx, batches.flatMap((b) => (b.usage ? [{ sessionId: b.sessionId, ...b.usage }] : [])));
      for (const b of batches) if (b.nativeId !== undefined) await updateSession(tx, b.sessionId, { nativeId: b.nativeId });
      await deps.events.appendMany(tx, batches.map((b) => b.announcement));
    });

  const flush = () => {
    scheduled = false;
    const items = queue;
    queue = [];
    chain = chain.then(async () => {
      try {
        await store(items.map((item) => item.batch));
        for (const item of items) item.resolve();
      } catch {
        for (const item of items) await store([item.batch]).then(item.resolve, item.reject);
      }
    });
  };

  return {
    write(batch) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ batch, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setTimeout(flush, windowMs);
        }
      });
    },
  };
}
