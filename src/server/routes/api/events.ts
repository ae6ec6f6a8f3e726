import Router from "@koa/router";
import { announceCustomEvent } from "../../../events/announce.js";
import { readEventHistory } from "../../../events/history.js";
import { allSubjects } from "../../../events/subjects.js";
import { CookError } from "../../../core/errors.js";
import type { LiveStreams } from "../../live/sse.js";
import { requireActor, requireScope } from "../../middleware/auth.js";
import { optionalInteger, optionalPattern, resumeAfter } from "../../params.js";
import type { Services } from "../../services.js";

export function eventApiRoutes(services: Services, live: LiveStreams): Router {
  const router = new Router({ prefix: "/api/events" });

  router.get("/", async (ctx) => {
    requireActor(ctx);
    const events = await readEventHistory(services, {
      subject: optionalPattern("subject", ctx.query.subject),
      after: optionalInteger("after", ctx.query.after),
      before: optionalInteger("before", ctx.query.before),
      limit: optionalInteger("limit", ctx.query.limit),
    });
    ctx.body = { events };
  });

  router.get("/stream", async (ctx) => {
    requireActor(ctx);
    await live.open(ctx, {
      pattern: optionalPattern("subject", ctx.query.subject) ?? allSubjects,
      afterId: resumeAfter(ctx.query.after, ctx.get("Last-Event-ID")),
      format: (event) => ({ event: "cook-event", data: JSON.stringify(event) }),
    });
  });

  router.post("/", requireScope("user"), async (ctx) => {
    const body = ctx.request.body;
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      throw new CookError("bad_request", "send a JSON object: {\"repo\", \"name\", \"branch\"?, \"data\"?}");
    }
    const event = await announceCustomEvent(services, body as never, requireActor(ctx));
    ctx.status = 201;
    ctx.body = { event };
  });

  return router;
}
