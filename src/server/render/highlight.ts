import hljs from "highlight.js";
import { escapeHtml, splitLines } from "./code-rows.js";

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

/**
 * Source as one HTML string per line, highlighted when the language is given (the caller bounds
 * the size: see renderer.ts). highlight.js spans can cross line ends (block comments, template
 * strings); each line closes the spans still open and the next reopens them, so every line stands alone.
 */
export function highlightLines(text: string, language: string | undefined): string[] {
  if (!language) return splitLines(text).map(escapeHtml);
  const html = hljs.highlight(splitLines(text).join("\n"), { language, ignoreIllegals: true }).value;
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
