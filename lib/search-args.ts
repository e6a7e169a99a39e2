/**
 * Argument checks and native-error mapping shared by the search functions (lib/similarity.ts,
 * lib/quantize.ts). Internal: not re-exported from the package.
 */
import { Embeddings, type EmbeddingsLike } from './embeddings';
import { withCallerStack, type NativeScoreFunction } from './native';
import { checkOptions, type OptionSpec } from './options';

type SimilarityFunction = NativeScoreFunction;

/** The keys of similarity() / similarityPairwise() options. */
export const SIMILARITY_OPTIONS: OptionSpec = { scoreFunction: 'any', fn: 'any' };

/** A short description of a value's type for TypeError messages ("Int8Array", "null", "an array"). */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (ArrayBuffer.isView(x)) return x.constructor.name;
  return typeof x;
}

/** A positive safe integer (at most 2^53 - 1, beyond which integers are not exact), else a TypeError / RangeError naming it. */
export function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a positive integer (got ${describe(value)})`);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer no larger than 2^53 - 1 (got ${value})`);
  }
  return value;
}

/**
 * A native rejection as the caller should see it: argument errors stay TypeError / RangeError,
 * the rest are the SbertErrors the addon made; the stack is the caller's (taken before the await).
 */
export function nativeError(err: unknown, stack: string | undefined): unknown {
  if (err instanceof RangeError || err instanceof TypeError) {
    if (stack) err.stack = `${err.name}: ${err.message}\n${stack.split('\n').slice(1).join('\n')}`;
    return err;
  }
  return withCallerStack(err, stack);
}

/** The sentence every "wrong kind of embeddings" message ends with. */
const WHAT_TO_PASS = 'pass the Embeddings from encode, or { data: Float32Array, count, dim }';

/** Row-major `[count, dim]` float32 vectors, checked. */
export interface Matrix {
  data: Float32Array;
  count: number;
  dim: number;
}

/** `x` as a checked Matrix (an Embeddings, or `{ data: Float32Array, count, dim }` with matching length), else a TypeError / RangeError naming it. */
export function toMatrix(x: unknown, name: string): Matrix {
  if (x instanceof Embeddings) return x;
  if (ArrayBuffer.isView(x)) {
    // The common slip: one row (`e.row(0)`) where a set of rows is expected.
    throw new TypeError(
      `${name}: a ${x.constructor.name} was passed (one row, such as e.row(0)?); ${WHAT_TO_PASS}, ` +
        'or for one row { data: row, count: 1, dim: row.length }',
    );
  }
  if (Array.isArray(x)) {
    throw new TypeError(`${name}: an array was passed; ${WHAT_TO_PASS} (for number[][] rows: new Embeddings(Float32Array.from(rows.flat()), rows.length, dim))`);
  }
  if (x === null || typeof x !== 'object') {
    throw new TypeError(`${name}: ${describe(x)} was passed; ${WHAT_TO_PASS}`);
  }
  const o = x as { data?: unknown; count?: unknown; dim?: unknown };
  if (o.data === undefined) throw new TypeError(`${name}: an object without data was passed; ${WHAT_TO_PASS}`);
  if (!(o.data instanceof Float32Array)) {
    throw new TypeError(`${name}.data must be a Float32Array (got ${describe(o.data)}); ${WHAT_TO_PASS}`);
  }
  if (typeof o.count !== 'number') throw new TypeError(`${name}.count must be a number (got ${describe(o.count)})`);
  if (typeof o.dim !== 'number') throw new TypeError(`${name}.dim must be a number (got ${describe(o.dim)})`);
  if (!Number.isInteger(o.count) || o.count < 0) throw new RangeError(`${name}.count must be a non-negative integer (got ${o.count})`);
  if (!Number.isInteger(o.dim) || o.dim < 0) throw new RangeError(`${name}.dim must be a non-negative integer (got ${o.dim})`);
  if (o.data.length !== o.count * o.dim) {
    throw new RangeError(`${name}.data has ${o.data.length} values but count × dim = ${o.count} × ${o.dim} = ${o.count * o.dim}`);
  }
  return { data: o.data, count: o.count, dim: o.dim };
}

/** Splits a native `[count × k]` top-k result into one array of `k` hits per query; `hit(o)` builds the hit at flat offset `o`. */
export function hitsPerQuery<T>(count: number, k: number, hit: (offset: number) => T): T[][] {
  const out: T[][] = new Array(count);
  for (let i = 0; i < count; i++) {
    const hits: T[] = new Array(k);
    for (let t = 0; t < k; t++) hits[t] = hit(i * k + t);
    out[i] = hits;
  }
  return out;
}

const SCORE_FUNCTIONS: readonly SimilarityFunction[] = ['cosine', 'dot', 'euclidean', 'manhattan'];

// options.scoreFunction, or its older name options.fn; 'cosine' when neither is given.
export function scoreFn(opts: { scoreFunction?: unknown; fn?: unknown }): SimilarityFunction {
  const name = opts.scoreFunction !== undefined ? 'scoreFunction' : 'fn';
  const value = opts.scoreFunction !== undefined ? opts.scoreFunction : opts.fn;
  if (opts.scoreFunction !== undefined && opts.fn !== undefined && opts.scoreFunction !== opts.fn) {
    throw new TypeError(`give scoreFunction or fn, not both ('${String(opts.scoreFunction)}' and '${String(opts.fn)}')`);
  }
  if (value === undefined) return 'cosine';
  const expected = `'cosine', 'dot', 'euclidean' or 'manhattan'`;
  if (typeof value !== 'string') throw new TypeError(`${name} must be ${expected} (got ${describe(value)})`);
  if (!(SCORE_FUNCTIONS as readonly string[]).includes(value)) throw new RangeError(`${name} must be ${expected} (got '${value}')`);
  return value as SimilarityFunction;
}


/** Row i of `x` against row i of `y` with `fn`, in float64 (sentence-transformers' `pairwise_*` functions). */
export function pairwiseScores(x: Matrix, y: Matrix, fn: SimilarityFunction): Float32Array {
  const out = new Float32Array(x.count);
  for (let r = 0; r < x.count; r++) {
    let dot = 0, aa = 0, bb = 0, l1 = 0, l2 = 0;
    for (let j = 0; j < x.dim; j++) {
      const u = x.data[r * x.dim + j], v = y.data[r * x.dim + j];
      dot += u * v;
      aa += u * u;
      bb += v * v;
      l1 += Math.abs(u - v);
      l2 += (u - v) * (u - v);
    }
    // torch's cosine_similarity clamps each norm at eps 1e-8 (a zero vector scores 0).
    out[r] = fn === 'cosine' ? dot / (Math.max(Math.sqrt(aa), 1e-8) * Math.max(Math.sqrt(bb), 1e-8))
      : fn === 'dot' ? dot : fn === 'euclidean' ? -Math.sqrt(l2) : -l1;
  }
  return out;
}

/** The checked pair of `similarityPairwise` (same shape), with its score function. */
export function pairwiseArgs(a: EmbeddingsLike, b: EmbeddingsLike, options: { scoreFunction?: unknown; fn?: unknown }, fnName: string): { x: Matrix; y: Matrix; fn: SimilarityFunction } {
  const x = toMatrix(a, 'a');
  const y = toMatrix(b, 'b');
  if (x.count !== y.count || x.dim !== y.dim) {
    throw new RangeError(`a and b must have the same shape (a is ${x.count} × ${x.dim}, b is ${y.count} × ${y.dim})`);
  }
  const opts = checkOptions<{ scoreFunction?: unknown; fn?: unknown }>(options, SIMILARITY_OPTIONS, { fn: fnName });
  return { x, y, fn: scoreFn(opts) };
}

