import Router from "@koa/router";
import type { Context } from "koa";
import { may } from "../../../core/authorization.js";
import { createRepo, importRepo } from "../../../forge/repos.js";
import { actorOf, permit } from "../../middleware/auth.js";
import type { Services } from "../../services.js";
import { formFields, formRefusal, redirectAfterPost, type Form } from "./forms.js";

/**
 * The New repo form: an empty repo with its default branch, or an import of every branch and tag
 * from a git URL or a path on the server (the import policy is forge/import-source.ts's: a path is
 * for admins). Registered before the code browser, whose `/repos/:repo` would otherwise take `new`.
 */
export function repoFormRoutes(services: Services): Router {
  const router = new Router({ prefix: "/repos" });

  async function renderForm(ctx: Context, form: Form, refused?: { status: number; message: string }): Promise<void> {
    if (refused) ctx.status = refused.status;
    await ctx.render("repos/form", { form, error: refused?.message, admin: may(actorOf(ctx), "administer", "factory"), importFrom: services.config.forge.importFrom });
  }

  router.get("/new", permit("change", "factory"), async (ctx) => {
    await renderForm(ctx, { name: "", default_branch: services.config.defaults.branch, source: "" });
  });

  router.post("/", permit("change", "factory"), async (ctx) => {
    const form = formFields(ctx);
    const name = form.name?.trim() ?? "";
    const source = form.source?.trim() ?? "";
    try {
      const repo = source
        ? await importRepo(services, { name, source }, actorOf(ctx))
        : await createRepo(services, { name, defaultBranch: form.default_branch?.trim() || services.config.defaults.branch }, actorOf(ctx));
      redirectAfterPost(ctx, `/repos/${encodeURIComponent(repo.name)}`);
    } catch (err) {
      await renderForm(ctx, form, formRefusal(err, ["invalid", "conflict", "forbidden"]));
    }
  });

  return router;
}
