import { isIP } from "node:net";
import type { Context, Next } from "koa";
import type { ServerConfig } from "../../config/server-config.js";
import { CookError } from "../../core/errors.js";

/**
 * The host names a request may name in `Host`. DNS rebinding works by pointing a name the attacker
 * owns at 127.0.0.1: the browser then sends `Host: evil.example` to this server, and the page counts
 * as same-origin with it. An IP literal cannot be rebound, loopback names resolve to this machine
 * in every browser, and the rest are names the operator configured.
 */
export function allowedHostNames(config: ServerConfig): string[] {
  const names = ["localhost", "*.localhost", ...config.server.allowedHosts];
  if (!isIP(config.server.host) && config.server.host !== "0.0.0.0") names.push(config.server.host);
  if (config.server.publicUrl) names.push(new URL(config.server.publicUrl).hostname);
  return names.map((name) => name.toLowerCase());
}

/** The host name of a `Host` header (`[::1]:7420` → `::1`, `Cook.Example:80` → `cook.example`). */
export function hostNameOf(header: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(header);
  if (bracketed) return bracketed[1]!.toLowerCase();
  return header.replace(/:\d*$/, "").replace(/\.$/, "").toLowerCase();
}

/** Whether `Host: <header>` names this server: an IP literal, or a name in the allowed list (`*.x` matches subdomains of x). */
export function isAllowedHost(header: string, allowed: readonly string[]): boolean {
  const name = hostNameOf(header);
  if (name === "" || isIP(name)) return name !== "";
  return allowed.some((pattern) => (pattern.startsWith("*.") ? name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1 : name === pattern));
}

/**
 * Refuses (421 Misdirected Request) any request whose Host this server does not answer to, before
 * anything else looks at it: pages, API, SSE, git. A request without Host (HTTP/1.0) names no
 * other host and passes.
 */
export function allowedHostsMiddleware(allowed: readonly string[]) {
  return async (ctx: Context, next: Next) => {
    const header = ctx.get("Host");
    if (header !== "" && !isAllowedHost(header, allowed)) {
      const shown = hostNameOf(header).replace(/[^\x21-\x7e]/g, "?").slice(0, 100);
      throw new CookError("misdirected", `this server does not answer to host '${shown}'; an operator can add it to [server] allowed_hosts`);
    }
    await next();
  };
}
