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
import type { NativeCrossEncoderLossName, NativeLossName } from '../native';
import type { TrainExample } from './data';
import { checkFitOptions, exampleError } from './fit-options';
import { abortError, checkTrainingOutput, runTrainingLoop, type TrainingProgress, type TrainingRunOptions } from './loop';
import { TrainingSession } from './session';

/** The bi-encoder losses of fit (the cross-encoder's are fitCrossEncoder's). */
export type LossName = Exclude<NativeLossName, NativeCrossEncoderLossName>;
export { LOSS_NAMES } from './fit-options';

/** Progress after each optimizer step (and after each evaluation). */
export type FitProgress = TrainingProgress<FitEvaluation>;

export interface FitEvaluation {
  step: number;
  epoch: number;
  /** Spearman's ρ of cosine similarity vs gold (the score the best checkpoint is chosen by). */
  spearman: number;
  pearson: number;
}

export interface FitOptions extends TrainingRunOptions<FitProgress> {
  loss: LossName;
  train: readonly TrainExample[];
  /** An STS task name ('stsb-dev', …) or pairs `{ s1, s2, score }`, scored by Spearman. */
  evaluator?: string | readonly StsPair[];
  /** softmax: number of classes (default: largest label + 1, at least 2). */
  numLabels?: number;
  /** triplet: margin (default 1, the SBERT paper; sentence-transformers' TripletLoss default is 5). */
  margin?: number;
  /** mnrl: similarity scale (default 20). */
  scale?: number;
  /** softmax: the classifier's initial weight [numLabels, 3·dim] and bias, instead of a seeded nn.Linear init. */
  classifierInit?: { weight: Float32Array; bias: Float32Array };
}

/** What a training run returns; `E` is the evaluation's shape. */
export interface TrainingRunResult<E> {
  /** Optimizer steps run. */
  steps: number;
  epochs: number;
  /** The mean loss of each step. */
  losses: Float64Array;
  evaluations: E[];
  /** The absolute folder the model was saved to (undefined without outputDir). */
  outputDir?: string;
  /** The step whose weights were saved (the best evaluation's, or the last step). */
  savedStep?: number;
}

export type FitResult = TrainingRunResult<FitEvaluation>;

async function evaluationPairs(evaluator: string | readonly StsPair[]): Promise<readonly StsPair[]> {
  if (typeof evaluator === 'string') {
    const { isStsTaskName, loadStsTask } = await import('../eval/datasets');
    if (!isStsTaskName(evaluator)) throw new RangeError(`options.evaluator '${evaluator}' is not an STS task (e.g. 'stsb-dev')`);
    return loadStsTask(evaluator).subsets.flatMap((s) => s.pairs);
  }
  return evaluator; // pairs: checked by checkFitOptions
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
  const { loss, train, epochs, batchSize, learningRate, weightDecay, maxGradNorm, seed, signal } = o;
  const evalPairs = o.evaluator === undefined ? undefined : await evaluationPairs(o.evaluator);
  const evaluateSts = evalPairs === undefined ? undefined : (await import('../eval/evaluate')).evaluateSts;
  await checkTrainingOutput(o.outputDir);
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
    const run = await runTrainingLoop<TrainExample, FitEvaluation>(train, o, {
      step: (batch, lr) => session.step(batch, lr),
      ...(evalPairs
        ? {
            evaluate: async (step, epoch) => {
              const r = await evaluateSts!(session, evalPairs);
              return { step, epoch, spearman: r.spearman, pearson: r.pearson };
            },
            score: (e: FitEvaluation) => e.spearman,
          }
        : {}),
      parameters: () => session.parameters(),
    });
    const result: FitResult = { steps: run.steps, epochs, losses: run.losses, evaluations: run.evaluations };
    if (o.outputDir !== undefined) {
      const params = run.best?.params ?? (await session.parameters());
      result.savedStep = run.best?.step ?? run.steps;
      const training = {
        loss, examples: train.length, epochs, steps: run.steps, batchSize, learningRate, warmupSteps: run.warmupSteps, weightDecay, maxGradNorm, seed,
        savedStep: result.savedStep, evaluator: typeof o.evaluator === 'string' ? o.evaluator : o.evaluator ? `${o.evaluator.length} pairs` : undefined,
        evaluations: run.evaluations, saveDtype: o.saveDtype,
      };
      result.outputDir = await session.save(o.outputDir, { dtype: o.saveDtype, params, training });
    }
    return result;
  } finally {
    session.dispose();
  }
}
