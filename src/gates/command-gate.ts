import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { BackendName, Branch, Environment } from "../core/branch.js";
import { formatDuration } from "../core/format.js";
import type { GateDefinition } from "../core/gate.js";
import { appendAttemptLog, finishAttempt, insertAttempt } from "../db/gate-run-store.js";
import { privateRoot } from "../environments/backend.js";
import { backendFor } from "../environments/backends.js";
import { runCommand } from "../environments/run-command.js";
import { repoDir } from "../forge/paths.js";
import { runGit } from "../git/run-git.js";
import type { GateDeps } from "./deps.js";
import { appendGateEvent } from "./gate-events.js";

/** Output kept per attempt (bytes); what comes after is counted, not kept. */
export const maxKeptLogBytes = 4 * 1024 * 1024;
/** How often output is stored and announced while a gate runs (ms). */
const flushEveryMs = 100;
/** The lines of a failed gate's log handed to the agent. */
export const tailLines = 200;
const tailChars = 64 * 1024;

/** One command gate of one run. */
export interface CommandGateJob {
  runId: string;
  branch: Branch;
  gate: GateDefinition;
  /** The exact commit checked out. */
  head: string;
  targetCommit: string;
  backend: Exclude<BackendName, "none">;
  network: boolean;
  /** Aborted when the run is canceled (a newer push, a shutdown). */
  signal: AbortSignal;
}

export interface CommandGateOutcome {
  state: "passed" | "failed" | "canceled";
  exitCode: number | undefined;
  attempts: number;
  /** One line: what happened. */
  summary: string;
  /** The last lines of the final attempt's output. */
  tail: string;
}

/** Where gate checkouts live; removed wholesale at start-up (nothing there outlives its attempt). */
export const gateCheckoutsDir = (dataDir: string) => join(dataDir, "gate-checkouts");

/**
 * Runs a command gate: each attempt in a fresh checkout of exactly `head` (never the agent's
 * working checkout), through the branch's backend (under bubblewrap for `sandbox`), with stdin
 * closed and `COOK_*` variables, killed with its whole process tree at the gate's timeout or when
 * `signal` aborts. Exit 0 passes; an exit code the gate declares flaky is retried, up to its limit,
 * as a new attempt. Every attempt is recorded (gate_attempts) with its exit code, duration and log,
 * and output is announced as `cook.gate.<repo>.<branch>.<gate>.output` every 100 ms.
 */
export async function runCommandGate(deps: GateDeps, job: CommandGateJob): Promise<CommandGateOutcome> {
  const { gate } = job;
  for (let attempt = 1; ; attempt++) {
    const result = await runAttempt(deps, job, attempt);
    const retry = result.state === "failed" && result.exitCode !== undefined && !result.timedOut && gate.retries.exitCodes.includes(result.exitCode) && attempt <= gate.retries.limit;
    if (!retry) return { state: result.state, exitCode: result.exitCode, attempts: attempt, summary: summaryOf(gate, result, attempt), tail: result.tail };
  }
}

interface AttemptResult {
  state: "passed" | "failed" | "canceled";
  exitCode: number | undefined;
  timedOut: boolean;
  /** Why it could not run at all (the checkout failed). */
  error: string | undefined;
  durationMs: number;
  tail: string;
}

function summaryOf(gate: GateDefinition, result: AttemptResult, attempts: number): string {
  const tries = attempts > 1 ? ` (attempt ${attempts})` : "";
  if (result.state === "canceled") return "canceled";
  if (result.error) return result.error;
  if (result.timedOut) return `timed out after ${formatDuration(gate.timeoutMs)} and was killed${tries}`;
  if (result.state === "passed") return `passed in ${formatDuration(result.durationMs)}${tries}`;
  const lastLine = result.tail.trimEnd().split("\n").at(-1)?.trim() ?? "";
  if (result.exitCode === 127) return `command not found: ${lastLine || gate.command}${tries}`;
  return `exited with code ${result.exitCode}${tries}${lastLine ? `: ${lastLine.slice(0, 200)}` : ""}`;
}

async function runAttempt(deps: GateDeps, job: CommandGateJob, attempt: number): Promise<AttemptResult> {
  const { branch, gate, runId } = job;
  const scope = { repo: branch.repo, branch: branch.name, runId, gate: gate.name };
  const started = Date.now();
  await deps.db.transaction(async (tx) => {
    await insertAttempt(tx, runId, gate.name, attempt);
    await appendGateEvent(deps, tx, scope, "started", { attempt, head: job.head, kind: gate.kind });
  });
  const checkout = join(gateCheckoutsDir(deps.dataDir), `${runId}-${gate.name}-${attempt}`);
  const log = createLogWriter(deps, scope, attempt);
  const abort = new AbortController();
  const stop = () => abort.abort();
  job.signal.addEventListener("abort", stop, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, gate.timeoutMs);
  let exitCode: number | undefined;
  let error: string | undefined;
  try {
    await makeGateCheckout(repoDir(deps.dataDir, branch.repo), checkout, job.head);
    if (!abort.signal.aborted) {
      const environment = gateEnvironment(job, checkout);
      const backend = backendFor(job.backend);
      for (const folder of backend.privateFolders(environment)) mkdirSync(folder, { recursive: true });
      const spec = backend.wrap(
        { environment, repo: branch.repo, branch: branch.name, serverUrl: deps.factory.url(), token: "", dataDir: deps.dataDir },
        ["sh", "-c", gate.command!],
        { env: { CI: "true", COOK_GATE: gate.name, COOK_RUN_ID: runId, COOK_COMMIT: job.head, COOK_TARGET_COMMIT: job.targetCommit } },
      );
      exitCode = await runCommand(spec, { stdout: log.write, stderr: log.write }, abort.signal);
    }
  } catch (err) {
    error = `could not run: ${(err as Error).message.split("\n")[0]}`;
  } finally {
    clearTimeout(timer);
    job.signal.removeEventListener("abort", stop);
    rmSync(checkout, { recursive: true, force: true, maxRetries: 3 });
    rmSync(`${checkout}.cook`, { recursive: true, force: true, maxRetries: 3 });
  }
  await log.close();
  const canceled = job.signal.aborted && !timedOut;
  const state = canceled ? "canceled" : exitCode === 0 && !timedOut ? "passed" : "failed";
  const durationMs = Date.now() - started;
  // A shutdown is not a cancellation: the attempt is interrupted, and the run starts again with the server.
  const recorded = state === "canceled" && job.signal.reason === "shutdown" ? "interrupted" : state;
  await finishAttempt(deps.db, runId, gate.name, attempt, { state: recorded, exitCode, durationMs });
  return { state, exitCode, timedOut, error, durationMs, tail: log.tail() };
}

/**
 * A checkout of exactly `sha` that shares the bare repo's objects (clone --shared, no copy of
 * history), detached: nothing of it is pushed anywhere. Throws GitCommandError when git fails.
 */
async function makeGateCheckout(bareDir: string, path: string, sha: string): Promise<void> {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(join(path, ".."), { recursive: true });
  await runGit(["-c", "protocol.file.allow=always", "clone", "--quiet", "--shared", "--no-checkout", "--", bareDir, path]);
  await runGit(["-C", path, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha]);
}

/**
 * The environment a gate's command runs in, for the backend to wrap: the gate's own checkout, no
 * token (a gate judges, it does not push), no databases, and PORT=0 (a server started by a test
 * picks a free port).
 */
function gateEnvironment(job: CommandGateJob, checkout: string): Environment {
  const now = new Date().toISOString();
  return {
    id: job.runId,
    branchId: job.branch.id,
    backend: job.backend,
    path: checkout,
    state: "ready",
    portBase: 0,
    portCount: 0,
    databases: [],
    network: job.network,
    setupCommand: undefined,
    error: undefined,
    createdAt: now,
    updatedAt: now,
    tornDownAt: undefined,
  };
}

/** Collects an attempt's output and stores and announces it every flushEveryMs, in order, one flush at a time. */
function createLogWriter(deps: GateDeps, scope: { repo: string; branch: string; runId: string; gate: string }, attempt: number) {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  let pendingBytes = 0;
  let keptBytes = 0;
  let capped = false;
  let tail = "";
  let timer: NodeJS.Timeout | undefined;
  let chain = Promise.resolve();

  const flush = () => {
    timer = undefined;
    if (pendingBytes === 0) return;
    const text = pending;
    const seen = pendingBytes;
    pending = "";
    pendingBytes = 0;
    let kept = text;
    if (!capped && keptBytes + Buffer.byteLength(text) > maxKeptLogBytes) {
      capped = true;
      kept = `${text.slice(0, Math.max(0, maxKeptLogBytes - keptBytes))}\n[cook: output beyond ${maxKeptLogBytes / 1024 / 1024} MiB is not kept]\n`;
    } else if (capped) kept = "";
    // Where the text starts in the kept log (UTF-8 bytes): a page that read the log while this was
    // in flight can tell a chunk it already shows from one it lacks.
    const offset = keptBytes;
    keptBytes += Buffer.byteLength(kept);
    chain = chain
      .then(() =>
        deps.db.transaction(async (tx) => {
          await appendAttemptLog(tx, scope.runId, scope.gate, attempt, kept, seen);
          if (kept !== "") await appendGateEvent(deps, tx, scope, "output", { attempt, offset, text: kept });
        }),
      )
      .catch((err: Error) => deps.log.warn({ run: scope.runId, gate: scope.gate, err: err.message }, "gate output could not be stored"));
  };

  return {
    write(chunk: Buffer) {
      const text = decoder.write(chunk);
      pending += text;
      pendingBytes += chunk.length;
      tail = (tail + text).slice(-tailChars);
      if (pending.length > 256 * 1024) flush();
      else timer ??= setTimeout(flush, flushEveryMs);
    },
    async close() {
      const rest = decoder.end();
      pending += rest;
      tail += rest;
      if (timer) clearTimeout(timer);
      flush();
      await chain;
    },
    tail: () => tail.split("\n").slice(-tailLines - 1).join("\n"),
  };
}
