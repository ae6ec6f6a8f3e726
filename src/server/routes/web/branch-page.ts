import type { Context } from "koa";
import { latestSessionsOf, usageOf } from "../../../agents/read-sessions.js";
import { readBranchChanges } from "../../../branches/branch-changes.js";
import { getBranchDetail, type BranchDetail } from "../../../branches/read-branches.js";
import { may } from "../../../core/authorization.js";
import type { Branch } from "../../../core/branch.js";
import { CookError } from "../../../core/errors.js";
import { listTaskLinks } from "../../../tasks/read-tasks.js";
import { actorOf } from "../../middleware/auth.js";
import type { Services } from "../../services.js";
import { presentSession } from "./agent-view.js";
import { readAgentPanel, readPanelSession, type AgentFocus } from "./branch-agent.js";
import { readGatePanel } from "./branch-gates.js";
import { presentBranch } from "./branch-links.js";
import { readWorkPanel } from "./branch-work.js";
import { liveUrlFor } from "./forms.js";
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

/** The id of the element an htmx request will swap, or "" for a whole page. */
export const hxTarget = (ctx: Context) => (ctx.get("HX-Request") ? ctx.get("HX-Target") : "");

export interface BranchPageOptions {
  /** The tab asked for (`?tab=`); undefined: the branch's default tab. */
  tab?: unknown;
  refused?: { status: number; message: string };
  /** Where a refusal is shown: above the page (default), or in the Gates section whose button was pressed. */
  refusedIn?: "gates";
  /** The Agent tab: a session's events before a seq. */
  focus?: AgentFocus;
  /** What was typed into a refused prompt box. */
  prompt?: string;
  /** What was typed into a refused verdict's comment box. */
  comment?: string;
  /** The gate run shown in full (`?run=`); undefined: the newest. */
  gateRun?: string;
}

/**
 * A branch's page, or the part of it an htmx request targets: branch-summary, branch-panel,
 * branch-gates, or one session of the Agent tab (session-<id>, earlier-<id>).
 */
export async function renderBranchPage(services: Services, ctx: Context, branch: Branch, options: BranchPageOptions = {}): Promise<void> {
  const actor = actorOf(ctx);
  const canChange = may(actor, "change", { repo: branch.repo });
  const target = hxTarget(ctx);
  const refused = options.refused;
  const gateError = options.refusedIn === "gates" ? refused?.message : undefined;
  if (refused) ctx.status = refused.status;
  const gates = () => readGatePanel(services, branch, { actor, canChange, runId: options.gateRun, error: gateError, comment: options.comment });
  if (target === "branch-gates") {
    await ctx.render("branches/_gates", { branch, gates: await gates() });
    return;
  }
  // htmx asking for one session of the Agent tab, or for its earlier events.
  if (options.focus?.sessionId && (target === `session-${options.focus.sessionId}` || target === `earlier-${options.focus.sessionId}`)) {
    const s = await readPanelSession(services, branch, options.focus.sessionId, { canChange, beforeSeq: options.focus.beforeSeq });
    if (!s) throw new CookError("not_found", `branch '${branch.name}' has no agent session '${options.focus.sessionId}'`);
    await ctx.render(target.startsWith("session-") ? "agents/_session" : "agents/_earlier-page", { s, w: s.window, branch });
    return;
  }
  const [latest] = (await latestSessionsOf(services, [branch.id])).values();
  const tab = tabOf(options.tab, latest !== undefined);
  // Where the stream starts is read before the setup log, the agent's events and the gate logs,
  // so what is written in between is sent again rather than missed (and the page skips what it has).
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
    error: gateError ? undefined : refused?.message,
    canChange,
    liveUrl,
    agentSummary: latest ? { latest: presentSession(latest), usage: await usageOf(services, { branchId: branch.id }) } : undefined,
    // A refresh of the summary alone leaves the rest (and a terminal in the panel) as it is.
    ...(target === "branch-summary" || target === "branch-panel" ? {} : { gates: await gates() }),
    ...(target === "branch-summary" ? {} : await panelView(services, detail, tab, { canChange, focus: options.focus, prompt: options.prompt })),
  };
  await ctx.render(target === "branch-summary" ? "branches/_summary" : target === "branch-panel" ? "branches/_panel" : "branches/show", view);
}

async function panelView(services: Services, detail: BranchDetail, tab: Tab, agent: { canChange: boolean; focus?: AgentFocus; prompt?: string }): Promise<Record<string, unknown>> {
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
