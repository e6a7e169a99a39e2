/**
 * SentenceEncoder: strings in, the embeddings sentence-transformers gives out. Tokenization runs
 * in JS; each token-budget batch goes to the native engine (CPU or CUDA) as one packed,
 * unpadded call on a worker thread, so the event loop is never blocked, and the next batch is
 * tokenized while the current one runs.
 */
import { runBatches } from './batch-runner';
import { EngineBatcher } from './batcher';
import { Embeddings } from './embeddings';
import { similarity, SimilarityMatrix, type SimilarityOptions } from './similarity';
import { pairwiseArgs, pairwiseScores } from './search-args';
import type { EmbeddingsLike } from './embeddings';
import { SbertError } from './errors';
import { native, NativeEngine, withCallerStack } from './native';
import type { BertTokenizer } from './tokenizer';
import type { HubOptions } from './hub';
import { isQuantizationPrecision, QUANTIZATION_PRECISIONS, quantizeEmbeddings, type QuantizationPrecision, type QuantizedEmbeddings } from './quantize';
import { buildNativeSpec, loadModelFolder, ModelFolder } from './weights';
import { engineSetup, ENGINE_LOAD_ALIASES, ENGINE_LOAD_OPTIONS, fetchModelFolder, startEngine, type EngineLoadOptions, type Precision } from './engine-setup';
import { checkOptions, describeValue, type OptionSpec } from './options';
import { checkOutputDir, writeModelFolder } from './train/save';
import { outputFolderProblem } from './output-file';
import { checkBatchTokens, CPU_BATCH_TOKENS, CUDA_BATCH_TOKENS, cutAtBudget, slicePacked } from './token-budget';

export { MAX_BATCH_TOKENS } from './token-budget';

export type { Device, Precision } from './engine-setup';

export interface LoadOptions extends EngineLoadOptions {
  /** Default `truncateDim` for `encode` (sentence-transformers' `truncate_dim`). */
  truncateDim?: number;
}

export interface EncodeOptions {
  /**
   * L2-normalize the sentence embeddings (sentence-transformers' `normalize_embeddings`). A
   * model whose module chain ends in Normalize is normalized either way.
   */
  normalize?: boolean;
  /**
   * Keep only the first `truncateDim` dimensions of each sentence embedding (Matryoshka models),
   * as sentence-transformers' `truncate_dim`: truncation follows the model's own modules
   * (Normalize included), and `normalize: true` then renormalizes the truncated vectors.
   * Default: the load option, else the full dimension.
   */
  truncateDim?: number;
  /**
   * Text put before every input, as sentence-transformers' `prompt` (e.g. 'query: ' for e5).
   * Wins over `promptName`. When the model's Pooling says `include_prompt: false`, the prompt's
   * tokens (`promptLength(prompt)` of them) are left out of the pooling.
   */
  prompt?: string;
  /**
   * One of the model's named prompts (config_sentence_transformers.json `prompts`); default: the
   * model's `default_prompt_name`, if any.
   */
  promptName?: string;
  /** Token budget per native call (sum of sequence lengths, at least one sequence per call). */
  batchTokens?: number;
  /** 'sentence_embedding' (default) or 'token_embeddings' (per sentence, `[length, hidden]`). */
  outputValue?: 'sentence_embedding' | 'token_embeddings';
  /**
   * sentence-transformers' `encode(precision=...)`: 'float32' (default) gives the float
   * embeddings; 'int8', 'uint8', 'binary' or 'ubinary' quantizes them (after `normalize` and
   * `truncateDim`) with {@link quantizeEmbeddings}, int8 / uint8 ranges taken from the rows of
   * this call, and resolves to its QuantizedEmbeddings. Sentence embeddings only.
   */
  precision?: QuantizationPrecision;
  /** Called after each batch with the number of sentences finished so far. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Stops the call: batches not yet handed to the engine are dropped (also those waiting in the
   * queue shared with concurrent calls), and the promise rejects with `signal.reason`. A batch
   * already in a native call runs to its end; its result is discarded.
   */
  signal?: AbortSignal;
}

/**
 * Token-id sequences as the engine takes them, packed without padding: sequence i is
 * `ids[cuSeqlens[i], cuSeqlens[i + 1])`, special tokens included (what
 * `tokenizer.encodeBatch` gives).
 */
export interface TokenIdBatch {
  ids: Int32Array;
  cuSeqlens: Int32Array;
}

/** What {@link SentenceEncoder.encodeTokenIds} reports after each native call that carried part of its input. */
export interface TokenIdBatchInfo {
  sequences: number;
  tokens: number;
  /** Milliseconds the part waited for the engine (behind other callers' work). */
  waitMs: number;
  /** Milliseconds of the native call that carried it (shared with whatever was merged into it). */
  runMs: number;
}

/** Options of {@link SentenceEncoder.encodeTokenIds}. */
export interface TokenIdEncodeOptions extends Pick<EncodeOptions, 'normalize' | 'truncateDim' | 'batchTokens' | 'outputValue' | 'signal'> {
  /**
   * How many leading tokens of every sequence are a prompt (`promptLength(prompt)` when the
   * sequences were tokenized from `prompt + text`): left out of the pooling when the model's
   * Pooling says `include_prompt: false`, as `encode({ prompt })` does. Default 0.
   */
  promptTokens?: number;
  /** Called after each native call that carried part of the input (also when the call is then aborted). */
  onBatch?: (info: TokenIdBatchInfo) => void;
}

/** The `precision`s that quantize (all but 'float32'). */
export type QuantizedPrecision = Exclude<QuantizationPrecision, 'float32'>;

/** Options of `encode` for float sentence embeddings (no `precision`, or 'float32'). */
export type FloatEncodeOptions = EncodeOptions & { outputValue?: 'sentence_embedding'; precision?: 'float32' };
/** Options of `encode` for quantized sentence embeddings. */
export type QuantizedEncodeOptions<P extends QuantizedPrecision> = EncodeOptions & { outputValue?: 'sentence_embedding'; precision: P };
/** Options of `encodeQuery` / `encodeDocument` (always sentence embeddings). */
export type SentenceEncodeOptions = Omit<EncodeOptions, 'outputValue'>;


// The keys of each method's options (value ranges are checked where they are used). Aliases:
// the names sentence-transformers' Python API uses for the same thing.
const LOAD_OPTIONS: OptionSpec = { ...ENGINE_LOAD_OPTIONS, truncateDim: 'any' };
const ENCODE_OPTIONS: OptionSpec = {
  normalize: 'boolean',
  truncateDim: 'any',
  prompt: 'any',
  promptName: 'any',
  batchTokens: 'any',
  outputValue: 'any',
  precision: 'any',
  onProgress: 'function',
  signal: 'any',
};
const { outputValue: _outputValue, ...SENTENCE_ENCODE_OPTIONS } = ENCODE_OPTIONS;
const ENCODE_ALIASES = { batchSize: 'batchTokens', normalizeEmbeddings: 'normalize', showProgressBar: 'onProgress', convertToNumpy: 'precision' };

/** Proves a constructor call comes from SentenceEncoder.load. */
const FROM_LOAD = Symbol('SentenceEncoder.load');

function checkTruncateDim(v: unknown, dimension: number): number {
  if (v === undefined) return dimension;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > dimension) {
    throw new RangeError(`truncateDim must be an integer in [1, ${dimension}] (the model's dimension), got ${String(v)}`);
  }
  return v;
}

/** The first `dim` values of each row, L2-normalized when asked (as torch F.normalize, eps 1e-12). */
function truncateRows(e: Embeddings, dim: number, normalize: boolean): Embeddings {
  const out = new Float32Array(e.count * dim);
  for (let r = 0; r < e.count; r++) {
    const row = e.data.subarray(r * e.dim, r * e.dim + dim);
    let scale = 1;
    if (normalize) {
      let ss = 0;
      for (let j = 0; j < dim; j++) ss += row[j] * row[j];
      scale = 1 / Math.max(Math.sqrt(ss), 1e-12);
    }
    for (let j = 0; j < dim; j++) out[r * dim + j] = row[j] * scale;
  }
  return new Embeddings(out, e.count, dim, e.computePrecision);
}

function checkSignal(v: unknown): AbortSignal | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
  return v;
}

/** Loads a model folder once and encodes sentences with it. */
export class SentenceEncoder {
  /** The folder's tokenizer (BERT WordPiece, identical to Hugging Face tokenizers). */
  readonly tokenizer: BertTokenizer;
  /** Length of a sentence embedding. */
  readonly dimension: number;
  /** Hidden size of the transformer (length of a token embedding). */
  readonly hiddenSize: number;
  /** The engine's device, e.g. 'cpu' or 'cuda:0 (NVIDIA H100 80GB HBM3)'. */
  readonly device: string;
  /** What the model folder holds (config, modules, notices). */
  readonly model: Omit<ModelFolder, 'weights' | 'tokenizer'>;
  /** The precision the engine computes in (the load option, else the device's default). */
  readonly precision: Precision;

  private engine: NativeEngine | undefined;
  private readonly batcher: EngineBatcher;
  private readonly defaultBatchTokens: number;
  private readonly defaultTruncateDim: number | undefined;
  private readonly lowerCase: boolean;
  private readonly includePrompt: boolean;
  private readonly promptLengths = new Map<string, number>();
  private seqLength: number;
  /** The longest sequence the model's position table allows (the limit of maxSeqLength). */
  private readonly positionLimit: number;
  /** The name the model was loaded by (a Hub id, 'default' or a folder), for saved model cards. */
  private readonly source: string;

  /** Use `await SentenceEncoder.load(model?, options?)`: an encoder needs its model and engine loaded first (`new` from JavaScript throws a TypeError saying so). */
  private constructor(...args: unknown[]) {
    if (args[0] !== FROM_LOAD) {
      throw new TypeError('SentenceEncoder cannot be created with new: use `await SentenceEncoder.load(model?, options?)` (a folder, a Hub id, or nothing for the bundled model)');
    }
    const [, folder, engine, batchTokens, truncateDim, positionLimit, source, precision] = args as [symbol, ModelFolder, NativeEngine, number, number | undefined, number, string, Precision];
    this.tokenizer = folder.tokenizer;
    this.seqLength = folder.maxSeqLength;
    this.positionLimit = Math.max(positionLimit, folder.maxSeqLength);
    this.source = source;
    this.hiddenSize = folder.config.hiddenSize;
    this.dimension = engine.sentenceDim;
    this.device = engine.deviceName;
    this.engine = engine;
    this.batcher = new EngineBatcher(engine, this.dimension, this.hiddenSize);
    this.defaultBatchTokens = batchTokens;
    this.precision = precision;
    this.defaultTruncateDim = truncateDim;
    this.lowerCase = folder.doLowerCase;
    this.includePrompt = folder.modules.every((m) => m.type !== 'pooling' || m.includePrompt);
    const { weights: _w, tokenizer: _t, ...model } = folder;
    this.model = model;
  }

  /**
   * Loads a sentence-transformers model folder (or a plain Hugging Face BERT folder), or a
   * Hugging Face Hub id such as 'sentence-transformers/all-MiniLM-L6-v2' (downloaded once into
   * the cache shared with Python; see resolveModel), and creates its engine. Without a folder,
   * or with 'default', it loads the model bundled with the package (models/default-en, a small
   * BERT distilled from the Universal Sentence Encoder; see its model card); a folder that is
   * really named "default" is './default'. A bare name is resolved as sentence-transformers
   * does ('all-MiniLM-L6-v2' → 'sentence-transformers/all-MiniLM-L6-v2'), after local folders:
   * a name one typo away from one (or from 'default') is refused with the suggestion before any
   * request. Rejects with ERR_BAD_MODEL when the folder cannot be loaded, ERR_HUB* when the Hub
   * cannot give it, ERR_NO_CUDA when a GPU was asked for and none can be used, and a TypeError
   * naming an unknown option (`devcie` → "did you mean device?") or a value of the wrong type.
   */
  static async load(options?: LoadOptions): Promise<SentenceEncoder>;
  static async load(dir: string | undefined, options?: LoadOptions): Promise<SentenceEncoder>;
  static async load(dirOrOptions?: string | LoadOptions, maybeOptions: LoadOptions = {}): Promise<SentenceEncoder> {
    let name: string | undefined;
    let options: LoadOptions = maybeOptions;
    if (dirOrOptions === undefined || (typeof dirOrOptions === 'object' && dirOrOptions !== null)) {
      if (typeof dirOrOptions === 'object') options = dirOrOptions;
    } else {
      if (typeof dirOrOptions !== 'string' || dirOrOptions.length === 0) throw new TypeError('dir must be a non-empty string (a model folder or a Hub id), or omitted for the bundled model');
      name = dirOrOptions;
    }
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    checkOptions(options, LOAD_OPTIONS, { fn: 'SentenceEncoder.load', aliases: ENGINE_LOAD_ALIASES });
    const setup = engineSetup(options);
    const folderDir = await fetchModelFolder(name, options);
    const folder = await loadModelFolder(folderDir, { lazyWeights: true });
    const spec = buildNativeSpec(folder);
    const engine = await startEngine(spec, setup, new Error().stack);
    if (options.truncateDim !== undefined) {
      try {
        checkTruncateDim(options.truncateDim, engine.sentenceDim);
      } catch (err) {
        engine.dispose();
        throw err;
      }
    }
    // The longest sequence the position table can number: the config's maxSequenceLength where the
    // loader knows it (families that count positions after the padding index have fewer than
    // max_position_embeddings), else the table's size.
    const positionLimit = (folder.config as { maxSequenceLength?: number }).maxSequenceLength ?? spec.shape.maxPositions;
    return new SentenceEncoder(FROM_LOAD, folder, engine, setup.batchTokens, options.truncateDim, positionLimit, name ?? 'default', setup.computePrecision);
  }

  /**
   * Sequences are truncated to this many tokens, special tokens included (sentence-transformers'
   * `max_seq_length`). Settable, as `model.max_seq_length = 256` is in Python: an integer from 1
   * to the model's position limit (`config.json` max_position_embeddings); later encodes and
   * `save` use it.
   */
  get maxSeqLength(): number {
    return this.seqLength;
  }

  set maxSeqLength(value: number) {
    if (typeof value !== 'number') throw new TypeError(`maxSeqLength must be a number (got ${describeValue(value)})`);
    if (!Number.isInteger(value) || value < 1 || value > this.positionLimit) {
      throw new RangeError(`maxSeqLength must be an integer from 1 to ${this.positionLimit} (the model's position limit), got ${value}`);
    }
    this.seqLength = value;
    this.promptLengths.clear(); // prompt lengths are truncated to maxSeqLength
  }

  /**
   * Saves the model as a complete sentence-transformers folder (as `model.save(dir)` does):
   * modules.json, the configs (with the current `maxSeqLength`), tokenizer files, the weight
   * files as loaded, and a README.md model card. `dir` must be new or an empty folder; the
   * folder is written to a temporary sibling and renamed into place. Resolves to its absolute
   * path; SentenceEncoder.load and sentence-transformers load it.
   */
  async save(dir: string): Promise<string> {
    if (typeof dir !== 'string' || dir === '') throw new TypeError(`dir must be a non-empty string (got ${describeValue(dir)})`);
    if (this.disposed) throw new SbertError('ERR_DISPOSED', 'the encoder has been disposed');
    const problem = await outputFolderProblem(dir);
    if (problem !== undefined) throw new RangeError(`dir ${problem}`);
    await checkOutputDir(dir);
    const folder = { ...this.model, tokenizer: this.tokenizer };
    return writeModelFolder(folder, dir, { weights: 'copy', maxSeqLength: this.seqLength, source: this.source === 'default' ? this.model.dir : this.source, dimension: this.dimension });
  }

  /** Whether dispose() has been called. */
  get disposed(): boolean {
    return this.engine === undefined || this.engine.disposed;
  }

  /**
   * Encodes one sentence or a list; rows come back in input order. `''` is a valid sentence;
   * `encode([])` gives an empty Embeddings. Sentences longer than `maxSeqLength` tokens are
   * truncated as sentence-transformers truncates them. With `precision` 'int8', 'uint8',
   * 'binary' or 'ubinary' the result is `quantizeEmbeddings(embeddings, precision)`; with
   * `outputValue: 'token_embeddings'`, one Embeddings of `[length, hidden]` per sentence.
   * @throws RangeError (rejects) for a bad `outputValue`, `precision`, `truncateDim`,
   *   `batchTokens` or `promptName`; SbertError ERR_DISPOSED after dispose()
   */
  encode(texts: string | readonly string[], options?: FloatEncodeOptions): Promise<Embeddings>;
  encode<P extends QuantizedPrecision>(texts: string | readonly string[], options: QuantizedEncodeOptions<P>): Promise<QuantizedEmbeddings<P>>;
  encode(texts: string | readonly string[], options: EncodeOptions & { outputValue: 'token_embeddings'; precision?: 'float32' }): Promise<Embeddings[]>;
  encode(texts: string | readonly string[], options?: EncodeOptions & { outputValue?: 'sentence_embedding' }): Promise<Embeddings | QuantizedEmbeddings>;
  encode(texts: string | readonly string[], options?: EncodeOptions): Promise<Embeddings | QuantizedEmbeddings | Embeddings[]>;
  async encode(texts: string | readonly string[], options: EncodeOptions = {}): Promise<Embeddings | QuantizedEmbeddings | Embeddings[]> {
    // The caller's frames, formatted only if a native error needs them (.stack costs ~40 µs).
    const caller = new Error();
    const list = this.checkTexts(texts);
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    checkOptions(options, ENCODE_OPTIONS, { fn: 'encode', aliases: ENCODE_ALIASES });
    const outputValue = options.outputValue ?? 'sentence_embedding';
    if (outputValue !== 'sentence_embedding' && outputValue !== 'token_embeddings') {
      throw new RangeError(`options.outputValue must be 'sentence_embedding' or 'token_embeddings' (got ${JSON.stringify(outputValue)})`);
    }
    const precision = options.precision ?? 'float32';
    if (!isQuantizationPrecision(precision)) {
      throw new RangeError(`options.precision must be one of ${QUANTIZATION_PRECISIONS.map((p) => `'${p}'`).join(', ')} (got ${typeof precision === 'string' ? `'${precision}'` : String(precision)})`);
    }
    if (precision !== 'float32' && outputValue !== 'sentence_embedding') {
      throw new RangeError(`options.precision '${precision}' quantizes sentence embeddings; it cannot be used with outputValue 'token_embeddings'`);
    }
    const batchTokens = checkBatchTokens(options.batchTokens ?? this.defaultBatchTokens, 'options.batchTokens');
    const engine = this.engine;
    if (!engine || engine.disposed) throw new SbertError('ERR_DISPOSED', 'the encoder has been disposed');
    const wantTokens = outputValue === 'token_embeddings';
    const truncateDim = checkTruncateDim(options.truncateDim ?? this.defaultTruncateDim, this.dimension);
    // Truncation comes before the optional normalization (as in sentence-transformers), so the
    // engine normalizes only when nothing is cut.
    const cut = !wantTokens && truncateDim < this.dimension;
    const prompt = this.resolvePrompt(options);
    // include_prompt: false leaves the prompt's tokens out of the pooling (not of the tokens).
    const poolSkipTokens = !wantTokens && prompt && !this.includePrompt ? this.promptLength(prompt) : 0;
    const nativeOptions = { sentence: !wantTokens, tokens: wantTokens, normalize: options.normalize === true && !cut, poolSkipTokens };

    const signal = checkSignal(options.signal);
    signal?.throwIfAborted();
    const n = list.length;
    const run = await runBatches(n, (start) => this.tokenizeBatch(list, start, batchTokens, prompt), {
      batcher: this.batcher, native: nativeOptions, budget: batchTokens, rowWidth: this.dimension, hidden: this.hiddenSize,
      computePrecision: this.precision, signal, caller, onProgress: options.onProgress,
    });
    if (run.tokens) return run.tokens;
    const full = new Embeddings(run.sentence, n, this.dimension, this.precision);
    const result = cut ? truncateRows(full, truncateDim, options.normalize === true) : full;
    // sentence-transformers quantizes last, over all rows of the call (the int8 / uint8 ranges).
    return precision === 'float32' ? result : { ...quantizeEmbeddings(result, precision), computePrecision: this.precision };
  }

  /** The token budget of one native call when `encode` is given none (the `batchTokens` load option). */
  get batchTokens(): number {
    return this.defaultBatchTokens;
  }

  /**
   * Encodes sequences that are already token ids — each exactly as the model takes it, special
   * tokens included (e.g. from `tokenizer.encodeBatch`, or a client that tokenized itself) —
   * in budget-sized native calls shared with concurrent callers, as `encode` does; rows come
   * back in input order. No tokenizer runs and nothing is truncated: every sequence must have
   * 1 to `maxSeqLength` ids, each in [0, vocab_size). With `outputValue: 'token_embeddings'`,
   * one Embeddings of `[length, hidden]` per sequence.
   * @throws TypeError (rejects) when `batch` is not Int32Array ids with Int32Array cuSeqlens;
   *   RangeError for a malformed cuSeqlens, a sequence length or id out of range, or a bad option;
   *   SbertError ERR_DISPOSED after dispose()
   */
  encodeTokenIds(batch: TokenIdBatch, options?: TokenIdEncodeOptions & { outputValue?: 'sentence_embedding' }): Promise<Embeddings>;
  encodeTokenIds(batch: TokenIdBatch, options: TokenIdEncodeOptions & { outputValue: 'token_embeddings' }): Promise<Embeddings[]>;
  encodeTokenIds(batch: TokenIdBatch, options?: TokenIdEncodeOptions): Promise<Embeddings | Embeddings[]>;
  async encodeTokenIds(batch: TokenIdBatch, options: TokenIdEncodeOptions = {}): Promise<Embeddings | Embeddings[]> {
    // The caller's frames, formatted only if a native error needs them (.stack costs ~40 µs).
    const caller = new Error();
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const { ids, cuSeqlens } = this.checkTokenIdBatch(batch);
    const outputValue = options.outputValue ?? 'sentence_embedding';
    if (outputValue !== 'sentence_embedding' && outputValue !== 'token_embeddings') {
      throw new RangeError(`options.outputValue must be 'sentence_embedding' or 'token_embeddings' (got ${JSON.stringify(outputValue)})`);
    }
    const batchTokens = checkBatchTokens(options.batchTokens ?? this.defaultBatchTokens, 'options.batchTokens');
    const promptTokens = options.promptTokens ?? 0;
    if (!Number.isSafeInteger(promptTokens) || promptTokens < 0) throw new RangeError(`options.promptTokens must be a non-negative integer (got ${String(promptTokens)})`);
    const signal = checkSignal(options.signal);
    const onBatch = options.onBatch;
    if (onBatch !== undefined && typeof onBatch !== 'function') throw new TypeError('options.onBatch must be a function');
    const engine = this.engine;
    if (!engine || engine.disposed) throw new SbertError('ERR_DISPOSED', 'the encoder has been disposed');
    signal?.throwIfAborted();
    const wantTokens = outputValue === 'token_embeddings';
    const truncateDim = checkTruncateDim(options.truncateDim ?? this.defaultTruncateDim, this.dimension);
    const cut = !wantTokens && truncateDim < this.dimension;
    const poolSkipTokens = !wantTokens && !this.includePrompt ? promptTokens : 0;
    const nativeOptions = { sentence: !wantTokens, tokens: wantTokens, normalize: options.normalize === true && !cut, poolSkipTokens };

    const n = cuSeqlens.length - 1;
    const packed = { ids, cuSeqlens };
    const run = await runBatches(n, (start) => {
      const end = cutAtBudget(cuSeqlens, start, n, batchTokens);
      return { count: end - start, ...slicePacked(packed, start, end) };
    }, {
      batcher: this.batcher, native: nativeOptions, budget: batchTokens, rowWidth: this.dimension, hidden: this.hiddenSize,
      computePrecision: this.precision, signal, caller, onBatch,
    });
    if (run.tokens) return run.tokens;
    const full = new Embeddings(run.sentence, n, this.dimension, this.precision);
    return cut ? truncateRows(full, truncateDim, options.normalize === true) : full;
  }

  /**
   * Scores of every row of `a` against every row of `b` with the model's own similarity
   * function (`similarity_fn_name` in config_sentence_transformers.json: cosine by default; dot,
   * euclidean and manhattan as negative distances), like sentence-transformers'
   * `model.similarity(a, b)`: a SimilarityMatrix (a row-major Float32Array of
   * `a.count × b.count` with `get(i, j)`, `row(i)` and `rows()`). Like every similarity and
   * search function of this package it returns a Promise.
   */
  similarity(a: EmbeddingsLike, b: EmbeddingsLike): Promise<SimilarityMatrix> {
    return similarity(a, b, { scoreFunction: this.model.similarityFnName });
  }

  /**
   * Row i of `a` scored against row i of `b` only (`model.similarity_pairwise`), with the
   * model's similarity function; both must have the same count and dim. Computed in float64.
   * Returns a Promise, as every similarity function here does (before 0.2 it returned the
   * Float32Array itself: {@link similarityPairwiseSync} still does).
   */
  async similarityPairwise(a: EmbeddingsLike, b: EmbeddingsLike): Promise<Float32Array> {
    return this.similarityPairwiseSync(a, b);
  }

  /** {@link similarityPairwise} computed and returned at once (the former synchronous form). */
  similarityPairwiseSync(a: EmbeddingsLike, b: EmbeddingsLike): Float32Array {
    const options: SimilarityOptions = { scoreFunction: this.model.similarityFnName };
    const { x, y, fn } = pairwiseArgs(a, b, options, 'similarityPairwise');
    return pairwiseScores(x, y, fn);
  }

  /** Frees the engine (idempotent). Later calls reject with ERR_DISPOSED; queued calls reject too. */
  dispose(): void {
    this.engine?.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  /**
   * Encodes queries with the model's 'query' prompt when it defines one (sentence-transformers'
   * `encode_query`); otherwise exactly as `encode` (`precision` included).
   */
  encodeQuery(texts: string | readonly string[], options?: SentenceEncodeOptions & { precision?: 'float32' }): Promise<Embeddings>;
  encodeQuery<P extends QuantizedPrecision>(texts: string | readonly string[], options: SentenceEncodeOptions & { precision: P }): Promise<QuantizedEmbeddings<P>>;
  encodeQuery(texts: string | readonly string[], options?: SentenceEncodeOptions): Promise<Embeddings | QuantizedEmbeddings>;
  encodeQuery(texts: string | readonly string[], options: SentenceEncodeOptions = {}): Promise<Embeddings | QuantizedEmbeddings> {
    checkOptions(options, SENTENCE_ENCODE_OPTIONS, { fn: 'encodeQuery', aliases: ENCODE_ALIASES });
    return this.encode(texts, { promptName: this.firstPrompt(['query']), ...options, outputValue: 'sentence_embedding' }) as Promise<Embeddings | QuantizedEmbeddings>;
  }

  /**
   * Encodes documents with the model's 'document' (else 'passage', else 'corpus') prompt when it
   * defines one (sentence-transformers' `encode_document`); otherwise exactly as `encode`.
   */
  encodeDocument(texts: string | readonly string[], options?: SentenceEncodeOptions & { precision?: 'float32' }): Promise<Embeddings>;
  encodeDocument<P extends QuantizedPrecision>(texts: string | readonly string[], options: SentenceEncodeOptions & { precision: P }): Promise<QuantizedEmbeddings<P>>;
  encodeDocument(texts: string | readonly string[], options?: SentenceEncodeOptions): Promise<Embeddings | QuantizedEmbeddings>;
  encodeDocument(texts: string | readonly string[], options: SentenceEncodeOptions = {}): Promise<Embeddings | QuantizedEmbeddings> {
    checkOptions(options, SENTENCE_ENCODE_OPTIONS, { fn: 'encodeDocument', aliases: ENCODE_ALIASES });
    return this.encode(texts, { promptName: this.firstPrompt(['document', 'passage', 'corpus']), ...options, outputValue: 'sentence_embedding' }) as Promise<
      Embeddings | QuantizedEmbeddings
    >;
  }

  private firstPrompt(names: string[]): string | undefined {
    return names.find((n) => Object.prototype.hasOwnProperty.call(this.model.prompts, n));
  }

  /** The prompt text for these options ('' for none), as sentence-transformers picks it. */
  private resolvePrompt(options: EncodeOptions): string {
    let prompt = options.prompt;
    if (prompt !== undefined && typeof prompt !== 'string') throw new TypeError(`options.prompt must be a string (got ${typeof prompt})`);
    if (prompt === undefined) {
      const name = options.promptName ?? this.model.defaultPromptName;
      if (name !== undefined) {
        if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(this.model.prompts, name)) {
          const known = Object.keys(this.model.prompts);
          throw new RangeError(`options.promptName ${JSON.stringify(name)} is not one of the model's prompts (${known.length ? known.map((k) => JSON.stringify(k)).join(', ') : 'it defines none'})`);
        }
        prompt = this.model.prompts[name];
      }
    }
    return prompt ?? '';
  }

  /**
   * Tokens of `prompt` that pooling leaves out under `include_prompt: false`, as
   * sentence-transformers counts them: the prompt tokenized alone (lower-cased when the model
   * lower-cases, truncated to max_seq_length), special tokens included, less the last one when
   * it is special (the [SEP]) — for BERT, [CLS] and the prompt's word pieces. The same count
   * is left out of every sentence, even where `prompt + text` tokenizes differently at the seam.
   */
  promptLength(prompt: string): number {
    if (typeof prompt !== 'string') throw new TypeError(`prompt must be a string (got ${typeof prompt})`);
    if (prompt === '') return 0;
    let n = this.promptLengths.get(prompt);
    if (n === undefined) {
      const text = this.lowerCase ? prompt.toLowerCase() : prompt;
      const { ids } = this.tokenizer.encode(text, { maxLength: this.maxSeqLength });
      n = ids.length;
      if (n > 0 && this.tokenizer.isSpecialId(ids[n - 1])) n--;
      if (this.promptLengths.size >= 64) this.promptLengths.clear();
      this.promptLengths.set(prompt, n);
    }
    return n;
  }

  /** Checks a TokenIdBatch: Int32Arrays, cuSeqlens from 0 to ids.length, lengths 1..maxSeqLength, ids in the vocabulary. */
  private checkTokenIdBatch(batch: TokenIdBatch): TokenIdBatch {
    if (batch === null || typeof batch !== 'object') throw new TypeError('batch must be { ids: Int32Array, cuSeqlens: Int32Array }');
    const { ids, cuSeqlens } = batch;
    if (!(ids instanceof Int32Array)) throw new TypeError('batch.ids must be an Int32Array of token ids');
    if (!(cuSeqlens instanceof Int32Array)) throw new TypeError('batch.cuSeqlens must be an Int32Array (n + 1 sequence offsets)');
    const n = cuSeqlens.length - 1;
    if (n < 0 || cuSeqlens[0] !== 0 || cuSeqlens[n] !== ids.length) {
      throw new RangeError(`batch.cuSeqlens must start at 0 and end at ids.length (${ids.length}), with n + 1 entries`);
    }
    const vocabSize = this.model.config.vocabSize;
    for (let i = 0; i < n; i++) {
      const length = cuSeqlens[i + 1] - cuSeqlens[i];
      if (length < 1 || length > this.maxSeqLength) {
        throw new RangeError(`sequence ${i} has ${length} token ids; each must have 1 to ${this.maxSeqLength} (the model's max_seq_length)`);
      }
    }
    for (let t = 0; t < ids.length; t++) {
      if (ids[t] < 0 || ids[t] >= vocabSize) throw new RangeError(`batch.ids[${t}] = ${ids[t]} is not a token id of the model (0 to ${vocabSize - 1})`);
    }
    return batch;
  }

  private checkTexts(texts: string | readonly string[]): readonly string[] {
    if (typeof texts === 'string') return [texts];
    if (!Array.isArray(texts)) throw new TypeError(`texts must be a string or an array of strings (got ${texts === null ? 'null' : typeof texts})`);
    for (let i = 0; i < texts.length; i++) {
      const t = texts[i];
      if (typeof t !== 'string') throw new TypeError(`texts[${i}] is not a string (got ${t === null ? 'null' : typeof t})`);
    }
    return texts;
  }

  /** Tokenizes sentences from `start` until the token budget is used (at least one sentence). */
  private tokenizeBatch(list: readonly string[], start: number, batchTokens: number, prompt: string) {
    // Upper bound on tokens per sentence is maxSeqLength, so a budget of B tokens always holds
    // at least floor(B / maxSeqLength) sentences; tokenize greedily in chunks and cut at the budget.
    const texts: string[] = [];
    let i = start;
    let estimate = 0;
    while (i < list.length && (texts.length === 0 || estimate < batchTokens)) {
      const raw = typeof list[i] === 'string' ? prompt + list[i] : list[i];
      const t = this.lowerCase && typeof raw === 'string' ? raw.toLowerCase() : raw;
      texts.push(t);
      // A cheap upper-bound-ish estimate; the exact cut happens after tokenization below.
      estimate += Math.min(this.maxSeqLength, 2 + Math.ceil(t.length / 3));
      i++;
    }
    // indexOffset: a non-string put into the caller's array meanwhile is named by its index there
    const enc = this.tokenizer.encodeBatch(texts, { maxLength: this.maxSeqLength, indexOffset: start });
    // Cut at the budget using the real lengths (keep at least one sentence).
    const count = cutAtBudget(enc.cuSeqlens, 0, texts.length, batchTokens);
    // Single sentences: every token type is 0, which the engine assumes when none are sent.
    const { ids, cuSeqlens } = slicePacked(enc, 0, count);
    return { count, ids, cuSeqlens };
  }
}
