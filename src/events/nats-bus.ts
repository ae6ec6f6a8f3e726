import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { connect, nanos, type NatsConnection } from "@nats-io/transport-node";
import { CookError } from "../core/errors.js";
import type { Bus, BusStatus, EventHandler, SubscribeOptions, Subscription } from "./bus.js";
import type { Event } from "./event.js";
import { allSubjects, checkPattern, encodeToken } from "./subjects.js";

export const streamName = "COOK_EVENTS";
const sevenDaysMs = 7 * 24 * 60 * 60 * 1000;
const publishTimeoutMs = 5000;

export interface NatsBusOptions {
  url: string;
  /** Prefixed to JetStream message ids so two logs sharing a NATS server never collide. */
  instanceId: string;
  /** How long start-up waits for a first connection before going on without one. */
  connectWaitMs?: number;
  onError?: (err: unknown, context: string) => void;
  retryDelayMs?: { first: number; max: number };
}

const streamConfig: Partial<StreamConfig> & { name: string } = {
  name: streamName,
  subjects: [allSubjects],
  retention: RetentionPolicy.Limits,
  storage: StorageType.File,
  max_age: nanos(sevenDaysMs),
  // Relay retries republish with the same message id; JetStream drops the copy within this window.
  duplicate_window: nanos(2 * 60 * 1000),
};

async function ensureStream(jsm: JetStreamManager): Promise<void> {
  try {
    await jsm.streams.info(streamName);
    await jsm.streams.update(streamName, streamConfig);
  } catch (err) {
    if (!/stream not found/i.test(String((err as Error).message))) throw err;
    await jsm.streams.add(streamConfig);
  }
}

function decodeEvent(data: Uint8Array): Event | undefined {
  try {
    const event = JSON.parse(new TextDecoder().decode(data)) as Event;
    return typeof event.subject === "string" && typeof event.id === "number" ? event : undefined;
  } catch {
    return undefined;
  }
}

/** NATS JetStream: every event lands in stream COOK_EVENTS; durable subscribers are JetStream consumers. */
export async function createNatsBus(options: NatsBusOptions): Promise<Bus> {
  const onError = options.onError ?? (() => {});
  const retry = options.retryDelayMs ?? { first: 100, max: 5000 };
  const stops = new Set<() => Promise<void>>();
  let connected = false;
  let closed = false;
  let lastProblem = "connecting";
  let streamReady: Promise<void> | undefined;

  // The wait for a first connection happens here rather than in nats.js (waitOnFirstConnect), which
  // cannot be cancelled: a bus closed before NATS ever came up would keep the process alive.
  async function connectUntilClosed(): Promise<NatsConnection> {
    for (;;) {
      try {
        return await connect({ servers: options.url, name: "cook", maxReconnectAttempts: -1, reconnectTimeWait: 250 });
      } catch (err) {
        lastProblem = String((err as Error).message);
        if (closed) throw err;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }
  const connection = connectUntilClosed();

  let js: JetStreamClient | undefined;
  let jsm: JetStreamManager | undefined;
  let established: NatsConnection | undefined;
  const ready = connection.then(async (nc) => {
    established = nc;
    connected = true;
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
    streamReady = ensureStream(jsm);
    await streamReady;
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === "disconnect") {
          connected = false;
          lastProblem = `disconnected from ${status.server}, reconnecting`;
        } else if (status.type === "reconnect") {
          connected = true;
          // The server may have come back with an empty store; the stream must exist before the next publish.
          streamReady = ensureStream(jsm!).catch((err) => onError(err, "ensure stream after reconnect"));
        }
      }
    })();
    return nc;
  });
  ready.catch((err) => onError(err, "connect"));

  // Start-up goes on without NATS after a short wait: the outbox keeps events until it is reachable.
  let waitTimer: NodeJS.Timeout | undefined;
  await Promise.race([ready.catch(() => {}), new Promise((resolve) => (waitTimer = setTimeout(resolve, options.connectWaitMs ?? 2000)))]);
  clearTimeout(waitTimer);

  async function runSequentially(pattern: string, handler: EventHandler, nc: NatsConnection, isStopped: () => boolean) {
    const sub = nc.subscribe(pattern);
    stops.add(async () => sub.unsubscribe());
    // Once the server has the subscription, an event published after subscribe() resolves is delivered.
    await nc.flush();
    void (async () => {
      for await (const msg of sub) {
        if (isStopped()) break;
        const event = decodeEvent(msg.data);
        if (!event) continue;
        try {
          await handler(event);
        } catch (err) {
          onError(err, `handler for ${pattern}`);
        }
      }
    })();
    return sub;
  }

  async function runDurable(pattern: string, handler: EventHandler, durable: string, isStopped: () => boolean) {
    await ready;
    await streamReady;
    const name = encodeToken(durable);
    const config = {
      durable_name: name,
      filter_subject: pattern,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      // One unacknowledged event at a time keeps delivery in order even when a handler fails.
      max_ack_pending: 1,
      ack_wait: nanos(60_000),
    };
    try {
      await jsm!.consumers.info(streamName, name);
      await jsm!.consumers.update(streamName, name, { filter_subject: pattern, max_ack_pending: 1 });
    } catch (err) {
      if (!/consumer not found/i.test(String((err as Error).message))) throw err;
      await jsm!.consumers.add(streamName, config);
    }
    const consumer = await js!.consumers.get(streamName, name);
    const messages = await consumer.consume({ max_messages: 64 });
    stops.add(async () => void (await messages.close()));
    void (async () => {
      let delay = retry.first;
      for await (const msg of messages) {
        if (isStopped()) break;
        const event = decodeEvent(msg.data);
        if (!event) {
          msg.term();
          continue;
        }
        try {
          await handler(event);
          msg.ack();
          delay = retry.first;
        } catch (err) {
          onError(err, `durable handler ${durable}`);
          msg.nak(delay);
          delay = Math.min(delay * 2, retry.max);
        }
      }
    })();
    return messages;
  }

  return {
    kind: "nats",
    async publish(event) {
      if (closed) throw new CookError("unavailable", "the event bus is closed");
      if (!connected || !js) throw new CookError("unavailable", `NATS at ${options.url} is unreachable: ${lastProblem}`);
      await streamReady;
      const payload = new TextEncoder().encode(JSON.stringify(event));
      await js.publish(event.subject, payload, { msgID: `${options.instanceId}:${event.id}`, timeout: publishTimeoutMs });
    },
    async subscribe(pattern: string, handler: EventHandler, subscribeOptions: SubscribeOptions = {}): Promise<Subscription> {
      checkPattern(pattern);
      let stopped = false;
      const isStopped = () => stopped;
      const setup = subscribeOptions.durable
        ? runDurable(pattern, handler, subscribeOptions.durable, isStopped).then((m) => async () => void (await m.close()))
        : ready.then((nc) => runSequentially(pattern, handler, nc, isStopped)).then((s) => async () => s.unsubscribe());
      setup.catch((err) => onError(err, `subscribe ${pattern}`));
      // A durable subscriber set up while NATS is away starts once it is back; others wait for it.
      if (connected) await setup;
      return {
        async unsubscribe() {
          stopped = true;
          const stop = await setup.catch(() => undefined);
          await stop?.();
        },
      };
    },
    status(): BusStatus {
      return { ok: connected && !closed, kind: "nats", detail: connected ? `connected to ${options.url}` : lastProblem };
    },
    async close() {
      closed = true;
      for (const stop of stops) await stop().catch(() => {});
      if (established) await established.drain().catch(() => established?.close());
      else void connection.then((late) => late.close()).catch(() => {});
    },
  };
}
