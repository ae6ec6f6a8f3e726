import Router from "@koa/router";
import { announceCustomEvent } from "../../../events/announce.js";
import { readEventHistory } from "../../../events/history.js";
import { allSubjects } from "../../../events/subjects.js";
import { CookError } from "../../../core/errors.js";
import type { LiveStreams } from "../../live/sse.js";
import { agentRepoOf } from "../../../core/authorization.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { bodyRepo, eventScope } from "../../route-resources.js";
import { optionalInteger, optionalPattern, resumeAfter } from "../../params.js";
import type { Services } from "../../services.js";

export function eventApiRoutes(services: Services, live: LiveStreams): Router {
  const router = new Router({ prefix: "/api/events" });

  router.get("/", permit("read", eventScope), async (ctx) => {
    const events = await readEventHistory(services, {
      repo: agentRepoOf(actorOf(ctx)),
      subject: optionalPattern("subject", ctx.query.subject),
      after: optionalInteger("after", ctx.query.after),
      before: optionalInteger("before", ctx.query.before),
      limit: optionalInteger("limit", ctx.query.limit),
    });
    ctx.body = { events };
  });

  router.get("/stream", permit("read", eventScope), async (ctx) => {
    await live.open(ctx, {
      repo: agentRepoOf(actorOf(ctx)),
      pattern: optionalPattern("subject", ctx.query.subject) ?? allSubjects,
      afterId: resumeAfter(ctx.query.after, ctx.get("Last-Event-ID")),
      format: (event) => ({ event: "cook-event", data: JSON.stringify(event) }),
    });
  });

  router.post("/", permit("change", bodyRepo), async (ctx) => {
    const body = ctx.request.body;
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      throw new CookError("bad_request", "send a JSON object: {\"repo\", \"name\", \"branch\"?, \"data\"?}");
    }
    const event = await announceCustomEvent(services, body as never, actorOf(ctx));
    ctx.status = 201;
    ctx.body = { event };
  });

  return router;
}
