import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import type { Context, Next } from "koa";
import { packageRoot } from "../config/package-root.js";

export const publicDir = join(packageRoot(), "public");

const contentTypes: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".map": "application/json",
};

/** Serves files under public/ at /public/…; nothing outside that folder, whatever the path says. */
export function staticFilesMiddleware() {
  const root = resolve(publicDir);
  return async (ctx: Context, next: Next) => {
    if (!ctx.path.startsWith("/public/") || (ctx.method !== "GET" && ctx.method !== "HEAD")) return next();
    let relative: string;
    try {
      relative = decodeURIComponent(ctx.path.slice("/public/".length));
    } catch {
      return next();
    }
    const file = resolve(root, relative);
    const type = contentTypes[extname(file)];
    if (!file.startsWith(root + sep) || relative.includes("\0") || !type) return next();
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return next();
    ctx.type = type;
    ctx.length = info.size;
    ctx.set("Cache-Control", "public, max-age=300");
    ctx.set("X-Content-Type-Options", "nosniff");
    ctx.body = ctx.method === "HEAD" ? null : createReadStream(file);
  };
}
