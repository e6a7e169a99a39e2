/**
 * Admission control: the server's backpressure. The encoder's batcher (lib/batcher.ts) queues
 * every encode call it is given and merges them into token-budget batches, without limit; this
 * bounds what is handed to it. A request is admitted while fewer than `maxRequests` requests
 * are being served and its tokens fit under `maxQueuedTokens` (tokens handed to the encoder and
 * not yet answered); otherwise it is refused at once (429 with Retry-After) instead of growing
 * the queue and everyone's latency. A request larger than the whole token limit is still
 * admitted when nothing else is queued, so every request the other limits allow can be served.
 */

/** Counts requests being served and tokens queued in the encoder; see the file comment. */
export class Admission {
  private activeRequests = 0;
  private tokens = 0;

  constructor(
    readonly maxRequests: number,
    readonly maxQueuedTokens: number,
  ) {}

  /** Requests admitted and not yet finished. */
  get requests(): number {
    return this.activeRequests;
  }

  /** Tokens handed to the encoder and not yet answered. */
  get queuedTokens(): number {
    return this.tokens;
  }

  /** Takes a request slot; false when `maxRequests` are already being served. */
  enterRequest(): boolean {
    if (this.activeRequests >= this.maxRequests) return false;
    this.activeRequests++;
    return true;
  }

  /** Gives a request slot back (exactly once per successful enterRequest). */
  leaveRequest(): void {
    this.activeRequests--;
  }

  /** Reserves `n` queued tokens; false when they do not fit beside what is queued. */
  reserveTokens(n: number): boolean {
    if (this.tokens > 0 && this.tokens + n > this.maxQueuedTokens) return false;
    this.tokens += n;
    return true;
  }

  /** Releases tokens reserved with reserveTokens once their embeddings are back. */
  releaseTokens(n: number): void {
    this.tokens -= n;
  }
}
