import Router from "@koa/router";
import { CookError } from "../../../core/errors.js";
import { decidePush, hookSecretMatches, parseHookCall, recordPush } from "../../../forge/hooks.js";
import { publicRoute } from "../../middleware/auth.js";
import type { Services } from "../../services.js";

/** The endpoint the repos' git hooks call; only a caller with the server's hook secret gets in. */
export function hookRoutes(services: Services): Router {
  const router = new Router({ prefix: "/internal/hooks" });
  const deps = { ...services, rules: services.config.forge };

  router.use(async (ctx, next) => {
    if (!hookSecretMatches(services.hooks.secret, ctx.get("X-Cook-Hook-Secret"))) throw new CookError("forbidden", "not a hook of this server");
    await next();
  });

  router.post("/pre-receive", publicRoute(), async (ctx) => {
    const verdict = await decidePush(deps, parseHookCall(ctx.request.body));
    ctx.body = verdict.allowed ? { allowed: true, messages: [] } : { allowed: false, messages: [`cook: ${verdict.reason}`] };
  });

  router.post("/post-receive", publicRoute(), async (ctx) => {
    const call = parseHookCall(ctx.request.body);
    await recordPush(deps, call);
    ctx.body = { messages: [] };
  });

  return router;
}
