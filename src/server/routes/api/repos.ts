import Router from "@koa/router";
import { CookError } from "../../../core/errors.js";
import { createRepo, getRepo, importRepo, listRepos, removeRepo } from "../../../forge/repos.js";
import { requireActor, requireScope } from "../../middleware/auth.js";
import type { Services } from "../../services.js";

export function repoApiRoutes(services: Services): Router {
  const router = new Router({ prefix: "/api/repos" });

  router.get("/", requireScope("user"), async (ctx) => {
    ctx.body = { repos: await listRepos(services) };
  });

  router.get("/:name", requireScope("user"), async (ctx) => {
    ctx.body = { repo: await getRepo(services, ctx.params.name!) };
  });

  router.post("/", requireScope("user"), async (ctx) => {
    const body = (ctx.request.body ?? {}) as { name?: unknown; clone?: unknown; defaultBranch?: unknown };
    if (typeof body.name !== "string") throw new CookError("invalid", "name is required");
    const actor = requireActor(ctx);
    const repo =
      body.clone !== undefined
        ? await importRepo(services, { name: body.name, source: String(body.clone) }, actor)
        : await createRepo(services, { name: body.name, defaultBranch: typeof body.defaultBranch === "string" ? body.defaultBranch : services.config.defaults.branch }, actor);
    ctx.status = 201;
    ctx.body = { repo };
  });

  router.delete("/:name", requireScope("admin"), async (ctx) => {
    ctx.body = await removeRepo(services, ctx.params.name!, requireActor(ctx));
  });

  return router;
}
