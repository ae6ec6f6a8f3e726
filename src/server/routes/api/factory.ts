import Router from "@koa/router";
import { readFactoryStats } from "../../../factory/stats.js";
import { permit } from "../../middleware/auth.js";
import { factoryQueryFrom } from "../../params.js";
import { queryRepo } from "../../route-resources.js";
import type { Services } from "../../services.js";

/**
 * `GET /api/factory?repo=&days=`: the factory page's numbers (merges and cycle times, gate runs,
 * agent time and cost per task, recent plans) over the last 7, 30 or 90 days, of one repo or all.
 */
export function factoryApiRoutes(services: Services): Router {
  const router = new Router({ prefix: "/api/factory" });

  router.get("/", permit("read", queryRepo), async (ctx) => {
    ctx.body = { factory: await readFactoryStats(services, factoryQueryFrom(ctx.query)) };
  });

  return router;
}
