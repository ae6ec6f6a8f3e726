import Router from "@koa/router";
import { pingDatabase } from "../../../db/db.js";
import { publicRoute } from "../../middleware/auth.js";
import type { Services } from "../../services.js";

/** Liveness and readiness in one: 503 when the store cannot answer; a bus outage is "degraded". */
export function healthRoutes(services: Services): Router {
  const router = new Router();
  router.get("/healthz", publicRoute(), async (ctx) => {
    const store = await pingDatabase(services.db)
      .then(() => ({ ok: true, kind: services.db.kind, detail: "ok" }))
      .catch((err: Error) => ({ ok: false, kind: services.db.kind, detail: err.message }));
    const pending = store.ok ? await services.relay.pending().catch(() => undefined) : undefined;
    const bus = { ...services.bus.status(), pending, relayError: services.relay.lastError() };
    const status = !store.ok ? "down" : bus.ok ? "ok" : "degraded";
    ctx.status = store.ok ? 200 : 503;
    ctx.set("Cache-Control", "no-store");
    ctx.body = { status, version: services.version, store, bus };
  });
  return router;
}
