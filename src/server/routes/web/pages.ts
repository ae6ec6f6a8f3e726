import Router from "@koa/router";
import { readEventHistory } from "../../../events/history.js";
import { permit } from "../../middleware/auth.js";
import type { Services } from "../../services.js";

/** The overview page. */
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

  return router;
}
