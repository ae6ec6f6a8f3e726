import type { Db } from "../db/db.js";
import { getEventCursor, lastPublishedEventId, listEvents, setEventCursor } from "../db/event-store.js";
import type { Bus, BusStatus, EventHandler, SubscribeOptions, Subscription } from "./bus.js";
import type { Event } from "./event.js";
import { checkPattern, patternToRegex, subjectMatches } from "./subjects.js";

export interface LocalBusOptions {
  /** Backs durable subscribers: they resume from a cursor in the event log after a restart. */
  db?: Db;
  onHandlerError?: (err: unknown, event: Event, pattern: string) => void;
  /** First and largest wait before a durable handler that threw gets its event again. */
  retryDelayMs?: { first: number; max: number };
}

const replayPageSize = 500;

/**
 * The embedded bus: delivery inside this process. Durable subscribers read what they missed from
 * the event log (every published event is in it), then continue with live events.
 */
export function createLocalBus(options: LocalBusOptions = {}): Bus {
  const subscribers = new Set<LocalSubscriber>();
  let closed = false;
  const retry = options.retryDelayMs ?? { first: 50, max: 5000 };

  class LocalSubscriber {
    private live: Event[] = [];
    private wake: (() => void) | undefined;
    private lastId = 0;
    stopped = false;
    done: Promise<void> = Promise.resolve();

    constructor(
      readonly pattern: string,
      private readonly handler: EventHandler,
      private readonly durable: string | undefined,
    ) {}

    offer(event: Event) {
      this.live.push(event);
      this.wake?.();
    }

    stop() {
      this.stopped = true;
      this.wake?.();
    }

    start(startAfter: number | undefined) {
      this.done = this.pump(startAfter);
    }

    private async pump(startAfter: number | undefined) {
      if (startAfter !== undefined) {
        this.lastId = startAfter;
        await this.replayFromLog();
      }
      while (!this.stopped) {
        const event = this.live.shift();
        if (!event) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
        if (event.id <= this.lastId) continue;
        await this.deliver(event);
      }
    }

    private async replayFromLog() {
      const db = options.db!;
      const subjectRegex = patternToRegex(this.pattern);
      for (;;) {
        // Committed events, published or not: the relay hands an event to the bus before it records
        // it as published, and one offered before this subscriber was registered would otherwise be
        // lost. The relay's copy arrives later and is skipped by id.
        const page = await listEvents(db, { subjectRegex, afterId: this.lastId, limit: replayPageSize, order: "asc" });
        for (const event of page) {
          if (this.stopped) return;
          await this.deliver(event);
        }
        if (page.length < replayPageSize) return;
      }
    }

    private async deliver(event: Event) {
      let delay = retry.first;
      while (!this.stopped) {
        try {
          await this.handler(event);
          this.lastId = event.id;
          if (this.durable && options.db) await setEventCursor(options.db, this.durable, event.id);
          return;
        } catch (err) {
          options.onHandlerError?.(err, event, this.pattern);
          if (!this.durable) return;
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, retry.max);
        }
      }
    }
  }

  return {
    kind: "local",
    async publish(event) {
      if (closed) throw new Error("bus is closed");
      for (const subscriber of subscribers) {
        if (subjectMatches(subscriber.pattern, event.subject)) subscriber.offer(event);
      }
    },
    async subscribe(pattern: string, handler: EventHandler, subscribeOptions: SubscribeOptions = {}): Promise<Subscription> {
      checkPattern(pattern);
      const durable = subscribeOptions.durable;
      const subscriber = new LocalSubscriber(pattern, handler, durable);
      // Registered before reading the cursor, so nothing published during the replay is lost;
      // events already replayed are skipped by id.
      subscribers.add(subscriber);
      let startAfter: number | undefined;
      if (durable && options.db) {
        startAfter = await getEventCursor(options.db, durable);
        if (startAfter === undefined) {
          // A new durable subscriber starts at the present, as a new JetStream consumer with DeliverPolicy.New does.
          startAfter = await lastPublishedEventId(options.db);
          await setEventCursor(options.db, durable, startAfter);
        }
      }
      subscriber.start(startAfter);
      return {
        async unsubscribe() {
          subscribers.delete(subscriber);
          subscriber.stop();
          await subscriber.done;
        },
      };
    },
    status(): BusStatus {
      return { ok: !closed, kind: "local", detail: closed ? "closed" : "in-process" };
    },
    async close() {
      closed = true;
      const stopping = [...subscribers].map((subscriber) => {
        subscriber.stop();
        return subscriber.done;
      });
      subscribers.clear();
      await Promise.all(stopping);
    },
  };
}
