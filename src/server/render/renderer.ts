import { MessageChannel, type TransferListItem } from "node:worker_threads";
import { Piscina } from "piscina";
import { escapeHtml } from "./code-rows.js";
import type { DiffSource, RenderedDiff } from "./diff-rows.js";
import { languageOf } from "./highlight.js";
import { renderLimits } from "./limits.js";
import { threadCpuMs, type ThreadCpuClock } from "./thread-cpu.js";
import { markdownNesting, type LinkBase } from "./markdown.js";

export interface CodeView {
  /** `<tr>` rows for views/repos/blob.njk. */
  rows: string;
  /** Why the file is shown unhighlighted, when highlighting was tried and given up. */
  note?: string;
}

/** Highlighting and markdown off the event loop, each job bounded in size, nesting and time. */
export interface Renderer {
  /** A source file as code-table rows; undefined when not even plain rows could be made within the budget. */
  code(text: string, fileName: string): Promise<CodeView | undefined>;
  /** Markdown as sanitized HTML, or, past a limit or on any failure, as escaped plain text under a note. Never throws. */
  markdown(text: string, links?: LinkBase): Promise<string>;
  /**
   * Many markdown texts (an agent's messages) as sanitized HTML, in order, under the same limits as
   * `markdown`; small ones go to the workers in batches. Never throws.
   */
  markdownList(texts: readonly string[]): Promise<string[]>;
  /** A diff parsed and made into rows; past the budget, no files and a note saying so. Never throws. The source's bytes go to the worker: do not use them after. */
  diff(source: DiffSource): Promise<RenderedDiff>;
  close(): Promise<void>;
}

export interface RendererOptions {
  /**
   * Worker threads of each lane at most (default 2): a slow input holds a thread for its whole
   * budget, mostly while other work waits for none of its CPU.
   */
  threads?: number;
  /** Time a job of the heavy lane (inputs over `quickBytes`) may run once a worker has started it. */
  budgetMs?: number;
  /** Time a job of the quick lane may run: an input that small and still this slow is pathological. */
  quickBudgetMs?: number;
  /** Time a job may wait for a worker (all busy, or one still starting) before it is given up. */
  waitMs?: number;
  /** Told of every job that ran out of time or failed, for the log. */
  onGiveUp?: (job: JobName, reason: string) => void;
}

type Lane = { pool: Piscina; budgetMs: number };
type JobName = "code" | "markdown" | "markdownList" | "diff";

// A list of markdown texts shorter than this (a live batch of a few messages) is one job: another
// thread's round trip would cost more than it saves.
const minBatchChars = 8 * 1024;
// How often a job still within its CPU budget is looked at again, at most, ms.
const checkEveryMs = 50;

/**
 * Two pools of worker threads (piscina) running render-worker.ts, one lane for small inputs (every
 * ordinary page) and one for large ones: a slow large file then never makes an ordinary page wait
 * for a thread, or for a freshly started one. The quick lane keeps one worker warm once used. A job
 * that overruns its budget is aborted, which terminates its worker (piscina replaces it):
 * highlight.js and marked are synchronous, so stopping the thread is the only way to stop them.
 * The budget is CPU time the worker thread spends on the job, from the moment it starts the job:
 * a worker's start-up (loading highlight.js takes 0.2 s, over 2 s on a loaded machine) must not turn
 * every first page into plain text, nor must a machine busy with agents and gates, which stretches a
 * nice-10 thread's wall time many times over; a wall-time limit (budgetWallFactor × the budget)
 * still bounds how long a page waits. Heavy workers leave after a minute idle.
 */
export function createRenderer(options: RendererOptions = {}): Renderer {
  const waitMs = options.waitMs ?? renderLimits.waitMs;
  const threads = options.threads ?? 2;
  const pool = (minThreads: number, nice: number) =>
    new Piscina({
      filename: new URL("./render-worker.js", import.meta.url).href,
      workerData: { nice },
      minThreads,
      maxThreads: threads,
      idleTimeout: 60_000,
      // A runaway input may allocate as well as spin: the worker dies, not the server.
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
  let quickPool: Piscina | undefined;
  let heavyPool: Piscina | undefined;
  // Pools are made on first use, so an idle server that never renders holds no threads.
  const laneFor = (input: string | number): Lane =>
    (typeof input === "number" ? input : Buffer.byteLength(input)) <= renderLimits.quickBytes
      ? { pool: (quickPool ??= pool(1, 0)), budgetMs: options.quickBudgetMs ?? renderLimits.quickBudgetMs }
      : { pool: (heavyPool ??= pool(0, 10)), budgetMs: options.budgetMs ?? renderLimits.budgetMs };

  /** Runs one job within its lane's budget; undefined (and onGiveUp told) if it failed or ran out of time. */
  async function run<T>(lane: Lane, name: JobName, job: object, transferList: TransferListItem[] = []): Promise<T | undefined> {
    const controller = new AbortController();
    let reason = `no worker was free within ${waitMs} ms`;
    let timer = setTimeout(() => controller.abort(), waitMs);
    // The worker says when it picks the job up, and when it starts it, with its thread's CPU clock
    // (render-worker.ts): waiting for a worker ends at the first, the budget runs from the second.
    const { port1: started, port2: startedInWorker } = new MessageChannel();
    let pickedAt = 0;
    let clock: ThreadCpuClock | null | undefined;
    const wallLimitMs = lane.budgetMs * renderLimits.budgetWallFactor;
    // The budget is the worker thread's CPU time: a thread starved by a busy machine is waited for
    // (up to the wall limit from pick-up), one spinning on a pathological input is stopped. Without
    // a CPU clock (not Linux), or once the thread is gone, the budget is wall time.
    const check = () => {
      const wallMs = Date.now() - pickedAt;
      const cpuNowMs = clock ? threadCpuMs(clock.stat) : undefined;
      const spentMs = clock === undefined ? 0 : cpuNowMs === undefined ? Infinity : cpuNowMs - clock!.cpuMs;
      if (spentMs < lane.budgetMs && wallMs < wallLimitMs) {
        timer = setTimeout(check, Math.min(Math.max(lane.budgetMs - spentMs, checkEveryMs), wallLimitMs - wallMs));
        return;
      }
      reason = spentMs >= lane.budgetMs ? `over the ${lane.budgetMs} ms budget` : `over ${wallLimitMs} ms of wall time (${spentMs} ms of it on the CPU)`;
      controller.abort();
    };
    started.on("message", (message: "picked" | ThreadCpuClock | null) => {
      clearTimeout(timer);
      if (message === "picked") {
        pickedAt = Date.now();
        timer = setTimeout(check, wallLimitMs);
      } else {
        clock = message;
        timer = setTimeout(check, Math.min(lane.budgetMs, Math.max(wallLimitMs - (Date.now() - pickedAt), 0)));
      }
    });
    try {
      return (await lane.pool.run({ ...job, started: startedInWorker }, { name, signal: controller.signal, transferList: [startedInWorker, ...transferList] })) as T;
    } catch (err) {
      options.onGiveUp?.(name, controller.signal.aborted ? reason : (err as Error).message);
      return undefined;
    } finally {
      clearTimeout(timer);
      started.close();
    }
  }

  const plainMarkdown = (text: string, note: string) => `<p class="notice">${escapeHtml(note)}</p>\n<pre>${escapeHtml(text)}</pre>`;
  const tooMuch = (text: string) =>
    Buffer.byteLength(text) > renderLimits.markdownBytes
      ? "Too large to render as markdown; shown as plain text."
      : markdownNesting(text) > renderLimits.markdownNesting
        ? "Nested too deeply to render as markdown; shown as plain text."
        : undefined;

  async function markdown(text: string, links?: LinkBase): Promise<string> {
    const refused = tooMuch(text);
    if (refused) return plainMarkdown(text, refused);
    const html = await run<string>(laneFor(text), "markdown", { text, links });
    return html ?? plainMarkdown(text, "Could not be rendered as markdown in time; shown as plain text.");
  }

  return {
    async code(text, fileName) {
      const language = Buffer.byteLength(text) <= renderLimits.highlightBytes ? languageOf(fileName) : undefined;
      const lane = laneFor(text);
      if (language) {
        const rows = await run<string>(lane, "code", { text, language });
        if (rows !== undefined) return { rows };
      }
      const rows = await run<string>(lane, "code", { text, language: undefined });
      if (rows === undefined) return undefined;
      return language ? { rows, note: "Highlighting took too long; shown as plain text." } : { rows };
    },

    markdown,

    async markdownList(texts) {
      const out: string[] = new Array(texts.length);
      // Texts that fit the quick lane go in batches of up to quickBytes together: a session of
      // thousands of messages is a few jobs, not thousands of round trips. A list large enough is
      // split over the lane's threads, which then render it side by side. A batch that fails or
      // overruns shows its texts as plain text, as one text would.
      const total = texts.reduce((sum, text) => sum + text.length, 0);
      const batchBytes = Math.min(renderLimits.quickBytes, Math.max(minBatchChars, Math.ceil(total / threads)));
      const batches: number[][] = [];
      let batch: number[] = [];
      let bytes = 0;
      const single: Promise<void>[] = [];
      texts.forEach((text, i) => {
        const size = Buffer.byteLength(text);
        const refused = tooMuch(text);
        if (refused) out[i] = plainMarkdown(text, refused);
        else if (size > renderLimits.quickBytes) single.push(markdown(text).then((html) => void (out[i] = html)));
        else {
          if (bytes + size > batchBytes && batch.length > 0) {
            batches.push(batch);
            batch = [];
            bytes = 0;
          }
          batch.push(i);
          bytes += size;
        }
      });
      if (batch.length > 0) batches.push(batch);
      const lane = laneFor("");
      await Promise.all([
        ...single,
        ...batches.map(async (indexes) => {
          const html = await run<string[]>(lane, "markdownList", { texts: indexes.map((i) => texts[i]) });
          indexes.forEach((index, k) => (out[index] = html?.[k] ?? plainMarkdown(texts[index]!, "Could not be rendered as markdown in time; shown as plain text.")));
        }),
      ]);
      return out;
    },

    async diff(source) {
      // The bytes are moved to the worker, not cloned: a Buffer that is all of its memory (git's
      // output, concatenated) goes as it is, and the caller must not use it again; a view of a
      // larger or pooled buffer is copied first, or the move would take, or a clone copy, the rest.
      const copy = (bytes: Uint8Array) => (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.byteLength > 0 ? bytes : new Uint8Array(bytes));
      const owned: DiffSource = "patch" in source ? { ...source, patch: copy(source.patch) } : { ...source, added: source.added.map((file) => ("content" in file ? { ...file, content: copy(file.content) } : file)) };
      const buffers = ("patch" in owned ? [owned.patch.buffer] : owned.added.flatMap((file) => ("content" in file ? [file.content.buffer] : []))) as ArrayBuffer[];
      const size = buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0);
      const lane = laneFor(size);
      const rendered = await run<RenderedDiff>({ ...lane, budgetMs: options.budgetMs ?? Math.max(lane.budgetMs, renderLimits.diffBudgetMs) }, "diff", { source: owned }, buffers);
      return rendered ?? { files: [], truncated: true, note: "The diff could not be prepared in time; too large to show here." };
    },

    async close() {
      await Promise.all([quickPool?.close({ force: true }), heavyPool?.close({ force: true })]);
    },
  };
}
