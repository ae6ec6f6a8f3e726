import Router from "@koa/router";
import type nunjucks from "nunjucks";
import { readEventHistory } from "../../../events/history.js";
import { allSubjects } from "../../../events/subjects.js";
import type { LiveStreams } from "../../live/sse.js";
import { agentRepoOf } from "../../../core/authorization.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { eventScope } from "../../route-resources.js";
import { optionalInteger, optionalPattern, resumeAfter } from "../../params.js";
import type { Services } from "../../services.js";
import { renderFragment } from "../../views.js";

const pageSize = 100;

/** The Events page: the log, newest first, and new events pushed over SSE as rendered rows. */
export function eventWebRoutes(services: Services, live: LiveStreams, views: nunjucks.Environment): Router {
  const router = new Router();

  router.get("/events", permit("read", eventScope), async (ctx) => {
    const subject = optionalPattern("subject", ctx.query.subject);
    const before = optionalInteger("before", ctx.query.before);
    const events = await readEventHistory(services, { subject, before, limit: pageSize, repo: agentRepoOf(actorOf(ctx)) });
    // Only the newest page is live; the stream resumes after its newest event so none falls in between.
    const live = before === undefined;
    const after = String(events[0]?.id ?? 0);
    const view = {
      events,
      subject: subject ?? "",
      liveUrl: live ? `/events/live?${new URLSearchParams(subject ? { subject, after } : { after })}` : undefined,
      olderThan: events.length === pageSize ? events[events.length - 1]!.id : undefined,
    };
    await ctx.render(ctx.get("HX-Request") && ctx.get("HX-Target") === "event-log" ? "events/_log" : "events/index", view);
  });

  router.get("/events/live", permit("read", eventScope), async (ctx) => {
    await live.open(ctx, {
      repo: agentRepoOf(actorOf(ctx)),
      pattern: optionalPattern("subject", ctx.query.subject) ?? allSubjects,
      afterId: resumeAfter(ctx.query.after, ctx.get("Last-Event-ID")),
      format: (event) => ({ event: "cook-event", data: renderFragment(views, "events/_row", { event }) }),
    });
  });

  return router;
}
