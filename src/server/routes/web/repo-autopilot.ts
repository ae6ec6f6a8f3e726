import Router from "@koa/router";
import type { Context } from "koa";
import { continueStage } from "../../../autopilot/stages.js";
import { autopilotStatus, switchAutopilot, type AutopilotStatus } from "../../../autopilot/status.js";
import { may } from "../../../core/authorization.js";
import { subjects } from "../../../events/subjects.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { repoParam } from "../../route-resources.js";
import type { Services } from "../../services.js";
import { hxTarget } from "./branch-page.js";
import { formFields, formRefusal, liveUrlFor, redirectAfterPost } from "./forms.js";

/** What the repo page's Autopilot section shows (views/repos/_autopilot.njk). */
export interface AutopilotView {
  status: AutopilotStatus;
  /** Whether the viewer may flip the switch (a person who may change the repo). */
  canSwitch: boolean;
  /** The section's own URL, which answers htmx with the section alone. */
  url: string;
  /** Refreshes the section on any event of the repo. */
  liveUrl: string;
  /** A refused switch, with why. */
  error: string | undefined;
}

/** The Autopilot section of a repo's page, as the viewer may use it. */
export async function readAutopilotView(services: Services, ctx: Context, repo: string, error?: string): Promise<AutopilotView> {
  const [status, liveUrl] = await Promise.all([autopilotStatus(services, repo), liveUrlFor(services, "/events/live", { subject: subjects.ofRepo(repo) })]);
  return { status, canSwitch: may(actorOf(ctx), "change", { repo }), url: `/repos/${encodeURIComponent(repo)}/autopilot`, liveUrl, error };
}

/**
 * The repo page's Autopilot section on its own: `GET /repos/:repo/autopilot` (the section for htmx,
 * else the repo page at the section), `POST /repos/:repo/autopilot` (`enabled=on|off`, the
 * switch, as `cook autopilot on|off`) and `POST /repos/:repo/stages/:stage/continue` (as `cook stage
 * continue`); plain forms, no JS needed.
 */
export function repoAutopilotRoutes(services: Services): Router {
  const router = new Router({ prefix: "/repos" });

  router.get("/:repo/autopilot", permit("read", repoParam("repo")), async (ctx) => {
    if (hxTarget(ctx) !== "autopilot") return redirectAfterPost(ctx, `/repos/${encodeURIComponent(ctx.params.repo!)}#autopilot`);
    await ctx.render("repos/_autopilot", { autopilot: await readAutopilotView(services, ctx, ctx.params.repo!) });
  });

  router.post("/:repo/autopilot", permit("change", repoParam("repo")), async (ctx) => {
    const form = formFields(ctx);
    const repo = ctx.params.repo!;
    try {
      const enabled = form.enabled === "on" ? true : form.enabled === "off" ? false : form.enabled;
      await switchAutopilot(services, repo, enabled, actorOf(ctx));
      services.autopilot.poke(repo);
      redirectAfterPost(ctx, `/repos/${encodeURIComponent(repo)}#autopilot`);
    } catch (err) {
      // Without htmx the answer is the whole page: the error page says why.
      if (!ctx.get("HX-Request")) throw err;
      const refused = formRefusal(err, ["invalid", "not_found", "forbidden"]);
      ctx.status = refused.status;
      await ctx.render("repos/_autopilot", { autopilot: await readAutopilotView(services, ctx, repo, refused.message) });
    }
  });

  router.post("/:repo/stages/:stage/continue", permit("change", repoParam("repo")), async (ctx) => {
    const repo = ctx.params.repo!;
    try {
      await continueStage(services, repo, ctx.params.stage, actorOf(ctx));
      services.autopilot.poke(repo);
      redirectAfterPost(ctx, `/repos/${encodeURIComponent(repo)}#autopilot`);
    } catch (err) {
      if (!ctx.get("HX-Request")) throw err;
      const refused = formRefusal(err, ["invalid", "not_found", "conflict", "forbidden"]);
      ctx.status = refused.status;
      await ctx.render("repos/_autopilot", { autopilot: await readAutopilotView(services, ctx, repo, refused.message) });
    }
  });

  return router;
}
