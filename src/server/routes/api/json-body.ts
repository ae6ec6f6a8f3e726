import type { Context } from "koa";
import { CookError } from "../../../core/errors.js";

/** The request's JSON object; anything else (none, an array, a scalar) → 400 bad_request. */
export function jsonBody(ctx: Context): Record<string, unknown> {
  const body = ctx.request.body;
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new CookError("bad_request", "send a JSON object");
  return body as Record<string, unknown>;
}

/** The request's JSON object, or `{}` when it sent none (a POST that only names its target); an array or scalar → 400. */
export function optionalJsonBody(ctx: Context): Record<string, unknown> {
  const body = ctx.request.body;
  if (body === undefined || body === null || (typeof body === "object" && !Array.isArray(body) && Object.keys(body).length === 0)) return {};
  return jsonBody(ctx);
}
