/**
 * Similarity and search over embeddings — the sentence-transformers `util` functions
 * (`cos_sim`/`dot_score`/`euclidean_sim`/`manhattan_sim`, `semantic_search`, `paraphrase_mining`,
 * `community_detection`) on a native blocked GEMM with the top-k fused into it, so a 100k × 100k
 * search never materialises the score matrix. CPU by default (exact fp32, deterministic);
 * `device: 'cuda'` runs cosine/dot searches on tensor cores (fp16 inputs, fp32 accumulation:
 * scores differ from the CPU's by ~1e-3).
 *
 * Every function copies its input vectors (once) before it returns its promise: the native
 * workers read only memory they own, so the caller may reuse, modify or transfer its arrays
 * right away. The copy is one parallel memcpy on the calling thread (into huge pages where the
 * OS allows), the only main-thread cost of a search.
 *
 * Ordering everywhere: score descending, ties broken by the lower index.
 */
import { Embeddings, EmbeddingsLike } from './embeddings';
import { SbertError } from './errors';
import { native, type NativePairOptions, type NativeRowsHandle, type NativeScoreFunction } from './native';
import { describe, hitsPerQuery, nativeError, pairwiseArgs, pairwiseScores, positiveInt, scoreFn, SIMILARITY_OPTIONS, toMatrix, type Matrix } from './search-args';
import { checkOptions, type OptionSpec } from './options';

/**
 * How two vectors are compared (sentence-transformers' `similarity_fn_name`): cosine of the angle
 * (rows normalised first), the raw dot product, or the negative euclidean / manhattan distance
 * (so that, for all four, a higher score means more similar).
 */
export type SimilarityFunction = NativeScoreFunction;

/**
 * Where a search runs: `'cpu'` (default), `'cuda'` (device 0), `'cuda:N'`, or `'auto'` (the first
 * CUDA device when this build has CUDA and one is present, else the CPU).
 */
export type SimilarityDevice = 'cpu' | 'cuda' | `cuda:${number}` | 'auto';

/** Options of {@link similarity}. */
export interface SimilarityOptions {
  /** Score function; default `'cosine'`. */
  scoreFunction?: SimilarityFunction;
  /** The same as `scoreFunction` (its older name); give one or the other. */
  fn?: SimilarityFunction;
}

/** One search result: the row of the corpus and its score against the query. */
export interface SearchHit {
  corpusId: number;
  score: number;
}

/** Options of {@link semanticSearch}. */
export interface SemanticSearchOptions {
  /** Results per query; default 10. Larger than the corpus → the whole corpus, ranked. */
  topK?: number;
  /** Score function (sentence-transformers' `score_function`); default `'cosine'`. */
  scoreFunction?: SimilarityFunction;
  /** The same as `scoreFunction` (its older name); give one or the other. */
  fn?: SimilarityFunction;
  /**
   * Accepted for parity with sentence-transformers (which processes 100 queries at a time); the
   * native kernel tiles queries and corpus by cache size itself, so this does not change results
   * or memory use. Must be a positive integer when given.
   */
  queryChunkSize?: number;
  /** Like `queryChunkSize`: accepted and validated, not needed (results never depend on it). */
  corpusChunkSize?: number;
  /**
   * Where to run; default `'cpu'`. On CUDA a topK above the fused kernel's limit
   * (`similarityInfo().cudaMaxK`, 128; lower on GPUs with less shared memory per block:
   * 64 on A100, 32 on RTX 30/40 cards), and the euclidean and manhattan functions, run on the
   * CPU instead, with the same results (the device must still exist).
   */
  device?: SimilarityDevice;
}

/** A pair of similar sentences from {@link paraphraseMining}; always `i < j`. */
export interface ParaphrasePair {
  score: number;
  i: number;
  j: number;
}

/** Options of {@link paraphraseMining}. */
export interface ParaphraseMiningOptions {
  /** For each sentence, consider its `topK` most similar other sentences; default 100. */
  topK?: number;
  /** Return at most this many pairs (the highest scoring); default 500000. */
  maxPairs?: number;
  /** Score function; default `'cosine'`. */
  scoreFunction?: SimilarityFunction;
  /** The same as `scoreFunction` (its older name); give one or the other. */
  fn?: SimilarityFunction;
  /** Accepted for parity with sentence-transformers; does not change results. */
  queryChunkSize?: number;
  /**
   * As in sentence-transformers, the top-k candidates of each sentence are taken within each
   * corpus chunk of this many sentences (default 100000), so inputs larger than one chunk get up
   * to topK + 1 candidates per chunk.
   */
  corpusChunkSize?: number;
  /** Where the search runs; default `'cpu'`. */
  device?: SimilarityDevice;
}

/** Options of {@link communityDetection}. */
export interface CommunityDetectionOptions {
  /** Cosine similarity at or above which two embeddings are "close"; default 0.75. */
  threshold?: number;
  /** Smallest community returned; default 10 (capped at the number of embeddings). */
  minCommunitySize?: number;
  /** Embeddings scored against all others per native call (bounds memory); default 1024. */
  batchSize?: number;
}

/** Anything with the SentenceEncoder's `encode(texts)` — what {@link paraphraseMining} can encode with. */
export interface TextEncoderLike {
  encode(texts: string[]): Promise<EmbeddingsLike>;
}



/** The CPU micro-kernel in use (`'avx512'`, `'avx2-fma'` or `'portable'`) and the largest topK the CUDA kernel fuses (0 without CUDA). */
export function similarityInfo(): { kernel: string; cudaMaxK: number } {
  return native().similarityInfo();
}

// ---- argument checks ------------------------------------------------------------------------

// The keys each function takes (values are checked below, where their ranges are known).
const SEARCH_OPTIONS: OptionSpec = { topK: 'any', scoreFunction: 'any', fn: 'any', queryChunkSize: 'any', corpusChunkSize: 'any', device: 'any' };
const MINING_OPTIONS: OptionSpec = { ...SEARCH_OPTIONS, maxPairs: 'any' };
const COMMUNITY_OPTIONS: OptionSpec = { threshold: 'any', minCommunitySize: 'any', batchSize: 'any' };

function sameDim(a: Matrix, an: string, b: Matrix, bn: string): void {
  if (a.dim !== b.dim) throw new RangeError(`${an} dim ${a.dim} does not match ${bn} dim ${b.dim}`);
}

// A native-owned copy of m's rows: taken synchronously, before the caller's first await, so no
// worker ever reads the caller's (detachable) memory.
function ownRows(m: Matrix): NativeRowsHandle {
  return native().similarityRows({ data: m.data, count: m.count, dim: m.dim });
}

function parseDevice(value: unknown): { device: 'cpu' | 'cuda'; index: number } {
  if (value === undefined || value === 'cpu') return { device: 'cpu', index: 0 };
  if (typeof value !== 'string') throw new TypeError(`device must be 'cpu', 'cuda', 'cuda:N' or 'auto' (got ${describe(value)})`);
  if (value === 'auto') {
    let devices: unknown[] = [];
    try {
      devices = native().cudaDevices();
    } catch {
      devices = [];
    }
    return devices.length > 0 && native().similarityInfo().cudaMaxK > 0 ? { device: 'cuda', index: 0 } : { device: 'cpu', index: 0 };
  }
  if (value === 'cuda') return { device: 'cuda', index: 0 };
  const m = /^cuda:(\d+)$/.exec(value);
  if (m) return { device: 'cuda', index: Number(m[1]) };
  throw new RangeError(`device must be 'cpu', 'cuda', 'cuda:N' or 'auto' (got '${value}')`);
}

// Native top-k of every query against corpus rows; scores/indices [nq × k] best first.
async function topK(
  options: NativePairOptions & { topK: number },
  device: { device: 'cpu' | 'cuda'; index: number },
  stack: string | undefined,
): Promise<{ indices: Int32Array; scores: Float32Array; k: number }> {
  try {
    return await native().topKSimilarity({ ...options, device: device.device, deviceIndex: device.index });
  } catch (err) {
    throw nativeError(err, stack);
  }
}

// ---- similarity matrix ----------------------------------------------------------------------

/**
 * The scores of {@link similarity}: a `Float32Array` of `rowCount × columnCount` values, row-major
 * (`m[i * columnCount + j]` is row i of `a` against row j of `b`, as before), with its shape and
 * 2-D access: `get(i, j)`, `row(i)` (a view) and `rows()` (plain arrays, e.g. for JSON or
 * console.table). Methods that make new arrays (`slice`, `map`, `subarray`) give plain
 * Float32Arrays.
 */
export class SimilarityMatrix extends Float32Array {
  static get [Symbol.species](): Float32ArrayConstructor {
    return Float32Array;
  }

  /** Rows of `a` (queries). */
  readonly rowCount: number;
  /** Rows of `b` (the compared set). */
  readonly columnCount: number;

  /** Wraps `values` (row-major, `rowCount × columnCount`) without copying. */
  constructor(values: Float32Array, rowCount: number, columnCount: number) {
    super(values.buffer as ArrayBuffer, values.byteOffset, values.length);
    if (!Number.isSafeInteger(rowCount) || !Number.isSafeInteger(columnCount) || rowCount < 0 || columnCount < 0 || rowCount * columnCount !== values.length) {
      throw new RangeError(`a ${rowCount} × ${columnCount} matrix needs ${rowCount * columnCount} values, got ${values.length}`);
    }
    this.rowCount = rowCount;
    this.columnCount = columnCount;
  }

  /** The score of row `i` of `a` against row `j` of `b`. */
  get(i: number, j: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.rowCount) throw new RangeError(`row index ${i} is out of range [0, ${this.rowCount})`);
    if (!Number.isInteger(j) || j < 0 || j >= this.columnCount) throw new RangeError(`column index ${j} is out of range [0, ${this.columnCount})`);
    return this[i * this.columnCount + j];
  }

  /** Row `i` (row `i` of `a` against every row of `b`) as a view, no copy. */
  row(i: number): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.rowCount) throw new RangeError(`row index ${i} is out of range [0, ${this.rowCount})`);
    return this.subarray(i * this.columnCount, (i + 1) * this.columnCount);
  }

  /** All rows as plain `number[][]`. */
  rows(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.rowCount; i++) out.push(Array.from(this.row(i)));
    return out;
  }
}

/**
 * The score of every row of `a` against every row of `b`, like sentence-transformers'
 * `cos_sim(a, b)` / `dot_score(a, b)` / `euclidean_sim(a, b)` / `manhattan_sim(a, b)`: a row-major
 * `Float32Array` of `a.count × b.count` values, `out[i * b.count + j] = score(a[i], b[j])`.
 * Cosine normalises rows first (a zero vector scores 0); euclidean and manhattan are negative
 * distances. Runs off the event loop; use {@link semanticSearch} when only the best matches are
 * needed or the matrix would be large.
 *
 * @throws TypeError for arguments of the wrong type; RangeError when the dims differ, when a row
 *   holds NaN/Infinity (`a row 3 contains NaN`), or when the matrix exceeds 2^32 entries.
 */
export async function similarity(a: EmbeddingsLike, b: EmbeddingsLike, options: SimilarityOptions = {}): Promise<SimilarityMatrix> {
  const stack = new Error().stack;
  const am = toMatrix(a, 'a');
  const bm = toMatrix(b, 'b');
  sameDim(am, 'a', bm, 'b');
  const opts = checkOptions<SimilarityOptions>(options, SIMILARITY_OPTIONS, { fn: 'similarity' });
  const fn = scoreFn(opts);
  try {
    const queries = ownRows(am);
    const corpus = a === b ? queries : ownRows(bm);
    const scores = await native().similarityMatrix({ queries, corpus, scoreFunction: fn, names: ['a', 'b'] });
    return new SimilarityMatrix(scores, am.count, bm.count);
  } catch (err) {
    throw nativeError(err, stack);
  }
}

/** Cosine similarity matrix of `a` × `b` — `similarity(a, b, { scoreFunction: 'cosine' })` (sentence-transformers `cos_sim`). */
export function cosSim(a: EmbeddingsLike, b: EmbeddingsLike): Promise<SimilarityMatrix> {
  return similarity(a, b, { scoreFunction: 'cosine' });
}

/** Dot-product matrix of `a` × `b` — `similarity(a, b, { scoreFunction: 'dot' })` (sentence-transformers `dot_score`). */
export function dotScore(a: EmbeddingsLike, b: EmbeddingsLike): Promise<SimilarityMatrix> {
  return similarity(a, b, { scoreFunction: 'dot' });
}

/**
 * Row i of `a` scored against row i of `b` only — sentence-transformers' `pairwise_cos_sim` /
 * `pairwise_dot_score` / `pairwise_euclidean_sim` / `pairwise_manhattan_sim` (and
 * `model.similarity_pairwise`): a Float32Array of `a.count` scores, computed in float64. Like
 * every similarity and search function here it returns a Promise (a bad argument rejects it).
 */
export async function similarityPairwise(a: EmbeddingsLike, b: EmbeddingsLike, options: SimilarityOptions = {}): Promise<Float32Array> {
  const { x, y, fn } = pairwiseArgs(a, b, options, 'similarityPairwise');
  return pairwiseScores(x, y, fn);
}

// ---- semantic search ------------------------------------------------------------------------

/**
 * For each query, the `topK` most similar corpus rows — sentence-transformers'
 * `util.semantic_search`. Returns one array per query of `{ corpusId, score }`, sorted by score
 * descending (ties: lower corpusId first). `scoreFunction` is `'cosine'` (default), `'dot'`, or
 * `'euclidean'` / `'manhattan'`, whose scores are negative distances (sentence-transformers'
 * `euclidean_sim` / `manhattan_sim`: the nearest row has the highest score). `topK` larger than
 * the corpus returns the whole corpus ranked; an empty corpus gives empty arrays. Runs off the
 * event loop (native worker threads) on a copy of the inputs taken before the promise is returned.
 *
 * @throws TypeError for arguments of the wrong type; RangeError for a dim mismatch, NaN/Infinity
 *   in a row (`queries row 17 contains NaN`), or a topK that is not a positive integer;
 *   SbertError `ERR_NO_CUDA` when CUDA is asked of a build or machine without it.
 */
export async function semanticSearch(
  queries: EmbeddingsLike,
  corpus: EmbeddingsLike,
  options: SemanticSearchOptions = {},
): Promise<SearchHit[][]> {
  const stack = new Error().stack;
  const q = toMatrix(queries, 'queries');
  const c = toMatrix(corpus, 'corpus');
  sameDim(q, 'queries', c, 'corpus');
  const opts = checkOptions<SemanticSearchOptions>(options, SEARCH_OPTIONS, { fn: 'semanticSearch' });
  const k = positiveInt(opts.topK, 'topK', 10);
  positiveInt(opts.queryChunkSize, 'queryChunkSize', 100);
  positiveInt(opts.corpusChunkSize, 'corpusChunkSize', 500000);
  const fn = scoreFn(opts);
  const device = parseDevice(opts.device);
  if (q.count === 0) return [];
  if (c.count === 0) return Array.from({ length: q.count }, () => []);
  let handles: { queries: NativeRowsHandle; corpus: NativeRowsHandle };
  try {
    const queryRows = ownRows(q);
    handles = { queries: queryRows, corpus: corpus === queries ? queryRows : ownRows(c) };
  } catch (err) {
    throw nativeError(err, stack);
  }
  const res = await topK({ ...handles, topK: Math.min(k, c.count), scoreFunction: fn, names: ['queries', 'corpus'] }, device, stack);
  return hitsPerQuery<SearchHit>(q.count, res.k, (o) => ({ corpusId: res.indices[o], score: res.scores[o] }));
}

// ---- paraphrase mining ----------------------------------------------------------------------

function isEncoder(x: unknown): x is TextEncoderLike {
  return typeof x === 'object' && x !== null && !(x instanceof Embeddings) && typeof (x as { encode?: unknown }).encode === 'function';
}

/**
 * Pairs of similar sentences — sentence-transformers' `util.paraphrase_mining` (given an encoder
 * and sentences) / `paraphrase_mining_embeddings` (given embeddings). Every sentence is compared
 * with every other; for each, its `topK` most similar others are candidates; each unordered pair
 * is reported once as `{ score, i, j }` with `i < j`, sorted by score descending (ties: lower `i`,
 * then lower `j`), at most `maxPairs` of them.
 *
 * Differences from sentence-transformers, all at its edges: `maxPairs` bounds the unique pairs
 * returned (sentence-transformers' queue bounds directed candidates, so it can return fewer), and
 * no pair is dropped for scoring at or below -1.
 *
 * @param source a `SentenceEncoder` (anything with `encode(texts): Promise<Embeddings>`), or the embeddings themselves
 * @param sentences the texts to encode (required with an encoder; ignored with embeddings)
 * @throws TypeError / RangeError for bad arguments (see {@link semanticSearch}).
 */
export async function paraphraseMining(source: EmbeddingsLike, options?: ParaphraseMiningOptions): Promise<ParaphrasePair[]>;
export async function paraphraseMining(
  source: TextEncoderLike | EmbeddingsLike,
  sentences?: string[] | null,
  options?: ParaphraseMiningOptions,
): Promise<ParaphrasePair[]>;
export async function paraphraseMining(
  source: TextEncoderLike | EmbeddingsLike,
  sentencesOrOptions?: string[] | null | ParaphraseMiningOptions,
  maybeOptions?: ParaphraseMiningOptions,
): Promise<ParaphrasePair[]> {
  const stack = new Error().stack;
  const encoder = isEncoder(source);
  const options = encoder || Array.isArray(sentencesOrOptions) || sentencesOrOptions == null ? maybeOptions : sentencesOrOptions;
  // Every option is checked before any (possibly long) encoding starts.
  const opts = checkOptions<ParaphraseMiningOptions>(options, MINING_OPTIONS, { fn: 'paraphraseMining' });
  const k = positiveInt(opts.topK, 'topK', 100);
  const maxPairs = positiveInt(opts.maxPairs, 'maxPairs', 500000);
  positiveInt(opts.queryChunkSize, 'queryChunkSize', 5000);
  const chunk = positiveInt(opts.corpusChunkSize, 'corpusChunkSize', 100000);
  const fn = scoreFn(opts);
  const device = parseDevice(opts.device);
  let emb: Matrix;
  if (encoder) {
    const sentences = sentencesOrOptions;
    if (!Array.isArray(sentences) || !sentences.every((t) => typeof t === 'string')) {
      throw new TypeError('sentences must be an array of strings when an encoder is given');
    }
    emb = toMatrix(await (source as TextEncoderLike).encode(sentences), 'embeddings');
    if (emb.count !== sentences.length) {
      throw new SbertError('ERR_BAD_DATA', `the encoder returned ${emb.count} embeddings for ${sentences.length} sentences`);
    }
  } else {
    emb = toMatrix(source, 'embeddings');
  }
  const n = emb.count;
  if (n < 2) return [];
  let rows: NativeRowsHandle;
  try {
    rows = ownRows(emb);
  } catch (err) {
    throw nativeError(err, stack);
  }

  // Candidates per row: top (k + 1) within each corpus chunk (the +1 makes room for the row itself).
  const chunks: { start: number; res: { indices: Int32Array; scores: Float32Array; k: number } }[] = [];
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const pair: NativePairOptions = { queries: rows, corpus: rows, corpusRange: [start, end], scoreFunction: fn, names: ['embeddings', 'embeddings'] };
    const res = await topK({ ...pair, topK: Math.min(k + 1, end - start) }, device, stack);
    chunks.push({ start, res });
  }
  const perRow = chunks.reduce((s, ch) => s + ch.res.k, 0);

  // Per row, its candidate indices sorted ascending (for membership tests).
  const sortedIdx = new Int32Array(n * perRow);
  for (let i = 0; i < n; i++) {
    let o = i * perRow;
    for (const ch of chunks) {
      for (let t = 0; t < ch.res.k; t++) sortedIdx[o++] = ch.start + ch.res.indices[i * ch.res.k + t];
    }
    sortedIdx.subarray(i * perRow, (i + 1) * perRow).sort();
  }
  const hasCandidate = (row: number, j: number): boolean => {
    let lo = row * perRow;
    let hi = lo + perRow - 1;
    while (lo <= hi) {
      const mid = lo + ((hi - lo) >> 1);
      const v = sortedIdx[mid];
      if (v === j) return true;
      if (v < j) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  };

  // Unique pairs: (i → j) with i < j always; (i → j) with j < i only when row j did not list i.
  let cap = 1024;
  let pi = new Int32Array(cap);
  let pj = new Int32Array(cap);
  let ps = new Float32Array(cap);
  let m = 0;
  for (let i = 0; i < n; i++) {
    for (const ch of chunks) {
      for (let t = 0; t < ch.res.k; t++) {
        const j = ch.start + ch.res.indices[i * ch.res.k + t];
        if (j === i) continue;
        if (j < i && hasCandidate(j, i)) continue;
        if (m === cap) {
          cap *= 2;
          const ni = new Int32Array(cap);
          ni.set(pi);
          pi = ni;
          const nj = new Int32Array(cap);
          nj.set(pj);
          pj = nj;
          const ns = new Float32Array(cap);
          ns.set(ps);
          ps = ns;
        }
        pi[m] = Math.min(i, j);
        pj[m] = Math.max(i, j);
        ps[m] = ch.res.scores[i * ch.res.k + t];
        m++;
      }
    }
  }

  // Keep the best maxPairs: everything above the cut score, then ties at the cut by (i, j).
  let selected: Uint32Array;
  if (m <= maxPairs) {
    selected = new Uint32Array(m);
    for (let t = 0; t < m; t++) selected[t] = t;
  } else {
    const sortedScores = ps.slice(0, m).sort();
    const cut = sortedScores[m - maxPairs];
    selected = new Uint32Array(maxPairs);
    let o = 0;
    const ties: number[] = [];
    for (let t = 0; t < m; t++) {
      if (ps[t] > cut) selected[o++] = t;
      else if (ps[t] === cut) ties.push(t);
    }
    ties.sort((x, y) => pi[x] - pi[y] || pj[x] - pj[y]);
    for (let t = 0; o < maxPairs; t++) selected[o++] = ties[t];
  }
  const order = Array.from(selected);
  order.sort((x, y) => ps[y] - ps[x] || pi[x] - pi[y] || pj[x] - pj[y]);
  return order.map((t) => ({ score: ps[t], i: pi[t], j: pj[t] }));
}

// ---- community detection --------------------------------------------------------------------

/**
 * Groups of mutually close embeddings — sentence-transformers' `util.community_detection`. For
 * every embedding, the embeddings with cosine similarity ≥ `threshold` form its candidate
 * community (itself included, sorted by similarity descending, ties: lower index) when there are
 * at least `minCommunitySize` of them. Candidates are taken largest first (ties: lower embedding
 * index first); each keeps only the members not already taken and is kept when still at least
 * `minCommunitySize` large. Returns arrays of indices, largest community first, non-overlapping.
 *
 * @throws TypeError / RangeError for bad arguments, NaN/Infinity rows (`embeddings row 4 contains NaN`).
 */
export async function communityDetection(embeddings: EmbeddingsLike, options: CommunityDetectionOptions = {}): Promise<number[][]> {
  const stack = new Error().stack;
  const emb = toMatrix(embeddings, 'embeddings');
  const opts = checkOptions<CommunityDetectionOptions>(options, COMMUNITY_OPTIONS, { fn: 'communityDetection' });
  let threshold = 0.75;
  if (opts.threshold !== undefined) {
    if (typeof opts.threshold !== 'number') throw new TypeError(`threshold must be a number (got ${describe(opts.threshold)})`);
    if (!Number.isFinite(opts.threshold)) throw new RangeError(`threshold must be a finite number (got ${opts.threshold})`);
    threshold = opts.threshold;
  }
  const minSizeOpt = positiveInt(opts.minCommunitySize, 'minCommunitySize', 10);
  const batchSize = positiveInt(opts.batchSize, 'batchSize', 1024);
  const n = emb.count;
  if (n === 0) return [];
  const minSize = Math.min(minSizeOpt, n);

  const extracted: number[][] = [];
  const nat = native();
  let rows: NativeRowsHandle;
  try {
    rows = ownRows(emb);
  } catch (err) {
    throw nativeError(err, stack);
  }
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    let res: { rowPtr: Float64Array; indices: Int32Array; scores: Float32Array };
    try {
      // The first call also checks every row of the full matrix (as the corpus), so a bad row is
      // reported with its absolute index.
      res = await nat.thresholdSimilarity({
        queries: rows,
        queryRange: [start, end],
        corpus: rows,
        threshold,
        minCount: minSize,
        scoreFunction: 'cosine',
        names: ['embeddings', 'embeddings'],
      });
    } catch (err) {
      throw nativeError(err, stack);
    }
    for (let r = 0; r < end - start; r++) {
      const b = res.rowPtr[r];
      const e = res.rowPtr[r + 1];
      if (e > b) extracted.push(Array.from(res.indices.subarray(b, e)));
    }
  }

  // Largest first (stable: equal sizes keep embedding order), then drop overlaps greedily.
  extracted.sort((x, y) => y.length - x.length);
  const taken = new Uint8Array(n);
  const unique: number[][] = [];
  for (const community of extracted) {
    const rest = community.filter((idx) => !taken[idx]);
    if (rest.length >= minSize) {
      for (const idx of rest) taken[idx] = 1;
      unique.push(rest);
    }
  }
  unique.sort((x, y) => y.length - x.length);
  return unique;
}
