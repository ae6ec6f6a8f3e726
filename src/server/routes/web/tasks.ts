import Router from "@koa/router";
import type { Context } from "koa";
import { CookError } from "../../../core/errors.js";
import { priorityNames, taskStatuses } from "../../../core/task.js";
import { listRepoNames } from "../../../forge/repos.js";
import { readEventHistory } from "../../../events/history.js";
import { encodeToken } from "../../../events/subjects.js";
import { createTask } from "../../../tasks/create-task.js";
import { countTasks, getTaskDetail, listTasks } from "../../../tasks/read-tasks.js";
import { closeTask, reopenTask, updateTask } from "../../../tasks/update-task.js";
import { agentRepoOf } from "../../../core/authorization.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { bodyRepo, queryRepo, taskRepo } from "../../route-resources.js";
import { optionalInteger, taskFilterFromQuery } from "../../params.js";
import type { Services } from "../../services.js";

type Form = Record<string, string | undefined>;

/**
 * The SSE URL that refreshes a page: it resumes after the newest event at render time, so a change
 * made between rendering and connecting still triggers a refresh.
 */
async function liveUrl(services: Services, subject: string): Promise<string> {
  const [latest] = await readEventHistory(services, { limit: 1 });
  return `/events/live?${new URLSearchParams({ subject, after: String(latest?.id ?? 0) })}`;
}

const pageSize = 100;
const priorities = Object.entries(priorityNames).map(([value, name]) => ({ value: Number(value), name }));

function formFields(ctx: Context): Form {
  const body = (ctx.request.body ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(body).map(([key, value]) => [key, Array.isArray(value) ? String(value[0]) : String(value ?? "")]));
}

function taskInputFrom(form: Form) {
  return {
    title: form.title ?? "",
    repo: form.repo,
    priority: form.priority,
    dependsOn: (form.depends_on ?? "").split(/[\s,]+/).filter(Boolean),
    body: (form.body ?? "").replace(/\r\n/g, "\n"),
  };
}

/** A refused form comes back filled in, with the reason on top (status 422), so nothing is lost. */
async function renderFormError(ctx: Context, services: Services, err: unknown, view: Record<string, unknown>): Promise<void> {
  if (!(err instanceof CookError) || !["invalid", "conflict", "too_large"].includes(err.code)) throw err;
  ctx.status = err.code === "too_large" ? 413 : err.code === "conflict" ? 409 : 422;
  await ctx.render("tasks/form", { ...view, error: err.message, repos: listRepoNames(services.dataDir), priorities });
}

export function taskWebRoutes(services: Services): Router {
  const router = new Router({ prefix: "/tasks" });
  const changeTask = permit("change", taskRepo(services));

  router.get("/", permit("read", queryRepo), async (ctx) => {
    const filter = taskFilterFromQuery(ctx.query);
    const page = optionalInteger("page", ctx.query.page) ?? 0;
    // One more than a page tells whether there is a next one.
    const [rows, counts, live] = await Promise.all([listTasks(services, { ...filter, limit: pageSize + 1, offset: page * pageSize }), countTasks(services, filter), liveUrl(services, "cook.task.>")]);
    const query = new URLSearchParams(Object.entries({ repo: filter.repo, status: filter.status, priority: filter.priority?.toString(), ready: filter.ready ? "true" : undefined }).filter((e): e is [string, string] => e[1] !== undefined));
    const listUrl = `/tasks${query.size ? `?${query}` : ""}`;
    const pageUrl = (n: number) => `${listUrl}${query.size ? "&" : "?"}page=${n}`;
    const view = {
      tasks: rows.slice(0, pageSize),
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
      ctx.redirect(`/tasks/${encodeURIComponent(task.id)}`);
      ctx.status = 303;
    } catch (err) {
      await renderFormError(ctx, services, err, { form, action: "/tasks" });
    }
  });

  router.get("/:id", permit("read", taskRepo(services)), async (ctx) => {
    const detail = await getTaskDetail(services, ctx.params.id!);
    const view = {
      ...detail,
      priorityNames,
      bodyHtml: await services.render.markdown(detail.task.body),
      liveUrl: await liveUrl(services, `cook.task.*.${encodeToken(detail.task.id)}.>`),
    };
    await ctx.render(ctx.get("HX-Request") && ctx.get("HX-Target") === "task-detail" ? "tasks/_detail" : "tasks/show", view);
  });

  router.get("/:id/edit", changeTask, async (ctx) => {
    const { task } = await getTaskDetail(services, ctx.params.id!);
    const form = { title: task.title, repo: task.repo, priority: String(task.priority), depends_on: task.dependsOn.join(", "), body: task.body };
    await ctx.render("tasks/form", { task, form, repos: listRepoNames(services.dataDir), priorities, action: `/tasks/${encodeURIComponent(task.id)}` });
  });

  router.post("/:id", changeTask, permit("change", bodyRepo), async (ctx) => {
    const form = formFields(ctx);
    const id = ctx.params.id!;
    try {
      await updateTask(services, id, taskInputFrom(form), actorOf(ctx));
      ctx.redirect(`/tasks/${encodeURIComponent(id)}`);
      ctx.status = 303;
    } catch (err) {
      const { task } = await getTaskDetail(services, id);
      await renderFormError(ctx, services, err, { task, form, action: `/tasks/${encodeURIComponent(id)}` });
    }
  });

  for (const [action, change] of [["close", closeTask], ["reopen", reopenTask]] as const) {
    router.post(`/:id/${action}`, changeTask, async (ctx) => {
      await change(services, ctx.params.id!, actorOf(ctx));
      ctx.redirect(`/tasks/${encodeURIComponent(ctx.params.id!)}`);
      ctx.status = 303;
    });
  }

  return router;
}
