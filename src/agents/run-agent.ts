import type { AgentEvent, UsageEvent } from "../core/agent-event.js";
import type { AgentSession } from "../core/agent-session.js";
import type { Branch, Environment } from "../core/branch.js";
import { lastAgentEventSeq } from "../db/agent-event-store.js";
import { contextOf, processIn } from "../environments/context.js";
import { runCommand } from "../environments/run-command.js";
import { adapterFor } from "./adapters/index.js";
import type { AgentDeps, LiveRun, RunStop } from "./deps.js";
import { agentInstruction } from "./instruction.js";
import { LineSplitter } from "./line-splitter.js";
import { parserFor } from "./parsers/index.js";
import { priceOf } from "./prices.js";
import { maskSecrets, secretValues } from "./secrets.js";
import { killSessionProcesses } from "./session-processes.js";
import { agentEventOf } from "./session-events.js";
import { checkLogin, checkProgram, prepareStateDir, programFolders, sessionStateDir, sessionTmpDir } from "./state-dir.js";
import { createWatchdogs } from "./watchdogs.js";

/** One run to start: a session's first prompt, or a follow-up that resumes it. */
export interface RunRequest {
  branch: Branch;
  environment: Environment;
  /** The session, already `running` with this run counted. */
  session: AgentSession;
  prompt: string;
  /** The native session to resume; undefined for the first run. */
  resumeId: string | undefined;
  /** Whether TASK.md is there (the instruction mentions it). */
  hasTask: boolean;
}

/** What a run left behind, for finish-run.ts to decide the session's next state. */
export interface RunResult {
  exitCode: number | undefined;
  /** Why the process could not start at all. */
  startError: string | undefined;
  stop: RunStop | undefined;
  /** The CLI said its run failed (a result with is_error). */
  reportedError: boolean;
  /** The last error the CLI reported, or its last stderr line. */
  lastError: string | undefined;
}

// Stored and announced in batches: the lines that came while the run's last batch was being stored
// go together in the next, and the shared writer (event-writer.ts) commits the batches of all
// running agents together; a line never waits for more than one commit before its own.
const flushAtEvents = 200;
/** Events of a run kept as text are bounded: a line of 100 MB becomes a raw event of this size. */
export const maxEventTextBytes = 64 * 1024;

/**
 * Starts a run of the session's agent in the branch's environment (through its backend, so inside
 * the sandbox when it is one) with stdin closed, and returns it as a LiveRun whose `finished`
 * resolves once the process has ended and every event is stored; `onEnd` gets the result first.
 * stdout is parsed into AgentEvents by the kind's parser; stderr is kept as raw stderr lines; both
 * are masked of secrets first. Throws unavailable before anything starts when the program is
 * missing or not executable, or the agent has no login.
 */
export function startRun(deps: AgentDeps, request: RunRequest, onEnd: (result: RunResult) => Promise<void>): LiveRun {
  const { branch, environment, session } = request;
  const config = deps.agentSettings.agents[session.agent];
  if (!config) throw new Error(`agent '${session.agent}' is not configured`);
  const adapter = adapterFor(config.kind);
  const stateDir = sessionStateDir(environment, session.id);
  checkLogin(adapter, config);
  prepareStateDir(stateDir, adapter, config);
  const argv = adapter.argv({
    command: config.command,
    args: config.args,
    model: config.model,
    prompt: request.prompt,
    instruction: request.resumeId === undefined ? agentInstruction(branch.repo, branch.name, request.hasTask) : undefined,
    resumeId: request.resumeId,
    stateDir,
  });
  // What the user configured wins over the adapter's defaults.
  const env = { ...adapter.env(stateDir), TMPDIR: sessionTmpDir(stateDir), ...config.env, COOK_SESSION_ID: session.id, COOK_PROMPT: request.prompt, COOK_RESUME: session.runs > 1 ? "1" : "" };
  const path = processIn(deps, branch, environment, ["true"], { env }).env.PATH ?? "";
  // A command agent's program is the first word of its command line, when that is a path.
  const program = adapter.kind === "command" ? (/^\/\S+/.exec(config.command)?.[0] ?? undefined) : checkProgram(config, argv[0]!, path);
  const spec = processIn(deps, branch, environment, argv, { env, readOnly: program ? programFolders(program) : [] });
  const secrets = secretValues(config, adapter, [contextOf(deps, branch, environment).token]);

  deps.log.info({ session: session.id, run: session.runs, agent: config.name, program: argv[0], resume: request.resumeId ?? null }, "agent run starting");
  const abort = new AbortController();
  const live: LiveRun = { sessionId: session.id, startedAt: Date.now(), abort, stop: undefined, finished: Promise.resolve(), timers: new Set() };
  // Codex reports running totals of its thread; a resumed thread's first total includes the earlier runs.
  const u = session.usage;
  const parser = parserFor(config.kind, request.resumeId ? { threadTotals: { inputTokens: u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens, cachedInputTokens: u.cacheReadTokens, cacheWriteInputTokens: u.cacheWriteTokens, outputTokens: u.outputTokens } } : {});
  const result: RunResult = { exitCode: undefined, startError: undefined, stop: undefined, reportedError: false, lastError: undefined };
  const price = priceOf(deps.agentSettings.prices, config.model);
  let pending: AgentEvent[] = [{ kind: "user_prompt", text: request.prompt }];
  let writing: Promise<void> = Promise.resolve();
  let nextSeq: number | undefined;
  let runCost = 0;
  let runCostReported = false;
  let nativeId: string | undefined;

  const stopRun = (stop: RunStop) => {
    if (live.stop) return;
    live.stop = stop;
    abort.abort();
  };
  const watchdogs = createWatchdogs(deps.agentSettings.budgets, live, stopRun);

  const take = (event: AgentEvent) => {
    watchdogs.saw(event);
    if (event.kind === "session_started") {
      if (request.resumeId !== undefined && event.nativeId !== request.resumeId && adapter.resumable) {
        stopRun({ by: "resume_mismatch", reason: `asked to resume session ${request.resumeId}, the CLI started ${event.nativeId} instead` });
      } else if (nativeId === undefined) {
        nativeId = event.nativeId;
      }
    }
    if (event.kind === "error") {
      result.lastError = event.message;
      if (event.rateLimited) {
        // A CLI may say "rate limited" first and when it resets in a later line.
        if (live.stop?.by === "rate_limit" && !live.stop.retryAt && event.retryAt) live.stop = { ...live.stop, retryAt: event.retryAt };
        stopRun({ by: "rate_limit", reason: event.message, retryAt: event.retryAt });
      }
    }
    if (event.kind === "turn_completed" && event.isError) {
      result.reportedError = true;
      if (event.result) result.lastError = event.result;
    }
    pending.push(event);
    if (pending.length >= flushAtEvents) flush();
    else scheduleFlush();
  };

  // The lines of one chunk of output go together: the flush runs once the chunk is read.
  let flushScheduled = false;
  const scheduleFlush = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      flush();
    });
  };
  // One batch of a run is being stored at a time; what arrives meanwhile goes into the next one
  // whole, so a slow commit makes batches bigger, never a queue of them.
  let storing = false;
  const flush = () => {
    if (pending.length === 0 || storing) return;
    const batch = pending;
    pending = [];
    storing = true;
    writing = store(batch)
      .catch((err: Error) => deps.log.warn({ session: session.id, err: err.message }, "could not store agent events"))
      .finally(() => {
        storing = false;
        flush();
      });
  };
  const flushed = async () => {
    flush();
    while (storing || pending.length > 0) {
      await writing;
      flush();
    }
  };

  const store = async (batch: AgentEvent[]) => {
    nextSeq ??= (await lastAgentEventSeq(deps.db, session.id)) + 1;
    const first = nextSeq;
    nextSeq += batch.length;
    const usage = batch.filter((event): event is UsageEvent => event.kind === "usage");
    const completed = batch.find((event) => event.kind === "turn_completed" && event.totalCostUsd !== undefined);
    const tokens = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0 };
    let source: "reported" | "price_table" | undefined;
    for (const event of usage) {
      tokens.inputTokens += event.inputTokens;
      tokens.outputTokens += event.outputTokens;
      tokens.cacheReadTokens += event.cacheReadTokens ?? 0;
      tokens.cacheWriteTokens += event.cacheWriteTokens ?? 0;
      if (event.costUsd !== undefined) {
        tokens.costUsd += event.costUsd;
        source = "reported";
        runCostReported = true;
      } else if (price && !runCostReported) {
        tokens.costUsd += price(event);
        source ??= "price_table";
      }
    }
    // A CLI that reports the run's total cost (Claude's result line) is believed over any estimate.
    if (completed?.kind === "turn_completed" && completed.totalCostUsd !== undefined) {
      tokens.costUsd += completed.totalCostUsd - (runCost + tokens.costUsd);
      source = "reported";
      runCostReported = true;
    }
    runCost += tokens.costUsd;
    const named = nativeId !== undefined && session.nativeId !== nativeId ? nativeId : undefined;
    await deps.agentWriter.write({
      sessionId: session.id,
      run: session.runs,
      firstSeq: first,
      events: batch,
      usage: usage.length > 0 || source ? { added: tokens, turns: usage.length, costSource: source } : undefined,
      nativeId: named,
      announcement: agentEventOf(branch, session, "output", { run: session.runs, events: batch.map((event, i) => ({ seq: first + i, run: session.runs, ...event })) }),
    });
    if (named) session.nativeId = named;
    if (usage.length > 0 || source) await watchdogs.checkTaskBudgets(deps, branch);
  };

  const stdoutLines = new LineSplitter((text, truncated) => {
    const masked = maskSecrets(text, secrets);
    if (truncated) {
      take({ kind: "raw", stream: "stdout", text: `${cut(masked)} … [line cut at ${maxEventTextBytes} bytes]` });
      return;
    }
    for (const event of parser.line(masked)) take(bounded(event));
  });
  let lastStderr: string | undefined;
  const stderrLines = new LineSplitter((text, truncated) => {
    if (text.trim() === "") return;
    const masked = cut(maskSecrets(text, secrets));
    lastStderr = masked;
    take({ kind: "raw", stream: "stderr", text: truncated ? `${masked} … [line cut]` : masked });
  });

  const running = deps.running.get(environment.id) ?? new Set();
  running.add(abort);
  deps.running.set(environment.id, running);
  deps.liveRuns.set(session.id, live);
  scheduleFlush();

  live.finished = (async () => {
    try {
      result.exitCode = await runCommand(spec, { stdout: (chunk) => stdoutLines.push(chunk), stderr: (chunk) => stderrLines.push(chunk) }, abort.signal);
    } catch (err) {
      result.startError = (err as Error).message;
    }
    stdoutLines.end();
    stderrLines.end();
    for (const event of parser.end()) take(bounded(event));
    watchdogs.close();
    await flushed();
    result.stop = live.stop;
    // What left the run's process group (its own session, a daemon) goes with the run too.
    killSessionProcesses(session.id);
    result.lastError ??= lastStderr;
    running.delete(abort);
    deps.liveRuns.delete(session.id);
    try {
      await onEnd(result);
    } catch (err) {
      deps.log.error({ session: session.id, err: (err as Error).message }, "could not finish an agent run");
    }
  })();
  return live;
}

const encoder = new TextEncoder();

function cut(text: string): string {
  if (text.length * 3 <= maxEventTextBytes) return text;
  const bytes = encoder.encode(text);
  if (bytes.length <= maxEventTextBytes) return text;
  return new TextDecoder().decode(bytes.subarray(0, maxEventTextBytes)).replace(/\uFFFD$/, "");
}

/** Raw events keep at most maxEventTextBytes of text; the JSON they held goes if it is bigger. */
function bounded(event: AgentEvent): AgentEvent {
  if (event.kind !== "raw") return event;
  const text = cut(event.text);
  if (text === event.text) return event;
  return { kind: "raw", stream: event.stream, text: `${text} … [cut at ${maxEventTextBytes} bytes]` };
}
