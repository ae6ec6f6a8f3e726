import Router from "@koa/router";
import { continueStage } from "../../../autopilot/stages.js";
import { predictConflicts } from "../../../branches/predict-conflicts.js";
import { checkRepoName } from "../../../core/names.js";
import { requireRepo } from "../../../forge/repos.js";
import { autopilotStatus, switchAutopilot } from "../../../autopilot/status.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { repoParam } from "../../route-resources.js";
import type { Services } from "../../services.js";
import { jsonBody } from "./json-body.js";

/**
 * Autopilot of a repo: `GET /api/repos/:name/autopilot` (its status: switch, settings, slots,
 * running branches, queue of ready tasks, tasks that need a human, tasks passed over) and
 * `POST /api/repos/:name/autopilot {"enabled": true|false}` (the switch; a person's token, not an
 * agent's), `GET /api/repos/:name/conflicts` (open branches changing the same files, with a trial
 * merge of each pair), `GET /api/repos/:name/stages` and `POST /api/repos/:name/stages/:stage/continue` (a
 * person has looked at an ended stage; the next may start).
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

  router.get("/:name/conflicts", permit("read", repoParam("name")), async (ctx) => {
    const repo = checkRepoName(ctx.params.name);
    requireRepo(services.dataDir, repo);
    ctx.body = { conflicts: await predictConflicts(services, repo) };
  });

  router.get("/:name/stages", permit("read", repoParam("name")), async (ctx) => {
    const status = await autopilotStatus(services, ctx.params.name);
    ctx.body = { stages: status.stages };
  });

  router.post("/:name/stages/:stage/continue", permit("change", repoParam("name")), async (ctx) => {
    const stages = await continueStage(services, ctx.params.name, ctx.params.stage, actorOf(ctx));
    services.autopilot.poke(String(ctx.params.name));
    ctx.body = { stages };
  });

  return router;
}
