// Runs in the render pool's worker threads (see renderer.ts): the CPU-heavy half of a page, where a
// slow input costs a worker, not the event loop every other request waits on.
import type { MessagePort } from "node:worker_threads";
import { codeRows, highlightLines } from "./highlight.js";
import { renderMarkdown, type LinkBase } from "./markdown.js";

/** Every job says when it starts: the renderer's time budget runs from then. */
interface Job {
  started: MessagePort;
}

/** Table rows of a source file, highlighted when `language` is given. */
export function code(job: Job & { text: string; language: string | undefined }): string {
  job.started.postMessage("started");
  return codeRows(highlightLines(job.text, job.language));
}

export function markdown(job: Job & { text: string; links: LinkBase | undefined }): string {
  job.started.postMessage("started");
  return renderMarkdown(job.text, job.links);
}
