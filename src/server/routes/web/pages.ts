import Router from "@koa/router";
import { readEventHistory } from "../../../events/history.js";
import { permit } from "../../middleware/auth.js";
import type { Services } from "../../services.js";

/** The overview, and the Branches area whose features are still to come (it says so plainly). */
export function pageRoutes(services: Services): Router {
  const router = new Router();

  router.get("/", permit("read", "factory"), async (ctx) => {
    const events = await readEventHistory(services, { limit: 10 });
    await ctx.render("home", {
      events,
      store: services.db.kind,
      bus: services.bus.status(),
      pending: await services.relay.pending(),
    });
  });

  router.get("/branches", permit("read", "factory"), async (ctx) => {
    await ctx.render("branches/index", {});
  });

  return router;
}
