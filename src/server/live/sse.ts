import { PassThrough } from "node:stream";
import type { Context } from "koa";
import type { Db } from "../../db/db.js";
import { streamEvents, type Bus } from "../../events/bus.js";
import type { Event } from "../../events/event.js";
import { readEventHistory } from "../../events/history.js";

export interface SseMessage {
  event: string;
  data: string;
}

export interface LiveStreamOptions {
  pattern: string;
  /** Only events about this repo. */
  repo?: string;
  /** Replays logged events after this id before going live (Last-Event-ID on reconnect). */
  afterId?: number;
  /** Only events this accepts (beyond pattern and repo): a page that refreshes on some kinds of event only. */
  filter?(event: Event): boolean;
  /**
   * The message (or messages, or none) an event becomes. It may take its time (render markdown,
   * read the store): messages still go out in the order of their events, one event's after another's.
   */
  format(event: Event): FormattedMessage | Promise<FormattedMessage>;
}

export type FormattedMessage = SseMessage | SseMessage[] | undefined;

export interface LiveStreams {
  open(ctx: Context, options: LiveStreamOptions): Promise<void>;
  /** Ends every open stream: on shutdown, so in-flight long polls do not hold the server open. */
  closeAll(): void;
  count(): number;
}

const heartbeatMs = 15_000;

/**
 * One SSE message (WHATWG HTML, "server-sent events"). The format ends a line at CR, LF or CRLF,
 * so a bare CR inside a payload would start a new field (`id:`, `retry:`, `event:`) in every
 * viewer's stream: each line of the payload becomes its own `data:` line, whichever terminator
 * split it, and the event name, which must be one line, is refused if it is not.
 */
export function encodeSseMessage(id: number, message: SseMessage): string {
  if (/[\r\n]/.test(message.event)) throw new Error("an SSE event name cannot contain a line break");
  const data = message.data.split(/\r\n|\r|\n/).map((line) => `data: ${line}`).join("\n");
  return `id: ${id}\nevent: ${message.event}\n${data}\n\n`;
}

export function createLiveStreams(deps: { bus: Bus; db: Db }): LiveStreams {
  const open = new Set<() => void>();

  return {
    count: () => open.size,
    closeAll() {
      for (const close of [...open]) close();
    },
    async open(ctx, options) {
      // Subscribe before reading history, so an event committed in between is not lost; ids dedupe.
      const stream = await streamEvents(deps.bus, options.pattern);
      const body = new PassThrough();
      let lastId = options.afterId ?? 0;
      let closed = false;

      const close = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        open.delete(close);
        void stream.close();
        body.end();
      };
      const heartbeat = setInterval(() => body.write(": keep-alive\n\n"), heartbeatMs);
      open.add(close);
      ctx.req.on("close", close);
      ctx.res.on("close", close);

      ctx.req.socket.setTimeout(0);
      ctx.req.socket.setNoDelay(true);
      ctx.status = 200;
      ctx.type = "text/event-stream";
      ctx.set("Cache-Control", "no-cache, no-transform");
      ctx.set("X-Accel-Buffering", "no");
      ctx.body = body;
      body.write("retry: 3000\n\n");

      const write = (id: number, formatted: FormattedMessage) => {
        if (closed || formatted === undefined) return;
        for (const message of Array.isArray(formatted) ? formatted : [formatted]) body.write(encodeSseMessage(id, message));
      };
      // Messages made asynchronously are written in event order: each waits for the one before.
      let pending: Promise<void> | undefined;
      const queue = (work: Promise<void>) => {
        // A message that could not be made is left out: the page shows it on its next load.
        const settled = work.catch(() => {});
        pending = settled;
        void settled.then(() => {
          if (pending === settled) pending = undefined;
        });
      };
      const send = (event: Event) => {
        if (closed || event.id <= lastId || (options.repo !== undefined && event.repo !== options.repo)) return;
        lastId = event.id;
        if (options.filter && !options.filter(event)) return;
        if (pending) {
          queue(pending.then(async () => write(event.id, await options.format(event))));
          return;
        }
        const formatted = options.format(event);
        if (formatted instanceof Promise) queue(formatted.then((message) => write(event.id, message)));
        else write(event.id, formatted);
      };

      void (async () => {
        try {
          if (options.afterId !== undefined) {
            for (;;) {
              const page = await readEventHistory(deps, { subject: options.pattern, repo: options.repo, after: lastId, limit: 500, committed: true });
              page.forEach(send);
              if (page.length < 500 || closed) break;
            }
          }
          for await (const event of stream) send(event);
        } catch {
          // The client went away or the bus closed: either way this stream is over.
        } finally {
          close();
        }
      })();
    },
  };
}
