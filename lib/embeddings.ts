import type { Precision } from './precision';

/**
 * A batch of fixed-size vectors stored row-major in one Float32Array — what `encode` returns
 * and what the similarity functions take. Rows are in input order.
 */
export class Embeddings {
  /** Row-major `[count, dim]` values. */
  readonly data: Float32Array;
  /** Number of vectors (rows). */
  readonly count: number;
  /** Length of each vector. */
  readonly dim: number;
  /**
   * The precision the engine computed these values in ('fp32', 'int8' or 'bf16' on the CPU;
   * 'fp16', 'bf16' or 'fp32' on a GPU: the encoder's `precision`); undefined for embeddings
   * made otherwise. The values themselves are always float32 (quantized output is
   * `encode`'s `precision` option, a different thing).
   */
  readonly computePrecision: Precision | undefined;

  constructor(data: Float32Array, count: number, dim: number, computePrecision?: Precision) {
    if (!(data instanceof Float32Array)) throw new TypeError('data must be a Float32Array');
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer (got ${count})`);
    if (!Number.isInteger(dim) || dim < 0) throw new RangeError(`dim must be a non-negative integer (got ${dim})`);
    if (data.length !== count * dim) {
      throw new RangeError(`data has ${data.length} values but count × dim = ${count} × ${dim} = ${count * dim}`);
    }
    this.data = data;
    this.count = count;
    this.dim = dim;
    this.computePrecision = computePrecision;
  }

  /** Vector `i` as a view (no copy) of length `dim`. */
  row(i: number): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new RangeError(`row index ${i} is out of range [0, ${this.count})`);
    }
    return this.data.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /** All rows as plain arrays (for JSON output or small-scale use). */
  toArrays(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.count; i++) out.push(Array.from(this.row(i)));
    return out;
  }

  *[Symbol.iterator](): IterableIterator<Float32Array> {
    for (let i = 0; i < this.count; i++) yield this.row(i);
  }
}

/** Anything the similarity functions accept as a set of vectors. */
export type EmbeddingsLike = Embeddings | { data: Float32Array; count: number; dim: number };
