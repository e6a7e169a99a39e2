/**
 * A progress bar on stderr for long CLI jobs. It draws only when stderr is a terminal (or when
 * forced), redraws at most ~10 times a second, and always ends with a newline.
 */
export interface ProgressOptions {
  /** What is being counted, e.g. "sentences". */
  unit?: string;
  /** Draw even when stderr is not a TTY (one line per update, throttled to once a second). */
  force?: boolean;
  stream?: NodeJS.WriteStream;
  /** Formats amounts and rates (e.g. bytes as "12.3 MB"; the unit is then its job). */
  format?: (amount: number) => string;
}

/** A throttled `label [####----] done/total unit pct rate` line on stderr. */
export class ProgressBar {
  private readonly total: number;
  private readonly label: string;
  private readonly unit: string;
  private readonly format?: (amount: number) => string;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly enabled: boolean;
  private readonly started = Date.now();
  private lastDraw = 0;
  private done = 0;

  constructor(label: string, total: number, options: ProgressOptions = {}) {
    this.label = label;
    this.total = Math.max(0, total);
    this.unit = options.unit ?? 'items';
    this.format = options.format;
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.enabled = this.tty || Boolean(options.force);
  }

  /** Sets the number of finished items (absolute, not an increment). */
  update(done: number): void {
    this.done = Math.min(done, this.total);
    const now = Date.now();
    const interval = this.tty ? 100 : 1000;
    if (this.enabled && (now - this.lastDraw >= interval || this.done === this.total)) {
      this.lastDraw = now;
      this.draw(now);
    }
  }

  /** Final draw and newline. */
  finish(): void {
    if (!this.enabled) return;
    this.draw(Date.now());
    if (this.tty) this.stream.write('\n');
  }

  private draw(now: number): void {
    const frac = this.total === 0 ? 1 : this.done / this.total;
    const width = 30;
    const filled = Math.round(frac * width);
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    const f = this.format;
    const amounts = f ? `${f(this.done)}/${f(this.total)}` : `${this.done}/${this.total} ${this.unit}`;
    const speed = f ? `${f(rate)}/s` : `${rate.toFixed(0)} ${this.unit}/s`;
    const line =
      `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` +
      `${amounts} ${(frac * 100).toFixed(0)}% ${speed}`;
    this.stream.write(this.tty ? `\r${line}` : `${line}\n`);
  }
}
