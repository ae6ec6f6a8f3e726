import Router from "@koa/router";
import type { Context } from "koa";
import { humanReasonsOfTasks, latestSessionsOf, usageOf } from "../../../agents/read-sessions.js";
import { createBranch } from "../../../branches/create-branch.js";
import { listBranches } from "../../../branches/read-branches.js";
import { priorityNames, taskStatuses } from "../../../core/task.js";
import { listRepoNames } from "../../../forge/repos.js";
import { encodeToken } from "../../../events/subjects.js";
import { createTask } from "../../../tasks/create-task.js";
import { countTasks, getTaskDetail, listTasks } from "../../../tasks/read-tasks.js";
import { closeTask, reopenTask, updateTask } from "../../../tasks/update-task.js";
import { agentRepoOf, may } from "../../../core/authorization.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { bodyRepo, queryRepo, taskRepo } from "../../route-resources.js";
import { optionalInteger, taskFilterFromQuery } from "../../params.js";
import type { Services } from "../../services.js";
import { presentSession } from "./agent-view.js";
import { branchHref, presentBranch } from "./branch-links.js";
import { formFields, formRefusal, liveUrlFor, redirectAfterPost, type Form } from "./forms.js";

const liveUrl = (services: Services, subject: string) => liveUrlFor(services, "/events/live", { subject });

const pageSize = 100;
const priorities = Object.entries(priorityNames).map(([value, name]) => ({ value: Number(value), name }));

function taskInputFrom(form: Form) {
  return {
    title: form.title ?? "",
    repo: form.repo,
    priority: form.priority,
    dependsOn: (form.depends_on ?? "").split(/[\s,]+/).filter(Boolean),
    parent: (form.parent ?? "").trim(),
    body: (form.body ?? "").replace(/\r\n/g, "\n"),
  };
}

/** A refused form comes back filled in, with the reason on top (status 422), so nothing is lost. */
async function renderFormError(ctx: Context, services: Services, err: unknown, view: Record<string, unknown>): Promise<void> {
  const refused = formRefusal(err, ["invalid", "conflict", "too_large"]);
  ctx.status = refused.status;
  await ctx.render("tasks/form", { ...view, error: refused.message, repos: listRepoNames(services.dataDir), priorities });
}

export function taskWebRoutes(services: Services): Router {
  const router = new Router({ prefix: "/tasks" });
  const changeTask = permit("change", taskRepo(services));

  router.get("/", permit("read", queryRepo), async (ctx) => {
    const filter = taskFilterFromQuery(ctx.query);
    const page = optionalInteger("page", ctx.query.page) ?? 0;
    // One more than a page tells whether there is a next one.
    const [rows, counts, live] = await Promise.all([listTasks(services, { ...filter, limit: pageSize + 1, offset: page * pageSize }), countTasks(services, filter), liveUrl(services, "cook.task.>")]);
    const tasks = rows.slice(0, pageSize);
    // A task waiting on a human shows why: what its agent asked, or what stopped or failed its run.
    const waiting = await humanReasonsOfTasks(services, tasks.filter((task) => task.status === "needs_human").map((task) => task.id));
    const query = new URLSearchParams(Object.entries({ repo: filter.repo, status: filter.status, priority: filter.priority?.toString(), ready: filter.ready ? "true" : undefined }).filter((e): e is [string, string] => e[1] !== undefined));
    const listUrl = `/tasks${query.size ? `?${query}` : ""}`;
    const pageUrl = (n: number) => `${listUrl}${query.size ? "&" : "?"}page=${n}`;
    const view = {
      tasks,
      help: Object.fromEntries(waiting),
      counts,
      filter,
      // The filter lists only what the caller may read: an agent's token sees its one repo.
      repos: listRepoNames(services.dataDir).filter((name) => [undefined, name].includes(agentRepoOf(actorOf(ctx)))),
      statuses: taskStatuses,
      priorities,
      priorityNames,
      listUrl: page > 0 ? pageUrl(page) : listUrl,
      liveUrl: live,
      newerHref: page > 0 ? (page === 1 ? listUrl : pageUrl(page - 1)) : undefined,
      olderHref: rows.length > pageSize ? pageUrl(page + 1) : undefined,
      // The Plan form, on one repo's list, for those who may add tasks to it.
      plan: filter.repo && may(actorOf(ctx), "change", { repo: filter.repo }) ? { repo: filter.repo, agents: Object.keys(services.agentSettings.agents), defaultAgent: services.defaultAgent } : undefined,
    };
    await ctx.render(ctx.get("HX-Request") && ctx.get("HX-Target") === "task-list" ? "tasks/_list" : "tasks/index", view);
  });

  router.get("/new", permit("change", queryRepo), async (ctx) => {
    const repo = typeof ctx.query.repo === "string" ? ctx.query.repo : undefined;
    await ctx.render("tasks/form", { form: { repo, priority: "2" }, repos: listRepoNames(services.dataDir), priorities, action: "/tasks" });
  });

  router.post("/", permit("change", bodyRepo), async (ctx) => {
    const form = formFields(ctx);
    try {
      const task = await createTask(services, taskInputFrom(form), actorOf(ctx));
      redirectAfterPost(ctx, `/tasks/${encodeURIComponent(task.id)}`);
    } catch (err) {
      await renderFormError(ctx, services, err, { form, action: "/tasks" });
    }
  });

  /** The task page; `error` when a button on it (Start work) was refused, with that status. */
  async function renderTask(ctx: Context, id: string, refused?: { status: number; message: string }): Promise<void> {
    const detail = await getTaskDetail(services, id);
    const branches = await listBranches(services, { taskId: detail.task.id });
    const agents = await latestSessionsOf(services, branches.map((branch) => branch.id));
    const view = {
      ...detail,
      // Dependencies closed as won't fix: the page says who decides what becomes of this task.
      wontfixDeps: detail.dependsOn.filter((dep) => dep.resolution === "wontfix").map((dep) => dep.id),
      branches: branches.map((branch) => ({ ...presentBranch(branch), agent: agents.has(branch.id) ? presentSession(agents.get(branch.id)!) : undefined })),
      usage: agents.size > 0 ? await usageOf(services, { taskId: detail.task.id }) : undefined,
      priorityNames,
      error: refused?.message,
      bodyHtml: await services.render.markdown(detail.task.body),
      liveUrl: await liveUrl(services, `cook.task.*.${encodeToken(detail.task.id)}.>`),
      // Its branches' environments change without a task event: the repo's branch stream refreshes them.
      branchLiveUrl: await liveUrlFor(services, "/branches/live", { repo: detail.task.repo }),
    };
    if (refused) ctx.status = refused.status;
    await ctx.render(ctx.get("HX-Request") && ctx.get("HX-Target") === "task-detail" ? "tasks/_detail" : "tasks/show", view);
  }

  router.get("/:id", permit("read", taskRepo(services)), async (ctx) => {
    await renderTask(ctx, ctx.params.id!);
  });

  // Start work: a branch named after the task, with the environment the repo's cook.toml asks for.
  router.post("/:id/start", changeTask, async (ctx) => {
    const { task } = await getTaskDetail(services, ctx.params.id!);
    try {
      const { branch } = await createBranch(services, { repo: task.repo, task: task.id }, actorOf(ctx));
      redirectAfterPost(ctx, branchHref(branch));
    } catch (err) {
      await renderTask(ctx, task.id, formRefusal(err, ["invalid", "conflict", "not_found", "forbidden", "unavailable"]));
    }
  });

  router.get("/:id/edit", changeTask, async (ctx) => {
    const { task } = await getTaskDetail(services, ctx.params.id!);
    const form = { title: task.title, repo: task.repo, priority: String(task.priority), depends_on: task.dependsOn.join(", "), parent: task.parent ?? "", body: task.body };
    await ctx.render("tasks/form", { task, form, repos: listRepoNames(services.dataDir), priorities, action: `/tasks/${encodeURIComponent(task.id)}` });
  });

  router.post("/:id", changeTask, permit("change", bodyRepo), async (ctx) => {
    const form = formFields(ctx);
    const id = ctx.params.id!;
    try {
      await updateTask(services, id, taskInputFrom(form), actorOf(ctx));
      redirectAfterPost(ctx, `/tasks/${encodeURIComponent(id)}`);
    } catch (err) {
      const { task } = await getTaskDetail(services, id);
      await renderFormError(ctx, services, err, { task, form, action: `/tasks/${encodeURIComponent(id)}` });
    }
  });

  // Close sends no resolution (done); "Close as won't fix" sends resolution=wontfix.
  router.post("/:id/close", changeTask, async (ctx) => {
    await closeTask(services, ctx.params.id!, actorOf(ctx), formFields(ctx).resolution);
    redirectAfterPost(ctx, `/tasks/${encodeURIComponent(ctx.params.id!)}`);
  });

  router.post("/:id/reopen", changeTask, async (ctx) => {
    await reopenTask(services, ctx.params.id!, actorOf(ctx));
    redirectAfterPost(ctx, `/tasks/${encodeURIComponent(ctx.params.id!)}`);
  });

  return router;
}
