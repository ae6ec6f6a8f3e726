import type { Context, Next } from "koa";
import { hasScope, localActor, type Actor } from "../../core/actor.js";
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
 * admin (the server then only listens on loopback); with it, every request needs a token.
 */
export function authMiddleware(deps: { db: Db; required: boolean }) {
  return async (ctx: Context, next: Next) => {
    const header = ctx.get("Authorization");
    let actor: Actor | undefined;
    const secret = header ? secretFromHeader(header) : null;
    if (secret !== null) {
      const token = secret ? await findTokenBySecret(deps.db, secret) : undefined;
      if (!token) throw new CookError("forbidden", "the token is not valid: it is unknown, revoked or malformed");
      actor = { name: token.name, scope: token.scope };
    } else if (!deps.required && isLoopbackAddress(ctx.req.socket.remoteAddress)) {
      actor = localActor;
    }
    ctx.state.actor = actor;
    await next();
  };
}

/** Refuses anonymous callers (401, so git and browsers ask for credentials). */
export function requireActor(ctx: Context): Actor {
  const actor = ctx.state.actor as Actor | undefined;
  if (!actor) throw new CookError("unauthenticated", "authentication required: send a token (cook token create) as Bearer or Basic password");
  return actor;
}

/** Route guard: agent tokens may not read or change anything beyond their own branch. */
export function requireScope(needed: "admin" | "user") {
  return async (ctx: Context, next: Next) => {
    const actor = requireActor(ctx);
    if (!hasScope(actor, needed)) throw new CookError("forbidden", `this needs a token with '${needed}' scope; yours is '${actor.scope}'`);
    await next();
  };
}
