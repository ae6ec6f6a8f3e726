import type { Context, Next } from "koa";
import { CookError, httpStatusOf, type ErrorCode } from "../../core/errors.js";
import { parseGitPath } from "../../forge/git-path.js";

export function wantsJson(ctx: Context): boolean {
  return ctx.path.startsWith("/api/") || ctx.path === "/api" || ctx.path === "/healthz" || (!ctx.accepts("html") && Boolean(ctx.accepts("json")));
}

// Errors thrown by Koa and its body parser carry an HTTP status and `expose` for client mistakes.
interface HttpError extends Error {
  status?: number;
  expose?: boolean;
  type?: string;
}

function toCookError(err: unknown): CookError | undefined {
  if (err instanceof CookError) return err;
  const httpError = err as HttpError;
  if (httpError && typeof httpError.status === "number" && httpError.expose) {
    const byStatus: Record<number, ErrorCode> = { 400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid" };
    const code = byStatus[httpError.status] ?? "bad_request";
    const message = httpError.type === "entity.parse.failed" ? `request body is not valid JSON: ${httpError.message}` : httpError.message;
    return new CookError(code, message);
  }
  return undefined;
}

/**
 * Domain errors become their HTTP status with `{error: {code, message}}` (API) or an error page
 * (web); anything else is logged with its stack and answered 500 with only the request id.
 */
export function errorMiddleware() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) {
        throw new CookError("not_found", `no such page: ${ctx.path}`);
      }
      // The router's answer to a route asked with another method: its Allow header stays.
      if (ctx.status === 405 && ctx.respond !== false) {
        throw new CookError("method_not_allowed", `${ctx.method} is not how ${ctx.path} is used: it takes ${ctx.response.get("Allow") || "other methods"}`);
      }
    } catch (err) {
      const known = toCookError(err);
      const code: ErrorCode = known?.code ?? "internal";
      const message = known ? known.message : `internal error (request ${ctx.state.requestId})`;
      if (!known) ctx.state.log?.error({ err, path: ctx.path, method: ctx.method }, "unhandled error");
      ctx.status = httpStatusOf(code);
      if (code === "unauthenticated") ctx.set("WWW-Authenticate", 'Basic realm="cook"');
      if (parseGitPath(ctx.path)) {
        // Whatever refused it (auth, host check, the handler), a git URL is answered for git clients:
        // they print only the status; curl and people reading logs get the reason on one line.
        ctx.type = "text/plain";
        ctx.body = `${message.replace(/\s*\n\s*/g, " ")}\n`;
      } else if (wantsJson(ctx)) {
        ctx.body = { error: { code, message } };
      } else if (ctx.render) {
        await ctx.render(ctx.get("HX-Request") ? "_error" : "error", { status: ctx.status, code, message });
      } else {
        ctx.type = "text/plain";
        ctx.body = `${message}\n`;
      }
    }
  };
}
