import Router from "@koa/router";
import { listWaitingSessions, waitingSessionsOfTasks } from "../../../agents/read-sessions.js";
import { readEventHistory } from "../../../events/history.js";
import { listTasks } from "../../../tasks/read-tasks.js";
import { permit } from "../../middleware/auth.js";
import type { Services } from "../../services.js";
import { branchHref } from "./branch-links.js";

/** The overview page: what waits on a human first, then the factory's state and latest events. */
export function pageRoutes(services: Services): Router {
  const router = new Router();

  router.get("/", permit("read", "factory"), async (ctx) => {
    const [events, waiting] = await Promise.all([readEventHistory(services, { limit: 10 }), readWaiting(services)]);
    await ctx.render("home", {
      events,
      waiting,
      store: services.db.kind,
      bus: services.bus.status(),
      pending: await services.relay.pending(),
    });
  });

  return router;
}

interface WaitingEntry {
  task?: { id: string; title: string };
  branch?: { name: string; repo: string; href: string };
  reason: string | undefined;
}

/** Tasks in needs_human (with what their agent asked), and branches without such a task whose agent waits. */
async function readWaiting(services: Services): Promise<WaitingEntry[]> {
  const [tasks, sessions] = await Promise.all([listTasks(services, { status: "needs_human", limit: 100 }), listWaitingSessions(services)]);
  const asked = await waitingSessionsOfTasks(services, tasks.map((task) => task.id));
  const branchOf = new Map(sessions.map(({ branch, session }) => [session.id, branch]));
  const entries: WaitingEntry[] = tasks.map((task) => {
    const session = asked.get(task.id);
    const branch = session && branchOf.get(session.id);
    return { task: { id: task.id, title: task.title }, branch: branch && { name: branch.name, repo: branch.repo, href: branchHref(branch) }, reason: session?.reason };
  });
  const shown = new Set([...asked.values()].map((session) => session.id));
  for (const { branch, session } of sessions) {
    if (!shown.has(session.id)) entries.push({ branch: { name: branch.name, repo: branch.repo, href: branchHref(branch) }, reason: session.reason });
  }
  return entries;
}
