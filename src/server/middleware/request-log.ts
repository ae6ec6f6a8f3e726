import { randomUUID } from "node:crypto";
import type { Context, Next } from "koa";
import type { Logger } from "../logger.js";

// A proxy's request id is kept so logs can be joined; anything else a client sends (line breaks,
// markup, megabytes) would be written into logs and error pages, so it is replaced.
const wellFormedRequestId = /^[A-Za-z0-9._:-]{1,64}$/;

/** One log line per request, with a request id that also appears in 500 answers. */
export function requestLogMiddleware(log: Logger) {
  return async (ctx: Context, next: Next) => {
    const given = ctx.get("X-Request-Id");
    const requestId = wellFormedRequestId.test(given) ? given : randomUUID();
    const started = process.hrtime.bigint();
    ctx.state.requestId = requestId;
    ctx.state.log = log.child({ requestId });
    ctx.set("X-Request-Id", requestId);
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      ctx.state.log.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10 }, "request");
    }
  };
}
