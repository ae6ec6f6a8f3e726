import { liveMergeStates, type GateAttempt, type GateResult, type GateRun, type Merge } from "../../../core/gate.js";
import type { LogTail } from "../../../db/gate-run-store.js";

/**
 * How much of an attempt's log a page shows: its end, this many characters (the store keeps up to
 * 4 MiB). The whole log is a link away, as text.
 */
export const gateLogChars = 64 * 1024;

/** An attempt's log as the page shows it: the end of it, and where live output continues. */
export interface LogView {
  /** `<run>/<gate>/<attempt>`: live output names the log it belongs to by this. */
  key: string;
  text: string;
  /** UTF-8 bytes of the whole kept log: live output that starts before this is on the page already. */
  bytes: number;
  cut: boolean;
  /** The whole kept log, as plain text (the API). */
  rawHref: string;
}

export interface AttemptView extends GateAttempt {
  log: LogView;
  /** Shown opened: it runs, or it is the attempt that failed the gate. */
  open: boolean;
}

export interface GateView extends GateResult {
  attempts: AttemptView[];
}

/** A run of the branch page: its gates in order, each with its attempts and their logs. */
export interface RunView extends Omit<GateRun, "results"> {
  gates: GateView[];
  /** The branch page showing this run. */
  href: string;
}

/** A run in a list: its state, and the one line that says why it stands there. */
export interface RunBadge {
  id: string;
  state: GateRun["state"];
  label: string;
  /** Which gate decided, and what it said; or the run's own error. */
  detail: string | undefined;
}

const runLabels: Record<GateRun["state"], string> = {
  queued: "gates queued",
  running: "gates running",
  waiting: "waiting for approval",
  passed: "gates passed",
  failed: "gates failed",
  canceled: "gates canceled",
  interrupted: "gates interrupted",
};

/** A run's state for lists (the dashboard, the home page): a label and the gate that decided it. */
export function presentRunBadge(run: GateRun): RunBadge {
  // Gates run in order and stop at a failure: the first that has not passed is where the run stands.
  const deciding = run.state === "passed" ? undefined : run.results.find((r) => r.state !== "passed");
  const detail = run.error ?? (deciding && `${deciding.gate}: ${deciding.summary ?? deciding.state.replace("_", " ")}`);
  return { id: run.id, state: run.state, label: runLabels[run.state], detail };
}

/** A run with its attempts and log tails, for the branch page. */
export function presentRun(run: GateRun, attempts: GateAttempt[], tails: LogTail[], href: string): RunView {
  const tailOf = new Map(tails.map((tail) => [`${tail.gate}/${tail.attempt}`, tail]));
  const { results, ...rest } = run;
  return {
    ...rest,
    href,
    gates: results.map((result) => {
      const own = attempts.filter((a) => a.gate === result.gate);
      return {
        ...result,
        attempts: own.map((attempt, i) => {
          const tail = tailOf.get(`${attempt.gate}/${attempt.attempt}`);
          const key = `${run.id}/${attempt.gate}/${attempt.attempt}`;
          const query = new URLSearchParams({ gate: attempt.gate, attempt: String(attempt.attempt) });
          return {
            ...attempt,
            open: attempt.state === "running" || (result.state === "failed" && i === own.length - 1),
            log: { key, text: tail?.text ?? "", bytes: tail?.bytes ?? 0, cut: tail?.cut ?? false, rawHref: `/api/gate-runs/${run.id}/log?${query}` },
          };
        }),
      };
    }),
  };
}

/** A merge with short commits, for lists. */
export function presentMerge(merge: Merge, branch?: { name: string; href: string }) {
  return { ...merge, branch, headShort: merge.head?.slice(0, 12), candidateShort: merge.candidate?.slice(0, 12), live: liveMergeStates.includes(merge.state) };
}
export type MergeView = ReturnType<typeof presentMerge>;
