import type { Tx } from "../db/db.js";
import { insertEvent, insertEvents } from "../db/event-store.js";
import type { Event, NewEvent } from "./event.js";

/** The write side of the outbox: services append their event in the transaction of their change. */
export interface EventLog {
  append(tx: Tx, event: NewEvent): Promise<Event>;
  /** Appends several events at once, in order (ids increase along the array). */
  appendMany(tx: Tx, events: readonly NewEvent[]): Promise<void>;
}

/** `onCommitted` wakes the relay as soon as the appending transaction commits. */
export function createEventLog(onCommitted: () => void): EventLog {
  return {
    async append(tx, event) {
      const stored = await insertEvent(tx, event);
      tx.afterCommit(onCommitted);
      return stored;
    },
    async appendMany(tx, events) {
      await insertEvents(tx, events);
      if (events.length > 0) tx.afterCommit(onCommitted);
    },
  };
}
