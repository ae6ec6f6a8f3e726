import Router from "@koa/router";
import type { Context } from "koa";
import type nunjucks from "nunjucks";
import { latestSessionsOf, usageOf } from "../../../agents/read-sessions.js";
import { interruptSession, promptSession, startSession } from "../../../agents/sessions.js";
import { abandonBranch } from "../../../branches/abandon-branch.js";
import { readBranchChanges } from "../../../branches/branch-changes.js";
import { createBranch } from "../../../branches/create-branch.js";
import { getBranchDetail, listBranches, type BranchDetail, type BranchListFilter } from "../../../branches/read-branches.js";
import { agentRepoOf, may } from "../../../core/authorization.js";
import { backendNames, branchStatuses, type Branch } from "../../../core/branch.js";
import { CookError } from "../../../core/errors.js";
import { isId } from "../../../core/ids.js";
import type { Event } from "../../../events/event.js";
import { allSubjects, subjects } from "../../../events/subjects.js";
import { listRepoNames } from "../../../forge/repos.js";
import { listTaskLinks, listTasks } from "../../../tasks/read-tasks.js";
import type { LiveStreams } from "../../live/sse.js";
import { actorOf, permit } from "../../middleware/auth.js";
import { branchFilterFromQuery, optionalInteger, resumeAfter } from "../../params.js";
import { bodyRepo, branchPathResource, branchQueryResource, branchResource, queryRepo } from "../../route-resources.js";
import type { Services } from "../../services.js";
import { renderFragment } from "../../views.js";
import { presentSession } from "./agent-view.js";
import { agentLiveMessage, readAgentPanel, readPanelSession, type AgentFocus } from "./branch-agent.js";
import { branchHref, presentBranch } from "./branch-links.js";
import { readWorkPanel } from "./branch-work.js";
import { formFields, formRefusal, liveUrlFor, redirectAfterPost, type Form } from "./forms.js";
import { linkTo } from "./repo-links.js";

const tabs = [
  { id: "agent", label: "Agent" },
  { id: "changes", label: "Changes" },
  { id: "work", label: "Uncommitted" },
  { id: "terminal", label: "Terminal" },
  { id: "setup", label: "Setup log" },
] as const;
type Tab = (typeof tabs)[number]["id"];

/** The tab asked for; without one, Agent for a branch an agent has worked on, else Changes. */
const tabOf = (value: unknown, hasSessions: boolean): Tab => tabs.find((tab) => tab.id === value)?.id ?? (hasSessions ? "agent" : "changes");
const hxTarget = (ctx: Context) => (ctx.get("HX-Request") ? ctx.get("HX-Target") : "");
const filterQuery = (filter: BranchListFilter) => ({ repo: filter.repo, status: filter.status, task: filter.taskId });

function queryString(query: Record<string, string | undefined>): string {
  const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""));
  return params.size ? `?${params}` : "";
}

/** Whether an event is about this branch: its own events and its environments' and agents' (by id), anything else under its subject. */
function isAbout(event: Event, branch: Branch): boolean {
  const data = (event.data ?? {}) as { id?: unknown; branchId?: unknown };
  if (event.type.startsWith("environment.") || event.type.startsWith("agent.")) return data.branchId === branch.id;
  // The forge's ref events (pushed, deleted) carry no record id: the subject names the branch.
  if (event.type.startsWith("branch.")) return data.id === undefined || data.id === branch.id;
  return true;
}

/** What changes a dashboard row: a branch's, an environment's or an agent's state, not each line of output. */
const changesDashboard = (event: Event) => /^(branch|environment|agent)\./.test(event.type) && !event.type.endsWith(".output");

/**
 * The Branches area: the dashboard (filters, live over SSE, disk use measured in the background),
 * the New branch form, and a branch's page (committed changes, uncommitted work, terminal, setup
 * log) with its Abandon button.
 */
export function branchWebRoutes(services: Services, live: LiveStreams, views: nunjucks.Environment): Router {
  const router = new Router({ prefix: "/branches" });
  const branchOf = (ctx: Context) => ctx.state.branch as Branch;

  async function dashboardView(ctx: Context, filter: BranchListFilter) {
    // The stream's start first: a change made while the list is read is then sent, not missed.
    const liveUrl = await liveUrlFor(services, "/branches/live", { repo: filter.repo });
    const rows = await listBranches(services, filter, { countLater: true });
    const tasks = new Map((await listTaskLinks(services, rows.flatMap((row) => (row.taskId ? [row.taskId] : [])))).map((task) => [task.id, task]));
    const agents = await latestSessionsOf(services, rows.map((row) => row.id));
    let measuring = false;
    const branches = rows
      .map((row) => {
        const environment = row.environment && row.environment.state !== "torn_down" ? row.environment : undefined;
        const disk = environment ? services.diskUse.peek(environment) : undefined;
        if (disk && !disk.fresh) measuring = true;
        const agent = agents.get(row.id);
        return {
          ...presentBranch(row),
          task: row.taskId ? (tasks.get(row.taskId) ?? { id: row.taskId, title: undefined, status: undefined }) : undefined,
          agent: agent ? presentSession(agent) : undefined,
          liveEnvironment: Boolean(environment),
          disk: disk?.bytes,
        };
      })
      .sort((a, b) => (a.lastActivity < b.lastActivity ? 1 : a.lastActivity > b.lastActivity ? -1 : 0));
    const query = queryString(filterQuery(filter));
    return {
      branches,
      filter,
      repos: listRepoNames(services.dataDir).filter((name) => [undefined, name].includes(agentRepoOf(actorOf(ctx)))),
      statuses: branchStatuses,
      listUrl: `/branches${query}`,
      liveUrl,
      diskUrl: measuring ? `/branches/disk-use${query}` : undefined,
      // Ahead/behind not known yet is counted in the background; the list asks again shortly.
      counting: branches.some((branch) => branch.counting),
      canCreate: may(actorOf(ctx), "change", filter.repo ? { repo: filter.repo } : "factory"),
    };
  }

  router.get("/", permit("read", queryRepo), async (ctx) => {
    const view = await dashboardView(ctx, branchFilterFromQuery(ctx.query));
    await ctx.render(hxTarget(ctx) === "branch-list" ? "branches/_list" : "branches/index", view);
  });

  async function renderNewBranchForm(ctx: Context, form: Form, refused?: { status: number; message: string }): Promise<void> {
    const openTasks = (await listTasks(services, { limit: 500 })).filter((task) => task.status !== "closed");
    if (refused) ctx.status = refused.status;
    await ctx.render("branches/form", { form, error: refused?.message, repos: listRepoNames(services.dataDir), tasks: openTasks, backends: backendNames });
  }

  router.get("/new", permit("change", queryRepo), async (ctx) => {
    const given = (name: string) => (typeof ctx.query[name] === "string" ? (ctx.query[name] as string) : undefined);
    await renderNewBranchForm(ctx, { repo: given("repo"), task: given("task"), env: "" });
  });

  router.post("/", permit("change", bodyRepo), async (ctx) => {
    const form = formFields(ctx);
    const trimmed = (value: string | undefined) => value?.trim() || undefined;
    try {
      const { branch } = await createBranch(services, { repo: form.repo, name: trimmed(form.name), base: trimmed(form.base), task: trimmed(form.task), env: trimmed(form.env) }, actorOf(ctx));
      redirectAfterPost(ctx, branchHref(branch));
    } catch (err) {
      await renderNewBranchForm(ctx, form, formRefusal(err, ["invalid", "conflict", "not_found", "forbidden", "unavailable"]));
    }
  });

  // `?branch=<brn_ id>`: one branch page's stream (its state changes, and its setup output as it is
  // written); otherwise the dashboard's (state changes of every branch, or of `?repo=`'s).
  router.get("/live", permit("read", branchQueryResource(services)), async (ctx) => {
    const branch = ctx.state.branch as Branch | undefined;
    const agentRepo = agentRepoOf(actorOf(ctx));
    const afterId = resumeAfter(ctx.query.after, ctx.get("Last-Event-ID"));
    if (branch) {
      // `agent=1`: the page shows the Agent tab, whose sessions follow the agent's events.
      const followsAgent = ctx.query.agent === "1";
      const canChange = may(actorOf(ctx), "change", { repo: branch.repo });
      const change = (event: Event) => ({ event: "branch-change", data: String(event.id) });
      await live.open(ctx, {
        repo: agentRepo,
        pattern: subjects.ofBranch(branch.repo, branch.name),
        afterId,
        filter: (event) => isAbout(event, branch) && (followsAgent || event.type !== "agent.output"),
        format: async (event) => {
          if (event.type === "environment.output") return { event: "setup-output", data: renderFragment(views, "branches/_output", { text: String((event.data as { text?: unknown }).text ?? "") }) };
          if (!event.type.startsWith("agent.")) return change(event);
          const agent = followsAgent ? await agentLiveMessage(services, views, branch, event, canChange) : undefined;
          // Output changes no fact of the summary; a session's start and end do.
          return [...(agent ? [agent] : []), ...(event.type === "agent.output" ? [] : [change(event)])];
        },
      });
      return;
    }
    const repo = typeof ctx.query.repo === "string" && ctx.query.repo !== "" ? ctx.query.repo : agentRepo;
    await live.open(ctx, { repo, pattern: repo ? subjects.ofRepo(repo) : allSubjects, afterId, filter: changesDashboard, format: (event) => ({ event: "branch-change", data: String(event.id) }) });
  });

  // The dashboard's sizes it did not know, or knew from more than 30 s ago: measured now (du, two
  // at a time), swapped in by id. The dashboard itself never waits for du.
  router.get("/disk-use", permit("read", queryRepo), async (ctx) => {
    const rows = await listBranches(services, branchFilterFromQuery(ctx.query), { countLater: true });
    const live = rows.filter((row) => row.environment && row.environment.state !== "torn_down");
    const sizes = await Promise.all(live.map(async (row) => ({ id: row.id, bytes: await services.diskUse.measure(row.environment!) })));
    await ctx.render("branches/_disk-use", { sizes });
  });

  interface PageOptions {
    /** The tab asked for (`?tab=`); undefined: the branch's default tab. */
    tab?: unknown;
    refused?: { status: number; message: string };
    /** The Agent tab: a session's events before a seq. */
    focus?: AgentFocus;
    /** What was typed into a refused prompt box. */
    prompt?: string;
  }

  async function renderBranchPage(ctx: Context, branch: Branch, options: PageOptions = {}): Promise<void> {
    const canChange = may(actorOf(ctx), "change", { repo: branch.repo });
    const target = hxTarget(ctx);
    // htmx asking for one session of the Agent tab, or for its earlier events.
    if (options.focus?.sessionId && (target === `session-${options.focus.sessionId}` || target === `earlier-${options.focus.sessionId}`)) {
      const s = await readPanelSession(services, branch, options.focus.sessionId, { canChange, beforeSeq: options.focus.beforeSeq });
      if (!s) throw new CookError("not_found", `branch '${branch.name}' has no agent session '${options.focus.sessionId}'`);
      await ctx.render(target.startsWith("session-") ? "agents/_session" : "agents/_earlier-page", { s, w: s.window, branch });
      return;
    }
    const [latest] = (await latestSessionsOf(services, [branch.id])).values();
    const tab = tabOf(options.tab, latest !== undefined);
    // Where the stream starts is read before the setup log and the agent's events, so what is
    // written in between is sent again rather than missed (and the Agent tab skips what it has).
    const liveUrl = await liveUrlFor(services, "/branches/live", { branch: branch.id, agent: tab === "agent" ? "1" : undefined });
    const detail = await getBranchDetail(services, branch.id);
    const presented = presentBranch(detail);
    const defaultTab = latest ? "agent" : "changes";
    const [task] = detail.taskId ? await listTaskLinks(services, [detail.taskId]) : [];
    const view = {
      branch: presented,
      task: detail.taskId ? (task ?? { id: detail.taskId }) : undefined,
      tab,
      tabs: tabs.map((t) => ({ ...t, href: t.id === defaultTab ? presented.href : `${presented.href}?tab=${t.id}` })),
      error: options.refused?.message,
      canChange,
      liveUrl,
      agentSummary: latest ? { latest: presentSession(latest), usage: await usageOf(services, { branchId: branch.id }) } : undefined,
      // A refresh of the summary alone leaves the panel (and a terminal in it) as it is.
      ...(target === "branch-summary" ? {} : await panelView(detail, tab, { canChange, focus: options.focus, prompt: options.prompt })),
    };
    if (options.refused) ctx.status = options.refused.status;
    await ctx.render(target === "branch-summary" ? "branches/_summary" : target === "branch-panel" ? "branches/_panel" : "branches/show", view);
  }

  async function panelView(detail: BranchDetail, tab: Tab, agent: { canChange: boolean; focus?: AgentFocus; prompt?: string }): Promise<Record<string, unknown>> {
    if (tab === "agent") return { agent: await readAgentPanel(services, detail, agent) };
    if (tab === "work") return { work: await readWorkPanel(services, detail) };
    if (tab === "setup") return { setupLog: detail.setupLog };
    if (tab !== "changes") return {};
    const { patch, ...changes } = await readBranchChanges(services, detail, detail.head);
    const diff = await services.render.diff(patch);
    const at = (ref: string) => ({ repo: detail.repo, ref });
    return {
      changes: {
        ...changes,
        diff,
        files: diff.files.map((file) => ({
          ...file,
          oldHref: file.oldMode !== "160000" && file.status !== "added" ? linkTo("blob", at(changes.from), file.oldPath) : undefined,
          newHref: detail.head && file.newMode !== "160000" && file.status !== "deleted" ? linkTo("blob", at(detail.head), file.newPath) : undefined,
        })),
        commits: changes.commits.map((commit) => ({ ...commit, href: `/repos/${encodeURIComponent(detail.repo)}/commit/${commit.sha}` })),
      },
    };
  }

  router.post("/:id/abandon", permit("change", branchResource(services)), async (ctx) => {
    const branch = branchOf(ctx);
    try {
      const ended = await abandonBranch(services, branch, actorOf(ctx));
      redirectAfterPost(ctx, branchHref(ended));
    } catch (err) {
      await renderBranchPage(ctx, branch, { tab: "changes", refused: formRefusal(err, ["conflict"]) });
    }
  });

  // The Agent tab's prompt box: a follow-up, the answer to a help request, or (on a branch no agent
  // has worked on) the first prompt. Left empty on a branch with a task, the agent works on TASK.md.
  router.post("/:id/prompt", permit("change", branchResource(services)), async (ctx) => {
    const branch = branchOf(ctx);
    const form = formFields(ctx);
    const prompt = (form.prompt ?? "").replace(/\r\n/g, "\n");
    const agent = form.agent?.trim() || undefined;
    try {
      const [latest] = (await latestSessionsOf(services, [branch.id])).values();
      if (!latest && prompt.trim() === "" && branch.taskId) await startSession(services, branch, { agent }, actorOf(ctx));
      else await promptSession(services, branch, { prompt, agent }, actorOf(ctx));
      redirectAfterPost(ctx, branchHref(branch));
    } catch (err) {
      await renderBranchPage(ctx, branch, { tab: "agent", refused: formRefusal(err, ["invalid", "conflict", "too_large", "unavailable"]), prompt: form.prompt });
    }
  });

  router.post("/:id/interrupt", permit("change", branchResource(services)), async (ctx) => {
    const branch = branchOf(ctx);
    try {
      await interruptSession(services, branch, actorOf(ctx));
      redirectAfterPost(ctx, branchHref(branch));
    } catch (err) {
      await renderBranchPage(ctx, branch, { tab: "agent", refused: formRefusal(err, ["conflict"]) });
    }
  });

  router.get("/{*ref}", permit("read", branchPathResource(services)), async (ctx) => {
    const session = typeof ctx.query.session === "string" && ctx.query.session !== "" ? ctx.query.session : undefined;
    if (session !== undefined && !isId("ses", session)) throw new CookError("invalid", "session must be a ses_ id");
    await renderBranchPage(ctx, branchOf(ctx), { tab: ctx.query.tab, focus: { sessionId: session, beforeSeq: optionalInteger("before", ctx.query.before) } });
  });

  return router;
}
