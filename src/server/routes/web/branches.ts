import Router from "@koa/router";
import type { Context } from "koa";
import type nunjucks from "nunjucks";
import { latestSessionsOf } from "../../../agents/read-sessions.js";
import { interruptSession, promptSession, startSession } from "../../../agents/sessions.js";
import { abandonBranch } from "../../../branches/abandon-branch.js";
import { createBranch } from "../../../branches/create-branch.js";
import { listBranches } from "../../../branches/read-branches.js";
import { agentRepoOf, may } from "../../../core/authorization.js";
import { backendNames, type Branch } from "../../../core/branch.js";
import { CookError } from "../../../core/errors.js";
import { isId } from "../../../core/ids.js";
import { allSubjects, subjects } from "../../../events/subjects.js";
import { listRepoNames } from "../../../forge/repos.js";
import { listTasks } from "../../../tasks/read-tasks.js";
import type { LiveStreams } from "../../live/sse.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { branchFilterFromQuery, optionalInteger, resumeAfter } from "../../params.js";
import { bodyRepo, branchPathResource, branchQueryResource, branchResource, queryRepo } from "../../route-resources.js";
import type { Services } from "../../services.js";
import { readDashboard } from "./branch-dashboard.js";
import { branchHref } from "./branch-links.js";
import { branchLiveMessage, changesDashboard, isAbout } from "./branch-live.js";
import { hxTarget, renderBranchPage } from "./branch-page.js";
import { formFields, formRefusal, redirectAfterPost, type Form } from "./forms.js";
import { gateActions } from "./gate-actions.js";

/**
 * The Branches area: the dashboard (filters, live over SSE, disk use measured in the background),
 * the New branch form, and a branch's page (gates and merge, committed changes, uncommitted work,
 * terminal, setup log) with its buttons: Abandon, the agent's prompt and Interrupt, and the Gates
 * section's (gate-actions.ts).
 */
export function branchWebRoutes(services: Services, live: LiveStreams, views: nunjucks.Environment): Router {
  const router = new Router({ prefix: "/branches" });
  const branchOf = (ctx: Context) => ctx.state.branch as Branch;

  router.get("/", permit("read", queryRepo), async (ctx) => {
    const view = await readDashboard(services, actorOf(ctx), branchFilterFromQuery(ctx.query));
    await ctx.render(hxTarget(ctx) === "branch-list" ? "branches/_list" : "branches/index", view);
  });

  async function renderNewBranchForm(ctx: Context, form: Form, refused?: { status: number; message: string }): Promise<void> {
    const openTasks = (await listTasks(services, { limit: 500 })).filter((task) => task.status !== "closed");
    if (refused) ctx.status = refused.status;
    await ctx.render("branches/form", { form, error: refused?.message, repos: listRepoNames(services.dataDir), tasks: openTasks, backends: backendNames });
  }

  router.get("/new", permit("change", queryRepo), async (ctx) => {
    const given = (name: string) => (typeof ctx.query[name] === "string" ? (ctx.query[name] as string) : undefined);
    await renderNewBranchForm(ctx, { repo: given("repo"), task: given("task"), env: "" });
  });

  router.post("/", permit("change", bodyRepo), async (ctx) => {
    const form = formFields(ctx);
    const trimmed = (value: string | undefined) => value?.trim() || undefined;
    try {
      const { branch } = await createBranch(services, { repo: form.repo, name: trimmed(form.name), base: trimmed(form.base), task: trimmed(form.task), env: trimmed(form.env) }, actorOf(ctx));
      redirectAfterPost(ctx, branchHref(branch));
    } catch (err) {
      await renderNewBranchForm(ctx, form, formRefusal(err, ["invalid", "conflict", "not_found", "forbidden", "unavailable"]));
    }
  });

  // `?branch=<brn_ id>`: one branch page's stream (its state changes, and its setup output as it is
  // written); otherwise the dashboard's (state changes of every branch, or of `?repo=`'s).
  router.get("/live", permit("read", branchQueryResource(services)), async (ctx) => {
    const branch = ctx.state.branch as Branch | undefined;
    const agentRepo = agentRepoOf(actorOf(ctx));
    const afterId = resumeAfter(ctx.query.after, ctx.get("Last-Event-ID"));
    if (branch) {
      // `agent=1`: the page shows the Agent tab, whose sessions follow the agent's events.
      const viewer = { followsAgent: ctx.query.agent === "1", canChange: may(actorOf(ctx), "change", { repo: branch.repo }) };
      await live.open(ctx, {
        repo: agentRepo,
        pattern: subjects.ofBranch(branch.repo, branch.name),
        afterId,
        filter: (event) => isAbout(event, branch) && (viewer.followsAgent || event.type !== "agent.output"),
        format: (event) => branchLiveMessage(services, views, branch, event, viewer),
      });
      return;
    }
    const repo = typeof ctx.query.repo === "string" && ctx.query.repo !== "" ? ctx.query.repo : agentRepo;
    await live.open(ctx, { repo, pattern: repo ? subjects.ofRepo(repo) : allSubjects, afterId, filter: changesDashboard, format: (event) => ({ event: "branch-change", data: String(event.id) }) });
  });

  // The dashboard's sizes it did not know, or knew from more than 30 s ago: measured now (du, two
  // at a time), swapped in by id. The dashboard itself never waits for du.
  router.get("/disk-use", permit("read", queryRepo), async (ctx) => {
    const rows = await listBranches(services, branchFilterFromQuery(ctx.query), { countLater: true });
    const live = rows.filter((row) => row.environment && row.environment.state !== "torn_down");
    const sizes = await Promise.all(live.map(async (row) => ({ id: row.id, bytes: await services.diskUse.measure(row.environment!) })));
    await ctx.render("branches/_disk-use", { sizes });
  });

  router.post("/:id/abandon", permit("change", branchResource(services)), async (ctx) => {
    const branch = branchOf(ctx);
    try {
      const ended = await abandonBranch(services, branch, actorOf(ctx));
      redirectAfterPost(ctx, branchHref(ended));
    } catch (err) {
      await renderBranchPage(services, ctx, branch, { tab: "changes", refused: formRefusal(err, ["conflict"]) });
    }
  });

  // The Agent tab's prompt box: a follow-up, the answer to a help request, or (on a branch no agent
  // has worked on) the first prompt. Left empty on a branch with a task, the agent works on TASK.md.
  router.post("/:id/prompt", permit("change", branchResource(services)), async (ctx) => {
    const branch = branchOf(ctx);
    const form = formFields(ctx);
    const prompt = (form.prompt ?? "").replace(/\r\n/g, "\n");
    const agent = form.agent?.trim() || undefined;
    try {
      const [latest] = (await latestSessionsOf(services, [branch.id])).values();
      if (!latest && prompt.trim() === "" && branch.taskId) await startSession(services, branch, { agent }, actorOf(ctx));
      else await promptSession(services, branch, { prompt, agent }, actorOf(ctx));
      redirectAfterPost(ctx, branchHref(branch));
    } catch (err) {
      await renderBranchPage(services, ctx, branch, { tab: "agent", refused: formRefusal(err, ["invalid", "conflict", "too_large", "unavailable"]), prompt: form.prompt });
    }
  });

  router.post("/:id/interrupt", permit("change", branchResource(services)), async (ctx) => {
    const branch = branchOf(ctx);
    try {
      await interruptSession(services, branch, actorOf(ctx));
      redirectAfterPost(ctx, branchHref(branch));
    } catch (err) {
      await renderBranchPage(services, ctx, branch, { tab: "agent", refused: formRefusal(err, ["conflict"]) });
    }
  });

  // The Gates section's buttons: Run gates again, Approve, Reject, Merge, auto-merge on and off.
  for (const action of gateActions) {
    router.post(`/:id/${action.path}`, permit("change", branchResource(services)), async (ctx) => {
      const branch = branchOf(ctx);
      const form = formFields(ctx);
      try {
        redirectAfterPost(ctx, await action.act(services, branch, form, actorOf(ctx)));
      } catch (err) {
        await renderBranchPage(services, ctx, branch, { refused: formRefusal(err, action.refusals), refusedIn: "gates", comment: form.comment });
      }
    });
  }

  router.get("/{*ref}", permit("read", branchPathResource(services)), async (ctx) => {
    const given = (name: string) => (typeof ctx.query[name] === "string" && ctx.query[name] !== "" ? (ctx.query[name] as string) : undefined);
    const session = given("session");
    const run = given("run");
    if (session !== undefined && !isId("ses", session)) throw new CookError("invalid", "session must be a ses_ id");
    if (run !== undefined && !isId("run", run)) throw new CookError("invalid", "run must be a run_ id");
    await renderBranchPage(services, ctx, branchOf(ctx), { tab: ctx.query.tab, gateRun: run, focus: { sessionId: session, beforeSeq: optionalInteger("before", ctx.query.before) } });
  });

  return router;
}
