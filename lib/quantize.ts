/**
 * Quantized embeddings — sentence-transformers' `quantize_embeddings` (int8 / uint8 scalar
 * quantization, binary / ubinary sign bits packed 8 per byte) — and an exact Hamming-distance
 * top-k search over the binary ones in native code (AVX-512 VPOPCNTDQ where the CPU has it).
 *
 * Binary embeddings are 32× smaller than float32 ones and their search is much faster; the usual
 * recipe (sentence-transformers' "rescore") is to fetch a few times topK candidates with
 * {@link hammingSearch} and rescore those with the float32 query.
 */
import type { EmbeddingsLike } from './embeddings';
import type { Precision } from './precision';
import { native } from './native';
import { describe, hitsPerQuery, nativeError, positiveInt, toMatrix, type Matrix } from './search-args';
import { checkOptions } from './options';

/** The precisions of sentence-transformers' `quantize_embeddings`, in its order (the one list: encoder and CLI take it from here). */
export const QUANTIZATION_PRECISIONS = ['float32', 'int8', 'uint8', 'binary', 'ubinary'] as const;

/** The precisions of sentence-transformers' `quantize_embeddings`. */
export type QuantizationPrecision = (typeof QUANTIZATION_PRECISIONS)[number];

/** Whether `v` is one of {@link QUANTIZATION_PRECISIONS}. */
export function isQuantizationPrecision(v: unknown): v is QuantizationPrecision {
  return (QUANTIZATION_PRECISIONS as readonly unknown[]).includes(v);
}

/** The array type each precision produces. */
export interface QuantizedArrays {
  float32: Float32Array;
  int8: Int8Array;
  uint8: Uint8Array;
  binary: Int8Array;
  ubinary: Uint8Array;
}

/** Quantized rows: `count` rows of `dim` values each, row-major in `data`. */
export interface QuantizedEmbeddings<P extends QuantizationPrecision = QuantizationPrecision> {
  precision: P;
  data: QuantizedArrays[P];
  count: number;
  /** Values per row: the embedding dimension, or for binary / ubinary ceil(dimension / 8) bytes. */
  dim: number;
  /** From `encode`: the precision the engine computed the float embeddings in (Embeddings.computePrecision). */
  computePrecision?: Precision;
}

/** Options of {@link quantizeEmbeddings} (int8 / uint8 only; ignored by the other precisions). */
export interface QuantizeOptions {
  /**
   * Per-dimension `[min, max]` rows — numpy's shape (2, dim): `ranges[0][d]` is the value that
   * maps to the lowest bucket and `ranges[1][d]` to the highest. Rounded to float32 (as when
   * sentence-transformers computes them from float32 embeddings). Wins over `calibration`.
   */
  ranges?: [ArrayLike<number>, ArrayLike<number>];
  /**
   * Embeddings to take the per-dimension min and max from (recommended: a few thousand corpus
   * embeddings). Without `ranges` or `calibration` they come from the embeddings being quantized.
   */
  calibration?: EmbeddingsLike;
}

/** One Hamming search result: the corpus row and its number of differing bits from the query. */
export interface HammingHit {
  corpusId: number;
  distance: number;
}

/** Options of {@link hammingSearch}. */
export interface HammingSearchOptions {
  /** Results per query; default 10. Larger than the corpus → the whole corpus, ranked. */
  topK?: number;
}


// Per-dimension min and max of m's rows in float32, NaN when a column holds NaN (numpy's min/max).
function columnRanges(m: Matrix): [Float32Array, Float32Array] {
  const lo = new Float32Array(m.dim).fill(Infinity);
  const hi = new Float32Array(m.dim).fill(-Infinity);
  const { data, dim } = m;
  for (let i = 0; i < m.count; i++) {
    const base = i * dim;
    for (let d = 0; d < dim; d++) {
      const v = data[base + d];
      if (Number.isNaN(v)) {
        lo[d] = NaN;
        hi[d] = NaN;
      } else {
        if (v < lo[d]) lo[d] = v;
        if (v > hi[d]) hi[d] = v;
      }
    }
  }
  return [lo, hi];
}

function explicitRanges(ranges: unknown, dim: number): [Float32Array, Float32Array] {
  if (!Array.isArray(ranges) || ranges.length !== 2) {
    throw new TypeError(`ranges must be [min, max]: two arrays of ${dim} numbers (got ${describe(ranges)})`);
  }
  const rows = ranges.map((row: unknown, r) => {
    if (!(Array.isArray(row) || ArrayBuffer.isView(row))) throw new TypeError(`ranges[${r}] must be an array of numbers (got ${describe(row)})`);
    const values = row as ArrayLike<unknown>;
    if (values.length !== dim) throw new RangeError(`ranges[${r}] has ${values.length} values; the embeddings have dim ${dim}`);
    const out = new Float32Array(dim);
    for (let d = 0; d < dim; d++) {
      if (typeof values[d] !== 'number') throw new TypeError(`ranges[${r}][${d}] must be a number (got ${describe(values[d])})`);
      out[d] = values[d] as number;
    }
    return out;
  });
  return [rows[0], rows[1]];
}

/**
 * Quantizes float32 embeddings exactly as sentence-transformers' `quantize_embeddings` does
 * (same values, bit for bit):
 * - `'float32'`: a copy.
 * - `'uint8'` / `'int8'`: per dimension d, `start = min[d]`, `step = (max[d] - min[d]) / 255`, and
 *   each value becomes `trunc((x - start) / step)` (uint8) or `trunc((x - start) / step - 128)`
 *   (int8), all in float32 arithmetic. The ranges come from `options.ranges`, else
 *   `options.calibration`, else the embeddings themselves (then at least ~100 rows are advisable).
 *   As in numpy's cast, values outside the ranges wrap around modulo 256 rather than saturate
 *   (e.g. a uint8 value of -1 becomes 255), and a constant dimension (step 0) gives 0.
 * - `'ubinary'`: the sign bits (`x > 0`) packed 8 per byte, first dimension in the high bit
 *   (numpy's `packbits`); `'binary'`: the same bytes minus 128, as Int8Array.
 *   A dimension that is not a multiple of 8 pads each row's last byte with zero bits
 *   (sentence-transformers packs the whole array at once and then works only when the rows come
 *   out whole; where it does, the values are the same).
 *
 * Synchronous: one pass over the values (≈ 0.1 s per million int8 values on one core).
 *
 * @throws TypeError for non-float32 input or a bad option; RangeError for a bad precision or
 *   ranges / calibration whose dimension differs.
 */
export function quantizeEmbeddings<P extends QuantizationPrecision>(
  embeddings: EmbeddingsLike,
  precision: P,
  options: QuantizeOptions = {},
): QuantizedEmbeddings<P> {
  // sentence-transformers refuses integer input too: quantizing quantized values is a mistake.
  const m = toMatrix(embeddings, 'embeddings');
  if (typeof precision !== 'string') throw new TypeError(`precision must be one of ${QUANTIZATION_PRECISIONS.join(', ')} (got ${describe(precision)})`);
  if (!isQuantizationPrecision(precision)) throw new RangeError(`precision must be one of ${QUANTIZATION_PRECISIONS.join(', ')} (got '${precision}')`);
  const opts = checkOptions<QuantizeOptions>(options, { ranges: 'any', calibration: 'any' }, { fn: 'quantizeEmbeddings' });
  const { count, dim, data } = m;
  const result = (out: QuantizedArrays[P], width: number): QuantizedEmbeddings<P> => ({ precision, data: out, count, dim: width });

  if (precision === 'float32') return result(data.slice() as QuantizedArrays[P], dim);

  if (precision === 'binary' || precision === 'ubinary') {
    const rowBytes = Math.ceil(dim / 8);
    const packed = new Uint8Array(count * rowBytes);
    for (let i = 0; i < count; i++) {
      const src = i * dim;
      const dst = i * rowBytes;
      for (let d = 0; d < dim; d++) {
        if (data[src + d] > 0) packed[dst + (d >> 3)] |= 0x80 >> (d & 7);
      }
    }
    if (precision === 'ubinary') return result(packed as QuantizedArrays[P], rowBytes);
    const signed = new Int8Array(packed.length);
    for (let t = 0; t < packed.length; t++) signed[t] = packed[t] - 128;
    return result(signed as QuantizedArrays[P], rowBytes);
  }

  // int8 / uint8: float32 arithmetic throughout (Math.fround after every operation; for float32
  // operands one double operation rounded once to float32 is the correctly rounded float32 result).
  let lo: Float32Array;
  let hi: Float32Array;
  if (opts.ranges !== undefined) {
    [lo, hi] = explicitRanges(opts.ranges, dim);
  } else if (opts.calibration !== undefined) {
    const cal = toMatrix(opts.calibration, 'calibration');
    if (cal.dim !== dim) throw new RangeError(`calibration dim ${cal.dim} does not match embeddings dim ${dim}`);
    if (cal.count === 0) throw new RangeError('calibration has no rows to take ranges from');
    [lo, hi] = columnRanges(cal);
  } else {
    [lo, hi] = columnRanges(m);
  }
  const steps = new Float32Array(dim);
  for (let d = 0; d < dim; d++) steps[d] = Math.fround(hi[d] - lo[d]) / 255;
  // Typed-array stores convert like numpy's float → int8/uint8 cast on x86: truncate toward zero,
  // keep the low 8 bits; NaN and ±Infinity give 0.
  const out = precision === 'uint8' ? new Uint8Array(count * dim) : new Int8Array(count * dim);
  const offset = precision === 'int8' ? 128 : 0;
  for (let i = 0; i < count; i++) {
    const base = i * dim;
    for (let d = 0; d < dim; d++) {
      const scaled = Math.fround(Math.fround(data[base + d] - lo[d]) / steps[d]);
      out[base + d] = offset ? Math.fround(scaled - offset) : scaled;
    }
  }
  return result(out as QuantizedArrays[P], dim);
}

// Packed binary rows: a QuantizedEmbeddings of precision binary/ubinary, or { data, count, dim }
// with a Uint8Array / Int8Array of count × dim bytes.
function packedRows(x: unknown, name: string): { data: Uint8Array | Int8Array; count: number; dim: number } {
  if (x === null || typeof x !== 'object') {
    throw new TypeError(`${name} must be binary or ubinary embeddings from quantizeEmbeddings (got ${describe(x)})`);
  }
  const o = x as { data?: unknown; count?: unknown; dim?: unknown; precision?: unknown };
  if (o.precision !== undefined && o.precision !== 'binary' && o.precision !== 'ubinary') {
    throw new TypeError(`${name} must be 'binary' or 'ubinary' embeddings (got '${String(o.precision)}'): Hamming distance needs packed bits`);
  }
  if (!(o.data instanceof Uint8Array || o.data instanceof Int8Array)) {
    throw new TypeError(`${name}.data must be a Uint8Array or Int8Array of packed bits (got ${describe(o.data)})`);
  }
  if (typeof o.count !== 'number' || typeof o.dim !== 'number') throw new TypeError(`${name}.count and ${name}.dim must be numbers`);
  if (!Number.isSafeInteger(o.count) || o.count < 0) throw new RangeError(`${name}.count must be a non-negative integer (got ${o.count})`);
  if (!Number.isSafeInteger(o.dim) || o.dim < 0) throw new RangeError(`${name}.dim must be a non-negative integer (got ${o.dim})`);
  if (o.data.length !== o.count * o.dim) {
    throw new RangeError(`${name}.data has ${o.data.length} bytes but count × dim = ${o.count} × ${o.dim} = ${o.count * o.dim}`);
  }
  return { data: o.data, count: o.count, dim: o.dim };
}

/**
 * For each query, the `topK` corpus rows with the fewest differing bits — an exact Hamming-
 * distance search over packed binary embeddings (`quantizeEmbeddings(x, 'ubinary' | 'binary')`;
 * queries and corpus must have the same precision). Returns one array per query of
 * `{ corpusId, distance }`, nearest first, ties broken by the lower corpusId. Runs off the event
 * loop on a copy of the inputs taken before the promise is returned.
 *
 * @throws TypeError for inputs that are not packed bits or mix binary with ubinary; RangeError for
 *   a row length mismatch or a topK that is not a positive integer.
 */
export async function hammingSearch(
  queries: QuantizedEmbeddings | { data: Uint8Array | Int8Array; count: number; dim: number },
  corpus: QuantizedEmbeddings | { data: Uint8Array | Int8Array; count: number; dim: number },
  options: HammingSearchOptions = {},
): Promise<HammingHit[][]> {
  const stack = new Error().stack;
  const q = packedRows(queries, 'queries');
  const c = packedRows(corpus, 'corpus');
  if (q.dim !== c.dim) throw new RangeError(`queries rows have ${q.dim} bytes but corpus rows have ${c.dim}`);
  if (q.data.constructor !== c.data.constructor) {
    throw new TypeError(`queries (${describe(q.data)}) and corpus (${describe(c.data)}) must both be 'binary' (Int8Array) or both 'ubinary' (Uint8Array)`);
  }
  const opts = checkOptions<HammingSearchOptions>(options, { topK: 'any' }, { fn: 'hammingSearch' });
  const k = positiveInt(opts.topK, 'topK', 10);
  if (q.count === 0) return [];
  if (c.count === 0) return Array.from({ length: q.count }, () => []);
  let res: { indices: Int32Array; distances: Int32Array; k: number };
  try {
    res = await native().hammingSearch({
      queries: q.data,
      queryCount: q.count,
      corpus: c.data,
      corpusCount: c.count,
      rowBytes: q.dim,
      topK: Math.min(k, c.count),
    });
  } catch (err) {
    throw nativeError(err, stack);
  }
  return hitsPerQuery<HammingHit>(q.count, res.k, (o) => ({ corpusId: res.indices[o], distance: res.distances[o] }));
}

/** The Hamming distance path in use: `'avx512-vpopcntdq'`, `'popcnt'` or `'portable'`. */
export function hammingInfo(): { kernel: string } {
  return native().hammingInfo();
}
