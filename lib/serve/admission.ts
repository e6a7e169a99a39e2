/**
 * Admission control: the server's backpressure. The encoder's batcher (lib/batcher.ts) queues
 * every batch it is given and merges them into token-budget native calls, without limit; this
 * bounds what is handed to it. A request is admitted while fewer than `maxRequests` requests
 * are being served and its first part fits under `maxQueuedTokens` (tokens handed to the
 * encoder and not yet answered); otherwise it is refused at once (429 with Retry-After) instead
 * of growing the queue and everyone's latency. A part larger than the whole token limit is
 * still admitted when nothing else is queued, so every request the other limits allow can be
 * served.
 *
 * A large request is not handed to the encoder whole: the server streams it in budget-sized
 * parts, at most two at a time in the encoder (one running, one waiting), so its later parts
 * are reserved as the earlier ones finish (`reserve(n, true)`: the request was admitted, they
 * are not refused). The queue therefore never holds more than the limit plus two parts per
 * streaming request, and a bulk request delays the small ones behind it by at most a part or two.
 */

/** Counts requests being served and tokens / inputs queued in the encoder; see the file comment. */
export class Admission {
  private activeRequests = 0;
  private tokens = 0;
  private inputs = 0;

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

  /** Inputs (sequences) handed to the encoder and not yet answered. */
  get queuedInputs(): number {
    return this.inputs;
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

  /**
   * Reserves `tokens` queued tokens for `inputs` sequences; false when they do not fit beside
   * what is queued, unless `admitted` (a later part of a request already admitted).
   */
  reserve(tokens: number, inputs: number, admitted = false): boolean {
    if (!admitted && this.tokens > 0 && this.tokens + tokens > this.maxQueuedTokens) return false;
    this.tokens += tokens;
    this.inputs += inputs;
    return true;
  }

  /** Releases what reserve() took, once those embeddings are back (or were dropped). */
  release(tokens: number, inputs: number): void {
    this.tokens -= tokens;
    this.inputs -= inputs;
  }
}
