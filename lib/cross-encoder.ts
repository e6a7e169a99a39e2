/**
 * CrossEncoder: sentence-transformers' CrossEncoder on our engine — a transformer reading both
 * texts of a pair at once (`[CLS] a [SEP] b [SEP]` with token types 0/1, or `<s> a </s></s> b
 * </s>`), its classification head on the first token giving one or more logits per pair. The
 * accurate scorer of the SBERT paper's first table; the second stage of retrieve-and-rerank.
 *
 *   const ce = await CrossEncoder.load('./ms-marco-MiniLM-L-6-v2');
 *   await ce.predict([['query', 'passage'], ...]);      // Float32Array of scores
 *   await ce.rank('query', passages, { topK: 10 });     // [{ corpusId, score }] best first
 *
 * Pairs are tokenized as Hugging Face does (longest-first truncation to maxLength), packed
 * without padding with their token type ids, and cut into native calls at the token budget;
 * concurrent calls share native calls as the SentenceEncoder's do.
 */
import { runBatches } from './batch-runner';
import { EngineBatcher, type PackedBatch } from './batcher';
import { defaultModelDir } from './default-model';
import { engineSetup, ENGINE_LOAD_ALIASES, ENGINE_LOAD_OPTIONS, fetchModelFolder, startEngine, type EngineLoadOptions, type Precision } from './engine-setup';
import type { TokenIdBatchInfo } from './encoder';
import { SbertError } from './errors';
import type { NativeEngine } from './native';
import { checkOptions, type OptionSpec } from './options';
import { encodeCrossEncoderPairs } from './pair-tokens';
import { checkBatchTokens, cutAtBudget, slicePacked } from './token-budget';
import type { Tokenizer, TruncationSide } from './tokenizer';
import { buildNativeSpec, loadCrossEncoderFolder, type CrossEncoderActivation, type EncoderConfig } from './weights';

export type { CrossEncoderActivation } from './weights';

export interface CrossEncoderLoadOptions extends EngineLoadOptions {
  /** Truncate pairs to this many tokens (default: the tokenizer's model_max_length, capped at the positions the model has). */
  maxLength?: number;
}

export interface PredictOptions {
  /**
   * The activation applied to the logits: 'default' (the model's own: config.json's, else
   * Sigmoid for one label and Identity for several, as sentence-transformers), or one of
   * 'identity' (raw logits), 'sigmoid', 'tanh', 'relu', 'softmax'.
   */
  activation?: CrossEncoderActivation | 'default';
  /** Softmax over each pair's labels after the activation (models with several labels), as sentence-transformers' apply_softmax. */
  applySoftmax?: boolean;
  /** Token budget of one native call (default: the load option). */
  batchTokens?: number;
  /** Which end of a pair's longer text truncation cuts (default 'right', as Hugging Face; TEI's truncation_direction). */
  truncationSide?: TruncationSide;
  /** Called after each native call with the number of pairs scored so far. */
  onProgress?: (done: number, total: number) => void;
  /** Called after each native call that carried pairs of this call, with their count, tokens and timing (also when the call is then aborted). */
  onBatch?: (info: TokenIdBatchInfo) => void;
  /** Drops the pairs still waiting for the engine when it aborts; the call rejects with its reason. */
  signal?: AbortSignal;
}

export interface RankOptions extends PredictOptions {
  /** Keep the best `topK` documents (default: all). */
  topK?: number;
  /** Add each document's text to its hit. */
  returnDocuments?: boolean;
}

/** One ranked document: its index in the input, its score, and its text when asked for. */
export interface RankHit {
  corpusId: number;
  score: number;
  text?: string;
}

const CROSS_ENCODER_LOAD_OPTIONS: OptionSpec = { ...ENGINE_LOAD_OPTIONS, maxLength: 'any' };

const ACTIVATIONS: readonly (CrossEncoderActivation | 'default')[] = ['default', 'identity', 'sigmoid', 'tanh', 'relu', 'softmax'];

/** Applies `activation` to each row of `logits` [n, labels] in place (fp64 math, fp32 results); also the trainer's evaluations' scores. */
export function activate(logits: Float32Array, labels: number, activation: CrossEncoderActivation, applySoftmax: boolean): void {
  const n = logits.length / labels;
  for (let r = 0; r < n; r++) {
    const row = logits.subarray(r * labels, (r + 1) * labels);
    if (activation === 'softmax' || (applySoftmax && labels > 1)) {
      if (activation !== 'softmax') applyElementwise(row, activation);
      let mx = -Infinity;
      for (const v of row) mx = Math.max(mx, v);
      let sum = 0;
      for (let j = 0; j < labels; j++) sum += Math.exp(row[j] - mx);
      for (let j = 0; j < labels; j++) row[j] = Math.exp(row[j] - mx) / sum;
    } else {
      applyElementwise(row, activation);
    }
  }
}

function applyElementwise(row: Float32Array, activation: CrossEncoderActivation): void {
  for (let j = 0; j < row.length; j++) {
    const x = row[j];
    if (activation === 'sigmoid') row[j] = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    else if (activation === 'tanh') row[j] = Math.tanh(x);
    else if (activation === 'relu') row[j] = x > 0 ? x : 0;
  }
}

/** Scores sentence pairs with a sequence-classification model (see the file comment). */
export class CrossEncoder {
  /** Logits per pair. */
  readonly numLabels: number;
  /** Label names (config.json id2label). */
  readonly labels: readonly string[];
  /** Pairs are truncated (longest first) to this many tokens, special tokens included. */
  readonly maxLength: number;
  /** The model's default score activation. */
  readonly activation: CrossEncoderActivation;
  /** The engine's device, e.g. 'cpu' or 'cuda:0 (NVIDIA H100 80GB HBM3)'. */
  readonly device: string;
  readonly tokenizer: Tokenizer;
  readonly config: EncoderConfig;
  /** Absolute model folder. */
  readonly dir: string;
  /** Token budget of one native call when predict is given none. */
  readonly batchTokens: number;
  /** The precision the engine computes in (the load option, else the device's default). */
  readonly precision: Precision;

  private engine: NativeEngine | undefined;
  private readonly batcher: EngineBatcher;

  private constructor(f: Awaited<ReturnType<typeof loadCrossEncoderFolder>>, engine: NativeEngine, batchTokens: number, precision: Precision) {
    this.numLabels = f.numLabels;
    this.labels = f.labels;
    this.maxLength = f.maxLength;
    this.activation = f.activation;
    this.device = engine.deviceName;
    this.tokenizer = f.tokenizer;
    this.config = f.config;
    this.dir = f.dir;
    this.batchTokens = batchTokens;
    this.precision = precision;
    this.engine = engine;
    this.batcher = new EngineBatcher(engine, f.numLabels, f.config.hiddenSize);
  }

  /**
   * Loads a Hugging Face sequence-classification folder (…ForSequenceClassification of BERT,
   * RoBERTa / XLM-R, MPNet or DistilBERT) or a Hub id such as
   * 'cross-encoder/ms-marco-MiniLM-L-6-v2', and creates its engine.
   * @throws (rejects) SbertError ERR_BAD_MODEL naming the file and the problem (a bi-encoder
   *   folder is refused with a pointer to SentenceEncoder), ERR_NO_CUDA when a GPU was asked for
   *   and none can be used; RangeError / TypeError for bad options
   */
  static async load(dirOrHubId: string, options: CrossEncoderLoadOptions = {}): Promise<CrossEncoder> {
    if (typeof dirOrHubId !== 'string' || dirOrHubId === '') throw new TypeError('dirOrHubId must be a non-empty string (a model folder or a Hub id)');
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    checkOptions(options, CROSS_ENCODER_LOAD_OPTIONS, { fn: 'CrossEncoder.load', aliases: ENGINE_LOAD_ALIASES });
    const setup = engineSetup(options);
    if (dirOrHubId === 'default') throw new SbertError('ERR_BAD_MODEL', "the bundled default model is a bi-encoder: load it with SentenceEncoder.load('default')");
    const folderDir = await fetchModelFolder(dirOrHubId, options);
    if (folderDir === defaultModelDir()) throw new SbertError('ERR_BAD_MODEL', "the bundled default model is a bi-encoder: load it with SentenceEncoder.load('default')");
    const folder = await loadCrossEncoderFolder(folderDir, { lazyWeights: true, ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}) });
    const engine = await startEngine(buildNativeSpec(folder.model), setup, new Error().stack);
    return new CrossEncoder(folder, engine, setup.batchTokens, setup.computePrecision);
  }

  /** Whether dispose() has been called. */
  get disposed(): boolean {
    return this.engine === undefined || this.engine.disposed;
  }

  /**
   * Scores pairs: one score per pair (a Float32Array) for a model with one label, one row of
   * `numLabels` scores per pair (an array of Float32Arrays) otherwise — sentence-transformers'
   * CrossEncoder.predict. Scores are the logits through the model's activation (see
   * PredictOptions.activation).
   * @throws TypeError (rejects) when `pairs` is not an array of [string, string]; RangeError
   *   for a bad option; SbertError ERR_DISPOSED after dispose()
   */
  async predict(pairs: readonly (readonly [string, string])[], options: PredictOptions = {}): Promise<Float32Array | Float32Array[]> {
    const logits = await this.scores(pairs, options);
    if (this.numLabels === 1) return logits;
    return Array.from({ length: pairs.length }, (_, i) => logits.subarray(i * this.numLabels, (i + 1) * this.numLabels));
  }

  /**
   * Scores `query` against every document and returns them best first, as
   * sentence-transformers' CrossEncoder.rank: `{ corpusId, score, text? }`, ties in input order,
   * the first `topK` when given. Models with one label only.
   */
  async rank(query: string, documents: readonly string[], options: RankOptions = {}): Promise<RankHit[]> {
    if (typeof query !== 'string') throw new TypeError(`query must be a string (got ${query === null ? 'null' : typeof query})`);
    if (!Array.isArray(documents)) throw new TypeError(`documents must be an array of strings (got ${documents === null ? 'null' : typeof documents})`);
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const { topK, returnDocuments, ...predictOptions } = options;
    if (topK !== undefined && (!Number.isSafeInteger(topK) || topK < 1)) throw new RangeError(`options.topK must be a positive integer (got ${String(topK)})`);
    if (returnDocuments !== undefined && typeof returnDocuments !== 'boolean') throw new TypeError('options.returnDocuments must be a boolean');
    if (this.numLabels !== 1) throw new RangeError(`rank needs a model with one label (this one has ${this.numLabels}): use predict`);
    const scores = await this.scores(documents.map((d, i) => {
      if (typeof d !== 'string') throw new TypeError(`documents[${i}] is not a string (got ${d === null ? 'null' : typeof d})`);
      return [query, d] as const;
    }), predictOptions);
    const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
    return order.slice(0, topK ?? order.length).map((i) => (returnDocuments ? { corpusId: i, score: scores[i], text: documents[i] } : { corpusId: i, score: scores[i] }));
  }

  /** Frees the engine (idempotent). Later calls reject with ERR_DISPOSED. */
  dispose(): void {
    this.engine?.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  /** The pairs' scores, [pairs, numLabels] row-major. */
  private async scores(pairs: readonly (readonly [string, string])[], options: PredictOptions): Promise<Float32Array> {
    const caller = new Error();
    if (!Array.isArray(pairs)) throw new TypeError(`pairs must be an array of [string, string] (got ${pairs === null ? 'null' : typeof pairs})`);
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const activation = options.activation ?? 'default';
    if (!ACTIVATIONS.includes(activation)) throw new RangeError(`options.activation must be one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')} (got ${JSON.stringify(activation)})`);
    if (options.applySoftmax !== undefined && typeof options.applySoftmax !== 'boolean') throw new TypeError('options.applySoftmax must be a boolean');
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError('options.onProgress must be a function');
    if (options.onBatch !== undefined && typeof options.onBatch !== 'function') throw new TypeError('options.onBatch must be a function');
    const truncationSide = options.truncationSide ?? 'right';
    if (truncationSide !== 'left' && truncationSide !== 'right') throw new RangeError(`options.truncationSide must be 'left' or 'right' (got ${JSON.stringify(truncationSide)})`);
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
    const budget = checkBatchTokens(options.batchTokens ?? this.batchTokens, 'options.batchTokens');
    if (!this.engine || this.engine.disposed) throw new SbertError('ERR_DISPOSED', 'the cross-encoder has been disposed');
    signal?.throwIfAborted();
    // Tokenized up front (the tokenizer checks every pair and names a bad one); the engine then
    // takes budget-sized parts.
    const packed = encodeCrossEncoderPairs(this.tokenizer, this.config, pairs, this.maxLength, truncationSide);
    const n = pairs.length;
    const next = (start: number): PackedBatch => {
      const end = cutAtBudget(packed.cuSeqlens, start, n, budget);
      return { count: end - start, ...slicePacked(packed, start, end) };
    };
    const run = await runBatches(n, next, {
      batcher: this.batcher,
      native: { sentence: true, tokens: false, normalize: false },
      budget,
      rowWidth: this.numLabels,
      hidden: this.config.hiddenSize,
      signal,
      caller,
      onProgress: options.onProgress,
      onBatch: options.onBatch,
    });
    const logits = run.sentence!;
    activate(logits, this.numLabels, activation === 'default' ? this.activation : activation, options.applySoftmax === true);
    return logits;
  }
}
