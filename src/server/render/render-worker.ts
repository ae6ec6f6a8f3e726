// Runs in the render pool's worker threads (see renderer.ts): the CPU-heavy half of a page, where a
// slow input costs a worker, not the event loop every other request waits on.
import type { MessagePort } from "node:worker_threads";
import type { LinkBase } from "./markdown.js";

/** Every job says when it starts: the renderer's time budget runs from then. */
interface Job {
  started: MessagePort;
}

// Each job loads only its own libraries, on first use: a worker replaced after an overrun starts
// in milliseconds, not the ~0.3 s (seconds on a loaded machine) that highlight.js and sanitize-html
// together take to load; the loading happens before `started`, outside the budget.

/** Table rows of a source file, highlighted when `language` is given. */
export async function code(job: Job & { text: string; language: string | undefined }): Promise<string> {
  const { codeRows, escapeHtml, splitLines } = await import("./code-rows.js");
  const highlightLines = job.language ? (await import("./highlight.js")).highlightLines : undefined;
  job.started.postMessage("started");
  return codeRows(highlightLines ? highlightLines(job.text, job.language) : splitLines(job.text).map(escapeHtml));
}

export async function markdown(job: Job & { text: string; links: LinkBase | undefined }): Promise<string> {
  const { renderMarkdown } = await import("./markdown.js");
  job.started.postMessage("started");
  return renderMarkdown(job.text, job.links);
}
