import type { IncomingMessage } from "node:http";
import type { Context, Next } from "koa";
import { CookError } from "../../core/errors.js";

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether the request is a WebSocket opening handshake (RFC 6455 section 4.1: a GET with `Upgrade: websocket`). */
export function isWebSocketHandshake(req: IncomingMessage): boolean {
  return req.method === "GET" && /(^|,)\s*websocket\s*(,|$)/i.test(req.headers.upgrade ?? "");
}

/**
 * Cross-site request forgery guard. Localhost is trusted without a token, so without this any web
 * page the user visits could make their browser post a form to the factory. Browsers say where a
 * request comes from (Sec-Fetch-Site, Origin); a change that comes from another site is refused.
 * A WebSocket handshake is a GET, but neither CORS nor the same-origin policy applies to it: a page
 * on any site may open one, and the browser sends the user's credentials along (cross-site
 * WebSocket hijacking). It opens a terminal, so it is judged like a change.
 * Clients that are not browsers (the CLI, git, hooks) send neither header.
 */
export function sameOriginMiddleware() {
  return async (ctx: Context, next: Next) => {
    if (!safeMethods.has(ctx.method) || isWebSocketHandshake(ctx.req)) {
      const site = ctx.get("Sec-Fetch-Site");
      const origin = ctx.get("Origin");
      const crossSite = (site !== "" && site !== "same-origin" && site !== "none") || (origin !== "" && origin !== `${ctx.protocol}://${ctx.host}`);
      if (crossSite) throw new CookError("forbidden", "cross-site request refused: changes can only be made from the factory's own pages");
    }
    await next();
  };
}
