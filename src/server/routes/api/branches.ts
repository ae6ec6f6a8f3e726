import { PassThrough } from "node:stream";
import Router from "@koa/router";
import type { Context } from "koa";
import { abandonBranch } from "../../../branches/abandon-branch.js";
import { trackBranch } from "../../../branches/adopt-branch.js";
import { createBranchWithAgent } from "../../../agents/create-with-agent.js";
import { getBranchDetail, listBranches } from "../../../branches/read-branches.js";
import type { Branch, BranchStatus } from "../../../core/branch.js";
import { branchStatuses } from "../../../core/branch.js";
import { CookError } from "../../../core/errors.js";
import { checkRepoName } from "../../../core/names.js";
import { sessionsOfBranch } from "../../../db/agent-session-store.js";
import { collectGarbage } from "../../../environments/collect-garbage.js";
import { checkArgv, execInEnvironment, usableEnvironment } from "../../../environments/exec-command.js";
import type { Terminals } from "../../live/terminal.js";
import { actorOf, onlyFor, permit } from "../../middleware/auth.js";
import { isWebSocketHandshake } from "../../middleware/same-origin.js";
import { bodyRepo, branchResource, queryRepo } from "../../route-resources.js";
import type { Services } from "../../services.js";
import { jsonBody } from "./json-body.js";


function optionalStatus(value: unknown): BranchStatus | undefined {
  if (value === undefined || value === "") return undefined;
  if (typeof value === "string" && (branchStatuses as readonly string[]).includes(value)) return value as BranchStatus;
  throw new CookError("invalid", `status must be one of ${branchStatuses.join(", ")}`);
}

const optionalText = (name: string, value: unknown) => {
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string") throw new CookError("invalid", `${name} must be given once`);
  return value;
};

/**
 * `/api/branches`: list, create, adopt, show, abandon, exec, terminal, gc. A branch in a path is
 * `*ref`: a brn_ id, a name, or `<repo>/<name>` (`?repo=` settles a name two repos share).
 */
export function branchApiRoutes(services: Services, terminals: Terminals): Router {
  const router = new Router({ prefix: "/api/branches" });
  const branchOf = (ctx: Context) => ctx.state.branch as Branch;

  router.get("/", permit("read", queryRepo), async (ctx) => {
    ctx.body = { branches: await listBranches(services, { repo: optionalText("repo", ctx.query.repo), status: optionalStatus(ctx.query.status), taskId: optionalText("task", ctx.query.task) }) };
  });

  router.post("/", permit("change", bodyRepo), async (ctx) => {
    const created = await createBranchWithAgent(services, jsonBody(ctx), actorOf(ctx));
    ctx.status = 201;
    ctx.body = created;
  });

  router.post("/adopt", permit("change", bodyRepo), async (ctx) => {
    const body = jsonBody(ctx);
    if (typeof body.name !== "string") throw new CookError("invalid", "name the git branch to adopt");
    const branch = await trackBranch(services, { repo: checkRepoName(body.repo), name: body.name, taskId: optionalText("task", body.task), origin: "adopt" }, actorOf(ctx));
    ctx.status = 201;
    ctx.body = { branch };
  });

  router.post("/gc", permit("administer", "factory"), async (ctx) => {
    ctx.body = { orphans: await collectGarbage(services, { remove: jsonBody(ctx).remove === true }) };
  });

  router.post("/:id/abandon", permit("change", branchResource(services)), async (ctx) => {
    ctx.body = { branch: await abandonBranch(services, branchOf(ctx), actorOf(ctx)) };
  });

  // NDJSON frames: {"stdout": base64} / {"stderr": base64} as the command writes, then {"exit": code}.
  router.post("/:id/exec", permit("push", branchResource(services)), async (ctx) => {
    const argv = checkArgv(jsonBody(ctx).argv);
    // Refusals (no environment, still being set up, lost) are answered as errors, before any output.
    await usableEnvironment(services, branchOf(ctx));
    const abort = new AbortController();
    ctx.req.on("close", () => abort.abort());
    const body = new PassThrough();
    const frame = (value: object) => body.write(`${JSON.stringify(value)}\n`);
    ctx.type = "application/x-ndjson";
    ctx.body = body;
    execInEnvironment(services, branchOf(ctx), argv, { stdout: (chunk) => frame({ stdout: chunk.toString("base64") }), stderr: (chunk) => frame({ stderr: chunk.toString("base64") }) }, abort.signal).then(
      (code) => body.end(`${JSON.stringify({ exit: code })}\n`),
      (err: Error) => body.end(`${JSON.stringify({ error: err instanceof CookError ? err.message : "internal error" })}\n`),
    );
  });

  // A WebSocket to the environment's shell (live/terminal.ts has the protocol). Running commands
  // there is pushing the branch: an agent token only reaches its own. Only a handshake is routed
  // here; a plain GET goes on and shows the branch named `<ref>/terminal`, if there is one.
  router.get("/*ref/terminal", onlyFor((ctx) => isWebSocketHandshake(ctx.req), permit("push", branchResource(services)), (ctx) => terminals.attach(ctx, branchOf(ctx))));

  router.get("/*ref", permit("read", branchResource(services)), async (ctx) => {
    const branch = branchOf(ctx);
    ctx.body = { branch: await getBranchDetail(services, branch.id), sessions: await sessionsOfBranch(services.db, branch.id) };
  });

  return router;
}
