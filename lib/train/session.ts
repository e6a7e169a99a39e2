/**
 * A training session: one model folder, its tokenizer and the native trainer (fp32 master
 * weights, AdamW moments, the loss). `fit` drives one; it is also the lower-level surface for
 * callers that want to run their own loop (one `step` per batch, `encode` for evaluation,
 * `save` for checkpoints).
 */
import { Embeddings } from '../embeddings';
import { SentenceEncoder } from '../encoder';
import type { NativeLossName, NativeTrainerOptions, NativeTrainStep } from '../native';
import { buildNativeSpec, loadModelFolder, ModelFolder } from '../weights';
import { checkBatchTokens, CPU_BATCH_TOKENS, type PackedIds } from '../token-budget';
import type { TrainExample } from './data';
import { NamedParameter, SaveDtype, saveModelFolder } from './save';
import { resolveModelFolder } from '../model-source';
import type { TrainingRecord } from './model-card';
import { TrainerCalls } from './trainer-calls';

/** Settings of the loss and optimizer a session is created with (see NativeTrainerOptions). */
export type SessionOptions = Omit<NativeTrainerOptions, 'textsPerExample'> & {
  textsPerExample: number;
  /**
   * Token budget of one native call of `encode` (evaluation), as the encoder's `batchTokens`;
   * default 8,192. A training step is one native call of a whole batch of examples: its size
   * is set by the batch size, not cut at this budget (the losses need the batch at once).
   */
  batchTokens?: number;
};

export class TrainingSession {
  /** The source model folder (configuration, module chain, tokenizer); its weights are released once the trainer holds fp32 copies. */
  readonly folder: Omit<ModelFolder, 'weights'>;
  /** Length of a sentence embedding. */
  readonly dimension: number;
  readonly loss: NativeLossName;
  readonly textsPerExample: number;
  /** Default token budget of one native call of `encode`. */
  readonly batchTokens: number;
  private readonly trainer: TrainerCalls;

  private constructor(folder: Omit<ModelFolder, 'weights'>, trainer: TrainerCalls, options: SessionOptions) {
    this.folder = folder;
    this.trainer = trainer;
    this.dimension = trainer.width;
    this.loss = options.loss;
    this.textsPerExample = options.textsPerExample;
    this.batchTokens = options.batchTokens ?? CPU_BATCH_TOKENS;
  }

  /**
   * Loads `model` (a folder path, 'default' for the bundled model, a Hugging Face id, or a CPU
   * SentenceEncoder whose folder is reloaded: training
   * needs the weights as stored) and creates the native trainer. The weights are upcast to fp32
   * master copies whatever their stored dtype.
   */
  static async create(model: string | SentenceEncoder, options: SessionOptions): Promise<TrainingSession> {
    let dir: string;
    if (typeof model === 'string') {
      if (model === '') throw new TypeError('model must be a model folder path or a SentenceEncoder');
      // 'default', a folder, or a Hub id (as SentenceEncoder.load resolves it)
      dir = await resolveModelFolder(model);
    } else if (model instanceof SentenceEncoder) {
      if (model.device !== 'cpu') throw new RangeError(`model is a SentenceEncoder on '${model.device}'; training runs on the CPU engine (load it with device: 'cpu')`);
      dir = model.model.dir;
    } else {
      throw new TypeError('model must be a model folder path or a SentenceEncoder');
    }
    const { batchTokens, ...trainerOptions } = options;
    if (batchTokens !== undefined) checkBatchTokens(batchTokens, 'options.batchTokens');
    const folder = await loadModelFolder(dir, { lazyWeights: true });
    const trainer = await TrainerCalls.create(buildNativeSpec(folder), trainerOptions);
    // The file buffers (as large as the model) are not needed any more: drop them.
    const { weights: _weights, ...rest } = folder;
    return new TrainingSession(rest, trainer, options);
  }

  /** Tokenizes texts as the encoder does (lower-casing when the folder asks, truncation to maxSeqLength). */
  tokenize(texts: readonly string[]): PackedIds {
    const list = this.folder.doLowerCase ? texts.map((t) => t.toLowerCase()) : [...texts];
    const enc = this.folder.tokenizer.encodeBatch(list, { maxLength: this.folder.maxSeqLength });
    return { ids: enc.ids, cuSeqlens: enc.cuSeqlens };
  }

  /**
   * One optimizer step on a batch of examples (each with `textsPerExample` texts) at
   * learning rate `learningRate`. Resolves to the batch's mean loss and the gradient norm
   * before clipping.
   */
  async step(examples: readonly TrainExample[], learningRate: number): Promise<{ loss: number; gradNorm: number }> {
    const texts: string[] = [];
    for (const ex of examples) texts.push(...ex.texts);
    const packed = this.tokenize(texts);
    const batch: NativeTrainStep = { ...packed, learningRate };
    if (this.loss === 'cosine' || this.loss === 'softmax') batch.labels = Float32Array.from(examples, (ex) => ex.label as number);
    if (this.loss === 'mse') {
      const targets = new Float32Array(examples.length * this.dimension);
      examples.forEach((ex, i) => targets.set(ex.target as Float32Array, i * this.dimension));
      batch.targets = targets;
    }
    return this.trainer.step(batch);
  }

  /**
   * Eval-mode sentence embeddings with the current weights (no dropout), in input order. Fits
   * the StsEncoder shape, so evaluateSts can score the model while it trains.
   */
  async encode(texts: string[], options: { batchTokens?: number } = {}): Promise<Embeddings> {
    const budget = checkBatchTokens(options.batchTokens ?? this.batchTokens, 'options.batchTokens');
    const out = await this.trainer.encode(this.tokenize(texts), texts.length, budget);
    return new Embeddings(out, texts.length, this.dimension, 'fp32');  // training runs in fp32
  }

  /** A snapshot of the model parameters (canonical names, fp32). */
  async parameters(): Promise<NamedParameter[]> {
    return this.trainer.parameters();
  }

  /**
   * Writes a complete sentence-transformers folder to `outputDir` (atomically: a temporary
   * sibling renamed into place) with `params` (default: the current weights).
   */
  async save(outputDir: string, options: { dtype?: SaveDtype; params?: readonly NamedParameter[]; training?: TrainingRecord } = {}): Promise<string> {
    const params = options.params ?? (await this.parameters());
    return saveModelFolder(this.folder, params, outputDir, options.dtype ?? 'fp32', options.training);
  }

  /** Frees the native trainer (idempotent). */
  dispose(): void {
    this.trainer.dispose();
  }
}
