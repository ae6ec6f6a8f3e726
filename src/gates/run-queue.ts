import type { GateDeps } from "./deps.js";
import { executeRun } from "./execute-run.js";

/**
 * Puts a recorded run in line for a slot and starts as many as `[gates] concurrency` allows.
 * A run that waits on a human gives its slot back (execute-run.ts) and is put in line again when
 * the verdict comes.
 */
export function enqueueRun(deps: GateDeps, runId: string): void {
  const runtime = deps.gateRuntime;
  if (runtime.closing || runtime.queue.includes(runId) || runtime.active.has(runId)) return;
  runtime.queue.push(runId);
  pump(deps);
}

function pump(deps: GateDeps): void {
  const runtime = deps.gateRuntime;
  while (!runtime.closing && runtime.active.size < deps.gateSettings.concurrency && runtime.queue.length > 0) {
    const runId = runtime.queue.shift()!;
    const abort = new AbortController();
    runtime.active.set(runId, abort);
    executeRun(deps, runId, abort.signal)
      .catch((err: Error) => deps.log.error({ run: runId, err: err.message }, "gate run failed unexpectedly"))
      .finally(() => {
        runtime.active.delete(runId);
        pump(deps);
      });
  }
}

/** Stops every run executing now (their processes are killed); at start-up they are found `running` and started again. */
export async function stopAllGateRuns(deps: GateDeps): Promise<void> {
  const runtime = deps.gateRuntime;
  runtime.closing = true;
  runtime.queue.length = 0;
  for (const abort of runtime.active.values()) abort.abort("shutdown");
  const deadline = Date.now() + 5000;
  while (runtime.active.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
