import { bodyParser } from "@koa/bodyparser";
import Koa from "koa";
import type Router from "@koa/router";
import { CookError } from "../core/errors.js";
import { isServerRouteName } from "../core/names.js";
import type { LiveStreams } from "./live/sse.js";
import { authMiddleware } from "./middleware/auth.js";
import { errorMiddleware } from "./middleware/errors.js";
import { requestLogMiddleware } from "./middleware/request-log.js";
import { sameOriginMiddleware } from "./middleware/same-origin.js";
import { securityHeadersMiddleware } from "./middleware/security-headers.js";
import { eventApiRoutes } from "./routes/api/events.js";
import { healthRoutes } from "./routes/api/health.js";
import { repoApiRoutes } from "./routes/api/repos.js";
import { taskApiRoutes } from "./routes/api/tasks.js";
import { tokenApiRoutes } from "./routes/api/tokens.js";
import { hookRoutes } from "./routes/internal/hooks.js";
import { smartHttpMiddleware } from "../forge/smart-http.js";
import { eventWebRoutes } from "./routes/web/events.js";
import { pageRoutes } from "./routes/web/pages.js";
import { repoWebRoutes } from "./routes/web/repos.js";
import { taskWebRoutes } from "./routes/web/tasks.js";
import type { Services } from "./services.js";
import { staticFilesMiddleware } from "./static-files.js";
import { createViewEnvironment, viewMiddleware } from "./views.js";

/** The composition root of the HTTP side: middleware order matters and is spelled out here. */
export function createApp(services: Services, live: LiveStreams): Koa {
  const app = new Koa();
  const views = createViewEnvironment();
  // Errors are answered and logged by errorMiddleware; what reaches Koa's handler is a socket
  // that went away mid-response, which is the client's business.
  app.on("error", (err: Error) => services.log.debug({ err: err.message }, "response error"));

  app.use(requestLogMiddleware(services.log));
  app.use(securityHeadersMiddleware());
  app.use(viewMiddleware(views, { version: services.version }));
  app.use(errorMiddleware());
  app.use(staticFilesMiddleware());

  const health = healthRoutes(services);
  app.use(health.routes());

  app.use(sameOriginMiddleware());
  app.use(authMiddleware({ db: services.db, required: services.config.auth.required }));
  // Git bodies are pack streams: the smart HTTP handler reads them itself, before any body parser.
  app.use(smartHttpMiddleware({ dataDir: services.dataDir, hooks: services.hooks }));
  app.use(
    bodyParser({
      enableTypes: ["json", "form"],
      // A task body may be 1 MiB (413 beyond that, from the task rules); an import carries many.
      jsonLimit: "32mb",
      formLimit: "2mb",
      onError: (err: Error) => {
        throw new CookError("bad_request", `request body is not valid JSON: ${err.message}`);
      },
    }),
  );

  const routers = [hookRoutes(services), repoApiRoutes(services), eventApiRoutes(services, live), taskApiRoutes(services), tokenApiRoutes(services), eventWebRoutes(services, live, views), repoWebRoutes(services), taskWebRoutes(services), pageRoutes(services)];
  checkRouteNames([health, ...routers]);
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
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
