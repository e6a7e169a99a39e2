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
import { outputFolderProblem } from '../output-file';
import { checkFitOptions, exampleError } from './fit-options';
import { checkOutputDir, NamedParameter, SaveDtype } from './save';
import { epochOrder, linearWarmupLr, SeededRandom, warmupStepsFor } from './schedule';
import { TrainingSession } from './session';

export type LossName = NativeLossName;
export { LOSS_NAMES } from './fit-options';

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

async function evaluationPairs(evaluator: string | readonly StsPair[]): Promise<readonly StsPair[]> {
  if (typeof evaluator === 'string') {
    const { isStsTaskName, loadStsTask } = await import('../eval/datasets');
    if (!isStsTaskName(evaluator)) throw new RangeError(`options.evaluator '${evaluator}' is not an STS task (e.g. 'stsb-dev')`);
    return loadStsTask(evaluator).subsets.flatMap((s) => s.pairs);
  }
  return evaluator; // pairs: checked by checkFitOptions
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('training was aborted', 'AbortError');
}

/**
 * Fine-tunes `model` (a model folder path, 'default' for the bundled model, a Hugging Face id,
 * or a SentenceEncoder loaded on the CPU) on
 * `options.train` with `options.loss`, and saves the result to `options.outputDir`. See
 * FitOptions for the defaults (sentence-transformers' fit: lr 2e-5, 10% warm-up, weight decay
 * 0.01, clip 1, batch 16). Rejects with TypeError/RangeError naming the option or the example
 * that is wrong, before any training starts.
 */
export async function fit(model: string | SentenceEncoder, options: FitOptions): Promise<FitResult> {
  const o = checkFitOptions(options);
  const { loss, train, epochs, batchSize, learningRate, warmupRatio, weightDecay, maxGradNorm, seed, evaluationSteps, signal } = o;
  const evalPairs = o.evaluator === undefined ? undefined : await evaluationPairs(o.evaluator);
  const evaluateSts = evalPairs === undefined ? undefined : (await import('../eval/evaluate')).evaluateSts;
  if (o.outputDir !== undefined) {
    // A folder that cannot hold the model (a file, /proc, a hung mount) is refused before any work.
    const problem = await outputFolderProblem(o.outputDir);
    if (problem !== undefined) throw new RangeError(`options.outputDir ${problem}`);
    await checkOutputDir(o.outputDir);
  }
  if (signal?.aborted) throw abortError(signal);

  const session = await TrainingSession.create(model, {
    loss,
    textsPerExample: o.textsPerExample,
    numLabels: o.numLabels,
    margin: o.margin,
    scale: o.scale,
    beta1: o.beta1,
    beta2: o.beta2,
    eps: o.eps,
    weightDecay,
    maxGradNorm,
    dropout: o.dropout,
    seed,
    ...(o.batchTokens !== undefined ? { batchTokens: o.batchTokens } : {}),
    ...(o.classifierInit ? { classifier: o.classifierInit } : {}),
  });
  try {
    if (loss === 'mse') {
      const bad = train.findIndex((ex) => ex.target!.length !== session.dimension);
      if (bad >= 0) throw exampleError(RangeError, bad, `options.train[${bad}].target has ${train[bad].target!.length} values; the model's embeddings have ${session.dimension}`);
    }
    const stepsPerEpoch = Math.ceil(train.length / batchSize);
    const totalSteps = stepsPerEpoch * epochs;
    const warmupSteps = o.warmupSteps ?? warmupStepsFor(totalSteps, warmupRatio);
    const rng = o.shuffle ? new SeededRandom(seed) : undefined;
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
        o.onProgress?.(progress);
      }
    }
    if (signal?.aborted) throw abortError(signal);
    const result: FitResult = { steps: step, epochs, losses, evaluations };
    if (o.outputDir !== undefined) {
      const params = best?.params ?? (await session.parameters());
      result.savedStep = best?.step ?? step;
      const training = {
        loss, examples: train.length, epochs, steps: step, batchSize, learningRate, warmupSteps, weightDecay, maxGradNorm, seed,
        savedStep: result.savedStep, evaluator: typeof o.evaluator === 'string' ? o.evaluator : o.evaluator ? `${o.evaluator.length} pairs` : undefined,
        evaluations, saveDtype: o.saveDtype,
      };
      result.outputDir = await session.save(o.outputDir, { dtype: o.saveDtype, params, training });
    }
    return result;
  } finally {
    session.dispose();
  }
}
