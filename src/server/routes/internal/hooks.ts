import { text } from "node:stream/consumers";
import Router from "@koa/router";
import type { Context } from "koa";
import { CookError, httpStatusOf } from "../../../core/errors.js";
import { parseHookCall } from "../../../forge/hook-call.js";
import { decidePush, hookSecretMatches, recordPush } from "../../../forge/hooks.js";
import { publicRoute } from "../../middleware/auth.js";
import type { Services } from "../../services.js";

/**
 * The endpoint the repos' git hooks (hooks/pre-receive, bash over /dev/tcp) call; only a
 * caller with the server's hook secret gets in. It answers plain text, which the hook prints for
 * git to show as `remote: …` lines: 200 lets the push go on, 403 refuses it with the reason.
 */
export function hookRoutes(services: Services): Router {
  const router = new Router({ prefix: "/internal/hooks" });
  const deps = { ...services, rules: services.config.forge };

  router.use(async (ctx, next) => {
    try {
      if (!hookSecretMatches(services.hooks.secret, ctx.get("X-Cook-Hook-Secret"))) throw new CookError("forbidden", "not a hook of this server");
      await next();
    } catch (err) {
      // Every answer is a line for git to show, errors included: the hook cannot read a JSON error or an error page.
      const known = err instanceof CookError ? err : undefined;
      if (!known) ctx.state.log?.error({ err, path: ctx.path }, "unhandled error");
      ctx.status = known ? httpStatusOf(known.code) : 500;
      ctx.type = "text/plain";
      ctx.body = `cook: ${known ? known.message : `internal error (request ${ctx.state.requestId})`}\n`;
    }
  });

  // The body is read only after the secret matched: no limit is needed for a caller that holds it.
  const readCall = async (ctx: Context) => parseHookCall(await text(ctx.req));

  router.post("/pre-receive", publicRoute(), async (ctx) => {
    const verdict = await decidePush(deps, await readCall(ctx));
    ctx.type = "text/plain";
    if (verdict.allowed) ctx.body = "";
    else {
      ctx.status = 403;
      ctx.body = `cook: ${verdict.reason}\n`;
    }
  });

  router.post("/post-receive", publicRoute(), async (ctx) => {
    await recordPush(deps, await readCall(ctx));
    ctx.type = "text/plain";
    ctx.body = "";
  });

  return router;
}
