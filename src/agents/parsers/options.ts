/** What every parser factory accepts. */
export interface ParserOptions {
  /**
   * The clock that turns a relative reset time ("retry in 41s") into `retryAt`. Parsing runs as the
   * CLI prints, so the default, the time of parsing, is the time of printing; tests and replays of
   * old streams pass their own.
   */
  now?: () => Date;
}

export function clockOf(options: ParserOptions): () => Date {
  return options.now ?? (() => new Date());
}
