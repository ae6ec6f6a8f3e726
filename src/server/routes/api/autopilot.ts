import Router from "@koa/router";
import { autopilotStatus, switchAutopilot } from "../../../autopilot/status.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { repoParam } from "../../route-resources.js";
import type { Services } from "../../services.js";
import { jsonBody } from "./json-body.js";

/**
 * Autopilot of a repo: `GET /api/repos/:name/autopilot` (its status: switch, settings, slots,
 * running branches, queue of ready tasks, tasks that need a human, tasks passed over) and
 * `POST /api/repos/:name/autopilot {"enabled": true|false}` (the switch; a person's token, not an agent's).
 */
export function autopilotApiRoutes(services: Services): Router {
  const router = new Router({ prefix: "/api/repos" });

  router.get("/:name/autopilot", permit("read", repoParam("name")), async (ctx) => {
    ctx.body = { autopilot: await autopilotStatus(services, ctx.params.name) };
  });

  router.post("/:name/autopilot", permit("change", repoParam("name")), async (ctx) => {
    const body = jsonBody(ctx);
    const status = await switchAutopilot(services, ctx.params.name, body.enabled, actorOf(ctx));
    services.autopilot.poke(status.repo);
    ctx.body = { autopilot: status };
  });

  return router;
}
