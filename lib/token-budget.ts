/**
 * The token budget: `batchTokens` is the number of tokens (sum of sequence lengths, special
 * tokens included) one native call may take — everywhere: the encoder cuts its input into
 * native calls at it, the batcher never merges callers' batches beyond the smallest budget
 * among them, and the training session's evaluation encodes use it. (How much workspace an
 * engine keeps between calls is a separate, internal setting: `retainTokens`.)
 */

/** Default token budget per native call on the CPU. */
export const CPU_BATCH_TOKENS = 8192;
/**
 * Default token budget per native call on the CPU in int8 or bf16. Their GEMMs are 3-5× faster
 * than fp32's, so past ~2k tokens per call the activations' trips through memory dominate: on the
 * MiniLM-L6 shape one thread spent 1.4-2× the CPU time per token at 8,192 tokens per call as at
 * 2,048 (fp32: 1.1×).
 */
export const CPU_LOW_PRECISION_BATCH_TOKENS = 2048;
/** Default token budget per native call on a GPU. */
export const CUDA_BATCH_TOKENS = 65536;
/**
 * Largest token budget per native call. Workspaces grow with the tokens of each call (about
 * 4 × (6·hidden + intermediate) bytes per token on the CPU: ~15 GB at this cap for MiniLM), so
 * a larger budget only risks running out of memory without making anything faster.
 */
export const MAX_BATCH_TOKENS = 1 << 20;

/** `v` as a token budget, or a RangeError naming `name`. */
export function checkBatchTokens(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_BATCH_TOKENS) {
    throw new RangeError(`${name} must be an integer in [1, ${MAX_BATCH_TOKENS}] (got ${String(v)})`);
  }
  return v;
}

/**
 * Where the next native call ends: the largest `end` in (start, limit] such that sequences
 * [start, end) hold at most `budget` tokens — but at least one sequence, however long.
 * `cuSeqlens` are the prefix sums of the sequence lengths (cuSeqlens[i] = tokens before i).
 */
export function cutAtBudget(cuSeqlens: ArrayLike<number>, start: number, limit: number, budget: number): number {
  const base = cuSeqlens[start];
  let end = start + 1;
  while (end < limit && cuSeqlens[end + 1] - base <= budget) end++;
  return end;
}

/** Every cut of sequences [0, count) into native calls: [0, e1, e2, …, count] (cutAtBudget repeated). */
export function budgetBounds(cuSeqlens: ArrayLike<number>, count: number, budget: number): number[] {
  const bounds = [0];
  for (let s = 0; s < count; s = bounds[bounds.length - 1]) bounds.push(cutAtBudget(cuSeqlens, s, count, budget));
  return bounds;
}

/** A packed batch: the ids of every sequence back to back, and their prefix sums. */
export interface PackedIds {
  ids: Int32Array;
  cuSeqlens: Int32Array;
  /** Token type ids, one per token (pairs); absent: all 0. */
  typeIds?: Int32Array;
}

/** Sequences [start, end) of a packed batch as a packed batch of their own (cuSeqlens from 0). */
export function slicePacked(packed: PackedIds, start: number, end: number): PackedIds {
  const a = packed.cuSeqlens[start];
  const b = packed.cuSeqlens[end];
  const cuSeqlens = start === 0 && end === packed.cuSeqlens.length - 1 ? packed.cuSeqlens : packed.cuSeqlens.slice(start, end + 1);
  if (a !== 0) for (let i = 0; i < cuSeqlens.length; i++) cuSeqlens[i] -= a;
  const out: PackedIds = { ids: packed.ids.subarray(a, b), cuSeqlens };
  if (packed.typeIds) out.typeIds = packed.typeIds.subarray(a, b);
  return out;
}
