import { posix } from "node:path";
import { marked } from "marked";
import sanitizeHtml from "sanitize-html";

export interface LinkBase {
  /** `/repos/<repo>/blob/<ref>` — where relative links to files go. */
  blob: string;
  /** `/repos/<repo>/raw/<ref>` — where relative images are loaded from. */
  raw: string;
  /** The folder of the markdown file within the repo. */
  dir: string;
}

function isRelative(url: string): boolean {
  return url !== "" && !/^([a-z][a-z0-9+.-]*:|\/|#)/i.test(url);
}

function resolveInRepo(base: string, dir: string, url: string): string {
  const [path, fragment] = url.split("#", 2);
  const joined = posix.normalize(posix.join("/", dir, path ?? "")).replace(/^\/+/, "");
  return `${base}/${joined.split("/").map(encodeURIComponent).join("/")}${fragment ? `#${fragment}` : ""}`;
}

/**
 * Markdown from a repo (written by anyone, or by an agent) as HTML safe to embed: the sanitizer,
 * not the markdown parser, is the boundary — no script, no event handler, no javascript: URL.
 */
export function renderMarkdown(text: string, links?: LinkBase): string {
  const html = marked.parse(text, { async: false, gfm: true });
  return sanitizeHtml(html, {
    allowedTags: [...sanitizeHtml.defaults.allowedTags, "img", "h1", "h2", "del", "details", "summary", "sup", "sub", "input"],
    allowedAttributes: {
      a: ["href", "name", "title"],
      img: ["src", "alt", "title", "width", "height"],
      code: ["class"],
      th: ["align"],
      td: ["align"],
      input: ["type", "checked", "disabled"],
      "*": ["id"],
    },
    allowedSchemes: ["http", "https", "mailto"],
    allowedClasses: { code: [/^language-[\w-]+$/] },
    transformTags: {
      a: (tagName, attribs) => {
        const href = attribs.href ?? "";
        if (links && isRelative(href)) attribs.href = resolveInRepo(links.blob, links.dir, href);
        if (/^https?:/i.test(href)) attribs.rel = "noopener noreferrer nofollow";
        return { tagName, attribs };
      },
      img: (tagName, attribs) => {
        const src = attribs.src ?? "";
        if (links && isRelative(src)) attribs.src = resolveInRepo(links.raw, links.dir, src);
        return { tagName, attribs };
      },
      input: (tagName, attribs) => ({ tagName, attribs: attribs.type === "checkbox" ? { ...attribs, disabled: "" } : {} }),
    },
  });
}

// A line's leading run of container markers: `>` (blockquote) and list bullets or numbers.
const containerRun = /^(?:[ \t]*(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t])))+/gm;
const containerMarker = />|[-*+]|\d{1,9}[.)]/g;

/**
 * The deepest blockquote/list nesting a line of `text` opens, estimated in one linear pass before
 * parsing: markers at the start of a line, plus one level per two columns of indentation before
 * them (the least a nested list item needs).
 */
export function markdownNesting(text: string): number {
  let deepest = 0;
  for (const match of text.matchAll(containerRun)) {
    const run = match[0];
    const indent = /^[ \t]*/.exec(run)![0].replace(/\t/g, "    ").length;
    deepest = Math.max(deepest, Math.floor(indent / 2) + (run.match(containerMarker)?.length ?? 0));
  }
  return deepest;
}
