import { randomUUID } from "node:crypto";
import type { Context, Next } from "koa";
import type { Logger } from "../logger.js";

/** One log line per request, with a request id that also appears in 500 answers. */
export function requestLogMiddleware(log: Logger) {
  return async (ctx: Context, next: Next) => {
    const requestId = ctx.get("X-Request-Id").slice(0, 64) || randomUUID();
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
