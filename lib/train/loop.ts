/**
 * The training loop every fit runs (the bi-encoder's `fit` and `fitCrossEncoder`), as
 * sentence-transformers' fit: epochs of batches in a seeded shuffled order (or the data's order),
 * transformers' linear warm-up / decay schedule, one optimizer step per batch, an evaluation
 * every `evaluationSteps` steps and at the end of every epoch with the best one's weights kept,
 * a progress report after each step, and an AbortSignal checked between steps. What a step or
 * an evaluation is belongs to the caller; this file only orders them.
 */
import { outputFolderProblem } from '../output-file';
import type { CheckedRunOptions } from './fit-options';
import { checkOutputDir, type NamedParameter, type SaveDtype } from './save';
import { epochOrder, linearWarmupLr, SeededRandom, warmupStepsFor } from './schedule';

/** Progress after each optimizer step (and after each evaluation); `E` is the evaluation's shape. */
export interface TrainingProgress<E> {
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
  evaluation?: E;
}

/**
 * The options every training run takes (fit and fitCrossEncoder), with sentence-transformers'
 * fit defaults; `P` is the progress report's shape.
 */
export interface TrainingRunOptions<P> {
  /** Passes over the training data (default 1). */
  epochs?: number;
  /** Examples per optimizer step (default 16); a step is one native call of the whole batch. */
  batchSize?: number;
  /** Token budget of one native call when the model is run for evaluation (default 8,192). */
  batchTokens?: number;
  /** Peak learning rate (default 2e-5). */
  learningRate?: number;
  /** Warm-up steps as a fraction of all steps, rounded up (default 0.1). */
  warmupRatio?: number;
  /** Warm-up steps given directly (overrides warmupRatio). */
  warmupSteps?: number;
  /** AdamW's decoupled weight decay (default 0.01; none on biases and LayerNorm). */
  weightDecay?: number;
  /** Global gradient-norm clip (default 1); Infinity turns clipping off. */
  maxGradNorm?: number;
  /** Seeds shuffling, dropout and any initialisation the loss makes (default 42). */
  seed?: number;
  /** Shuffle the examples every epoch (default true); false keeps their order. */
  shuffle?: boolean;
  /** Dropout while training, probabilities from config.json: the encoder's, and a cross-encoder head's own (default true). */
  dropout?: boolean;
  /** Evaluate every N steps as well as after each epoch (default: after each epoch only). */
  evaluationSteps?: number;
  /** Where the trained model is written (a new or empty folder); nothing is saved without it. */
  outputDir?: string;
  /** Called after every optimizer step (with the evaluation when one ran). */
  onProgress?: (progress: P) => void;
  /** Stops training between steps; the run then rejects with the signal's reason and saves nothing. */
  signal?: AbortSignal;
  /** Storage dtype of the saved weights (default 'fp32'). */
  saveDtype?: SaveDtype;
  /** AdamW betas (default [0.9, 0.999]) and eps (default 1e-6). */
  adamBetas?: [number, number];
  adamEps?: number;
}

/** What the loop needs from its caller besides the checked run options. */
export interface LoopHooks<X, E> {
  /** One optimizer step on `batch` at `learningRate`. */
  step(batch: X[], learningRate: number): Promise<{ loss: number; gradNorm: number }>;
  /** Scores the current weights after step `step` (absent: no evaluations). */
  evaluate?: (step: number, epoch: number) => Promise<E>;
  /** The number an evaluation is ranked by (higher is better). */
  score?: (evaluation: E) => number;
  /** A snapshot of the weights (taken when an evaluation is the best so far). */
  parameters(): Promise<NamedParameter[]>;
}

export interface LoopResult<E> {
  steps: number;
  warmupSteps: number;
  losses: Float64Array;
  evaluations: E[];
  /** The best evaluation's step and weights, when there were evaluations. */
  best?: { step: number; params: NamedParameter[] };
}

/** The signal's reason, or an AbortError when it has none. */
export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('training was aborted', 'AbortError');
}

/**
 * Refuses, before any work, an output folder that cannot receive a model: a file, a folder that
 * is not empty, a missing parent, /proc or a hung mount (RangeError naming options.outputDir).
 */
export async function checkTrainingOutput(outputDir: string | undefined): Promise<void> {
  if (outputDir === undefined) return;
  const problem = await outputFolderProblem(outputDir);
  if (problem !== undefined) throw new RangeError(`options.outputDir ${problem}`);
  await checkOutputDir(outputDir);
}

/**
 * Runs `o.epochs` epochs over `train` (see the file comment). Rejects with the signal's reason
 * when it aborts between steps; a step's or an evaluation's error rejects as it is.
 */
export async function runTrainingLoop<X, E>(train: readonly X[], o: CheckedRunOptions<TrainingProgress<E>>, hooks: LoopHooks<X, E>): Promise<LoopResult<E>> {
  const { epochs, batchSize, learningRate, evaluationSteps, signal } = o;
  const stepsPerEpoch = Math.ceil(train.length / batchSize);
  const totalSteps = stepsPerEpoch * epochs;
  const warmupSteps = o.warmupSteps ?? warmupStepsFor(totalSteps, o.warmupRatio);
  const rng = o.shuffle ? new SeededRandom(o.seed) : undefined;
  const losses = new Float64Array(totalSteps);
  const evaluations: E[] = [];
  let best: { score: number; step: number; params: NamedParameter[] } | undefined;
  const started = Date.now();

  const evaluate = async (step: number, epoch: number): Promise<E> => {
    const e = await hooks.evaluate!(step, epoch);
    evaluations.push(e);
    const score = hooks.score ? hooks.score(e) : NaN;
    // An undefined score (NaN: a constant prediction) is kept only until a defined one comes.
    if (best === undefined || score > best.score || (Number.isNaN(best.score) && !Number.isNaN(score))) best = { score, step, params: await hooks.parameters() };
    return e;
  };

  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = epochOrder(train.length, rng);
    for (let b = 0; b < stepsPerEpoch; b++) {
      if (signal?.aborted) throw abortError(signal);
      const batch = Array.from(order.subarray(b * batchSize, (b + 1) * batchSize), (i) => train[i]);
      const lr = linearWarmupLr(learningRate, step, warmupSteps, totalSteps);
      const r = await hooks.step(batch, lr);
      losses[step] = r.loss;
      step++;
      const progress: TrainingProgress<E> = { step, totalSteps, epoch, loss: r.loss, learningRate: lr, gradNorm: r.gradNorm, elapsedMs: Date.now() - started };
      const endOfEpoch = b === stepsPerEpoch - 1;
      if (hooks.evaluate && ((evaluationSteps > 0 && step % evaluationSteps === 0) || endOfEpoch)) {
        if (signal?.aborted) throw abortError(signal);
        progress.evaluation = await evaluate(step, epoch);
      }
      o.onProgress?.(progress);
    }
  }
  if (signal?.aborted) throw abortError(signal);
  return { steps: step, warmupSteps, losses, evaluations, ...(best ? { best: { step: best.step, params: best.params } } : {}) };
}
