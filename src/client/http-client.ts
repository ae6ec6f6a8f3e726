import type { Approval, GateAttempt, GateRun, Merge } from "../core/gate.js";
import type { StageSummary } from "../autopilot/stages.js";
import type { OverlapPrediction } from "../branches/predict-conflicts.js";
import type { Plan } from "../db/plan-store.js";
import type { AutopilotStatus } from "../autopilot/status.js";
import type { ClientConfig } from "../config/client-config.js";
import { CookError, errorCodeOfStatus, type ErrorCode } from "../core/errors.js";
import type { Event } from "../events/event.js";
import type { Task } from "../core/task.js";
import type { Branch, Environment } from "../core/branch.js";
import type { AgentEvent } from "../core/agent-event.js";
import type { AgentSession } from "../core/agent-session.js";
import type { BranchDetail, BranchSummary } from "../branches/read-branches.js";
import { sendRequest, type HttpResponse } from "./http-request.js";
import { readSse } from "./sse-reader.js";
import type { TerminalConnection, TerminalOptions } from "./terminal-client.js";

/** The server did not answer at all (CLI exit code 3), as opposed to answering with an error. */
export class UnreachableError extends CookError {
  constructor(readonly serverUrl: string, options?: ErrorOptions) {
    super("unavailable", `cannot reach cook server at ${serverUrl} — is \`cook serve\` running?`, options);
  }
}

export interface Health {
  status: "ok" | "degraded" | "down";
  version: string;
  store: { ok: boolean; kind: string; detail: string };
  bus: { ok: boolean; kind: string; detail: string; pending?: number; relayError?: string };
}

export interface EventQuery {
  subject?: string;
  after?: number;
  before?: number;
  limit?: number;
}

export interface CustomEventInput {
  repo: string;
  name: string;
  branch?: string;
  data?: unknown;
}

export interface RepoInfo {
  name: string;
  /** Absent when HEAD is detached (then `detachedHead` is the commit it holds). */
  defaultBranch?: string;
  defaultBranchExists: boolean;
  detachedHead?: string;
  branchCount: number;
  tagCount: number;
  lastCommitAt?: string;
  sizeBytes: number;
}

export type TaskInfo = Task;

export interface ListedTaskInfo extends TaskInfo {
  blockedBy: string[];
}

/** A task another one links to: its status, and when closed its resolution (only done meets a dependency). */
export type TaskLinkInfo = Pick<Task, "id" | "title" | "status" | "resolution">;

export interface TaskDetailInfo {
  task: TaskInfo;
  markdown: string;
  dependsOn: TaskLinkInfo[];
  blockedBy: string[];
  blocks: TaskLinkInfo[];
  /** The task it is part of; absent when none. */
  parent?: TaskLinkInfo;
  /** Its sub-tasks. */
  children: TaskLinkInfo[];
  /** Why it waits on a person, while in needs_human and a reason was given. */
  waitingReason?: string;
  /** Branches of the task, any status, by last activity. */
  branches: BranchInfo[];
}

export interface TokenInfo {
  id: number;
  name: string;
  scope: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

/** `GET /api/branches/:id/gates` (server/routes/api/gates.ts). */
export interface BranchGatesInfo {
  mergeable: boolean;
  reason: string | undefined;
  head: string | undefined;
  autoMerge: boolean;
  runs: GateRun[];
  merges: Merge[];
}

/** A branch as the API lists it (branches/read-branches.ts BranchSummary). */
export type BranchInfo = BranchSummary;
export type AgentEventInfo = AgentEvent & { seq: number; run: number; at: string };
export type BranchDetailInfo = BranchDetail;

type QueryParams = Record<string, string | number | undefined>;

/** Encodes a branch reference for a `*ref` path: each `/`-separated part on its own. */
const refPath = (ref: string) => ref.split("/").map(encodeURIComponent).join("/");

/** The typed HTTP API of a cook server; every error comes back as a CookError. */
export class CookClient {
  constructor(private readonly config: ClientConfig) {}

  get serverUrl(): string {
    return this.config.serverUrl;
  }

  health(): Promise<Health> {
    return this.request<Health>("GET", "/healthz", { acceptStatus: [503] });
  }

  async listEvents(query: EventQuery = {}): Promise<Event[]> {
    return (await this.request<{ events: Event[] }>("GET", "/api/events", { query: { ...query } })).events;
  }

  async listRepos(): Promise<RepoInfo[]> {
    return (await this.request<{ repos: RepoInfo[] }>("GET", "/api/repos")).repos;
  }

  async addRepo(input: { name: string; clone?: string; defaultBranch?: string }): Promise<RepoInfo> {
    return (await this.request<{ repo: RepoInfo }>("POST", "/api/repos", { body: input })).repo;
  }

  removeRepo(name: string): Promise<{ trashedTo: string }> {
    return this.request("DELETE", `/api/repos/${encodeURIComponent(name)}`);
  }

  listTasks(filter: { repo?: string; status?: string; priority?: number; ready?: boolean } = {}): Promise<{ tasks: ListedTaskInfo[]; counts: Record<string, number> }> {
    return this.request("GET", "/api/tasks", { query: { ...filter, ready: filter.ready ? "true" : undefined } });
  }

  async createTask(input: Record<string, unknown>): Promise<TaskInfo> {
    return (await this.request<{ task: TaskInfo }>("POST", "/api/tasks", { body: input })).task;
  }

  getTask(id: string): Promise<TaskDetailInfo> {
    return this.request("GET", `/api/tasks/${encodeURIComponent(id)}`);
  }

  async updateTask(id: string, changes: Record<string, unknown>): Promise<TaskInfo> {
    return (await this.request<{ task: TaskInfo }>("PATCH", `/api/tasks/${encodeURIComponent(id)}`, { body: changes })).task;
  }

  async replaceTaskMarkdown(id: string, markdown: string): Promise<TaskInfo> {
    return (await this.request<{ task: TaskInfo }>("PUT", `/api/tasks/${encodeURIComponent(id)}/markdown`, { body: { markdown } })).task;
  }

  /** Closes (as done unless a resolution is given) or reopens a task. */
  async setTaskStatus(id: string, action: "close" | "reopen", options: { resolution?: string } = {}): Promise<TaskInfo> {
    const body = action === "close" && options.resolution !== undefined ? { resolution: options.resolution } : {};
    return (await this.request<{ task: TaskInfo }>("POST", `/api/tasks/${encodeURIComponent(id)}/${action}`, { body })).task;
  }

  async exportTasks(): Promise<Array<{ id: string; markdown: string }>> {
    return (await this.request<{ tasks: Array<{ id: string; markdown: string }> }>("GET", "/api/tasks/export")).tasks;
  }

  async importTasks(files: Array<{ name: string; text: string }>): Promise<TaskInfo[]> {
    return (await this.request<{ tasks: TaskInfo[] }>("POST", "/api/tasks/import", { body: { files } })).tasks;
  }

  async listBranches(filter: { repo?: string; status?: string; task?: string } = {}): Promise<BranchInfo[]> {
    return (await this.request<{ branches: BranchInfo[] }>("GET", "/api/branches", { query: filter })).branches;
  }

  /** Creates a branch; `madeParents`: the branches made first for the task's parent tasks, nearest first (a server older than sub-tasks omits it). */
  createBranch(input: { repo: string; name?: string; task?: string; base?: string; env?: string; agent?: string; prompt?: string }): Promise<{ branch: Branch; environment: Environment | undefined; session?: AgentSession; madeParents?: Branch[] }> {
    return this.request("POST", "/api/branches", { body: input });
  }

  /** The branch's sessions, oldest first. */
  async branchSessions(ref: string, repo?: string): Promise<AgentSession[]> {
    return (await this.request<{ sessions: AgentSession[] }>("GET", `/api/branches/${refPath(ref)}`, { query: { repo } })).sessions;
  }

  /** A follow-up to the branch's latest session (a new session when it has none). */
  async promptBranch(id: string, prompt: string, agent?: string): Promise<AgentSession> {
    return (await this.request<{ session: AgentSession }>("POST", `/api/branches/${encodeURIComponent(id)}/prompt`, { body: { prompt, agent } })).session;
  }

  async interruptBranch(id: string): Promise<AgentSession> {
    return (await this.request<{ session: AgentSession }>("POST", `/api/branches/${encodeURIComponent(id)}/interrupt`, { body: {} })).session;
  }

  async getSession(id: string): Promise<AgentSession> {
    return (await this.request<{ session: AgentSession }>("GET", `/api/sessions/${encodeURIComponent(id)}`)).session;
  }

  /** A session's events after `after` (a seq), in order. */
  async sessionEvents(id: string, after = 0, limit = 1000): Promise<AgentEventInfo[]> {
    return (await this.request<{ events: AgentEventInfo[] }>("GET", `/api/sessions/${encodeURIComponent(id)}/events`, { query: { after: String(after), limit: String(limit) } })).events;
  }

  /** From inside an environment: the agent's work is done (after its commits are pushed). */
  async reportDone(where: { repo?: string; branch?: string } = {}): Promise<AgentSession | null> {
    return (await this.request<{ session: AgentSession | null }>("POST", "/api/agent/done", { body: where })).session;
  }

  /** From inside an environment: the agent needs a human. */
  async reportHelp(message: string, where: { repo?: string; branch?: string } = {}): Promise<AgentSession> {
    return (await this.request<{ session: AgentSession }>("POST", "/api/agent/help", { body: { ...where, message } })).session;
  }

  async adoptBranch(input: { repo: string; name: string; task?: string }): Promise<Branch> {
    return (await this.request<{ branch: Branch }>("POST", "/api/branches/adopt", { body: input })).branch;
  }

  /** A brn_ id, a name, or `<repo>/<name>`; `repo` settles a name two repos share. */
  async getBranch(ref: string, repo?: string): Promise<BranchDetailInfo> {
    return (await this.request<{ branch: BranchDetailInfo }>("GET", `/api/branches/${refPath(ref)}`, { query: { repo } })).branch;
  }

  async abandonBranch(id: string): Promise<Branch> {
    return (await this.request<{ branch: Branch }>("POST", `/api/branches/${encodeURIComponent(id)}/abandon`, { body: {} })).branch;
  }

  /** A branch's gates: whether it may merge (and why not), its newest runs, its merges. */
  branchGates(id: string): Promise<BranchGatesInfo> {
    return this.request("GET", `/api/branches/${encodeURIComponent(id)}/gates`);
  }

  /** Runs the branch's gates again on its head (one gate when named). */
  async rerunGates(id: string, gate?: string): Promise<GateRun> {
    return (await this.request<{ run: GateRun }>("POST", `/api/branches/${encodeURIComponent(id)}/gates`, { body: { gate } })).run;
  }

  async gateRun(id: string): Promise<{ run: GateRun; attempts: GateAttempt[] }> {
    return this.request("GET", `/api/gate-runs/${encodeURIComponent(id)}`);
  }

  /** The kept log of one attempt of one gate of a run. */
  async gateLog(runId: string, gate: string, attempt: number): Promise<string> {
    const response = await this.send(`/api/gate-runs/${encodeURIComponent(runId)}/log`, { query: { gate, attempt: String(attempt) }, accept: "text/plain" });
    if (!response.ok) throw await this.errorFrom(response);
    return response.text();
  }

  async giveVerdict(id: string, verdict: "approve" | "reject", input: { comment?: string; gate?: string }): Promise<Approval> {
    return (await this.request<{ approval: Approval }>("POST", `/api/branches/${encodeURIComponent(id)}/${verdict}`, { body: input })).approval;
  }

  /** Lands the branch (or switches auto-merge with `auto`); a refusal is a CookError naming the gate. */
  /** `GET /api/repos/:name/autopilot`. */
  async autopilotStatus(repo: string): Promise<AutopilotStatus> {
    return (await this.request<{ autopilot: AutopilotStatus }>("GET", `/api/repos/${encodeURIComponent(repo)}/autopilot`)).autopilot;
  }

  /** `POST /api/repos/:name/plans`: the plan, its planner started. */
  async startPlan(repo: string, goal: string, agent?: string): Promise<Plan> {
    return (await this.request<{ plan: Plan }>("POST", `/api/repos/${encodeURIComponent(repo)}/plans`, { body: { goal, agent } })).plan;
  }

  async getPlan(id: string): Promise<Plan> {
    return (await this.request<{ plan: Plan }>("GET", `/api/plans/${encodeURIComponent(id)}`)).plan;
  }

  /** `POST /api/plans/:id/accept`: the drafts named (all when none) become tasks. */
  acceptPlan(id: string, tasks: string[]): Promise<{ plan: Plan; tasks: TaskInfo[] }> {
    return this.request("POST", `/api/plans/${encodeURIComponent(id)}/accept`, { body: tasks.length ? { tasks } : {} });
  }

  /** `GET /api/repos/:name/conflicts`: open branches that change the same files, and whether they merge. */
  async predictConflicts(repo: string): Promise<OverlapPrediction[]> {
    return (await this.request<{ conflicts: OverlapPrediction[] }>("GET", `/api/repos/${encodeURIComponent(repo)}/conflicts`)).conflicts;
  }

  /** `GET /api/repos/:name/stages`. */
  async stages(repo: string): Promise<StageSummary[]> {
    return (await this.request<{ stages: StageSummary[] }>("GET", `/api/repos/${encodeURIComponent(repo)}/stages`)).stages;
  }

  /** `POST /api/repos/:name/stages/:stage/continue`: the stages after it. */
  async continueStage(repo: string, stage: string): Promise<StageSummary[]> {
    // An empty name would make the URL another route's (…/stages//continue), answered "no such page".
    if (stage.trim() === "") throw new CookError("invalid", "name the stage to continue past");
    return (await this.request<{ stages: StageSummary[] }>("POST", `/api/repos/${encodeURIComponent(repo)}/stages/${encodeURIComponent(stage)}/continue`, { body: {} })).stages;
  }

  /** `POST /api/repos/:name/autopilot {enabled}`: the switch; the status after it. */
  async switchAutopilot(repo: string, enabled: boolean): Promise<AutopilotStatus> {
    return (await this.request<{ autopilot: AutopilotStatus }>("POST", `/api/repos/${encodeURIComponent(repo)}/autopilot`, { body: { enabled } })).autopilot;
  }

  mergeBranch(id: string, input: { strategy?: string; auto?: boolean }): Promise<{ merge: Merge | undefined; autoMerge: boolean; waiting: string | undefined }> {
    return this.request("POST", `/api/branches/${encodeURIComponent(id)}/merge`, { body: input });
  }

  /** The merges under way in a repo, oldest first. */
  async mergeQueue(repo: string): Promise<Merge[]> {
    return (await this.request<{ queue: Merge[] }>("GET", `/api/repos/${encodeURIComponent(repo)}/merges`)).queue;
  }

  async collectGarbage(remove: boolean): Promise<Array<{ path: string; repo: string }>> {
    return (await this.request<{ orphans: Array<{ path: string; repo: string }> }>("POST", "/api/branches/gc", { body: { remove } })).orphans;
  }

  /**
   * Runs argv in a branch's environment, handing its output over as it comes; resolves with the
   * exit code. Refusals (no environment…) throw CookError before any output.
   */
  async execInBranch(id: string, argv: string[], output: { stdout(chunk: Buffer): void; stderr(chunk: Buffer): void }, signal?: AbortSignal): Promise<number> {
    const response = await this.send(`/api/branches/${encodeURIComponent(id)}/exec`, { method: "POST", body: { argv }, accept: "application/x-ndjson", signal });
    if (!response.ok) throw await this.errorFrom(response);
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const frame = JSON.parse(buffered.slice(0, newline)) as { stdout?: string; stderr?: string; exit?: number; error?: string };
        buffered = buffered.slice(newline + 1);
        if (frame.stdout !== undefined) output.stdout(Buffer.from(frame.stdout, "base64"));
        if (frame.stderr !== undefined) output.stderr(Buffer.from(frame.stderr, "base64"));
        if (frame.error !== undefined) throw new CookError("internal", frame.error);
        if (frame.exit !== undefined) return frame.exit;
      }
    }
    throw new CookError("unavailable", "the server ended the command's output without its exit code");
  }

  /** Opens an interactive shell in a branch's environment (client/terminal-client.ts); refusals throw CookError. */
  async attachTerminal(ref: string, options: TerminalOptions = {}): Promise<TerminalConnection> {
    // Loaded here: the WebSocket library is otherwise part of every command's start-up.
    const { openTerminal } = await import("./terminal-client.js");
    return openTerminal(this.config, ref, options, (cause) => new UnreachableError(this.config.serverUrl, { cause }));
  }

  async listTokens(): Promise<TokenInfo[]> {
    return (await this.request<{ tokens: TokenInfo[] }>("GET", "/api/tokens")).tokens;
  }

  createToken(input: { scope: string; name?: string }): Promise<{ token: TokenInfo; secret: string }> {
    return this.request("POST", "/api/tokens", { body: input });
  }

  async revokeToken(id: number): Promise<TokenInfo> {
    return (await this.request<{ token: TokenInfo }>("DELETE", `/api/tokens/${id}`)).token;
  }

  async announceEvent(input: CustomEventInput): Promise<Event> {
    return (await this.request<{ event: Event }>("POST", "/api/events", { body: input })).event;
  }

  /**
   * Calls `onEvent` for each event after `after` until `signal` aborts. A dropped connection is
   * resumed from the last event seen, so no event is skipped or repeated.
   */
  async followEvents(query: { subject?: string; after?: number }, onEvent: (event: Event) => void, signal: AbortSignal): Promise<void> {
    let lastId = query.after;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const response = await this.send("/api/events/stream", { query: { subject: query.subject, after: lastId }, accept: "text/event-stream", signal });
        if (!response.ok) throw await this.errorFrom(response);
        failures = 0;
        for await (const frame of readSse(response.body)) {
          if (frame.event !== "cook-event") continue;
          const event = JSON.parse(frame.data) as Event;
          lastId = event.id;
          onEvent(event);
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof CookError && !(err instanceof UnreachableError)) throw err;
        // Give up only if the server stays away; a restart of `cook serve` is waited out.
        if (++failures > 30) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  private async request<T>(method: string, path: string, options: { query?: QueryParams; body?: unknown; acceptStatus?: number[] } = {}): Promise<T> {
    const response = await this.send(path, { method, query: options.query, body: options.body });
    if (!response.ok && !options.acceptStatus?.includes(response.status)) throw await this.errorFrom(response);
    return (await response.json()) as T;
  }

  private async send(
    path: string,
    options: { method?: string; query?: QueryParams; body?: unknown; accept?: string; signal?: AbortSignal },
  ): Promise<HttpResponse> {
    // Every path part comes from a name or id the user gave: an empty one would name another route (`/api/tasks/` is the list).
    if (/\/\/|\/$/.test(path)) throw new CookError("invalid", "a name or id given is empty");
    const url = new URL(this.config.serverUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { Accept: options.accept ?? "application/json" };
    if (this.config.token) headers.Authorization = `Bearer ${this.config.token}`;
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await sendRequest(url, {
        method: options.method ?? "GET",
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw new UnreachableError(this.config.serverUrl, { cause: err });
    }
  }

  private async errorFrom(response: HttpResponse): Promise<CookError> {
    const text = await response.text().catch(() => "");
    try {
      const { error } = JSON.parse(text) as { error: { code: ErrorCode; message: string } };
      if (error && typeof error.message === "string") return new CookError(error.code, error.message);
    } catch {
      // Not our JSON: a proxy or something else answered.
    }
    return new CookError(errorCodeOfStatus(response.status), `server answered ${response.status} ${response.statusText}`.trim());
  }
}
