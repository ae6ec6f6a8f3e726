/**
 * Splits a byte stream into lines (LF, with a CR before it dropped) as UTF-8 text. A line longer
 * than `maxLineBytes` is cut there: its first part is given with `truncated` set and the rest up to
 * the next newline is dropped, so one endless line (100 MB of garbage) never holds more than the
 * limit in memory.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private held = 0;
  private skipping = false;

  constructor(
    private readonly onLine: (text: string, truncated: boolean) => void,
    private readonly maxLineBytes = 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(10, start);
      const end = newline === -1 ? chunk.length : newline;
      if (!this.skipping) this.hold(chunk.subarray(start, end));
      if (newline === -1) return;
      if (this.skipping) this.skipping = false;
      else this.emit(false);
      start = newline + 1;
    }
  }

  /** The stream ended: a last line without a newline is given too. */
  end(): void {
    if (!this.skipping && this.held > 0) this.emit(false);
    this.skipping = false;
  }

  private hold(part: Buffer): void {
    const room = this.maxLineBytes - this.held;
    if (part.length <= room) {
      if (part.length > 0) this.parts.push(Buffer.from(part));
      this.held += part.length;
      return;
    }
    this.parts.push(Buffer.from(part.subarray(0, room)));
    this.held += room;
    this.emit(true);
    this.skipping = true;
  }

  private emit(truncated: boolean): void {
    let text = Buffer.concat(this.parts).toString("utf8");
    this.parts = [];
    this.held = 0;
    if (text.endsWith("\r")) text = text.slice(0, -1);
    this.onLine(text, truncated);
  }
}
