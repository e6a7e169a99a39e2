/**
 * Coalesces concurrent encode work into shared native calls. A Node service typically fires
 * many small `encode` calls at once (one per request); the engine runs one call at a time, so
 * without help each tiny batch would pay a full forward pass of fixed overheads and partial
 * tiles. Here a batch submitted while the engine is idle is sent at once (no added latency);
 * batches submitted while it is busy wait and are merged — in arrival order, up to the token
 * budget, only with batches asking for the same outputs and the same pooling skip — into the
 * next native call (never beyond the smallest token budget among them), and each caller gets
 * its own rows back. The engine's results do not depend on batch composition, so merging never
 * changes a caller's numbers. A batch submitted with an AbortSignal that fires while it still
 * waits is taken out of the queue and never reaches the engine (a batch already in a native
 * call runs to the end: native calls cannot be interrupted).
 */
import type { NativeEncodeOptions, NativeEngine } from './native';

/** One tokenized batch: `count` sequences packed in `ids`, delimited by `cuSeqlens`. */
export interface PackedBatch {
  ids: Int32Array;
  cuSeqlens: Int32Array;
  /** Token type ids, one per token (a cross-encoder's pairs); absent: all 0. */
  typeIds?: Int32Array;
  count: number;
}

export interface BatchResult {
  /** `[count, sentenceDim]` when sentence embeddings were asked for. */
  sentence?: Float32Array;
  /** `[tokens, hiddenSize]` (packed) when token embeddings were asked for. */
  tokens?: Float32Array;
  /** Milliseconds the batch waited in the queue before its native call started. */
  waitMs?: number;
  /** Milliseconds the native call that carried the batch took (shared by the batches merged into it). */
  runMs?: number;
}

interface Pending {
  batch: PackedBatch;
  options: NativeEncodeOptions;
  key: string;
  budget: number;
  /** performance.now() at submit. */
  submitted: number;
  resolve: (r: BatchResult) => void;
  reject: (e: unknown) => void;
  /** Removes the abort listener (called when the batch leaves the queue). */
  detach: () => void;
}

/** Per-engine queue that merges waiting batches into shared native calls (see the file comment). */
export class EngineBatcher {
  private readonly queue: Pending[] = [];
  private busy = false;

  constructor(
    private readonly engine: NativeEngine,
    private readonly sentenceDim: number,
    private readonly hiddenSize: number,
  ) {}

  /**
   * Runs `batch` (alone or merged with other waiting batches) and resolves to its own rows.
   * When `signal` aborts while the batch still waits, it leaves the queue and the promise
   * rejects with `signal.reason`; an already aborted signal rejects at once.
   */
  submit(batch: PackedBatch, options: NativeEncodeOptions, budget: number, signal?: AbortSignal): Promise<BatchResult> {
    return new Promise<BatchResult>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const key = `${options.sentence}|${options.tokens}|${options.normalize}|${options.poolSkipTokens ?? 0}|${batch.typeIds ? 'types' : ''}`;
      const pending: Pending = { batch, options, key, budget, submitted: performance.now(), resolve, reject, detach: () => undefined };
      if (signal) {
        const onAbort = () => {
          const i = this.queue.indexOf(pending);
          if (i < 0) return; // already in a native call: it runs to the end
          this.queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        pending.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(pending);
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy || this.queue.length === 0) return;
    const group = this.takeGroup();
    for (const p of group) p.detach();
    this.busy = true;
    const { ids, cuSeqlens, typeIds } = group.length === 1 ? group[0].batch : merge(group.map((p) => p.batch));
    const first = group[0];
    const started = performance.now();
    let call: Promise<BatchResult>;
    try {
      call = this.engine.encode({ ids, cuSeqlens, ...(typeIds ? { typeIds } : {}), ...first.options });
    } catch (err) {
      call = Promise.reject(err);
    }
    call
      .then(
        (result) => this.distribute(group, result, started, performance.now()),
        (err) => {
          for (const p of group) p.reject(err);
        },
      )
      .finally(() => {
        this.busy = false;
        this.pump();
      });
  }

  /**
   * The head of the queue plus every later compatible batch that fits: the merged call never
   * exceeds the token budget of any batch in it (a caller's `batchTokens` bounds every native
   * call its sentences ride in).
   */
  private takeGroup(): Pending[] {
    const first = this.queue.shift()!;
    const group = [first];
    let tokens = first.batch.ids.length;
    let budget = first.budget;
    for (let i = 0; i < this.queue.length; ) {
      const p = this.queue[i];
      const merged = tokens + p.batch.ids.length;
      if (p.key === first.key && merged <= budget && merged <= p.budget) {
        group.push(p);
        tokens = merged;
        budget = Math.min(budget, p.budget);
        this.queue.splice(i, 1);
      } else {
        i++;
      }
    }
    return group;
  }

  private distribute(group: Pending[], result: BatchResult, started: number, finished: number): void {
    const runMs = finished - started;
    if (group.length === 1) {
      group[0].resolve({ sentence: result.sentence, tokens: result.tokens, waitMs: started - group[0].submitted, runMs });
      return;
    }
    let row = 0;
    let token = 0;
    for (const p of group) {
      const n = p.batch.count;
      const t = p.batch.ids.length;
      p.resolve({
        sentence: result.sentence?.subarray(row * this.sentenceDim, (row + n) * this.sentenceDim),
        tokens: result.tokens?.subarray(token * this.hiddenSize, (token + t) * this.hiddenSize),
        waitMs: started - p.submitted,
        runMs,
      });
      row += n;
      token += t;
    }
  }
}

/** Concatenates packed batches into one (ids and type ids back to back, cuSeqlens offset). */
function merge(batches: PackedBatch[]): { ids: Int32Array; cuSeqlens: Int32Array; typeIds?: Int32Array } {
  let tokens = 0;
  let count = 0;
  for (const b of batches) {
    tokens += b.ids.length;
    count += b.count;
  }
  const ids = new Int32Array(tokens);
  const cuSeqlens = new Int32Array(count + 1);
  // Batches merge only with batches of the same key, so all or none have type ids.
  const typeIds = batches[0].typeIds ? new Int32Array(tokens) : undefined;
  let t = 0;
  let s = 0;
  for (const b of batches) {
    ids.set(b.ids, t);
    if (typeIds) typeIds.set(b.typeIds!, t);
    for (let i = 1; i <= b.count; i++) cuSeqlens[s + i] = t + b.cuSeqlens[i];
    t += b.ids.length;
    s += b.count;
  }
  return typeIds ? { ids, cuSeqlens, typeIds } : { ids, cuSeqlens };
}
