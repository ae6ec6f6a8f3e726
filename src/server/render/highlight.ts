import hljs from "highlight.js";

const byFileName: Record<string, string> = {
  dockerfile: "dockerfile",
  makefile: "makefile",
  gnumakefile: "makefile",
  "cmakelists.txt": "cmake",
  gemfile: "ruby",
  rakefile: "ruby",
};

/** highlight.js's language for a file, by name or extension; undefined means plain text. */
export function languageOf(fileName: string): string | undefined {
  const lower = fileName.toLowerCase();
  if (byFileName[lower]) return byFileName[lower];
  const dot = lower.lastIndexOf(".");
  if (dot < 0) return undefined;
  const ext = lower.slice(dot + 1);
  return hljs.getLanguage(ext) ? ext : undefined;
}

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => escapes[c]!);

/** Lines as the code table shows them: a final line end does not start another line. */
export function countLines(text: string): number {
  let count = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) count++;
  return text.endsWith("\n") ? Math.max(count, 1) : count + 1;
}

/**
 * Source as one HTML string per line, highlighted when the language is given (the caller bounds
 * the size: see renderer.ts). highlight.js spans can cross line ends (block comments, template
 * strings); each line closes the spans still open and the next reopens them, so every line stands alone.
 */
export function highlightLines(text: string, language: string | undefined): string[] {
  const lines = text.replace(/\r\n/g, "\n").replace(/\n$/, "").split("\n");
  if (!language) return lines.map(escapeHtml);
  const html = hljs.highlight(text.replace(/\r\n/g, "\n").replace(/\n$/, ""), { language, ignoreIllegals: true }).value;
  const out: string[] = [];
  const open: string[] = [];
  let line = "";
  for (const token of html.split(/(<span[^>]*>|<\/span>|\n)/)) {
    if (token === "\n") {
      out.push(line + "</span>".repeat(open.length));
      line = open.join("");
    } else if (token.startsWith("<span")) {
      open.push(token);
      line += token;
    } else if (token === "</span>") {
      open.pop();
      line += token;
    } else {
      line += token;
    }
  }
  out.push(line + "</span>".repeat(open.length));
  return out;
}

/** The rows of a code table (views/repos/blob.njk), each line linkable as #L<n>. */
export function codeRows(lines: string[]): string {
  return lines.map((line, i) => `<tr id="L${i + 1}"><td class="ln"><a href="#L${i + 1}">${i + 1}</a></td><td class="src">${line}</td></tr>`).join("\n");
}
