import { DomUtils, parseDocument } from "htmlparser2";

export type Element = ReturnType<typeof DomUtils.findAll>[number];

/** A page parsed for assertions: elements by tag and class, their text and links. */
export interface ParsedPage {
  /** Elements named `tag` (and having `className`, when given), in the page or in one element. */
  all(tag: string, className?: string, within?: Element): Element[];
  text(element: Element): string;
  /** Every href and src in the page (or in one element), entities decoded. */
  links(within?: Element): string[];
}

export function parsePage(html: string): ParsedPage {
  const document = parseDocument(html);
  const nodes = (within?: Element) => (within ? within.children : document.children);
  return {
    all: (tag, className, within) =>
      DomUtils.findAll((el) => el.name === tag && (className === undefined || (el.attribs.class ?? "").split(/\s+/).includes(className)), nodes(within)),
    text: (element) => DomUtils.textContent(element),
    links: (within) => DomUtils.findAll((el) => el.attribs.href !== undefined || el.attribs.src !== undefined, nodes(within)).map((el) => (el.attribs.href ?? el.attribs.src)!),
  };
}

export interface CrawlResult {
  /** Status of every URL fetched, by path and query. */
  statuses: Map<string, number>;
  /** URLs that answered 404 or 5xx, each with the page that linked to it. */
  broken: Array<{ url: string; status: number; from: string }>;
}

/**
 * Fetches each start page, then every same-site link (href and src) of each page found, breadth
 * first. Pages at a `within` path or under it are followed further; others (the site's navigation,
 * styles) are only fetched, once. At most `limit` fetches.
 */
export async function crawl(base: string, starts: string[], options: { within: string[]; limit?: number }): Promise<CrawlResult> {
  const origin = new URL(base).origin;
  const statuses = new Map<string, number>();
  const broken: CrawlResult["broken"] = [];
  let level = starts.map((start) => ({ url: new URL(start, base).href, from: "(start)" }));
  const seen = new Set(level.map((entry) => entry.url));
  const limit = options.limit ?? 300;
  const visit = async ({ url, from }: { url: string; from: string }) => {
    const response = await fetch(url, { redirect: "manual" });
    const key = url.slice(origin.length);
    statuses.set(key, response.status);
    if (response.status === 404 || response.status >= 500) broken.push({ url: key, status: response.status, from });
    const isPage = (response.headers.get("content-type") ?? "").startsWith("text/html");
    const body = await response.text();
    const path = new URL(url).pathname;
    if (!isPage || !options.within.some((within) => path === within || path.startsWith(`${within}/`))) return [];
    return parsePage(body).links().map((link) => ({ url: link, from: key }));
  };
  // Breadth first, a few requests at a time: the server answers them in parallel, as it would a browser.
  while (level.length > 0 && statuses.size < limit) {
    const batch = level.slice(0, limit - statuses.size);
    const found: Array<{ url: string; from: string }> = [];
    for (let i = 0; i < batch.length; i += 4) found.push(...(await Promise.all(batch.slice(i, i + 4).map(visit))).flat());
    level = [];
    for (const { url, from } of found) {
      const target = new URL(url, new URL(from, origin));
      target.hash = "";
      if (target.origin !== origin || seen.has(target.href)) continue;
      seen.add(target.href);
      level.push({ url: target.href, from });
    }
  }
  return { statuses, broken };
}
