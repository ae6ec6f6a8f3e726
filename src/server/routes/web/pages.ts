import Router from "@koa/router";
import type { Branch } from "../../../core/branch.js";
import type { GateRun } from "../../../core/gate.js";
import { humanReasonsOfTasks, listWaitingSessions, waitingSessionsOfTasks } from "../../../agents/read-sessions.js";
import { readEventHistory } from "../../../events/history.js";
import { listTasks } from "../../../tasks/read-tasks.js";
import { permit } from "../../middleware/auth.js";
import type { Services } from "../../services.js";
import { findBranchesByIds } from "../../../db/branch-store.js";
import { latestRunsOfBranches, unfinishedRuns } from "../../../db/gate-run-store.js";
import { branchHref } from "./branch-links.js";
import { presentRunBadge, type RunBadge } from "./gate-view.js";

/** The overview page: what waits on a human first (help, approvals), then the factory's state and latest events. */
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
  branch?: { id: string; name: string; repo: string; href: string };
  reason: string | undefined;
  /** The newest gate run of the branch. */
  gates?: RunBadge;
  /** It waits for a verdict on its gates: the run's badge says so. */
  approval?: boolean;
}

/**
 * Tasks in needs_human (with what their agent asked), branches without such a task whose agent
 * waits, and branches whose gates wait for an approval; each branch with its newest gate run.
 */
async function readWaiting(services: Services): Promise<WaitingEntry[]> {
  const [tasks, sessions, approvals] = await Promise.all([listTasks(services, { status: "needs_human", limit: 100 }), listWaitingSessions(services), readAwaitingApproval(services)]);
  const [asked, reasons] = await Promise.all([waitingSessionsOfTasks(services, tasks.map((task) => task.id)), humanReasonsOfTasks(services, tasks.map((task) => task.id))]);
  const branchOf = new Map(sessions.map(({ branch, session }) => [session.id, branch]));
  const link = (branch: Branch) => ({ id: branch.id, name: branch.name, repo: branch.repo, href: branchHref(branch) });
  const entries: WaitingEntry[] = tasks.map((task) => {
    const session = asked.get(task.id);
    const branch = session && branchOf.get(session.id);
    return { task: { id: task.id, title: task.title }, branch: branch && link(branch), reason: reasons.get(task.id) ?? session?.reason };
  });
  const shown = new Set([...asked.values()].map((session) => session.id));
  for (const { branch, session } of sessions) {
    if (!shown.has(session.id)) entries.push({ branch: link(branch), reason: session.reason });
  }
  const runs = await latestRunsOfBranches(services.db, entries.flatMap((entry) => (entry.branch ? [entry.branch.id] : [])));
  for (const entry of entries) {
    const run = entry.branch && runs.get(entry.branch.id);
    if (run) entry.gates = presentRunBadge(run);
  }
  // A branch listed already shows its run's badge there.
  const listed = new Set(runs.keys());
  const awaiting = approvals.filter(({ branch }) => !listed.has(branch.id)).map(({ branch, run }) => ({ branch: link(branch), reason: presentRunBadge(run).detail, gates: presentRunBadge(run), approval: true }));
  return [...entries, ...awaiting];
}

/** Open branches whose gate run waits for a person's verdict, oldest first. */
async function readAwaitingApproval(services: Services): Promise<Array<{ branch: Branch; run: GateRun }>> {
  const waiting = (await unfinishedRuns(services.db)).filter((run) => run.state === "waiting");
  const branches = await findBranchesByIds(services.db, waiting.map((run) => run.branchId));
  return waiting.flatMap((run) => {
    const branch = branches.get(run.branchId);
    return branch?.status === "open" ? [{ branch, run }] : [];
  });
}
