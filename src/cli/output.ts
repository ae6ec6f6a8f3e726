import type { Event } from "../events/event.js";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Columns padded to their widest cell; the last column is not padded. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  process.stdout.write([line(header), ...rows.map(line)].join("\n") + "\n");
}

export function formatEventLine(event: Event): string {
  const time = event.timestamp.replace("T", " ").slice(0, 19);
  const where = event.branch ? `${event.repo}/${event.branch}` : event.repo;
  const data = event.data === undefined ? "" : `  ${JSON.stringify(event.data)}`;
  return `#${event.id}  ${time}  ${event.type.padEnd(16)}  ${where}${data}`;
}
