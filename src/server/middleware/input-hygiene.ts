import type { Context, Next } from "koa";
import { CookError } from "../../core/errors.js";

/** How deeply a JSON body may nest; Cook's own bodies nest three levels at most. */
export const maxJsonDepth = 32;

// PostgreSQL text cannot hold U+0000, and no name, title or path of Cook's has a use for it: it is
// refused at the door rather than turning into a driver error deep inside a service.
const nul = "\u0000";

function hasNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes(nul);
  return Array.isArray(value) && value.some((item) => typeof item === "string" && item.includes(nul));
}

/**
 * Refuses a request target that no route can use: a NUL byte (raw or `%00`) in the path (400) or
 * in a query value (422, naming the parameter). Percent-encoding that is not UTF-8 is left to the
 * routes: a file in a repo may be named by bytes that are not UTF-8 (`caf%E9.txt`).
 */
export function requestTargetMiddleware() {
  return async (ctx: Context, next: Next) => {
    if (/%00|\0/.test(ctx.path)) throw new CookError("bad_request", "the URL's path cannot contain a NUL character");
    for (const [name, value] of Object.entries(ctx.query)) {
      if (name.includes(nul) || hasNul(value)) throw new CookError("invalid", `query parameter '${name.replace(/\0/g, "\\0")}' cannot contain a NUL character`);
    }
    await next();
  };
}

/**
 * Walks a parsed body once, without recursion (a body nested 20,000 deep must not overflow the
 * stack here or anywhere later): refuses nesting deeper than `maxJsonDepth` and — in a form — any
 * value that is not text (CookError "bad_request"), and any string or key holding a NUL character
 * (CookError "invalid", naming the field).
 */
export function checkParsedBody(body: unknown, kind: "json" | "form"): void {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value: body, depth: 0, path: "" }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (typeof value === "string") {
      if (value.includes(nul)) throw new CookError("invalid", `${path || "the body"} cannot contain a NUL character`);
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth >= maxJsonDepth) throw new CookError("bad_request", `the body nests deeper than ${maxJsonDepth} levels`);
    if (kind === "form" && depth >= 1 && !Array.isArray(value)) throw new CookError("bad_request", `form field ${path} must be text`);
    for (const [key, child] of Object.entries(value)) {
      if (key.includes(nul)) throw new CookError("invalid", "a field name cannot contain a NUL character");
      stack.push({ value: child, depth: depth + 1, path: Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key });
    }
  }
}

/** Applies checkParsedBody to whatever the body parser produced. */
export function parsedBodyMiddleware() {
  return async (ctx: Context, next: Next) => {
    const body = ctx.request.body;
    if (body !== undefined && ctx.request.is("json", "application/x-www-form-urlencoded")) {
      checkParsedBody(body, ctx.request.is("json") ? "json" : "form");
    }
    await next();
  };
}
