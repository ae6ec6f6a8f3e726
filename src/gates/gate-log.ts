import { StringDecoder } from "node:string_decoder";
import { appendAttemptLog } from "../db/gate-run-store.js";
import type { GateDeps } from "./deps.js";
import { appendGateEvent, type GateEventScope } from "./gate-events.js";

/** Output kept per attempt (bytes); what comes after is counted, not kept. */
export const maxKeptLogBytes = 4 * 1024 * 1024;
/** How often output is stored and announced while a gate runs (ms). */
const flushEveryMs = 100;
/** The lines of a failed gate's log handed to the agent. */
export const tailLines = 200;
const tailChars = 64 * 1024;

/** An attempt's log being written: `write` as output comes, `close` once at the end. */
export interface AttemptLog {
  write(chunk: Buffer): void;
  /** Stores what is still pending; resolves once every flush is stored. */
  close(): Promise<void>;
  /** The last tailLines lines seen. */
  tail(): string;
}

/**
 * Collects an attempt's output and stores it (gate_attempts.log, up to maxKeptLogBytes) and
 * announces it (`cook.gate.<repo>.<branch>.<gate>.output`) every flushEveryMs, in order, one flush
 * at a time. A store that fails is logged, never thrown.
 */
export function createAttemptLog(deps: GateDeps, scope: GateEventScope, attempt: number): AttemptLog {
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
      // PostgreSQL text cannot hold NUL: shown as U+FFFD, as invalid UTF-8 already is.
      const text = decoder.write(chunk).replace(/\0/g, "\uFFFD");
      pending += text;
      pendingBytes += chunk.length;
      tail = (tail + text).slice(-tailChars);
      if (pending.length > 256 * 1024) flush();
      else timer ??= setTimeout(flush, flushEveryMs);
    },
    async close() {
      const rest = decoder.end().replace(/\0/g, "\uFFFD");
      pending += rest;
      tail += rest;
      if (timer) clearTimeout(timer);
      flush();
      await chain;
    },
    tail: () => tail.split("\n").slice(-tailLines - 1).join("\n"),
  };
}
