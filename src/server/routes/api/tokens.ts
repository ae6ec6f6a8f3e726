import Router from "@koa/router";
import { createToken, listTokens, revokeToken } from "../../../auth/tokens.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { optionalInteger } from "../../params.js";
import type { Services } from "../../services.js";
import { CookError } from "../../../core/errors.js";

export function tokenApiRoutes(services: Services): Router {
  const router = new Router({ prefix: "/api/tokens" });

  router.get("/", permit("administer", "factory"), async (ctx) => {
    ctx.body = { tokens: await listTokens(services) };
  });

  router.post("/", permit("administer", "factory"), async (ctx) => {
    const body = (ctx.request.body ?? {}) as { name?: unknown; scope?: unknown };
    const created = await createToken(services, body, actorOf(ctx));
    ctx.status = 201;
    ctx.body = created;
  });

  router.delete("/:id", permit("administer", "factory"), async (ctx) => {
    const id = optionalInteger("id", ctx.params.id);
    if (id === undefined) throw new CookError("invalid", "token id is required");
    ctx.body = { token: await revokeToken(services, id) };
  });

  return router;
}
