import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BackendName, Branch } from "../core/branch.js";
import { formatDuration } from "../core/format.js";
import type { GateDefinition } from "../core/gate.js";
import { finishAttempt, insertAttempt } from "../db/gate-run-store.js";
import { backendFor } from "../environments/backends.js";
import { runCommand } from "../environments/run-command.js";
import { repoDir } from "../forge/paths.js";
import type { GateDeps } from "./deps.js";
import { failpoint } from "../core/failpoints.js";
import { appendGateEvent } from "./gate-events.js";
import { gateCheckoutsDir, gateEnvironment, makeGateCheckout, removeGateCheckout } from "./gate-checkout.js";
import { createAttemptLog } from "./gate-log.js";

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
  const environment = gateEnvironment({ runId, branchId: branch.id, backend: job.backend, network: job.network }, checkout);
  const log = createAttemptLog(deps, scope, attempt);
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
      const backend = backendFor(job.backend);
      for (const folder of backend.privateFolders(environment)) mkdirSync(folder, { recursive: true });
      const spec = backend.wrap(
        { environment, repo: branch.repo, branch: branch.name, serverUrl: deps.factory.url(), token: "", dataDir: deps.dataDir },
        ["sh", "-c", gate.command!],
        { env: { CI: "true", COOK_GATE: gate.name, COOK_RUN_ID: runId, COOK_COMMIT: job.head, COOK_TARGET_COMMIT: job.targetCommit } },
      );
      const finished = runCommand(spec, { stdout: log.write, stderr: log.write }, abort.signal);
      failpoint("gate:attempt-started");
      exitCode = await finished;
    }
  } catch (err) {
    error = `could not run: ${(err as Error).message.split("\n")[0]}`;
  } finally {
    clearTimeout(timer);
    job.signal.removeEventListener("abort", stop);
    removeGateCheckout(environment);
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
