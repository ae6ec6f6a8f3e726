import { MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import { escapeHtml } from "./code-rows.js";
import { languageOf } from "./highlight.js";
import { renderLimits } from "./limits.js";
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
  close(): Promise<void>;
}

export interface RendererOptions {
  /**
   * Worker threads at most (default 4, whatever the cores): a slow input holds a thread for its
   * whole budget, mostly while other work waits for none of its CPU; with 2 threads, one pathological
   * page at a time kept ordinary pages waiting for a free (often freshly started) worker.
   */
  threads?: number;
  /** Time a job may run once a worker has started it. */
  budgetMs?: number;
  /** Time a job may wait for a worker (all busy, or one still starting) before it is given up. */
  waitMs?: number;
  /** Told of every job that ran out of time or failed, for the log. */
  onGiveUp?: (job: "code" | "markdown", reason: string) => void;
}

/**
 * A pool of worker threads (piscina) running render-worker.ts. A job that overruns its budget is
 * aborted, which terminates its worker (piscina replaces it): highlight.js and marked are
 * synchronous, so stopping the thread is the only way to stop them. The budget runs from the moment
 * the worker starts the job, not from the request: a worker's start-up (loading highlight.js takes
 * 0.2 s, over 2 s on a loaded machine) must not turn every first page into plain text. Workers start
 * on first use and leave after a minute idle, so an idle server holds none.
 */
export function createRenderer(options: RendererOptions = {}): Renderer {
  const budgetMs = options.budgetMs ?? renderLimits.budgetMs;
  const waitMs = options.waitMs ?? renderLimits.waitMs;
  const pool = new Piscina({
    filename: new URL("./render-worker.js", import.meta.url).href,
    minThreads: 0,
    maxThreads: options.threads ?? 4,
    idleTimeout: 60_000,
    // A runaway input may allocate as well as spin: the worker dies, not the server.
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });

  /** Runs one job within the budget; undefined (and onGiveUp told) if it failed or ran out of time. */
  async function run<T>(name: "code" | "markdown", job: object): Promise<T | undefined> {
    const controller = new AbortController();
    let reason = `no worker was free within ${waitMs} ms`;
    let timer = setTimeout(() => controller.abort(), waitMs);
    // The worker says when it starts the job (render-worker.ts); from then on the budget runs.
    const { port1: started, port2: startedInWorker } = new MessageChannel();
    started.once("message", () => {
      clearTimeout(timer);
      reason = `over the ${budgetMs} ms budget`;
      timer = setTimeout(() => controller.abort(), budgetMs);
    });
    try {
      return (await pool.run({ ...job, started: startedInWorker }, { name, signal: controller.signal, transferList: [startedInWorker] })) as T;
    } catch (err) {
      options.onGiveUp?.(name, controller.signal.aborted ? reason : (err as Error).message);
      return undefined;
    } finally {
      clearTimeout(timer);
      started.close();
    }
  }

  const plainMarkdown = (text: string, note: string) => `<p class="notice">${escapeHtml(note)}</p>\n<pre>${escapeHtml(text)}</pre>`;

  return {
    async code(text, fileName) {
      const language = Buffer.byteLength(text) <= renderLimits.highlightBytes ? languageOf(fileName) : undefined;
      if (language) {
        const rows = await run<string>("code", { text, language });
        if (rows !== undefined) return { rows };
      }
      const rows = await run<string>("code", { text, language: undefined });
      if (rows === undefined) return undefined;
      return language ? { rows, note: "Highlighting took too long; shown as plain text." } : { rows };
    },

    async markdown(text, links) {
      if (Buffer.byteLength(text) > renderLimits.markdownBytes) return plainMarkdown(text, "Too large to render as markdown; shown as plain text.");
      if (markdownNesting(text) > renderLimits.markdownNesting) return plainMarkdown(text, "Nested too deeply to render as markdown; shown as plain text.");
      const html = await run<string>("markdown", { text, links });
      return html ?? plainMarkdown(text, "Could not be rendered as markdown in time; shown as plain text.");
    },

    async close() {
      await pool.close({ force: true });
    },
  };
}
