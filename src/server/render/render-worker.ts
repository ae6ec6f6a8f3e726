// Runs in the render pool's worker threads (see renderer.ts): the CPU-heavy half of a page, where a
// slow input costs a worker, not the event loop every other request waits on.
import { setPriority } from "node:os";
import { workerData, type MessagePort } from "node:worker_threads";
import type { DiffSource, RenderedDiff } from "./diff-rows.js";
import type { LinkBase } from "./markdown.js";
import { ownThreadCpuClock } from "./thread-cpu.js";

// Workers of the heavy lane (large inputs, the slow ones) run at a lower priority than the event
// loop and the quick lane, so the pages people wait on get the CPU first. On Linux a thread's nice
// value is its own (setpriority(2), pid 0 = the calling thread); elsewhere this may lower the whole
// process, which only costs the renders speed.
if (typeof (workerData as { nice?: unknown } | undefined)?.nice === "number") {
  try {
    setPriority((workerData as { nice: number }).nice);
  } catch {
    // Not allowed here: the worker runs at normal priority.
  }
}

/** Every job says when it is picked up and when it starts: the renderer's budget runs from then. */
interface Job {
  started: MessagePort;
}

/** Tells the renderer the job is picked up: waiting for a worker ends, loading the job's libraries begins. */
const announcePickUp = (job: Job) => job.started.postMessage("picked");
/** Tells the renderer the job starts, with this thread's CPU clock (null where there is none), which its budget is counted on. */
const announceStart = (job: Job) => job.started.postMessage(ownThreadCpuClock() ?? null);

// Each job loads only its own libraries, on first use: a worker replaced after an overrun starts
// in milliseconds, not the ~0.3 s (seconds on a loaded machine) that highlight.js and sanitize-html
// together take to load; the loading happens before `started`, outside the budget.

/** Table rows of a source file, highlighted when `language` is given. */
export async function code(job: Job & { text: string; language: string | undefined }): Promise<string> {
  announcePickUp(job);
  const { codeRows, escapeHtml, splitLines } = await import("./code-rows.js");
  const highlightLines = job.language ? (await import("./highlight.js")).highlightLines : undefined;
  announceStart(job);
  return codeRows(highlightLines ? highlightLines(job.text, job.language) : splitLines(job.text).map(escapeHtml));
}

export async function markdown(job: Job & { text: string; links: LinkBase | undefined }): Promise<string> {
  announcePickUp(job);
  const { renderMarkdown } = await import("./markdown.js");
  announceStart(job);
  return renderMarkdown(job.text, job.links);
}

/** Many short markdown texts (an agent session's messages) in one job: one round trip, not one a message. */
export async function markdownList(job: Job & { texts: string[] }): Promise<string[]> {
  announcePickUp(job);
  const { renderMarkdown } = await import("./markdown.js");
  announceStart(job);
  return job.texts.map((text) => renderMarkdown(text));
}

/** A diff parsed and made into table rows (diff-rows.ts). */
export async function diff(job: Job & { source: DiffSource }): Promise<RenderedDiff> {
  announcePickUp(job);
  const { renderDiff } = await import("./diff-rows.js");
  announceStart(job);
  return renderDiff(job.source);
}
