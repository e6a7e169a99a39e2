/**
 * fitCrossEncoder(): fine-tunes a cross-encoder (a Hugging Face …ForSequenceClassification model
 * of BERT, RoBERTa / XLM-R, MPNet or DistilBERT) on sentence pairs, as sentence-transformers'
 * CrossEncoder.fit does: BCEWithLogitsLoss on the one logit of a model with one label (binary
 * labels, or soft 0–1 scores such as the SBERT paper's STSb scores / 5), CrossEntropyLoss on the
 * logits of a model with several (class indices, e.g. NLI), AdamW with decoupled weight decay,
 * transformers' linear warm-up / decay schedule, clipping at a global gradient norm — the same
 * loop, options and defaults as the bi-encoder `fit` (./loop.ts). The result is saved as a
 * Hugging Face sequence-classification folder (./cross-encoder-save.ts) that CrossEncoder.load
 * and sentence-transformers read: the best checkpoint when an evaluator is given.
 *
 * Evaluation (sentence-transformers' CrossEncoder evaluators): with one label, Spearman's ρ (and
 * Pearson's r) of the model's scores against the gold scores (CECorrelationEvaluator); with
 * several, the accuracy of the arg-max label (CEClassificationEvaluator).
 */
import type { CrossEncoder } from '../cross-encoder';
import { activate } from '../cross-encoder';
import type { TrainExample } from './data';
import { checkCrossEncoderFitOptions, checkPairLabels } from './cross-encoder-options';
import { CrossEncoderTrainingSession, type CrossEncoderLossName } from './cross-encoder-session';
import type { TrainingRunResult } from './fit';
import { abortError, checkTrainingOutput, runTrainingLoop, type TrainingProgress, type TrainingRunOptions } from './loop';

/** One evaluation of the model while it trains. */
export interface CrossEncoderEvaluation {
  step: number;
  epoch: number;
  /** 'spearman' for a model with one label, 'accuracy' for several. */
  metric: 'spearman' | 'accuracy';
  /** The metric's value: the best checkpoint is the one with the highest. */
  score: number;
  /** One label: Spearman's ρ and Pearson's r of the scores (logits through the model's activation) vs gold. */
  spearman?: number;
  pearson?: number;
  /** Several labels: the fraction of pairs whose arg-max label is the gold class. */
  accuracy?: number;
}

/** Progress after each optimizer step (and after each evaluation). */
export type CrossEncoderFitProgress = TrainingProgress<CrossEncoderEvaluation>;

export interface CrossEncoderFitOptions extends TrainingRunOptions<CrossEncoderFitProgress> {
  /**
   * Pair examples `{ texts: [a, b], label }` — what readTrainingFile and loadStsbTrain return.
   * bce: label in [0, 1]; cross_entropy: the class index (0 .. numLabels − 1).
   */
  train: readonly TrainExample[];
  /**
   * 'bce' (BCEWithLogitsLoss; models with one label) or 'cross_entropy' (CrossEntropyLoss; two
   * or more labels). Default: chosen by the model's label count, as sentence-transformers does.
   */
  loss?: CrossEncoderLossName;
  /** Truncate pairs to this many tokens (default: the model's max length, as CrossEncoder.load). */
  maxLength?: number;
  /**
   * Train a new head of this many labels on a base model without one (see
   * CrossEncoderTrainingSession.create's `numLabels`): `fitCrossEncoder('xlm-roberta-base',
   * { numLabels: 1, train })`, as sentence-transformers' `CrossEncoder(base, num_labels=1)`.
   */
  numLabels?: number;
  /**
   * An STS task name ('stsb-dev', …; models with one label) or pair examples `{ texts: [a, b],
   * label }` (gold scores for one label, class indices for several), scored after every epoch
   * (and every evaluationSteps steps): see the file comment.
   */
  evaluator?: string | readonly TrainExample[];
}

export interface CrossEncoderFitResult extends TrainingRunResult<CrossEncoderEvaluation> {
  /** The loss that was trained. */
  loss: CrossEncoderLossName;
  /** The model's label count (logits per pair). */
  numLabels: number;
}

/** The evaluation pairs: an STS task's (gold scores as they are) or the caller's examples. */
async function evaluationExamples(evaluator: string | readonly TrainExample[]): Promise<readonly TrainExample[]> {
  if (typeof evaluator !== 'string') return evaluator;
  const { isStsTaskName, loadStsTask } = await import('../eval/datasets');
  if (!isStsTaskName(evaluator)) throw new RangeError(`options.evaluator '${evaluator}' is not an STS task (e.g. 'stsb-dev')`);
  return loadStsTask(evaluator).subsets.flatMap((s) => s.pairs.map((p) => ({ texts: [p.s1, p.s2], label: p.score })));
}

/** Scores the session's current weights on `examples` (see the file comment). */
async function evaluateCrossEncoder(session: CrossEncoderTrainingSession, examples: readonly TrainExample[], step: number, epoch: number): Promise<CrossEncoderEvaluation> {
  const logits = await session.logits(examples.map((ex) => ex.texts as unknown as readonly [string, string]));
  const labels = session.numLabels;
  if (labels === 1) {
    const { spearman, pearson } = await import('../eval/stats');
    activate(logits, 1, session.folder.activation, false);
    const gold = Float64Array.from(examples, (ex) => ex.label as number);
    const rho = spearman(logits, gold);
    return { step, epoch, metric: 'spearman', score: rho, spearman: rho, pearson: pearson(logits, gold) };
  }
  let correct = 0;
  for (let i = 0; i < examples.length; i++) {
    let best = 0;
    for (let j = 1; j < labels; j++) if (logits[i * labels + j] > logits[i * labels + best]) best = j;
    if (best === examples[i].label) correct++;
  }
  const accuracy = correct / examples.length;
  return { step, epoch, metric: 'accuracy', score: accuracy, accuracy };
}

/**
 * Fine-tunes the cross-encoder `model` — a Hugging Face …ForSequenceClassification folder, a Hub
 * id, or a CrossEncoder (its folder is reloaded on the CPU trainer) — on the pair examples of
 * `options.train`, and saves it to `options.outputDir` as a Hugging Face sequence-classification
 * folder. Defaults as the bi-encoder fit (sentence-transformers': lr 2e-5, 10% warm-up, weight
 * decay 0.01, clip 1, batch 16, shuffled, dropout on); the loss is chosen by the model's label
 * count unless options.loss names it.
 *
 * ```ts
 * const train = [{ texts: ['A man is eating.', 'A man eats food.'], label: 0.9 }, …];
 * await fitCrossEncoder('./my-cross-encoder', { train, epochs: 1, outputDir: './trained' });
 * const ce = await CrossEncoder.load('./trained');
 * ```
 * @throws (rejects) TypeError / RangeError naming the option or example that is wrong — a pair
 *   that is not two strings, a label out of range for the loss, a loss that does not fit the
 *   model's labels, empty data — before any training; SbertError ERR_BAD_MODEL for a folder
 *   that is not a sequence classifier (a sentence-transformers bi-encoder is pointed to fit());
 *   the signal's reason when options.signal aborts (nothing is saved)
 */
export async function fitCrossEncoder(model: string | CrossEncoder, options: CrossEncoderFitOptions): Promise<CrossEncoderFitResult> {
  const o = checkCrossEncoderFitOptions(options);
  const { train, epochs, batchSize, learningRate, weightDecay, maxGradNorm, seed, signal } = o;
  const evalExamples = o.evaluator === undefined ? undefined : await evaluationExamples(o.evaluator);
  await checkTrainingOutput(o.outputDir);
  if (signal?.aborted) throw abortError(signal);

  const session = await CrossEncoderTrainingSession.create(model, {
    ...(o.loss !== undefined ? { loss: o.loss } : {}),
    ...(o.maxLength !== undefined ? { maxLength: o.maxLength } : {}),
    ...(o.numLabels !== undefined ? { numLabels: o.numLabels } : {}),
    ...(o.batchTokens !== undefined ? { batchTokens: o.batchTokens } : {}),
    beta1: o.beta1,
    beta2: o.beta2,
    eps: o.eps,
    weightDecay,
    maxGradNorm,
    dropout: o.dropout,
    seed,
  });
  try {
    const { loss, numLabels } = session;
    checkPairLabels(train, 'options.train', loss, numLabels);
    if (evalExamples !== undefined) {
      if (typeof o.evaluator === 'string' && numLabels !== 1) {
        throw new RangeError(`options.evaluator '${o.evaluator}' is an STS task: it scores models with one label, this one has ${numLabels} (give pair examples with class labels)`);
      }
      // Gold scores of a one-label model are any numbers (correlation); classes must be indices.
      if (numLabels > 1) checkPairLabels(evalExamples, 'options.evaluator', loss, numLabels);
    }
    const run = await runTrainingLoop<TrainExample, CrossEncoderEvaluation>(train, o, {
      step: (batch, lr) => session.step(batch, lr),
      ...(evalExamples
        ? { evaluate: (step, epoch) => evaluateCrossEncoder(session, evalExamples, step, epoch), score: (e: CrossEncoderEvaluation) => e.score }
        : {}),
      parameters: () => session.parameters(),
    });
    const result: CrossEncoderFitResult = { steps: run.steps, epochs, losses: run.losses, evaluations: run.evaluations, loss, numLabels };
    if (o.outputDir !== undefined) {
      const params = run.best?.params ?? (await session.parameters());
      result.savedStep = run.best?.step ?? run.steps;
      const training = {
        loss, examples: train.length, epochs, steps: run.steps, batchSize, learningRate, warmupSteps: run.warmupSteps, weightDecay, maxGradNorm, seed,
        savedStep: result.savedStep, evaluator: typeof o.evaluator === 'string' ? o.evaluator : o.evaluator ? `${o.evaluator.length} pairs` : undefined,
        evaluations: run.evaluations.map((e) => ({ step: e.step, metric: e.metric, score: e.score })), saveDtype: o.saveDtype,
      };
      result.outputDir = await session.save(o.outputDir, { dtype: o.saveDtype, params, training });
    }
    return result;
  } finally {
    session.dispose();
  }
}
