import Router from "@koa/router";
import { CookError } from "../../../core/errors.js";
import { createRepo, getRepo, importRepo, listRepos, removeRepo } from "../../../forge/repos.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { repoParam } from "../../route-resources.js";
import type { Services } from "../../services.js";

export function repoApiRoutes(services: Services): Router {
  const router = new Router({ prefix: "/api/repos" });

  router.get("/", permit("read", "factory"), async (ctx) => {
    ctx.body = { repos: await listRepos(services) };
  });

  router.get("/:name", permit("read", repoParam("name")), async (ctx) => {
    ctx.body = { repo: await getRepo(services, ctx.params.name!) };
  });

  router.post("/", permit("change", "factory"), async (ctx) => {
    const body = (ctx.request.body ?? {}) as { name?: unknown; clone?: unknown; defaultBranch?: unknown };
    if (typeof body.name !== "string") throw new CookError("invalid", "name is required");
    if (body.clone !== undefined && typeof body.clone !== "string") throw new CookError("invalid", "clone must be a git URL or path");
    if (body.defaultBranch !== undefined && typeof body.defaultBranch !== "string") throw new CookError("invalid", "defaultBranch must be a branch name");
    const actor = actorOf(ctx);
    const repo =
      body.clone !== undefined
        ? await importRepo(services, { name: body.name, source: body.clone }, actor)
        : await createRepo(services, { name: body.name, defaultBranch: body.defaultBranch ?? services.config.defaults.branch }, actor);
    ctx.status = 201;
    ctx.body = { repo };
  });

  router.delete("/:name", permit("administer", repoParam("name")), async (ctx) => {
    ctx.body = await removeRepo(services, ctx.params.name!, actorOf(ctx));
  });

  return router;
}
