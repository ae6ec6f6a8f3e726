import Router from "@koa/router";
import type { Context } from "koa";
import { may } from "../../../core/authorization.js";
import { CookError } from "../../../core/errors.js";
import type { Plan } from "../../../db/plan-store.js";
import { subjects } from "../../../events/subjects.js";
import { acceptPlan, startPlan } from "../../../planning/plans.js";
import { listRepoNames } from "../../../forge/repos.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { bodyRepo } from "../../route-resources.js";
import type { Services } from "../../services.js";
import { planResource } from "../api/plans.js";
import { formFields, formRefusal, liveUrlFor, redirectAfterPost } from "./forms.js";

/** The review page of a plan: state, drafts with a checkbox each, the raw answer of a failed one; live while planning. */
async function renderPlan(ctx: Context, services: Services, plan: Plan, refused?: { status: number; message: string }, checked?: string[]): Promise<void> {
  if (refused) ctx.status = refused.status;
  await ctx.render("plans/show", {
    plan,
    canAccept: plan.state === "drafted" && may(actorOf(ctx), "change", { repo: plan.repo }),
    checked: new Set(checked ?? plan.drafts.map((d) => d.id)),
    liveUrl: plan.state === "planning" ? await liveUrlFor(services, "/events/live", { subject: subjects.ofPlan(plan.repo, plan.id) }) : undefined,
    error: refused?.message,
  });
}

/** A form field sent once or many times (checkboxes), as a list. */
function listField(ctx: Context, name: string): string[] {
  const value = ((ctx.request.body ?? {}) as Record<string, unknown>)[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/**
 * Planning in the browser: `POST /plans` (repo, goal, agent: the Plan form of a repo's task list;
 * starts the planner and shows its page), `GET /plans/:id` (the review page, following the planner
 * live) and `POST /plans/:id/accept` (the checked drafts become tasks). Plain forms, no JS needed.
 */
export function planWebRoutes(services: Services): Router {
  const router = new Router({ prefix: "/plans" });

  router.post("/", permit("change", bodyRepo), async (ctx) => {
    const form = formFields(ctx);
    try {
      const plan = await startPlan(services, { repo: form.repo, goal: (form.goal ?? "").replace(/\r\n/g, "\n"), agent: form.agent || undefined }, actorOf(ctx));
      redirectAfterPost(ctx, `/plans/${plan.id}`);
    } catch (err) {
      const refused = formRefusal(err, ["invalid", "not_found", "conflict", "too_large"]);
      ctx.status = refused.status;
      await ctx.render("plans/form", { form, error: refused.message, repos: listRepoNames(services.dataDir), agents: Object.keys(services.agentSettings.agents), defaultAgent: services.defaultAgent });
    }
  });

  router.get("/:id", permit("read", planResource(services)), async (ctx) => {
    await renderPlan(ctx, services, ctx.state.plan as Plan);
  });

  router.post("/:id/accept", permit("change", planResource(services)), async (ctx) => {
    const plan = ctx.state.plan as Plan;
    const chosen = listField(ctx, "tasks");
    try {
      if (chosen.length === 0) throw new CookError("invalid", "check at least one draft to accept");
      await acceptPlan(services, plan.id, chosen, actorOf(ctx));
      redirectAfterPost(ctx, `/tasks?repo=${encodeURIComponent(plan.repo)}`);
    } catch (err) {
      await renderPlan(ctx, services, plan, formRefusal(err, ["invalid", "conflict"]), chosen);
    }
  });

  return router;
}
