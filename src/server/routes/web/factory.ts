import Router from "@koa/router";
import { agentRepoOf } from "../../../core/authorization.js";
import type { Event } from "../../../events/event.js";
import { allSubjects, subjects } from "../../../events/subjects.js";
import { factoryCharts } from "../../../factory/factory-charts.js";
import { readFactoryStats, windowDays } from "../../../factory/stats.js";
import { listRepoNames } from "../../../forge/repos.js";
import type { LiveStreams } from "../../live/sse.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { factoryQueryFrom, resumeAfter } from "../../params.js";
import { queryRepo } from "../../route-resources.js";
import type { Services } from "../../services.js";
import { hxTarget } from "./branch-page.js";
import { liveUrlFor } from "./forms.js";

/** What changes a number of the page: a task's, a branch's, a gate run's, an agent session's or a plan's state, not each line of output. */
const changesFactory = (event: Event) => /^(task|branch|gate|agent|plan)\./.test(event.type) && !event.type.endsWith(".output");

/**
 * The factory page, `GET /factory?repo=&days=`: charts of merges, cycle time, gate runs and agent
 * time per task, with the numbers under each, live over SSE (`GET /factory/live`, one
 * `factory-change` per event that changes a number; the page reads its charts section again).
 */
export function factoryWebRoutes(services: Services, live: LiveStreams): Router {
  const router = new Router({ prefix: "/factory" });

  router.get("/", permit("read", queryRepo), async (ctx) => {
    const query = factoryQueryFrom(ctx.query);
    const stats = await readFactoryStats(services, query);
    const params = new URLSearchParams({ ...(query.repo ? { repo: query.repo } : {}), days: String(query.days) });
    const view = {
      stats,
      charts: factoryCharts(stats),
      repos: listRepoNames(services.dataDir).filter((name) => [undefined, name].includes(agentRepoOf(actorOf(ctx)))),
      windows: windowDays,
      chartsUrl: `/factory?${params}`,
      liveUrl: await liveUrlFor(services, "/factory/live", { repo: query.repo }),
    };
    await ctx.render(hxTarget(ctx) === "factory-charts" ? "factory/_charts" : "factory/index", view);
  });

  router.get("/live", permit("read", queryRepo), async (ctx) => {
    const repo = typeof ctx.query.repo === "string" && ctx.query.repo !== "" ? ctx.query.repo : agentRepoOf(actorOf(ctx));
    await live.open(ctx, {
      repo,
      pattern: repo ? subjects.ofRepo(repo) : allSubjects,
      afterId: resumeAfter(ctx.query.after, ctx.get("Last-Event-ID")),
      filter: changesFactory,
      format: (event) => ({ event: "factory-change", data: String(event.id) }),
    });
  });

  return router;
}
