import Router from "@koa/router";
import type { Context } from "koa";
import { may } from "../../../core/authorization.js";
import { CookError } from "../../../core/errors.js";
import type { Plan } from "../../../db/plan-store.js";
import { subjects } from "../../../events/subjects.js";
import { nodeStateLabels } from "../../../factory/plan-graph.js";
import { readPlanGraph } from "../../../factory/plan-states.js";
import { acceptPlan, startPlan } from "../../../planning/plans.js";
import { listRepoNames } from "../../../forge/repos.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { bodyRepo } from "../../route-resources.js";
import type { Services } from "../../services.js";
import { planResource } from "../api/plans.js";
import { formFields, formRefusal, liveUrlFor, redirectAfterPost } from "./forms.js";

/** What the page follows live: the planner while it plans, then the tasks its drafts became (their states colour the graph). */
function liveSubject(plan: Plan): string | undefined {
  if (plan.state === "planning") return subjects.ofPlan(plan.repo, plan.id);
  if (plan.state === "accepted") return subjects.ofTasks(plan.repo);
  return undefined;
}

/**
 * The review page of a plan: state, the dependency graph of its drafts (with their tasks' states
 * once accepted), drafts with a checkbox each, the raw answer of a failed one; live while planning
 * and, once accepted, while its tasks change.
 */
async function renderPlan(ctx: Context, services: Services, plan: Plan, refused?: { status: number; message: string }, checked?: string[]): Promise<void> {
  if (refused) ctx.status = refused.status;
  const subject = liveSubject(plan);
  const graph = await readPlanGraph(services, plan);
  await ctx.render("plans/show", {
    graph,
    stateLabels: graph ? Object.fromEntries(Object.entries(nodeStateLabels).filter(([state]) => graph.nodes.some((n) => n.state === state))) : {},
    plan,
    canAccept: (plan.state === "drafted" || (plan.state === "accepted" && plan.accepted.length < plan.drafts.length)) && may(actorOf(ctx), "change", { repo: plan.repo }),
    checked: new Set(checked ?? plan.drafts.map((d) => d.id).filter((id) => !plan.accepted.includes(id))),
    liveUrl: subject ? await liveUrlFor(services, "/events/live", { subject }) : undefined,
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
