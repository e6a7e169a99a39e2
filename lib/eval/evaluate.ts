/**
 * STS evaluation: encode each unique sentence once, score every pair by the cosine similarity
 * of its two embeddings, and correlate the scores with the gold ones (Spearman and Pearson,
 * raw values in [-1, 1]; the CLI prints them ×100).
 *
 * Tasks with several subsets (STS12–16) are aggregated three ways, as SimCSE's SentEval fork
 * does (senteval/sts.py): 'all' — every subset's pairs concatenated and correlated at once;
 * 'mean' — the plain average of the per-subset correlations; 'wmean' — that average weighted
 * by subset size. The original SentEval reports only mean/wmean. The SBERT paper (Reimers &
 * Gurevych, 2019) reports 'all' — shown by Gao et al. (SimCSE, 2021, Appendix B, Table B.2),
 * who reproduced its numbers under each setting — so 'all' is the headline number here.
 */
import type { EmbeddingsLike } from '../embeddings';
import { loadStsTask, StsPair, StsTask, StsTaskName } from './datasets';
import { pearson, spearman } from './stats';

/** Options an STS encoder's `encode` may receive. */
export interface StsEncodeOptions {
  onProgress?: (done: number, total: number) => void;
  /** Token budget per native call (SentenceEncoder); other encoders may ignore it. */
  batchTokens?: number;
}

/**
 * Anything that turns sentences into vectors, rows in input order: SentenceEncoder,
 * GloveEncoder, or a test double.
 */
export interface StsEncoder {
  encode(texts: string[], options?: StsEncodeOptions): Promise<EmbeddingsLike>;
}

export interface EvaluateStsOptions {
  /**
   * Sentences per `encode` call. Default: all unique sentences in one call (the encoder forms
   * its own token-budget batches).
   */
  batchSize?: number;
  /** Passed to `encode` (SentenceEncoder: token budget per native call). */
  batchTokens?: number;
  /** Progress over the unique sentences being encoded. */
  onProgress?: (done: number, total: number) => void;
}

/** Correlations of predicted cosine similarities with gold scores. */
export interface StsResult {
  /** Spearman's ρ in [-1, 1]; NaN when undefined (e.g. constant predictions). */
  spearman: number;
  /** Pearson's r in [-1, 1]; NaN when undefined. */
  pearson: number;
  /** Number of pairs. */
  n: number;
}

export interface StsScoredResult extends StsResult {
  /** Cosine similarity of each pair, in pair order. */
  predicted: Float64Array;
  /** Gold score of each pair, in pair order. */
  gold: Float64Array;
}

/** Cosine similarity in float64; 0 when either vector is all zeros (SentEval's nan_to_num). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`vectors have different lengths (${a.length} and ${b.length})`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 || nb === 0) return 0;
  const c = dot / Math.sqrt(na * nb);
  return Number.isFinite(c) ? Math.max(-1, Math.min(1, c)) : 0;
}

function checkPairs(pairs: readonly StsPair[]): void {
  if (!Array.isArray(pairs)) throw new TypeError('pairs must be an array of { s1, s2, score }');
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i];
    if (p == null || typeof p.s1 !== 'string' || typeof p.s2 !== 'string' || typeof p.score !== 'number') {
      throw new TypeError(`pairs[${i}] must be { s1: string, s2: string, score: number }`);
    }
  }
}

/**
 * The cosine similarity of each pair's two sentences under `encoder`, each unique sentence
 * encoded once.
 */
export async function predictSimilarities(
  encoder: StsEncoder,
  pairs: readonly StsPair[],
  options: EvaluateStsOptions = {},
): Promise<Float64Array> {
  if (encoder == null || typeof encoder.encode !== 'function') {
    throw new TypeError('encoder must have an encode(texts, options) method');
  }
  checkPairs(pairs);
  const { batchSize, batchTokens, onProgress } = options;
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`options.batchSize must be a positive integer (got ${batchSize})`);
  }
  const index = new Map<string, number>();
  const unique: string[] = [];
  const idx1 = new Uint32Array(pairs.length);
  const idx2 = new Uint32Array(pairs.length);
  const slot = (s: string): number => {
    let k = index.get(s);
    if (k === undefined) {
      k = unique.length;
      index.set(s, k);
      unique.push(s);
    }
    return k;
  };
  for (let i = 0; i < pairs.length; i++) {
    idx1[i] = slot(pairs[i].s1);
    idx2[i] = slot(pairs[i].s2);
  }
  const total = unique.length;
  const out = new Float64Array(pairs.length);
  if (total === 0) return out;

  const chunk = batchSize ?? total;
  const rows: Float32Array[] = new Array(total);
  onProgress?.(0, total);
  for (let start = 0; start < total; start += chunk) {
    const texts = unique.slice(start, start + chunk);
    const encodeOptions: StsEncodeOptions = {
      onProgress: onProgress ? (done) => onProgress(start + Math.min(done, texts.length), total) : undefined,
    };
    if (batchTokens !== undefined) encodeOptions.batchTokens = batchTokens;
    const emb = await encoder.encode(texts, encodeOptions);
    if (emb == null || !(emb.data instanceof Float32Array) || emb.count !== texts.length || emb.data.length !== emb.count * emb.dim) {
      throw new TypeError(
        `encoder.encode returned ${emb == null ? String(emb) : `${emb.count} rows`} for ${texts.length} sentences (expected an Embeddings with one row per sentence)`,
      );
    }
    for (let k = 0; k < texts.length; k++) rows[start + k] = emb.data.subarray(k * emb.dim, (k + 1) * emb.dim);
    onProgress?.(start + texts.length, total);
  }
  for (let i = 0; i < pairs.length; i++) out[i] = cosineSimilarity(rows[idx1[i]], rows[idx2[i]]);
  return out;
}

/** Spearman and Pearson of `predicted` against `gold`. */
export function correlate(predicted: ArrayLike<number>, gold: ArrayLike<number>): StsResult {
  return { spearman: spearman(predicted, gold), pearson: pearson(predicted, gold), n: predicted.length };
}

/**
 * Evaluates `encoder` on STS pairs: cosine similarity of the two sentence embeddings vs the gold
 * score. Returns raw correlations in [-1, 1] (NaN when undefined, e.g. constant predictions),
 * the pair count, and the per-pair predicted and gold scores.
 */
export async function evaluateSts(
  encoder: StsEncoder,
  pairs: readonly StsPair[],
  options: EvaluateStsOptions = {},
): Promise<StsScoredResult> {
  const predicted = await predictSimilarities(encoder, pairs, options);
  const gold = Float64Array.from(pairs, (p) => p.score);
  return { ...correlate(predicted, gold), predicted, gold };
}

export interface StsSubsetResult extends StsScoredResult {
  name: string;
}

export interface StsTaskResult {
  task: StsTaskName;
  /** The SBERT paper's column name ('STS12', 'STSb', 'SICK-R'). */
  title: string;
  subsets: StsSubsetResult[];
  /** All subsets' pairs concatenated (the SBERT paper's setting). */
  all: StsResult;
  /** Unweighted mean of the per-subset correlations (SentEval 'mean'). */
  mean: StsResult;
  /** Mean of the per-subset correlations weighted by subset size (SentEval 'wmean'). */
  wmean: StsResult;
  /** The number to compare with the SBERT paper: `all` (for one-subset tasks, that subset). */
  headline: StsResult;
}

/**
 * Evaluates `encoder` on a whole task (a name from STS_TASKS, or a task from loadStsTask):
 * every unique sentence of every subset encoded once, then per-subset correlations and the
 * all / mean / wmean aggregates.
 */
export async function evaluateStsTask(
  encoder: StsEncoder,
  task: StsTask | string,
  options: EvaluateStsOptions & { dataDir?: string } = {},
): Promise<StsTaskResult> {
  const t = typeof task === 'string' ? loadStsTask(task, { dataDir: options.dataDir }) : task;
  const allPairs: StsPair[] = [];
  for (const s of t.subsets) for (const p of s.pairs) allPairs.push(p);
  const { predicted, gold } = await evaluateSts(encoder, allPairs, options);
  const subsets: StsSubsetResult[] = [];
  let offset = 0;
  for (const s of t.subsets) {
    const p = predicted.subarray(offset, offset + s.pairs.length);
    const g = gold.subarray(offset, offset + s.pairs.length);
    offset += s.pairs.length;
    subsets.push({ name: s.name, ...correlate(p, g), predicted: p, gold: g });
  }
  const all = correlate(predicted, gold);
  const n = allPairs.length;
  const avg = (key: 'spearman' | 'pearson', weighted: boolean): number => {
    let sum = 0;
    let wsum = 0;
    for (const s of subsets) {
      const w = weighted ? s.n : 1;
      sum += w * s[key];
      wsum += w;
    }
    return wsum > 0 ? sum / wsum : NaN;
  };
  const mean = { spearman: avg('spearman', false), pearson: avg('pearson', false), n };
  const wmean = { spearman: avg('spearman', true), pearson: avg('pearson', true), n };
  return { task: t.name, title: t.title, subsets, all, mean, wmean, headline: all };
}
