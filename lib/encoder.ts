/**
 * SentenceEncoder: strings in, the embeddings sentence-transformers gives out. Tokenization runs
 * in JS; each token-budget batch goes to the native engine (CPU or CUDA) as one packed,
 * unpadded call on a worker thread, so the event loop is never blocked, and the next batch is
 * tokenized while the current one runs.
 */
import { EngineBatcher, type BatchResult } from './batcher';
import { Embeddings } from './embeddings';
import { toMatrix } from './search-args';
import { similarity } from './similarity';
import { SbertError } from './errors';
import { native, NativeEngine, withCallerStack } from './native';
import type { BertTokenizer } from './tokenizer';
import { existsSync } from 'node:fs';
import { isRepoId, resolveModel, type HubOptions } from './hub';
import { isQuantizationPrecision, QUANTIZATION_PRECISIONS, quantizeEmbeddings, type QuantizationPrecision, type QuantizedEmbeddings } from './quantize';
import { buildNativeSpec, loadModelFolder, ModelFolder } from './weights';
import { defaultModelDir, resolveModelName } from './default-model';
import { isPrecision, type Precision } from './precision';
import { checkBatchTokens, CPU_BATCH_TOKENS, CPU_LOW_PRECISION_BATCH_TOKENS, CUDA_BATCH_TOKENS, cutAtBudget, slicePacked } from './token-budget';

export { MAX_BATCH_TOKENS } from './token-budget';

export type Device = 'auto' | 'cpu' | 'cuda' | `cuda:${number}`;
export type { Precision } from './precision';

export interface LoadOptions extends Pick<HubOptions, 'revision' | 'cacheDir' | 'token' | 'offline' | 'endpoint'> {
  /** Hub downloads only: called as bytes arrive. */
  onDownloadProgress?: HubOptions['onProgress'];
  /** 'auto' (default) uses the first CUDA device when there is one, else the CPU. */
  device?: Device;
  /**
   * The precision the engine computes the encoder's Linear layers in; default: the device's
   * own (fp16 on a GPU, fp32 on the CPU).
   * - GPU: 'fp16', 'bf16' or 'fp32' storage, fp32 accumulation.
   * - CPU: 'fp32'; 'int8' (weights quantized per output channel at load, activations per token
   *   at run time, int32 dot products: AVX512-VNNI / AVX-VNNI / AVX2 / AMX; needs AVX2) or
   *   'bf16' (AMX or AVX512-BF16; needs avx512_bf16). Attention, LayerNorm, GELU, pooling and
   *   the Dense modules stay fp32. Their accuracy and speed are measured in the README.
   * A precision this device cannot run rejects with ERR_UNSUPPORTED naming what is missing
   * ('fp16' on the CPU, 'int8' on a GPU, bf16 without avx512_bf16, int8 without AVX2).
   * `encoder.precision` and each result's `computePrecision` say what was used.
   */
  precision?: Precision;
  /**
   * Default token budget of one native call for `encode` (sum of sequence lengths, special
   * tokens included; 8,192 on the CPU — 2,048 in int8 and bf16, whose faster GEMMs make larger
   * calls memory-bound — and 65,536 on a GPU). The engine also keeps workspaces for
   * this many tokens between calls; a call asking for more releases its larger workspaces after.
   */
  batchTokens?: number;
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


/** Resolves a device string to the engine kind and index; throws when it cannot be used. */
function resolveDevice(device: Device): { kind: 'cpu' | 'cuda'; index: number } {
  if (device === 'cpu') return { kind: 'cpu', index: 0 };
  const addon = native();
  const cudaDevices = addon.cudaDevices();
  if (device === 'auto') return cudaDevices.length > 0 ? { kind: 'cuda', index: 0 } : { kind: 'cpu', index: 0 };
  const m = /^cuda(?::(\d+))?$/.exec(String(device));
  if (!m) throw new RangeError(`options.device must be 'auto', 'cpu', 'cuda' or 'cuda:N' (got ${JSON.stringify(device)})`);
  const index = m[1] === undefined ? 0 : Number(m[1]);
  if (!addon.buildInfo().cuda.compiled) {
    throw new SbertError('ERR_NO_CUDA', "this build of sbert-native has no CUDA engine (rebuild with nvcc on PATH) — use device: 'cpu'");
  }
  if (index >= cudaDevices.length) {
    throw new SbertError(
      'ERR_NO_CUDA',
      cudaDevices.length === 0
        ? `device '${device}' was asked for but no CUDA device is available (${addon.buildInfo().cuda.status})`
        : `device '${device}' was asked for but only ${cudaDevices.length} CUDA device(s) exist`,
    );
  }
  return { kind: 'cuda', index };
}

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
  /** Sequences are truncated to this many tokens, special tokens included. */
  readonly maxSeqLength: number;
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

  private constructor(folder: ModelFolder, engine: NativeEngine, batchTokens: number, truncateDim: number | undefined) {
    this.tokenizer = folder.tokenizer;
    this.maxSeqLength = folder.maxSeqLength;
    this.hiddenSize = folder.config.hiddenSize;
    this.dimension = engine.sentenceDim;
    this.device = engine.deviceName;
    this.engine = engine;
    this.batcher = new EngineBatcher(engine, this.dimension, this.hiddenSize);
    this.defaultBatchTokens = batchTokens;
    this.precision = engine.precision;
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
   * really named "default" is './default'. Rejects with ERR_BAD_MODEL when the folder cannot be
   * loaded, ERR_NO_CUDA when a GPU was asked for and none can be used.
   */
  static async load(options?: LoadOptions): Promise<SentenceEncoder>;
  static async load(dir: string | undefined, options?: LoadOptions): Promise<SentenceEncoder>;
  static async load(dirOrOptions?: string | LoadOptions, maybeOptions: LoadOptions = {}): Promise<SentenceEncoder> {
    let dir: string;
    let options: LoadOptions = maybeOptions;
    if (dirOrOptions === undefined || (typeof dirOrOptions === 'object' && dirOrOptions !== null)) {
      if (typeof dirOrOptions === 'object') options = dirOrOptions;
      dir = defaultModelDir();
    } else {
      if (typeof dirOrOptions !== 'string' || dirOrOptions.length === 0) throw new TypeError('dir must be a non-empty string (a model folder or a Hub id), or omitted for the bundled model');
      dir = resolveModelName(dirOrOptions);
    }
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const precision = options.precision;
    if (precision !== undefined && !isPrecision(precision)) {
      throw new RangeError(
        `options.precision must be 'fp32', 'int8' or 'bf16' on the CPU, 'fp16', 'bf16' or 'fp32' on a GPU (got ${JSON.stringify(precision)})`,
      );
    }
    const device = resolveDevice(options.device ?? 'auto');
    const batchTokens = checkBatchTokens(
      options.batchTokens ??
        (device.kind === 'cuda' ? CUDA_BATCH_TOKENS : precision === 'int8' || precision === 'bf16' ? CPU_LOW_PRECISION_BATCH_TOKENS : CPU_BATCH_TOKENS),
      'options.batchTokens',
    );
    // A Hugging Face id (org/name) that is not a local folder comes from the Hub's cache.
    const folderDir = !existsSync(dir) && isRepoId(dir)
      ? await resolveModel(dir, {
        revision: options.revision, cacheDir: options.cacheDir, token: options.token, offline: options.offline,
        endpoint: options.endpoint, onProgress: options.onDownloadProgress,
      })
      : dir;
    const folder = await loadModelFolder(folderDir, { lazyWeights: true });
    const stack = new Error().stack;
    let engine: NativeEngine;
    try {
      engine = await native().createEngine({
        spec: buildNativeSpec(folder),
        device: device.kind,
        deviceIndex: device.index,
        // The device's default when not given; one it cannot run rejects with ERR_UNSUPPORTED.
        ...(precision !== undefined ? { precision } : {}),
        // Workspaces for the default budget stay allocated between calls (see LoadOptions).
        retainTokens: batchTokens,
      });
    } catch (err) {
      throw withCallerStack(err, stack);
    }
    if (options.truncateDim !== undefined) {
      try {
        checkTruncateDim(options.truncateDim, engine.sentenceDim);
      } catch (err) {
        engine.dispose();
        throw err;
      }
    }
    return new SentenceEncoder(folder, engine, batchTokens, options.truncateDim);
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
    const stack = new Error().stack;
    const list = this.checkTexts(texts);
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
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
    let sentence: Float32Array | undefined;
    const tokenRows: Embeddings[] = [];
    let start = 0;
    let next = n > 0 ? this.tokenizeBatch(list, 0, batchTokens, prompt) : undefined;
    while (next) {
      const batch = next;
      // Concurrent callers' batches may share this native call (see batcher.ts).
      const pending = this.batcher.submit(batch, nativeOptions, batchTokens, signal);
      // If tokenizing the next batch throws, this call is never awaited: keep its rejection handled.
      pending.catch(() => undefined);
      // Tokenize the next batch while the engine works on this one.
      const end = start + batch.count;
      next = end < n ? this.tokenizeBatch(list, end, batchTokens, prompt) : undefined;
      let result: BatchResult;
      try {
        result = await pending;
      } catch (err) {
        throw withCallerStack(err, stack);
      }
      signal?.throwIfAborted();
      if (wantTokens) {
        // Views of the native output: each sentence's rows, no copy.
        const tokens = result.tokens!;
        for (let i = 0; i < batch.count; i++) {
          const a = batch.cuSeqlens[i];
          const b = batch.cuSeqlens[i + 1];
          tokenRows.push(new Embeddings(tokens.subarray(a * this.hiddenSize, b * this.hiddenSize), b - a, this.hiddenSize, this.precision));
        }
      } else if (start === 0 && end === n && result.sentence!.length === n * this.dimension) {
        sentence = result.sentence!; // one native call wrote the whole answer: hand it over as is
      } else {
        sentence ??= new Float32Array(n * this.dimension);
        sentence.set(result.sentence!, start * this.dimension);
      }
      start = end;
      options.onProgress?.(start, n);
    }
    if (wantTokens) return tokenRows;
    const full = new Embeddings(sentence ?? new Float32Array(0), n, this.dimension, this.precision);
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
    let sentence: Float32Array | undefined;
    const tokenRows: Embeddings[] = [];
    for (let start = 0; start < n; ) {
      // The sequences from `start` that fit the budget (at least one).
      let end = start + 1;
      while (end < n && cuSeqlens[end + 1] - cuSeqlens[start] <= batchTokens) end++;
      const t0 = cuSeqlens[start];
      const part = {
        count: end - start,
        ids: start === 0 && end === n ? ids : ids.subarray(t0, cuSeqlens[end]),
        cuSeqlens: start === 0 ? cuSeqlens.subarray(0, end + 1) : cuSeqlens.slice(start, end + 1).map((c) => c - t0),
      };
      let result: BatchResult;
      try {
        result = await this.batcher.submit(part, nativeOptions, batchTokens, signal);
      } catch (err) {
        throw withCallerStack(err, caller.stack);
      }
      // Reported for every native call that ran, also when the call is being aborted.
      onBatch?.({ sequences: part.count, tokens: part.ids.length, waitMs: result.waitMs ?? 0, runMs: result.runMs ?? 0 });
      signal?.throwIfAborted();
      if (wantTokens) {
        const tokens = result.tokens!;
        for (let i = 0; i < part.count; i++) {
          const a = part.cuSeqlens[i];
          const b = part.cuSeqlens[i + 1];
          tokenRows.push(new Embeddings(tokens.subarray(a * this.hiddenSize, b * this.hiddenSize), b - a, this.hiddenSize, this.precision));
        }
      } else if (start === 0 && end === n) {
        sentence = result.sentence!; // one native call wrote the whole answer: hand it over as is
      } else {
        sentence ??= new Float32Array(n * this.dimension);
        sentence.set(result.sentence!, start * this.dimension);
      }
      start = end;
    }
    if (wantTokens) return tokenRows;
    const full = new Embeddings(sentence ?? new Float32Array(0), n, this.dimension, this.precision);
    return cut ? truncateRows(full, truncateDim, options.normalize === true) : full;
  }

  /**
   * Scores of every row of `a` against every row of `b` with the model's own similarity
   * function (`similarity_fn_name` in config_sentence_transformers.json: cosine by default; dot,
   * euclidean and manhattan as negative distances), like sentence-transformers'
   * `model.similarity(a, b)`: a row-major Float32Array of `a.count × b.count`.
   */
  similarity(a: Embeddings | { data: Float32Array; count: number; dim: number }, b: Embeddings | { data: Float32Array; count: number; dim: number }): Promise<Float32Array> {
    return similarity(a, b, { scoreFunction: this.model.similarityFnName });
  }

  /**
   * Row i of `a` scored against row i of `b` only (`model.similarity_pairwise`), with the
   * model's similarity function; both must have the same count and dim. Computed in float64.
   */
  similarityPairwise(a: Embeddings | { data: Float32Array; count: number; dim: number }, b: Embeddings | { data: Float32Array; count: number; dim: number }): Float32Array {
    const x = toMatrix(a, 'a');
    const y = toMatrix(b, 'b');
    if (x.count !== y.count || x.dim !== y.dim) {
      throw new RangeError(`a and b must have the same shape (a is ${x.count} × ${x.dim}, b is ${y.count} × ${y.dim})`);
    }
    const fn = this.model.similarityFnName;
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
