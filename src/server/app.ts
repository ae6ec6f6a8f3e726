import { gateApiRoutes } from "./routes/api/gates.js";
import { bodyParser } from "@koa/bodyparser";
import type Router from "@koa/router";
import Koa from "koa";
import type nunjucks from "nunjucks";
import { CookError } from "../core/errors.js";
import { isServerRouteName } from "../core/names.js";
import type { LiveStreams } from "./live/sse.js";
import type { Terminals } from "./live/terminal.js";
import { allowedHostNames, allowedHostsMiddleware } from "./middleware/allowed-hosts.js";
import { authMiddleware, unguardedRoutes } from "./middleware/auth.js";
import { errorMiddleware } from "./middleware/errors.js";
import { parsedBodyMiddleware, requestTargetMiddleware } from "./middleware/input-hygiene.js";
import { requestLogMiddleware } from "./middleware/request-log.js";
import { sameOriginMiddleware } from "./middleware/same-origin.js";
import { securityHeadersMiddleware } from "./middleware/security-headers.js";
import { agentApiRoutes } from "./routes/api/agents.js";
import { autopilotApiRoutes } from "./routes/api/autopilot.js";
import { planApiRoutes } from "./routes/api/plans.js";
import { factoryApiRoutes } from "./routes/api/factory.js";
import { factoryWebRoutes } from "./routes/web/factory.js";
import { repoAutopilotRoutes } from "./routes/web/repo-autopilot.js";
import { planWebRoutes } from "./routes/web/plans.js";
import { branchApiRoutes } from "./routes/api/branches.js";
import { eventApiRoutes } from "./routes/api/events.js";
import { healthRoutes } from "./routes/api/health.js";
import { repoApiRoutes } from "./routes/api/repos.js";
import { taskApiRoutes } from "./routes/api/tasks.js";
import { tokenApiRoutes } from "./routes/api/tokens.js";
import { hookRoutes } from "./routes/internal/hooks.js";
import { smartHttpMiddleware } from "../forge/smart-http.js";
import { branchWebRoutes } from "./routes/web/branches.js";
import { eventWebRoutes } from "./routes/web/events.js";
import { pageRoutes } from "./routes/web/pages.js";
import { repoFormRoutes } from "./routes/web/repo-form.js";
import { repoWebRoutes } from "./routes/web/repos.js";
import { taskWebRoutes } from "./routes/web/tasks.js";
import type { Services } from "./services.js";
import { staticFilesMiddleware } from "./static-files.js";
import { createViewEnvironment, viewMiddleware } from "./views.js";

/** The composition root of the HTTP side: middleware order matters and is spelled out here. */
export function createApp(services: Services, live: LiveStreams, terminals: Terminals): Koa {
  const app = new Koa();
  const views = createViewEnvironment();
  // Errors are answered and logged by errorMiddleware; what reaches Koa's handler is a socket
  // that went away mid-response, which is the client's business.
  app.on("error", (err: Error) => services.log.debug({ err: err.message }, "response error"));

  app.use(requestLogMiddleware(services.log));
  app.use(securityHeadersMiddleware());
  app.use(viewMiddleware(views, { version: services.version }));
  app.use(errorMiddleware());
  app.use(allowedHostsMiddleware(allowedHostNames(services.config)));
  app.use(requestTargetMiddleware());
  app.use(staticFilesMiddleware());

  const [health, ...routers] = createRouters(services, live, views, terminals);
  app.use(health!.routes());

  app.use(sameOriginMiddleware());
  app.use(authMiddleware({ db: services.db, required: services.config.auth.required }));
  // Git bodies are pack streams: the smart HTTP handler reads them itself, before any body parser.
  app.use(smartHttpMiddleware({ dataDir: services.dataDir, hooks: services.hooks, spawner: services.spawner }));
  app.use(
    bodyParser({
      enableTypes: ["json", "form"],
      // A task body may be 1 MiB (413 beyond that, from the task rules); an import carries many.
      jsonLimit: "32mb",
      formLimit: "2mb",
      onError: (err: Error & { status?: number; type?: string }) => {
        if (err.status === 413) throw new CookError("too_large", `request body is over the limit (${err.type === "entity.too.large" ? "32 MiB for JSON, 2 MiB for forms" : err.message})`);
        if (err.status === 415) throw new CookError("unsupported_media_type", err.message);
        throw new CookError("bad_request", `request body is not valid JSON: ${err.message}`);
      },
    }),
  );
  app.use(parsedBodyMiddleware());

  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}

/**
 * Every router of the app, in the order requests try them. Each route carries its authorization
 * (`permit` or `publicRoute`); a route without one stops the server from starting.
 */
export function createRouters(services: Services, live: LiveStreams, views: nunjucks.Environment, terminals: Terminals): Router[] {
  const routers = [healthRoutes(services), hookRoutes(services), repoApiRoutes(services), eventApiRoutes(services, live), taskApiRoutes(services), gateApiRoutes(services), autopilotApiRoutes(services), planApiRoutes(services), factoryApiRoutes(services), branchApiRoutes(services, terminals), agentApiRoutes(services), tokenApiRoutes(services), eventWebRoutes(services, live, views), repoFormRoutes(services), repoAutopilotRoutes(services), repoWebRoutes(services), taskWebRoutes(services), planWebRoutes(services), factoryWebRoutes(services, live), branchWebRoutes(services, live, views), pageRoutes(services)];
  const unguarded = unguardedRoutes(routers);
  if (unguarded.length > 0) throw new Error(`routes without an authorization decision: ${unguarded.join("; ")}`);
  checkRouteNames(routers);
  return routers;
}

/**
 * `/<repo>/info/refs` is git's unless its first segment is a server route name, and repos cannot
 * take those names: a route outside that list would be shadowed by a repo of its name.
 */
function checkRouteNames(routers: Router[]): void {
  for (const layer of routers.flatMap((router) => router.stack)) {
    // Middleware layers of a prefixed router carry their prefix as a pattern: `/repos(?:\/|$)`.
    const first = /^\/([^/(?:{*]*)/.exec(String(layer.path))?.[1] ?? "";
    if (first !== "" && !isServerRouteName(first)) throw new Error(`route ${String(layer.path)} is not under a server route name: add '${first}' to serverRouteNames`);
  }
}
