/**
 * fit(): fine-tunes a sentence-transformers BERT model with one of the SBERT paper's siamese
 * objectives (or MNRL / MSE distillation), as sentence-transformers' `fit` does: AdamW with
 * decoupled weight decay (none on biases and LayerNorm), transformers' linear warm-up / decay
 * schedule, clipping at a global gradient norm, mean loss over each batch of examples. Every
 * step runs on a native worker thread, so the event loop stays free; an AbortSignal stops the
 * run between steps. The result is saved as a sentence-transformers folder (the best
 * checkpoint when an evaluator is given).
 */
import type { SentenceEncoder } from '../encoder';
// lib/eval is loaded only when an evaluator is given: `require('sbert-native')` loads no
// evaluation module (the STS tools live in `sbert-native/eval`).
import type { StsPair } from '../eval/datasets';
import type { NativeLossName } from '../native';
import type { TrainExample } from './data';
import { checkOutputDir, NamedParameter, SaveDtype } from './save';
import { epochOrder, linearWarmupLr, SeededRandom, warmupStepsFor } from './schedule';
import { TrainingSession } from './session';

export type LossName = NativeLossName;
export const LOSS_NAMES: readonly LossName[] = ['cosine', 'softmax', 'triplet', 'mnrl', 'mse'];

/** Progress after each optimizer step (and after each evaluation). */
export interface FitProgress {
  /** Optimizer steps done (1-based after the first step). */
  step: number;
  totalSteps: number;
  /** 0-based epoch of the step. */
  epoch: number;
  /** The step's mean loss over its batch. */
  loss: number;
  /** Learning rate the step ran at. */
  learningRate: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  elapsedMs: number;
  /** Set when an evaluation ran after this step. */
  evaluation?: FitEvaluation;
}

export interface FitEvaluation {
  step: number;
  epoch: number;
  /** Spearman's ρ of cosine similarity vs gold (the score the best checkpoint is chosen by). */
  spearman: number;
  pearson: number;
}

export interface FitOptions {
  loss: LossName;
  train: readonly TrainExample[];
  epochs?: number;
  /** Examples per optimizer step (default 16); a step is one native call of the whole batch. */
  batchSize?: number;
  /** Token budget of one native call when the model is encoded for evaluation (default 8,192). */
  batchTokens?: number;
  learningRate?: number;
  /** Warm-up steps as a fraction of all steps, rounded up (default 0.1). */
  warmupRatio?: number;
  /** Warm-up steps given directly (overrides warmupRatio). */
  warmupSteps?: number;
  weightDecay?: number;
  /** Global gradient-norm clip (default 1); Infinity turns clipping off. */
  maxGradNorm?: number;
  /** Seeds shuffling, dropout and the softmax classifier's initialisation (default 42). */
  seed?: number;
  shuffle?: boolean;
  /** BERT dropout (probabilities from config.json) while training (default true). */
  dropout?: boolean;
  /** An STS task name ('stsb-dev', …) or pairs `{ s1, s2, score }`, scored by Spearman. */
  evaluator?: string | readonly StsPair[];
  /** Evaluate every N steps as well as after each epoch (default: after each epoch only). */
  evaluationSteps?: number;
  /** Where the trained model is written (a new or empty folder); nothing is saved without it. */
  outputDir?: string;
  onProgress?: (progress: FitProgress) => void;
  /** Stops training between steps; fit then rejects with the signal's reason and saves nothing. */
  signal?: AbortSignal;
  /** Storage dtype of the saved weights (default 'fp32'). */
  saveDtype?: SaveDtype;
  /** softmax: number of classes (default: largest label + 1, at least 2). */
  numLabels?: number;
  /** triplet: margin (default 1, the SBERT paper; sentence-transformers' TripletLoss default is 5). */
  margin?: number;
  /** mnrl: similarity scale (default 20). */
  scale?: number;
  /** AdamW betas (default [0.9, 0.999]) and eps (default 1e-6). */
  adamBetas?: [number, number];
  adamEps?: number;
  /** softmax: the classifier's initial weight [numLabels, 3·dim] and bias, instead of a seeded nn.Linear init. */
  classifierInit?: { weight: Float32Array; bias: Float32Array };
}

export interface FitResult {
  /** Optimizer steps run. */
  steps: number;
  epochs: number;
  /** The mean loss of each step. */
  losses: Float64Array;
  evaluations: FitEvaluation[];
  /** The absolute folder the model was saved to (undefined without outputDir). */
  outputDir?: string;
  /** The step whose weights were saved (the best evaluation's, or the last step). */
  savedStep?: number;
}

function positiveInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`options.${name} must be a positive integer (got ${String(v)})`);
  return v;
}

function finiteNumber(v: unknown, name: string, min: number, orInfinity = false): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || (!orInfinity && !Number.isFinite(v))) {
    throw new RangeError(`options.${name} must be a ${orInfinity ? '' : 'finite '}number >= ${min} (got ${String(v)})`);
  }
  return v;
}

/** Texts per example each loss takes. */
function textsPerExample(loss: LossName, train: readonly TrainExample[]): number {
  switch (loss) {
    case 'cosine':
    case 'softmax':
      return 2;
    case 'triplet':
      return 3;
    case 'mse':
      return 1;
    case 'mnrl':
      return train.length > 0 && Array.isArray(train[0]?.texts) ? Math.max(2, train[0].texts.length) : 2;
  }
}

/** Checks every example against the loss; the message names the example index. */
function checkExamples(loss: LossName, train: readonly TrainExample[], k: number, numLabels: number): void {
  const want = loss === 'mnrl' ? `${k} (anchor, positive${k > 2 ? ', negatives' : ''}; every example the same)` : String(k);
  for (let i = 0; i < train.length; i++) {
    const ex = train[i];
    if (ex === null || typeof ex !== 'object' || !Array.isArray(ex.texts)) throw new TypeError(`options.train[${i}] must be { texts: string[], label?, target? }`);
    if (ex.texts.length !== k) throw new RangeError(`options.train[${i}] has ${ex.texts.length} texts; the ${loss} loss takes ${want}`);
    for (let j = 0; j < k; j++) {
      if (typeof ex.texts[j] !== 'string') throw new TypeError(`options.train[${i}].texts[${j}] is not a string`);
    }
    if (loss === 'cosine' && (typeof ex.label !== 'number' || !Number.isFinite(ex.label))) {
      throw new RangeError(`options.train[${i}].label must be a finite number (the target cosine similarity) for the cosine loss`);
    }
    if (loss === 'softmax' && (typeof ex.label !== 'number' || !Number.isInteger(ex.label) || ex.label < 0 || ex.label >= numLabels)) {
      throw new RangeError(`options.train[${i}].label must be a class index 0..${numLabels - 1} for the softmax loss (got ${String(ex.label)})`);
    }
    if (loss === 'mse' && !(ex.target instanceof Float32Array)) throw new TypeError(`options.train[${i}].target must be a Float32Array for the mse loss`);
  }
}

async function evaluationPairs(evaluator: string | readonly StsPair[]): Promise<readonly StsPair[]> {
  if (typeof evaluator === 'string') {
    const { isStsTaskName, loadStsTask } = await import('../eval/datasets');
    if (!isStsTaskName(evaluator)) throw new RangeError(`options.evaluator '${evaluator}' is not an STS task (e.g. 'stsb-dev')`);
    return loadStsTask(evaluator).subsets.flatMap((s) => s.pairs);
  }
  if (!Array.isArray(evaluator) || evaluator.length < 2) throw new TypeError('options.evaluator must be an STS task name or an array of at least two { s1, s2, score } pairs');
  return evaluator;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('training was aborted', 'AbortError');
}

/**
 * Fine-tunes `model` (a model folder path, or a SentenceEncoder loaded on the CPU) on
 * `options.train` with `options.loss`, and saves the result to `options.outputDir`. See
 * FitOptions for the defaults (sentence-transformers' fit: lr 2e-5, 10% warm-up, weight decay
 * 0.01, clip 1, batch 16). Rejects with TypeError/RangeError naming the option or the example
 * that is wrong, before any training starts.
 */
export async function fit(model: string | SentenceEncoder, options: FitOptions): Promise<FitResult> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const loss = options.loss;
  if (!LOSS_NAMES.includes(loss)) throw new RangeError(`options.loss must be one of ${LOSS_NAMES.join(', ')} (got ${JSON.stringify(loss)})`);
  const train = options.train;
  if (!Array.isArray(train) || train.length === 0) throw new TypeError('options.train must be a non-empty array of examples');
  const epochs = positiveInt(options.epochs ?? 1, 'epochs');
  const batchSize = positiveInt(options.batchSize ?? 16, 'batchSize');
  const learningRate = finiteNumber(options.learningRate ?? 2e-5, 'learningRate', 0);
  const warmupRatio = finiteNumber(options.warmupRatio ?? 0.1, 'warmupRatio', 0);
  if (warmupRatio > 1) throw new RangeError(`options.warmupRatio must be in [0, 1] (got ${warmupRatio})`);
  const weightDecay = finiteNumber(options.weightDecay ?? 0.01, 'weightDecay', 0);
  const maxGradNorm = finiteNumber(options.maxGradNorm ?? 1, 'maxGradNorm', 0, true);
  if (maxGradNorm === 0) throw new RangeError('options.maxGradNorm must be > 0 (Infinity turns clipping off)');
  const seed = options.seed ?? 42;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`options.seed must be a non-negative integer (got ${String(seed)})`);
  const [beta1, beta2] = options.adamBetas ?? [0.9, 0.999];
  const eps = finiteNumber(options.adamEps ?? 1e-6, 'adamEps', 0);
  const k = textsPerExample(loss, train);
  const numLabels =
    loss === 'softmax'
      ? (options.numLabels ?? Math.max(2, ...train.map((ex) => (Number.isInteger(ex?.label) ? (ex.label as number) + 1 : 0))))
      : 3;
  positiveInt(numLabels, 'numLabels');
  checkExamples(loss, train, k, numLabels);
  const evaluationSteps = options.evaluationSteps === undefined ? 0 : positiveInt(options.evaluationSteps, 'evaluationSteps');
  const evalPairs = options.evaluator === undefined ? undefined : await evaluationPairs(options.evaluator);
  const evaluateSts = evalPairs === undefined ? undefined : (await import('../eval/evaluate')).evaluateSts;
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
  if (options.outputDir !== undefined) {
    if (typeof options.outputDir !== 'string' || options.outputDir === '') throw new TypeError('options.outputDir must be a non-empty string');
    await checkOutputDir(options.outputDir);
  }
  if (signal?.aborted) throw abortError(signal);

  const session = await TrainingSession.create(model, {
    loss,
    textsPerExample: k,
    numLabels,
    margin: options.margin ?? 1,
    scale: options.scale ?? 20,
    beta1,
    beta2,
    eps,
    weightDecay,
    maxGradNorm,
    dropout: options.dropout ?? true,
    seed,
    ...(options.batchTokens !== undefined ? { batchTokens: options.batchTokens } : {}),
    ...(options.classifierInit ? { classifier: options.classifierInit } : {}),
  });
  try {
    if (loss === 'mse') {
      const bad = train.findIndex((ex) => ex.target!.length !== session.dimension);
      if (bad >= 0) throw new RangeError(`options.train[${bad}].target has ${train[bad].target!.length} values; the model's embeddings have ${session.dimension}`);
    }
    const stepsPerEpoch = Math.ceil(train.length / batchSize);
    const totalSteps = stepsPerEpoch * epochs;
    const warmupSteps = options.warmupSteps ?? warmupStepsFor(totalSteps, warmupRatio);
    const rng = options.shuffle === false ? undefined : new SeededRandom(seed);
    const losses = new Float64Array(totalSteps);
    const evaluations: FitEvaluation[] = [];
    let best: { spearman: number; step: number; params: NamedParameter[] } | undefined;
    const started = Date.now();

    const evaluate = async (step: number, epoch: number): Promise<FitEvaluation> => {
      const r = await evaluateSts!(session, evalPairs!);
      const e = { step, epoch, spearman: r.spearman, pearson: r.pearson };
      evaluations.push(e);
      if (best === undefined || e.spearman > best.spearman) best = { spearman: e.spearman, step, params: await session.parameters() };
      return e;
    };

    let step = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = epochOrder(train.length, rng);
      for (let b = 0; b < stepsPerEpoch; b++) {
        if (signal?.aborted) throw abortError(signal);
        const batch = Array.from(order.subarray(b * batchSize, (b + 1) * batchSize), (i) => train[i]);
        const lr = linearWarmupLr(learningRate, step, warmupSteps, totalSteps);
        const r = await session.step(batch, lr);
        losses[step] = r.loss;
        step++;
        const progress: FitProgress = { step, totalSteps, epoch, loss: r.loss, learningRate: lr, gradNorm: r.gradNorm, elapsedMs: Date.now() - started };
        const endOfEpoch = b === stepsPerEpoch - 1;
        if (evalPairs && ((evaluationSteps > 0 && step % evaluationSteps === 0) || endOfEpoch)) {
          if (signal?.aborted) throw abortError(signal);
          progress.evaluation = await evaluate(step, epoch);
        }
        options.onProgress?.(progress);
      }
    }
    if (signal?.aborted) throw abortError(signal);
    const result: FitResult = { steps: step, epochs, losses, evaluations };
    if (options.outputDir !== undefined) {
      const params = best?.params ?? (await session.parameters());
      result.outputDir = await session.save(options.outputDir, { dtype: options.saveDtype ?? 'fp32', params });
      result.savedStep = best?.step ?? step;
    }
    return result;
  } finally {
    session.dispose();
  }
}
