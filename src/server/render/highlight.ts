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

/**
 * Source as one HTML string per line, highlighted when the language is known and the file small
 * enough. highlight.js spans can cross line ends (block comments, template strings); each line
 * closes the spans still open and the next reopens them, so every line stands alone.
 */
export function highlightLines(text: string, language: string | undefined, maxHighlightBytes = 256 * 1024): string[] {
  const lines = text.replace(/\r\n/g, "\n").replace(/\n$/, "").split("\n");
  if (!language || text.length > maxHighlightBytes) return lines.map(escapeHtml);
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
