import Router from "@koa/router";
import type { Context } from "koa";
import type { Resource } from "../../../core/authorization.js";
import type { Branch } from "../../../core/branch.js";
import { showInput } from "../../../core/show-input.js";
import { CookError } from "../../../core/errors.js";
import { isId } from "../../../core/ids.js";
import { checkRepoName } from "../../../core/names.js";
import { autoMergeOf, findBranchById } from "../../../db/branch-store.js";
import { attemptLog, attemptsOfRun, findGateRun, runsOfBranch } from "../../../db/gate-run-store.js";
import { liveMerges, mergesOfBranch } from "../../../db/merge-store.js";
import { requireRepo } from "../../../forge/repos.js";
import { giveVerdict } from "../../../gates/approvals.js";
import { mergeBranch, mergeReadiness } from "../../../gates/merge.js";
import { startGateRun } from "../../../gates/start-run.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { branchResource, repoParam } from "../../route-resources.js";
import type { Services } from "../../services.js";
import { optionalJsonBody } from "./json-body.js";


/** The branch of the gate run in `:id`; unknown is not_found before anyone is asked. */
const runResource = (services: Services) => async (ctx: Context): Promise<Resource> => {
  const id = String(ctx.params.id ?? "");
  const run = isId("run", id) ? await findGateRun(services.db, id) : undefined;
  if (!run) throw new CookError("not_found", `no gate run ${showInput(id)}`);
  const branch = (await findBranchById(services.db, run.branchId))!;
  ctx.state.run = run;
  ctx.state.branch = branch;
  return { repo: branch.repo, branch: branch.name };
};

/** The gates of a branch as the API and pages show them: mergeability, newest runs, merges. */
export async function branchGates(services: Services, branch: Branch, limit = 10) {
  const [readiness, runs, merges, auto] = await Promise.all([
    mergeReadiness(services, branch),
    runsOfBranch(services.db, branch.id, limit),
    mergesOfBranch(services.db, branch.id, 5),
    autoMergeOf(services.db, branch.id),
  ]);
  return { mergeable: readiness.ok, reason: readiness.ok ? undefined : readiness.reason, head: readiness.head, autoMerge: auto, runs, merges };
}

/**
 * Gates and merge: `GET /api/branches/:id/gates` (mergeability, newest runs, merges),
 * `POST /api/branches/:id/gates {gate?}` (run again), `GET /api/gate-runs/:id` (with attempts),
 * `GET /api/gate-runs/:id/log?gate=&attempt=` (text), `POST /api/branches/:id/approve|reject
 * {comment?, gate?}`, `POST /api/branches/:id/merge {strategy?, auto?}`, `GET /api/repos/:name/merges`
 * (the merge queue). Registered before the branch routes' catch-all `GET /api/branches/*ref`.
 */
export function gateApiRoutes(services: Services): Router {
  const router = new Router({ prefix: "/api" });
  const branchOf = (ctx: Context) => ctx.state.branch as Branch;

  router.get("/branches/:id/gates", permit("read", branchResource(services)), async (ctx) => {
    ctx.body = await branchGates(services, branchOf(ctx));
  });

  router.post("/branches/:id/gates", permit("change", branchResource(services)), async (ctx) => {
    const body = optionalJsonBody(ctx);
    if (body.gate !== undefined && typeof body.gate !== "string") throw new CookError("invalid", "name one gate");
    ctx.status = 202;
    ctx.body = { run: await startGateRun(services, branchOf(ctx), { reason: "rerun", only: body.gate as string | undefined }, actorOf(ctx)) };
  });

  router.get("/gate-runs/:id", permit("read", runResource(services)), async (ctx) => {
    ctx.body = { run: ctx.state.run, attempts: await attemptsOfRun(services.db, String(ctx.params.id)), branch: { id: branchOf(ctx).id, repo: branchOf(ctx).repo, name: branchOf(ctx).name } };
  });

  router.get("/gate-runs/:id/log", permit("read", runResource(services)), async (ctx) => {
    const gate = ctx.query.gate;
    const attempt = ctx.query.attempt === undefined ? 1 : Number(ctx.query.attempt);
    if (typeof gate !== "string" || gate === "") throw new CookError("invalid", "name the gate: ?gate=<name>");
    if (!Number.isInteger(attempt) || attempt < 1) throw new CookError("invalid", "attempt must be a whole number from 1");
    const log = await attemptLog(services.db, String(ctx.params.id), gate, attempt);
    if (log === undefined) throw new CookError("not_found", `run ${String(ctx.params.id)} has no attempt ${attempt} of gate '${gate}'`);
    ctx.type = "text/plain; charset=utf-8";
    ctx.body = log;
  });

  for (const verdict of ["approve", "reject"] as const) {
    router.post(`/branches/:id/${verdict}`, permit("change", branchResource(services)), async (ctx) => {
      const body = optionalJsonBody(ctx);
      ctx.status = 201;
      ctx.body = { approval: await giveVerdict(services, branchOf(ctx), { verdict, comment: body.comment, gate: body.gate }, actorOf(ctx)) };
    });
  }

  router.post("/branches/:id/merge", permit("change", branchResource(services)), async (ctx) => {
    const body = optionalJsonBody(ctx);
    ctx.body = await mergeBranch(services, branchOf(ctx), { strategy: body.strategy, auto: body.auto }, actorOf(ctx));
  });

  router.get("/repos/:name/merges", permit("read", repoParam("name")), async (ctx) => {
    const repo = checkRepoName(ctx.params.name);
    requireRepo(services.dataDir, repo);
    ctx.body = { queue: await liveMerges(services.db, repo) };
  });

  return router;
}
