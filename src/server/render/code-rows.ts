// The code table's plain half, without highlight.js: a render worker making plain rows (the
// fallback after a highlighting overrun) need not load it.

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => escapes[c]!);

/** Lines as the code table shows them: CRLF is a line end too, and a final line end starts no line. */
export function splitLines(text: string): string[] {
  return text.replace(/\r\n/g, "\n").replace(/\n$/, "").split("\n");
}

/** How many lines splitLines would give, counted without splitting. */
export function countLines(text: string): number {
  let count = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) count++;
  return text.endsWith("\n") ? Math.max(count, 1) : count + 1;
}

/** The rows of a code table (views/repos/blob.njk), each line linkable as #L<n>. */
export function codeRows(lines: string[]): string {
  return lines.map((line, i) => `<tr id="L${i + 1}"><td class="ln"><a href="#L${i + 1}">${i + 1}</a></td><td class="src">${line}</td></tr>`).join("\n");
}
