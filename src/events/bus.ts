import type { Event } from "./event.js";

export type EventHandler = (event: Event) => void | Promise<void>;

export interface SubscribeOptions {
  /**
   * A durable subscriber does not miss events across restarts: what was published while it was
   * away is delivered, in order, when it subscribes again under the same name. Its handler's
   * promise is the acknowledgement; a handler that throws gets the event again.
   */
  durable?: string;
}

export interface Subscription {
  unsubscribe(): Promise<void>;
}

export interface BusStatus {
  ok: boolean;
  kind: "local" | "nats";
  detail: string;
}

/** Publish/subscribe over `cook.>` subjects with NATS wildcard patterns. Handlers run one event at a time. */
export interface Bus {
  readonly kind: "local" | "nats";
  publish(event: Event): Promise<void>;
  subscribe(pattern: string, handler: EventHandler, options?: SubscribeOptions): Promise<Subscription>;
  status(): BusStatus;
  close(): Promise<void>;
}

export interface EventStream extends AsyncIterable<Event> {
  close(): Promise<void>;
}

/** The iterator form of subscribe: events queue until read; `close` ends the iteration. */
export async function streamEvents(bus: Bus, pattern: string, options: SubscribeOptions = {}): Promise<EventStream> {
  const queue: Event[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  const subscription = await bus.subscribe(
    pattern,
    (event) => {
      queue.push(event);
      wake?.();
    },
    options,
  );
  const close = async () => {
    if (closed) return;
    closed = true;
    wake?.();
    await subscription.unsubscribe();
  };
  return {
    close,
    async *[Symbol.asyncIterator]() {
      try {
        while (!closed) {
          const next = queue.shift();
          if (next) {
            yield next;
            continue;
          }
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        await close();
      }
    },
  };
}
