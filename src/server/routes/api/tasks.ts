import Router from "@koa/router";
import type { Context } from "koa";
import { CookError } from "../../../core/errors.js";
import { serializeTask, parseTaskDocument } from "../../../core/task-document.js";
import { createTask, type NewTask } from "../../../tasks/create-task.js";
import { importTasks, type TaskFile } from "../../../tasks/import-tasks.js";
import { listBranches } from "../../../branches/read-branches.js";
import { countTasks, exportTasks, getTaskDetail, listTasks } from "../../../tasks/read-tasks.js";
import { closeTask, reopenTask, replaceTaskDocument, updateTask } from "../../../tasks/update-task.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { bodyRepo, queryRepo, taskRepo } from "../../route-resources.js";
import { taskFilterFromQuery } from "../../params.js";
import type { Services } from "../../services.js";
import { jsonBody, optionalJsonBody } from "./json-body.js";


/** `{markdown}` (a whole task file) or fields: title, repo, priority, status, dependsOn, body, id, extra. */
function newTaskFrom(body: Record<string, unknown>): NewTask {
  if (typeof body.markdown === "string") {
    const doc = parseTaskDocument(body.markdown);
    return { ...doc, repo: doc.repo ?? body.repo };
  }
  return body;
}

export function taskApiRoutes(services: Services): Router {
  const router = new Router({ prefix: "/api/tasks" });
  const ofTask = permit("read", taskRepo(services));
  const changeTask = permit("change", taskRepo(services));

  router.get("/", permit("read", queryRepo), async (ctx) => {
    const filter = taskFilterFromQuery(ctx.query);
    const [tasks, counts] = await Promise.all([listTasks(services, filter), countTasks(services, filter)]);
    ctx.body = { tasks, counts };
  });

  router.post("/", permit("change", bodyRepo), async (ctx) => {
    const task = await createTask(services, newTaskFrom(jsonBody(ctx)), actorOf(ctx));
    ctx.status = 201;
    ctx.body = { task };
  });

  router.get("/export", permit("read", "factory"), async (ctx) => {
    ctx.body = { tasks: (await exportTasks(services)).map((task) => ({ id: task.id, markdown: serializeTask(task) })) };
  });

  router.post("/import", permit("change", "factory"), async (ctx) => {
    const files = jsonBody(ctx).files;
    if (!Array.isArray(files) || files.some((f: Partial<TaskFile>) => typeof f?.name !== "string" || typeof f?.text !== "string")) {
      throw new CookError("invalid", "files must be a list of {name, text}");
    }
    const tasks = await importTasks(services, files as TaskFile[], actorOf(ctx));
    ctx.status = 201;
    ctx.body = { tasks };
  });

  router.get("/:id", ofTask, async (ctx) => {
    const detail = await getTaskDetail(services, ctx.params.id!);
    ctx.body = { ...detail, branches: await listBranches(services, { taskId: detail.task.id }), markdown: serializeTask(detail.task) };
  });

  router.patch("/:id", changeTask, async (ctx) => {
    ctx.body = { task: await updateTask(services, ctx.params.id!, jsonBody(ctx), actorOf(ctx)) };
  });

  router.put("/:id/markdown", changeTask, async (ctx) => {
    const { markdown } = jsonBody(ctx);
    if (typeof markdown !== "string") throw new CookError("invalid", "markdown is required");
    ctx.body = { task: await replaceTaskDocument(services, ctx.params.id!, markdown, actorOf(ctx)) };
  });

  // An optional body `{resolution: "wontfix"}`; without one the task is closed as done.
  router.post("/:id/close", changeTask, async (ctx) => {
    const { resolution } = optionalJsonBody(ctx);
    ctx.body = { task: await closeTask(services, ctx.params.id!, actorOf(ctx), resolution) };
  });

  router.post("/:id/reopen", changeTask, async (ctx) => {
    ctx.body = { task: await reopenTask(services, ctx.params.id!, actorOf(ctx)) };
  });

  return router;
}
