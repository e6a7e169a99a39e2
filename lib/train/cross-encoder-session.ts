/**
 * A cross-encoder training session: one Hugging Face sequence-classification folder (the
 * family's encoder, then its classification head on the first token — the model plan
 * loadCrossEncoderFolder makes), its tokenizer, and the native trainer with a cross-encoder loss
 * on the head's logits: 'bce' (BCEWithLogitsLoss, one logit per pair) or 'cross_entropy'
 * (CrossEntropyLoss, numLabels logits per pair). `fitCrossEncoder` drives one; it is also the
 * lower-level surface for callers running their own loop (`step` per batch, `logits` for
 * evaluation, `save` for checkpoints).
 *
 * Pairs are tokenized by the function CrossEncoder.predict uses (lib/pair-tokens.ts), so the
 * model trains on exactly the inputs it is later scored on.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CrossEncoder } from '../cross-encoder';
import { defaultModelDir } from '../default-model';
import { fetchModelFolder } from '../engine-setup';
import { SbertError } from '../errors';
import type { NativeCrossEncoderLossName, NativeTrainerOptions, NativeTrainStep } from '../native';
import { encodeCrossEncoderPairs } from '../pair-tokens';
import { checkBatchTokens, CPU_BATCH_TOKENS, type PackedIds } from '../token-budget';
import { buildNativeSpec, loadCrossEncoderFolder, type CrossEncoderFolder, type ModelFolder, type NewHeadOptions } from '../weights';
import { saveCrossEncoderFolder, type CrossEncoderTrainingRecord } from './cross-encoder-save';
import type { TrainExample } from './data';
import type { NamedParameter, SaveDtype } from './save';
import { TrainerCalls } from './trainer-calls';

/** The cross-encoder losses: 'bce' (BCEWithLogitsLoss) and 'cross_entropy' (CrossEntropyLoss). */
export type CrossEncoderLossName = NativeCrossEncoderLossName;

export const CROSS_ENCODER_LOSS_NAMES: readonly CrossEncoderLossName[] = ['bce', 'cross_entropy'];

/** Settings of the loss and optimizer a cross-encoder session is created with (see NativeTrainerOptions). */
export type CrossEncoderSessionOptions = Omit<NativeTrainerOptions, 'loss' | 'textsPerExample' | 'numLabels' | 'margin' | 'scale' | 'classifier'> & {
  /**
   * 'bce' for a model with one label, 'cross_entropy' for several (the default chosen by the
   * label count, as sentence-transformers' CrossEncoder.fit chooses it).
   */
  loss?: CrossEncoderLossName;
  /** Truncate pairs to this many tokens (default: the model's, as CrossEncoder.load takes it). */
  maxLength?: number;
  /** Token budget of one native call of `logits` (evaluation); default 8,192. */
  batchTokens?: number;
  /**
   * Train a new classification head of this many labels on a base model (a checkpoint without
   * one: `bert-base-uncased`, `xlm-roberta-base`, a bi-encoder's transformer), as
   * sentence-transformers' `CrossEncoder(base, num_labels=N)`: the head tensors the checkpoint
   * lacks are initialised as transformers does (normal(0, initializer_range), zero biases,
   * seeded by `seed`); a checkpoint whose head has another label count is refused.
   */
  numLabels?: number;
};

/** The source folder as the session keeps it: everything but the weight buffers. */
export type CrossEncoderSource = Omit<CrossEncoderFolder, 'model'> & { model: Omit<ModelFolder, 'weights'> };

/**
 * The loss for a head with `numLabels` logits: `asked` when it fits, else a RangeError naming
 * options.loss; without `asked`, 'bce' for one label and 'cross_entropy' for several.
 */
export function crossEncoderLossFor(numLabels: number, asked: CrossEncoderLossName | undefined): CrossEncoderLossName {
  if (asked === undefined) return numLabels === 1 ? 'bce' : 'cross_entropy';
  if (asked === 'bce' && numLabels !== 1) {
    throw new RangeError(`options.loss 'bce' needs a model with one label (num_labels 1); this model has ${numLabels}: use 'cross_entropy' (class-index labels)`);
  }
  if (asked === 'cross_entropy' && numLabels < 2) {
    throw new RangeError(`options.loss 'cross_entropy' needs a model with two or more labels; this model has ${numLabels}: use 'bce' (labels in [0, 1])`);
  }
  return asked;
}

/** The folder of `model` (a folder, a Hub id or a CrossEncoder), and the maxLength a CrossEncoder was loaded with. */
async function modelFolderOf(model: string | CrossEncoder): Promise<{ dir: string; maxLength?: number }> {
  const biEncoder = "the bundled default model is a bi-encoder: fine-tune it with fit(); fitCrossEncoder takes a Hugging Face …ForSequenceClassification folder";
  if (typeof model === 'string') {
    if (model === '') throw new TypeError('model must be a model folder path, a Hugging Face id or a CrossEncoder');
    if (model === 'default') throw new SbertError('ERR_BAD_MODEL', biEncoder);
    const dir = await fetchModelFolder(model, {});
    if (dir === defaultModelDir()) throw new SbertError('ERR_BAD_MODEL', biEncoder);
    return { dir };
  }
  if (model instanceof CrossEncoder) return { dir: model.dir, maxLength: model.maxLength };
  throw new TypeError(`model must be a model folder path, a Hugging Face id or a CrossEncoder (got ${model === null ? 'null' : typeof model})`);
}

/**
 * loadCrossEncoderFolder, with a sentence-transformers bi-encoder folder (modules.json) refused by
 * a message that points to fit().
 */
async function loadSource(dir: string, maxLength: number | undefined, newHead: NewHeadOptions | undefined): Promise<CrossEncoderFolder> {
  try {
    return await loadCrossEncoderFolder(dir, { lazyWeights: true, ...(maxLength !== undefined ? { maxLength } : {}), ...(newHead ? { newHead } : {}) });
  } catch (err) {
    if (err instanceof SbertError && err.code === 'ERR_BAD_MODEL' && fs.existsSync(path.join(dir, 'modules.json'))) {
      throw new SbertError(
        'ERR_BAD_MODEL',
        `${dir} is a sentence-transformers bi-encoder folder (modules.json): fine-tune it with fit(); fitCrossEncoder takes a Hugging Face …ForSequenceClassification folder (${err.message})`,
      );
    }
    throw err;
  }
}

export class CrossEncoderTrainingSession {
  /** The source model (configuration, labels, activation, tokenizer, module chain); its weight buffers are released once the trainer holds fp32 copies. */
  readonly folder: CrossEncoderSource;
  /** Logits per pair (the head's labels). */
  readonly numLabels: number;
  readonly loss: CrossEncoderLossName;
  /** Pairs are truncated (longest first) to this many tokens, special tokens included. */
  readonly maxLength: number;
  /** Default token budget of one native call of `logits`. */
  readonly batchTokens: number;
  private readonly trainer: TrainerCalls;

  private constructor(folder: CrossEncoderSource, trainer: TrainerCalls, loss: CrossEncoderLossName, batchTokens: number) {
    this.folder = folder;
    this.numLabels = folder.numLabels;
    this.maxLength = folder.maxLength;
    this.loss = loss;
    this.batchTokens = batchTokens;
    this.trainer = trainer;
  }

  /**
   * Loads `model` — a Hugging Face …ForSequenceClassification folder, a Hub id, or a CrossEncoder
   * (whose folder is reloaded: training needs the weights as stored, upcast to fp32 master
   * copies) — and creates the native trainer.
   * @throws (rejects) SbertError ERR_BAD_MODEL for a folder that is not a sequence classifier (a
   *   bi-encoder folder is pointed to fit()); RangeError when options.loss does not fit the
   *   model's label count or options.maxLength its positions; TypeError for a bad `model`
   */
  static async create(model: string | CrossEncoder, options: CrossEncoderSessionOptions): Promise<CrossEncoderTrainingSession> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const { loss: askedLoss, maxLength, batchTokens, numLabels, ...trainerOptions } = options;
    if (numLabels !== undefined && (!Number.isSafeInteger(numLabels) || numLabels < 1 || numLabels > 1 << 16)) {
      throw new RangeError(`options.numLabels must be an integer from 1 to 65536 (got ${String(numLabels)})`);
    }
    if (askedLoss !== undefined && !CROSS_ENCODER_LOSS_NAMES.includes(askedLoss)) {
      throw new RangeError(`options.loss must be one of ${CROSS_ENCODER_LOSS_NAMES.join(', ')} (got ${JSON.stringify(askedLoss)})`);
    }
    if (batchTokens !== undefined) checkBatchTokens(batchTokens, 'options.batchTokens');
    const source = await modelFolderOf(model);
    const newHead = numLabels === undefined ? undefined : { numLabels, ...(trainerOptions.seed !== undefined ? { seed: trainerOptions.seed } : {}) };
    const folder = await loadSource(source.dir, maxLength ?? source.maxLength, newHead);
    const loss = crossEncoderLossFor(folder.numLabels, askedLoss);
    // One "text" per example: the packed pair; the loss's width is the head's label count.
    const trainer = await TrainerCalls.create(buildNativeSpec(folder.model), { ...trainerOptions, loss, textsPerExample: 1 });
    // The file buffers (as large as the model) are not needed any more: drop them.
    const { weights: _weights, ...modelPlan } = folder.model;
    return new CrossEncoderTrainingSession({ ...folder, model: modelPlan }, trainer, loss, batchTokens ?? CPU_BATCH_TOKENS);
  }

  /** The pairs as CrossEncoder.predict packs them (token types for BERT; truncation to maxLength). */
  tokenize(pairs: readonly (readonly [string, string])[]): PackedIds {
    return encodeCrossEncoderPairs(this.folder.tokenizer, this.folder.config, pairs, this.maxLength);
  }

  /**
   * One optimizer step on a batch of pair examples `{ texts: [a, b], label }` at
   * `learningRate`: labels in [0, 1] for 'bce', class indices for 'cross_entropy' (the native
   * trainer refuses others with ERR_BAD_DATA; fitCrossEncoder checks them first and names the
   * example). Resolves to the batch's mean loss and the gradient norm before clipping.
   */
  async step(examples: readonly TrainExample[], learningRate: number): Promise<{ loss: number; gradNorm: number }> {
    const packed = this.tokenize(examples.map((ex) => ex.texts as unknown as readonly [string, string]));
    const batch: NativeTrainStep = { ...packed, labels: Float32Array.from(examples, (ex) => ex.label as number), learningRate };
    return this.trainer.step(batch);
  }

  /**
   * The head's raw logits for `pairs` with the current weights (eval mode: no dropout),
   * [pairs, numLabels] row-major — what CrossEncoder.predict with activation 'identity' gives
   * for the saved model.
   */
  async logits(pairs: readonly (readonly [string, string])[], options: { batchTokens?: number } = {}): Promise<Float32Array> {
    const budget = checkBatchTokens(options.batchTokens ?? this.batchTokens, 'options.batchTokens');
    return this.trainer.encode(this.tokenize(pairs), pairs.length, budget);
  }

  /** A snapshot of the model parameters (canonical names, fp32). */
  async parameters(): Promise<NamedParameter[]> {
    return this.trainer.parameters();
  }

  /**
   * Writes a Hugging Face sequence-classification folder to `outputDir` (atomically: a temporary
   * sibling renamed into place) with `params` (default: the current weights): see
   * saveCrossEncoderFolder. Resolves to the absolute folder.
   */
  async save(outputDir: string, options: { dtype?: SaveDtype; params?: readonly NamedParameter[]; training?: CrossEncoderTrainingRecord } = {}): Promise<string> {
    const params = options.params ?? (await this.parameters());
    return saveCrossEncoderFolder(this.folder, params, outputDir, options.dtype ?? 'fp32', options.training);
  }

  /** Frees the native trainer (idempotent). */
  dispose(): void {
    this.trainer.dispose();
  }
}
