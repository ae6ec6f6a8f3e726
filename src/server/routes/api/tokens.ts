import Router from "@koa/router";
import { createToken, listTokens, revokeToken } from "../../../auth/tokens.js";
import { requireActor, requireScope } from "../../middleware/auth.js";
import { optionalInteger } from "../../params.js";
import type { Services } from "../../services.js";
import { CookError } from "../../../core/errors.js";

export function tokenApiRoutes(services: Services): Router {
  const router = new Router({ prefix: "/api/tokens" });
  router.use(requireScope("admin"));

  router.get("/", async (ctx) => {
    ctx.body = { tokens: await listTokens(services) };
  });

  router.post("/", async (ctx) => {
    const body = (ctx.request.body ?? {}) as { name?: unknown; scope?: unknown };
    const created = await createToken(services, body, requireActor(ctx));
    ctx.status = 201;
    ctx.body = created;
  });

  router.delete("/:id", async (ctx) => {
    const id = optionalInteger("id", ctx.params.id);
    if (id === undefined) throw new CookError("invalid", "token id is required");
    ctx.body = { token: await revokeToken(services, id) };
  });

  return router;
}
