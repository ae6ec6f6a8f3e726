import type { Context, Next } from "koa";

// Scripts only from /public (htmx and ours, never inline, never a CDN), so markup that slips
// past escaping still cannot run script.
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

export function securityHeadersMiddleware() {
  return async (ctx: Context, next: Next) => {
    ctx.set("X-Content-Type-Options", "nosniff");
    ctx.set("Referrer-Policy", "same-origin");
    ctx.set("X-Frame-Options", "DENY");
    ctx.set("Content-Security-Policy", contentSecurityPolicy);
    await next();
  };
}
