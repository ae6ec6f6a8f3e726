import type { Page } from "playwright-core";

export interface PageOverflow {
  /** document.documentElement.scrollWidth: how wide the page is, in CSS px. */
  scrollWidth: number;
  /** window.innerWidth: on a phone without a responsive viewport this grows past the device width. */
  innerWidth: number;
  /** The widest elements that reach past `limit`, as "path > to.element (N px wide, right edge at M px: "text")". */
  offenders: string[];
}

// The little of the DOM this needs (the test build has no DOM typings).
interface Box { left: number; width: number }
interface Element {
  tagName: string;
  id: string;
  classList: Iterable<string>;
  parentElement: Element | null;
  children: Iterable<Element>;
  textContent: string | null;
  scrollWidth: number;
  getBoundingClientRect(): Box;
}
interface Document { body: Element & { querySelectorAll(selector: string): Iterable<Element> }; documentElement: Element; querySelectorAll(selector: string): Iterable<{ open: boolean }> }
interface Window { innerWidth: number; scrollX: number; getComputedStyle(element: Element): { overflowX: string } }

/** A text with its long runs of one character counted ("r×90"), so that a failure message stays readable. */
export function abbreviate(text: string): string {
  return text.replace(/\s+/g, " ").replace(/(.)\1{9,}/g, (run) => `${run[0]}×${run.length}`);
}

/**
 * Measures how wide the open page is against `limit` (the viewport width, CSS px), with every
 * <details> opened first. When something sticks out, names the innermost elements that do: an
 * element inside its own scroll box (overflow-x auto/scroll/hidden) does not count, since the page
 * does not scroll because of it.
 */
export async function measureOverflow(page: Page, limit: number): Promise<PageOverflow> {
  const found = await page.evaluate((limit) => {
    const doc = (globalThis as unknown as { document: Document }).document;
    const win = (globalThis as unknown as { window: Window }).window;
    for (const details of doc.querySelectorAll("details")) details.open = true;
    const clipped = (el: Element) => {
      for (let p = el.parentElement; p && p !== doc.body; p = p.parentElement) {
        if (["auto", "scroll", "hidden", "clip"].includes(win.getComputedStyle(p).overflowX)) return true;
      }
      return false;
    };
    const label = (el: Element) => {
      const parts: string[] = [];
      for (let e: Element | null = el; e && e !== doc.body && parts.length < 4; e = e.parentElement) {
        parts.unshift(`${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}${[...e.classList].map((c) => `.${c}`).join("")}`);
      }
      return parts.join(" > ");
    };
    // An element sticks out when its box does, or when its text runs out of its box. Its ancestors
    // then stick out as far because of it, so only the innermost is named: that is the one to fix.
    const reach = new Map<Element, { width: number; right: number }>();
    for (const el of doc.body.querySelectorAll("*")) {
      const box = el.getBoundingClientRect();
      // A scroll box (an <input> is one) keeps what overflows it inside.
      const scrolls = win.getComputedStyle(el).overflowX !== "visible" || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
      const width = scrolls ? box.width : Math.max(box.width, el.scrollWidth);
      const right = box.left + win.scrollX + width;
      if (width > 0 && right > limit + 0.5 && !clipped(el)) reach.set(el, { width, right });
    }
    // Every cell of a too-wide column is as wide as the column: the one with the most text widened it.
    const offenders = [...reach]
      .filter(([el, { right }]) => ![...el.children].some((child) => (reach.get(child)?.right ?? 0) >= right - 1))
      .map(([el, { width, right }]) => ({ label: label(el), width: Math.round(width), right: Math.round(right), text: (el.textContent ?? "").trim() }))
      .sort((a, b) => b.width - a.width || b.text.length - a.text.length)
      .slice(0, 3)
      .map((o) => ({ ...o, text: o.text.slice(0, 400) }));
    return { scrollWidth: doc.documentElement.scrollWidth, innerWidth: win.innerWidth, offenders };
  }, limit);
  return {
    scrollWidth: found.scrollWidth,
    innerWidth: found.innerWidth,
    offenders: found.offenders.map((o) => `${o.label} (${o.width} px wide, right edge at ${o.right} px: "${abbreviate(o.text).slice(0, 60)}")`),
  };
}
