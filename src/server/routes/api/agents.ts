import Router from "@koa/router";
import type { Context } from "koa";
import { reportDone, reportHelp, reportingBranch } from "../../../agents/report.js";
import { interruptSession, promptSession } from "../../../agents/sessions.js";
import type { Resource } from "../../../core/authorization.js";
import type { Branch } from "../../../core/branch.js";
import { showInput } from "../../../core/show-input.js";
import { CookError } from "../../../core/errors.js";
import { isId } from "../../../core/ids.js";
import { readAgentEvents } from "../../../db/agent-event-store.js";
import { findSession } from "../../../db/agent-session-store.js";
import { findBranchById } from "../../../db/branch-store.js";
import { startGateRun } from "../../../gates/start-run.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { branchResource } from "../../route-resources.js";
import type { Services } from "../../services.js";
import { optionalJsonBody } from "./json-body.js";


/** The branch of the session in `:id`; unknown is not_found before anyone is asked. Kept in ctx.state.session / ctx.state.branch. */
const sessionResource = (services: Services) => async (ctx: Context): Promise<Resource> => {
  const id = String(ctx.params.id ?? "");
  const session = isId("ses", id) ? await findSession(services.db, id) : undefined;
  if (!session) throw new CookError("not_found", `no agent session ${showInput(id)}`);
  const branch = (await findBranchById(services.db, session.branchId))!;
  ctx.state.session = session;
  ctx.state.branch = branch;
  return { repo: branch.repo, branch: branch.name };
};

/** The branch a report from inside an environment is about: the agent token's own, or the body's repo and branch. */
const reportResource = (services: Services) => async (ctx: Context): Promise<Resource> => {
  const branch = await reportingBranch(services, actorOf(ctx), optionalJsonBody(ctx));
  ctx.state.branch = branch;
  return { repo: branch.repo, branch: branch.name };
};

/**
 * Agent sessions: `POST /api/branches/:id/prompt` (a follow-up or an answer; starts a session on a
 * branch that has none), `POST /api/branches/:id/interrupt`, `GET /api/sessions/:id` and
 * `/api/sessions/:id/events?after=<seq>&limit=<n>`, and what agents call from inside their
 * environment: `POST /api/agent/done` and `POST /api/agent/help {message}`. Reporting is pushing:
 * an agent token may report only on its own branch.
 */
export function agentApiRoutes(services: Services): Router {
  const router = new Router({ prefix: "/api" });
  const branchOf = (ctx: Context) => ctx.state.branch as Branch;

  router.post("/branches/:id/prompt", permit("change", branchResource(services)), async (ctx) => {
    const body = optionalJsonBody(ctx);
    ctx.status = 202;
    ctx.body = { session: await promptSession(services, branchOf(ctx), { prompt: body.prompt, agent: body.agent }, actorOf(ctx)) };
  });

  router.post("/branches/:id/interrupt", permit("change", branchResource(services)), async (ctx) => {
    ctx.body = { session: await interruptSession(services, branchOf(ctx), actorOf(ctx)) };
  });

  router.get("/sessions/:id", permit("read", sessionResource(services)), async (ctx) => {
    ctx.body = { session: ctx.state.session, branch: { id: branchOf(ctx).id, repo: branchOf(ctx).repo, name: branchOf(ctx).name } };
  });

  router.get("/sessions/:id/events", permit("read", sessionResource(services)), async (ctx) => {
    const after = ctx.query.after === undefined ? 0 : Number(ctx.query.after);
    const limit = ctx.query.limit === undefined ? 1000 : Number(ctx.query.limit);
    if (!Number.isInteger(after) || after < 0) throw new CookError("invalid", "after must be a whole number of 0 or more (an event's seq)");
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CookError("invalid", "limit must be a whole number from 1 to 10000");
    const events = await readAgentEvents(services.db, String(ctx.params.id), { afterSeq: after, limit });
    ctx.body = { events: events.map((record) => ({ seq: record.seq, run: record.run, at: record.at, ...record.event })) };
  });

  router.post("/agent/done", permit("push", reportResource(services)), async (ctx) => {
    const session = await reportDone(services, branchOf(ctx), actorOf(ctx));
    // `cook done` asks for judgment: the head is gated (a run it already has is kept).
    await startGateRun(services, branchOf(ctx), { reason: "done" }, actorOf(ctx)).catch((err: Error) => services.log.info({ branch: branchOf(ctx).id, reason: err.message }, "cook done: gates not started"));
    ctx.body = { session: session ?? null };
  });

  router.post("/agent/help", permit("push", reportResource(services)), async (ctx) => {
    ctx.body = { session: await reportHelp(services, branchOf(ctx), optionalJsonBody(ctx).message, actorOf(ctx)) };
  });

  return router;
}
