// Diffs as the commit and branch pages show them, built whole in a render worker (renderer.ts):
// parsing a 2 MiB patch and making its 20,000 rows took 100-200 ms of the event loop when the
// template built them (measured: docs/benchmarks.md, "Diff pages").
import { addedFileDiff, parseDiff, type FileDiff } from "../../forge/parse-diff.js";
import { escapeHtml } from "./code-rows.js";

/** A changed file as views/_diff.njk shows it: its rows as ready HTML (`<tr>` of a diff table), or why none. */
export interface RenderedFile extends Omit<FileDiff, "lines"> {
  rows: string;
  rowCount: number;
  /** Why the content is not shown (an untracked file past the page's limits). */
  note?: string;
}

export interface RenderedDiff {
  files: RenderedFile[];
  truncated: boolean;
  /** Why nothing could be shown (the render gave up): the page says so instead of the files. */
  note?: string;
}

/** A file the diff does not know yet (untracked), shown as added: its bytes, or why they are not shown. */
export type AddedFile = { path: string; mode: string; content: Uint8Array } | { path: string; note: string };

/**
 * What a diff is made from: git's output made with `diffOptions` (`complete` false when it was cut:
 * shown as truncated), or new files to show as added (at most `maxRows` rows together).
 */
export type DiffSource = { patch: Uint8Array; complete: boolean } | { added: AddedFile[]; maxRows: number };

function row(line: FileDiff["lines"][number]): string {
  const text = `<td class="src">${escapeHtml(line.text)}</td>`;
  if (line.kind === "hunk") return `<tr class="hunk"><td class="ln"></td><td class="ln"></td>${text}</tr>`;
  return `<tr class="${line.kind}"><td class="ln">${line.oldLine || ""}</td><td class="ln">${line.newLine || ""}</td>${text}</tr>`;
}

function rendered({ lines, ...file }: FileDiff, note?: string): RenderedFile {
  return { ...file, rows: lines.map(row).join("\n"), rowCount: lines.length, ...(note ? { note } : {}) };
}

/** Parses and renders a diff; pure, for the render worker. */
export function renderDiff(source: DiffSource): RenderedDiff {
  if ("patch" in source) {
    const diff = parseDiff(source.patch);
    return { files: diff.files.map((file) => rendered(file)), truncated: diff.truncated || !source.complete };
  }
  let rows = 0;
  const files = source.added.map((added): RenderedFile => {
    const empty: FileDiff = { oldPath: added.path, newPath: added.path, oldMode: "000000", newMode: "100644", status: "added", binary: false, lines: [] };
    if ("note" in added) return rendered(empty, added.note);
    if (rows >= source.maxRows) return rendered(empty, "not shown: the page shows the content of the first untracked files only");
    const whole = addedFileDiff(added.path, added.mode, added.content);
    const room = source.maxRows - rows;
    rows += Math.min(whole.lines.length, room);
    if (whole.lines.length <= room) return rendered(whole);
    return rendered({ ...whole, lines: whole.lines.slice(0, room) }, `cut short: the page shows ${source.maxRows} lines of untracked files at most`);
  });
  return { files, truncated: false };
}
