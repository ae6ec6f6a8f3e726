import type Router from "@koa/router";
import type { Context, Middleware, Next } from "koa";
import { localActor, type Actor } from "../../core/actor.js";
import { authorize, type Action, type Resource } from "../../core/authorization.js";
import { CookError } from "../../core/errors.js";
import type { Db } from "../../db/db.js";
import { findTokenBySecret } from "../../db/token-store.js";

/**
 * The token in `Authorization: Bearer <token>` or, for git and browsers, Basic with the token as
 * password: the secret; `null` when the header carries no credentials (an empty Bearer, or Basic
 * with an empty password — what clients send for `http://me@host/repo.git` before they ask their
 * credential helper, and only if they are told 401); undefined when it cannot be read.
 */
export function secretFromHeader(header: string): string | null | undefined {
  const [kind, value = ""] = header.trim().split(/\s+/, 2);
  if (/^bearer$/i.test(kind!)) return value || null;
  if (/^basic$/i.test(kind!)) {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return value === "" ? null : undefined;
    return decoded.slice(colon + 1) || null;
  }
  return undefined;
}

export function isLoopbackAddress(address: string | undefined): boolean {
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1" || Boolean(address?.startsWith("127."));
}

/**
 * Identifies the caller. Without `[auth] required`, a request from localhost acts as the local
 * admin (the server then only listens on loopback); with it, every request needs a token. A token
 * that is sent but unknown, revoked or unreadable is refused with 401 even on a trusted localhost.
 */
export function authMiddleware(deps: { db: Db; required: boolean }) {
  return async (ctx: Context, next: Next) => {
    const header = ctx.get("Authorization");
    let actor: Actor | undefined;
    const secret = header ? secretFromHeader(header) : null;
    if (secret !== null) {
      const token = secret ? await findTokenBySecret(deps.db, secret) : undefined;
      // 401, not 403: credentials that identify nobody are no credentials. Git calls its credential
      // helper's `erase` (and asks anew next time) only on 401; on 403 it keeps the stale token
      // forever. 403 is for a valid token whose scope forbids the action (core/authorization.ts).
      if (!token) throw new CookError("unauthenticated", "the token is not valid: it is unknown, revoked or malformed");
      actor = { name: token.name, scope: token.scope };
    } else if (!deps.required && isLoopbackAddress(ctx.req.socket.remoteAddress)) {
      actor = localActor;
    }
    ctx.state.actor = actor;
    await next();
  };
}

/** Where `permit` finds what a request acts on: a fixed resource, or one read from the request (params, query, body, a stored task). */
export type ResourceOf = Resource | ((ctx: Context) => Resource | Promise<Resource>);

const permitTag = Symbol("cook.permit");
type Tagged = Middleware & { [permitTag]?: string };

/**
 * Route guard: the one authorization decision (core/authorization.ts) for this route's action on
 * the resource it touches. Every route of the app carries one (or `publicRoute`): createApp refuses
 * to start otherwise, so a new page cannot forget the check.
 */
export function permit(action: Action, resourceOf: ResourceOf): Middleware {
  const guard: Tagged = async (ctx: Context, next: Next) => {
    // Who is asking comes first: an anonymous caller learns nothing, not even whether a task exists.
    actorOf(ctx);
    const resource = typeof resourceOf === "function" ? await resourceOf(ctx) : resourceOf;
    ctx.state.actor = authorize(ctx.state.actor as Actor | undefined, action, resource);
    await next();
  };
  guard[permitTag] = action;
  return guard;
}

/**
 * A route's guard and handler that apply only to the requests `applies` accepts; any other request
 * goes on to the routes after it, to be judged by their own guards. The guard's mark is kept, so
 * the route still counts as guarded. For a path that means two things: a WebSocket handshake to
 * `/api/branches/x/terminal` attaches to branch x, a plain GET shows the branch named `x/terminal`.
 */
export function onlyFor(applies: (ctx: Context) => boolean, guard: Middleware, handler: Middleware): Middleware {
  const conditional: Tagged = (ctx, next) => (applies(ctx) ? guard(ctx, () => handler(ctx, next)) : next());
  conditional[permitTag] = (guard as Tagged)[permitTag];
  return conditional;
}

/** Marks a route that anyone may call (health checks; hooks, which prove themselves with the hook secret). */
export function publicRoute(): Middleware {
  const open: Tagged = (_ctx, next) => next();
  open[permitTag] = "public";
  return open;
}

/** The routes of these routers that carry no `permit` or `publicRoute`, as `METHOD path` lines. */
export function unguardedRoutes(routers: Router[]): string[] {
  const missing: string[] = [];
  for (const router of routers) {
    for (const layer of router.stack) {
      if (layer.methods.length === 0) continue; // router.use() middleware, not a route
      if (!layer.stack.some((fn) => (fn as Tagged)[permitTag] !== undefined)) missing.push(`${layer.methods.join(",")} ${layer.path}`);
    }
  }
  return missing;
}

/** The caller a `permit` guard let through. */
export function actorOf(ctx: Context): Actor {
  const actor = ctx.state.actor as Actor | undefined;
  if (!actor) throw new CookError("unauthenticated", "authentication required: send a token (cook token create) as Bearer or Basic password");
  return actor;
}
