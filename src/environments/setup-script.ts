import type { Branch, Environment } from "../core/branch.js";
import { appendSetupLog } from "../db/environment-store.js";
import { processIn } from "./context.js";
import type { EnvironmentDeps } from "./deps.js";
import { appendEnvironmentEvent, moveEnvironment } from "./environment-events.js";
import { runCommand } from "./run-command.js";

// Output is written to the log and announced in batches: a script printing a line per file must
// not make an event (and a transaction) per line.
const flushEveryMs = 250;
const flushAtChars = 16 * 1024;

/**
 * Runs cook.toml's `setup` with `sh -c` in the environment (sandboxed when it is one). Its output
 * goes to the environment's setup log and out as `cook.environment.<repo>.<branch>.output`
 * events; exit 0 makes the environment `ready`, anything else `failed` with the log kept.
 */
export async function runSetup(deps: EnvironmentDeps, branch: Branch, environment: Environment, script: string): Promise<Environment> {
  const abort = new AbortController();
  const running = deps.running.get(environment.id) ?? new Set();
  running.add(abort);
  deps.running.set(environment.id, running);
  let pending = "";
  let writing = Promise.resolve();
  const flush = () => {
    if (pending === "") return;
    const text = pending;
    pending = "";
    // The text and its event in one transaction: a page that shows the log and then follows the
    // events sees each piece once, not in the log and again as an event.
    writing = writing.then(() =>
      deps.db.transaction(async (tx) => {
        await appendSetupLog(tx, environment.id, text);
        await appendEnvironmentEvent(deps, tx, branch, "output", { id: environment.id, text });
      }),
    );
  };
  const timer = setInterval(flush, flushEveryMs);
  const decoder = new TextDecoder();
  const take = (chunk: Buffer) => {
    pending += decoder.decode(chunk, { stream: true });
    if (pending.length >= flushAtChars) flush();
  };
  try {
    await appendSetupLog(deps.db, environment.id, `$ ${script}\n`);
    const code = await runCommand(processIn(deps, branch, environment, ["sh", "-c", script]), { stdout: take, stderr: take }, abort.signal);
    clearInterval(timer);
    flush();
    await writing;
    if (abort.signal.aborted) return environment;
    if (code === 0) return await moveEnvironment(deps, branch, environment, "ready");
    await appendSetupLog(deps.db, environment.id, `setup exited with ${code}\n`);
    return await moveEnvironment(deps, branch, environment, "failed", `setup exited with ${code}`);
  } catch (err) {
    clearInterval(timer);
    await writing.catch(() => {});
    const reason = `setup could not run: ${(err as Error).message}`;
    deps.log.warn({ env: environment.id, err: (err as Error).message }, "setup failed to run");
    await appendSetupLog(deps.db, environment.id, `${reason}\n`).catch(() => {});
    return moveEnvironment(deps, branch, environment, "failed", reason);
  } finally {
    running.delete(abort);
  }
}
