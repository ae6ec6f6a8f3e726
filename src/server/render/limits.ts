/**
 * How much the pages will render. Above these a page shows a notice (with the raw link) or plain
 * text instead: nothing a user can push or type may hold the server (see DESIGN.md, "Rendering is bounded").
 */
export const renderLimits = {
  /** A file larger than this is never read for its blob page (GitHub and Gitea stop at about 1 MB too). */
  displayBytes: 1024 * 1024,
  /**
   * Rows of a code table: page HTML grows by about 90 bytes a line, so a 1 MiB file of empty
   * lines would be a 97 MB page and seconds of string building.
   */
  displayLines: 20_000,
  /** Larger sources are shown unhighlighted: highlight.js's time grows with the input, on some grammars quadratically. */
  highlightBytes: 256 * 1024,
  /** Larger markdown (README, task body) is shown as plain text. */
  markdownBytes: 512 * 1024,
  /**
   * Blockquote and list levels a markdown line may open: marked recurses once a level, so 100,000
   * nested `>` overflowed its stack. No real document comes near; markdown-it's strict preset stops at 20.
   */
  markdownNesting: 32,
  /**
   * CPU time one render may use in its worker (wall time where a thread's CPU time cannot be read)
   * before it is stopped and the page falls back to plain text.
   */
  budgetMs: 1500,
  /**
   * A render's wall time limit, as a multiple of its CPU budget: a worker starved of CPU (the heavy
   * lane runs at nice 10, behind everything else on the machine) is waited for this long at most.
   */
  budgetWallFactor: 10,
  /**
   * A diff's budget. Its input is bounded already (the patch read is capped, rows too), so it cannot
   * run away as a regex in a highlighter can; the largest (2 MiB, 20,000 rows) overran 1.5 s on two
   * cores busy with the whole test suite (when the budget was wall time).
   */
  diffBudgetMs: 4000,
  /**
   * Inputs up to this size (every ordinary page: a README, a source file of a few thousand lines)
   * render in their own lane of workers, which large inputs never occupy.
   */
  quickBytes: 64 * 1024,
  /** The quick lane's budget: highlight.js and marked do a 64 KiB input in well under 100 ms. */
  quickBudgetMs: 1000,
  /** Time one render may wait for a worker (all busy with slow inputs, or starting) before the page falls back. */
  waitMs: 10_000,
} as const;
