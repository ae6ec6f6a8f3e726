import Router from "@koa/router";
import type { Context } from "koa";
import type { Resource } from "../../../core/authorization.js";
import { plansOfRepo } from "../../../db/plan-store.js";
import { acceptPlan, getPlan, startPlan } from "../../../planning/plans.js";
import { checkRepoName } from "../../../core/names.js";
import { requireRepo } from "../../../forge/repos.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { repoParam } from "../../route-resources.js";
import type { Services } from "../../services.js";
import { jsonBody, optionalJsonBody } from "./json-body.js";

/** The repo of the plan in `:id`; an unknown plan is not_found before anyone is asked. */
export const planResource = (services: Services) => async (ctx: Context): Promise<Resource> => {
  const plan = await getPlan(services, ctx.params.id);
  ctx.state.plan = plan;
  return { repo: plan.repo };
};

/**
 * Planning: `POST /api/repos/:name/plans {goal, agent?}` (202: the plan, its planner started),
 * `GET /api/repos/:name/plans` (the newest 20), `GET /api/plans/:id` (state, drafts, the raw answer
 * and the error of a failed one), `POST /api/plans/:id/accept {tasks?: [ids]}` (the drafts become
 * tasks; all when none are named).
 */
export function planApiRoutes(services: Services): Router {
  const router = new Router({ prefix: "/api" });

  router.post("/repos/:name/plans", permit("change", repoParam("name")), async (ctx) => {
    const body = jsonBody(ctx);
    ctx.status = 202;
    ctx.body = { plan: await startPlan(services, { repo: ctx.params.name, goal: body.goal, agent: body.agent }, actorOf(ctx)) };
  });

  router.get("/repos/:name/plans", permit("read", repoParam("name")), async (ctx) => {
    const repo = checkRepoName(ctx.params.name);
    requireRepo(services.dataDir, repo);
    ctx.body = { plans: await plansOfRepo(services.db, repo) };
  });

  router.get("/plans/:id", permit("read", planResource(services)), async (ctx) => {
    ctx.body = { plan: ctx.state.plan };
  });

  router.post("/plans/:id/accept", permit("change", planResource(services)), async (ctx) => {
    const body = optionalJsonBody(ctx);
    ctx.body = await acceptPlan(services, ctx.params.id, body.tasks, actorOf(ctx));
  });

  return router;
}
