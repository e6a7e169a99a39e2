/**
 * The loop every caller of the engine runs — SentenceEncoder.encode and encodeTokenIds,
 * CrossEncoder.predict: packed batches within the token budget go one after another through
 * the engine's batcher (shared with concurrent callers), the next batch is prepared (tokenized)
 * while the engine works on the current one, and the rows come back in input order — one
 * Float32Array of `rowWidth` values per sequence, or each sequence's token rows.
 */
import type { BatchResult, EngineBatcher, PackedBatch } from './batcher';
import { Embeddings } from './embeddings';
import { withCallerStack, type NativeEncodeOptions } from './native';
import type { Precision } from './precision';

export interface BatchRunOptions {
  batcher: EngineBatcher;
  /** What the engine computes (sentence rows or token rows, normalization, pooling skip). */
  native: NativeEncodeOptions;
  /** Token budget of one native call (the batcher never merges beyond it). */
  budget: number;
  /** Values per sequence of the sentence output (embedding dimension, or a head's logits). */
  rowWidth: number;
  /** Values per token of the token output. */
  hidden: number;
  /** The engine's precision, stamped on the token Embeddings (Embeddings.computePrecision). */
  computePrecision?: Precision;
  /** Drops batches that still wait when it aborts; checked after every native call. */
  signal?: AbortSignal;
  /** Whose stack a native error is given (taken before any await). */
  caller?: Error;
  /** After every native call this run made (also when the run is being aborted). */
  onBatch?: (info: { sequences: number; tokens: number; waitMs: number; runMs: number }) => void;
  /** After every native call: sequences finished so far, and of how many. */
  onProgress?: (done: number, total: number) => void;
}

export type BatchRunResult = { sentence: Float32Array; tokens?: undefined } | { sentence?: undefined; tokens: Embeddings[] };

/**
 * Runs `total` sequences, `next(start)` giving the batch that starts at sequence `start`
 * (at least one sequence, within the budget).
 */
export async function runBatches(total: number, next: (start: number) => PackedBatch, o: BatchRunOptions): Promise<BatchRunResult> {
  const wantTokens = o.native.tokens;
  let sentence: Float32Array | undefined;
  const tokenRows: Embeddings[] = [];
  let start = 0;
  let pendingBatch = total > 0 ? next(0) : undefined;
  while (pendingBatch) {
    const batch = pendingBatch;
    const pending = o.batcher.submit(batch, o.native, o.budget, o.signal);
    // If preparing the next batch throws, this call is never awaited: keep its rejection handled.
    pending.catch(() => undefined);
    // Prepare the next batch while the engine works on this one.
    const end = start + batch.count;
    pendingBatch = end < total ? next(end) : undefined;
    let result: BatchResult;
    try {
      result = await pending;
    } catch (err) {
      throw withCallerStack(err, o.caller?.stack);
    }
    o.onBatch?.({ sequences: batch.count, tokens: batch.ids.length, waitMs: result.waitMs ?? 0, runMs: result.runMs ?? 0 });
    o.signal?.throwIfAborted();
    if (wantTokens) {
      // Views of the native output: each sequence's rows, no copy.
      const tokens = result.tokens!;
      for (let i = 0; i < batch.count; i++) {
        const a = batch.cuSeqlens[i];
        const b = batch.cuSeqlens[i + 1];
        tokenRows.push(new Embeddings(tokens.subarray(a * o.hidden, b * o.hidden), b - a, o.hidden, o.computePrecision));
      }
    } else if (start === 0 && end === total && result.sentence!.length === total * o.rowWidth) {
      sentence = result.sentence!; // one native call wrote the whole answer: hand it over as is
    } else {
      sentence ??= new Float32Array(total * o.rowWidth);
      sentence.set(result.sentence!, start * o.rowWidth);
    }
    start = end;
    o.onProgress?.(start, total);
  }
  return wantTokens ? { tokens: tokenRows } : { sentence: sentence ?? new Float32Array(0) };
}
