import type nunjucks from "nunjucks";
import { findAgentSession, listBranchSessions, readEventWindow, type EventWindow } from "../../../agents/read-sessions.js";
import type { AgentSession } from "../../../core/agent-session.js";
import type { Branch } from "../../../core/branch.js";
import type { Event } from "../../../events/event.js";
import type { SseMessage } from "../../live/sse.js";
import type { Services } from "../../services.js";
import { renderFragment } from "../../views.js";
import { presentEvents, presentSession, type EventView, type NumberedEvent, type SessionView } from "./agent-view.js";

/**
 * Events of a session shown at once: the newest, with the earlier ones a click away. Measured
 * (scripts/bench/agent-session-page.mjs, 2 busy cores): 1,000 mixed events took 65-170 ms of
 * server time, most of it their markdown, and 420 KiB of HTML; 500 keep the page of a 10,000-event
 * session well inside its 200 ms on a loaded machine, and light on a phone.
 */
export const eventWindowSize = 500;

/** A session's events as the page shows them: a stretch of them and where it lies. */
export interface WindowView {
  events: EventView[];
  earlier: number;
  /** How many the "earlier" control brings in. */
  earlierPage: number;
  later: number;
  firstShown: number;
  lastShown: number;
  limit: number;
  /** New events are appended live: the stretch reaches the newest. */
  live: boolean;
}

export type SessionPanelView = SessionView & { href: string; interruptible: boolean; window?: WindowView };

export interface AgentPanelView {
  sessions: SessionPanelView[];
  latest: SessionView | undefined;
  canPrompt: boolean;
  agents: string[];
  defaultAgent: string;
  /** What was typed, when a prompt was refused. */
  prompt?: string;
}

/** What the Agent tab shows more of: one session's events before a seq (`?session=&before=`). */
export interface AgentFocus {
  sessionId?: string;
  beforeSeq?: number;
}

export async function presentWindow(services: Services, window: EventWindow): Promise<WindowView> {
  const events = await presentEvents(window.events.map(numbered), services.render);
  const firstShown = window.events[0]?.seq ?? window.lastSeq - window.later + 1;
  const lastShown = window.events.at(-1)?.seq ?? window.lastSeq - window.later;
  return { events, earlier: window.earlier, earlierPage: Math.min(window.earlier, eventWindowSize), later: window.later, firstShown, lastShown, limit: eventWindowSize, live: window.later === 0 };
}

const numbered = (record: { seq: number; run: number; event: NumberedEvent["event"] }): NumberedEvent => ({ seq: record.seq, run: record.run, event: record.event });

/** A session as the tab shows it, with its events when `expanded`. */
export async function presentPanelSession(services: Services, branch: Branch, session: AgentSession, options: { newest: boolean; canChange: boolean; expanded: boolean; beforeSeq?: number }): Promise<SessionPanelView> {
  const view: SessionPanelView = {
    ...presentSession(session),
    href: `/branches/${branch.id}?tab=agent&session=${session.id}`,
    interruptible: options.newest && options.canChange && branch.status === "open" && (session.status === "running" || session.status === "paused"),
  };
  if (options.expanded) view.window = await presentWindow(services, await readEventWindow(services, session.id, { limit: eventWindowSize, beforeSeq: options.beforeSeq }));
  return view;
}

/** The Agent tab: the newest session with its newest events, older ones by their heads (or the one in focus, expanded). */
export async function readAgentPanel(services: Services, branch: Branch, options: { canChange: boolean; focus?: AgentFocus; prompt?: string }): Promise<AgentPanelView> {
  const sessions = await listBranchSessions(services, branch.id);
  const focus = options.focus ?? {};
  const views = await Promise.all(
    sessions.map((session, i) =>
      presentPanelSession(services, branch, session, {
        newest: i === 0,
        canChange: options.canChange,
        expanded: i === 0 || session.id === focus.sessionId,
        beforeSeq: session.id === focus.sessionId ? focus.beforeSeq : undefined,
      }),
    ),
  );
  return {
    sessions: views,
    latest: views[0],
    canPrompt: options.canChange && branch.status === "open",
    agents: Object.keys(services.agentSettings.agents).sort(),
    defaultAgent: services.defaultAgent,
    prompt: options.prompt,
  };
}

/** One session of the tab alone (htmx: "Show its events", "Show earlier events"). */
export async function readPanelSession(services: Services, branch: Branch, sessionId: string, options: { canChange: boolean; beforeSeq?: number }): Promise<SessionPanelView | undefined> {
  const sessions = await listBranchSessions(services, branch.id);
  const index = sessions.findIndex((session) => session.id === sessionId);
  if (index < 0) return undefined;
  return presentPanelSession(services, branch, sessions[index]!, { newest: index === 0, canChange: options.canChange, expanded: true, beforeSeq: options.beforeSeq });
}

type LivePart = { append: { id: string }; events: EventView[] } | { head: SessionPanelView } | { session: SessionPanelView } | { collapse: SessionPanelView };

// Output batches that change what a session's head says (its tokens, its native id).
const changesHead = new Set(["usage", "turn_completed", "session_started"]);

/**
 * What an agent event of a branch means for a viewer of its Agent tab, as one `agent` SSE message
 * (views/agents/_live.njk), or undefined when nothing there changes. `output` appends its events;
 * a new session is added on top and the previous newest folds to its head; any other change of a
 * session replaces its head (and the Interrupt button with it).
 */
export async function agentLiveMessage(services: Services, views: nunjucks.Environment, branch: Branch, event: Event, canChange: boolean): Promise<SseMessage | undefined> {
  const data = (event.data ?? {}) as { session?: unknown; events?: unknown; resumed?: unknown };
  if (typeof data.session !== "string") return undefined;
  const sessionId = data.session;
  const parts: LivePart[] = [];
  // Most output changes nothing but the list of events: that costs no read of the store.
  const batch = event.type === "agent.output" && Array.isArray(data.events) ? (data.events as Array<NumberedEvent["event"] & { seq: number; run: number }>) : [];
  if (event.type === "agent.output") {
    const events = await presentEvents(batch.map(({ seq, run, ...rest }) => ({ seq, run, event: rest as NumberedEvent["event"] })), services.render);
    parts.push({ append: { id: sessionId }, events });
    if (!batch.some((e) => changesHead.has(e.kind))) return render(views, parts);
  }
  const session = await findAgentSession(services, sessionId);
  if (!session || session.branchId !== branch.id) return undefined;
  const sessions = await listBranchSessions(services, branch.id);
  const panel = (s: AgentSession, expanded: boolean) => presentPanelSession(services, branch, s, { newest: sessions[0]?.id === s.id, canChange, expanded });
  if (event.type === "agent.started" && data.resumed === false) {
    // An empty list that fills as the stream's output events for it come (they follow this one).
    const added = await panel(session, false);
    parts.push({ session: { ...added, window: { events: [], earlier: 0, earlierPage: 0, later: 0, firstShown: 1, lastShown: 0, limit: eventWindowSize, live: true } } });
    const previous = sessions[1];
    if (sessions[0]?.id === session.id && previous) parts.push({ collapse: await panel(previous, false) });
  } else {
    parts.push({ head: await panel(session, false) });
  }
  return render(views, parts);
}

const render = (views: nunjucks.Environment, parts: LivePart[]): SseMessage => ({ event: "agent", data: renderFragment(views, "agents/_live", { parts }) });
