/**
 * Validation of fit()'s options, and of the run options every fit shares (fitCrossEncoder's
 * pair checks are in ./cross-encoder-options.ts), all of them, before any work: a wrong type is
 * a TypeError, a wrong value a RangeError, each naming the option (`options.adamBetas must be …`). An unknown
 * option name (a typo such as `learning_rate`) is a TypeError too rather than silently ignored.
 * Nothing here spreads a user-sized array into a call (200,000 examples must not overflow the
 * stack).
 */
import { checkBatchTokens } from '../token-budget';
import { checkOptions, type OptionSpec } from '../options';
import type { StsPair } from '../eval/datasets';
import type { SaveDtype } from './save';
import type { TrainExample } from './data';
import type { FitOptions, FitProgress, LossName } from './fit';

export const LOSS_NAMES: readonly LossName[] = ['cosine', 'softmax', 'triplet', 'mnrl', 'mse'];
const SAVE_DTYPES: readonly SaveDtype[] = ['fp32', 'fp16', 'bf16'];

/**
 * The options every training run takes (fit and fitCrossEncoder): schedule, optimizer,
 * shuffling, dropout, evaluation cadence, output, progress and abort — checked, defaults applied.
 */
export interface CheckedRunOptions<P = unknown> {
  epochs: number;
  batchSize: number;
  learningRate: number;
  warmupRatio: number;
  warmupSteps?: number;
  weightDecay: number;
  maxGradNorm: number;
  seed: number;
  shuffle: boolean;
  dropout: boolean;
  evaluationSteps: number;
  outputDir?: string;
  onProgress?: (progress: P) => void;
  signal?: AbortSignal;
  saveDtype: SaveDtype;
  beta1: number;
  beta2: number;
  eps: number;
  /** Token budget of one native call of the evaluation encodes. */
  batchTokens?: number;
}

/** The option names of CheckedRunOptions as the caller spells them (adamBetas, adamEps). */
export const RUN_OPTION_NAMES = [
  'epochs', 'batchSize', 'learningRate', 'warmupRatio', 'warmupSteps', 'weightDecay', 'maxGradNorm', 'seed', 'shuffle', 'dropout',
  'evaluationSteps', 'outputDir', 'onProgress', 'signal', 'saveDtype', 'adamBetas', 'adamEps', 'batchTokens',
] as const;

/** Every option fit() knows (the values are checked in checkFitOptions). */
const FIT_OPTION_NAMES: readonly (keyof FitOptions)[] = ['loss', 'train', 'evaluator', 'numLabels', 'margin', 'scale', 'classifierInit', ...RUN_OPTION_NAMES];
const FIT_OPTIONS: OptionSpec = Object.fromEntries(FIT_OPTION_NAMES.map((k) => [k, 'any']));
/** sentence-transformers' names for the same settings (its fit() / TrainingArguments). */
export const FIT_ALIASES = { lr: 'learningRate', optimizerParams: 'learningRate', warmup: 'warmupSteps', outputPath: 'outputDir', evaluatorSteps: 'evaluationSteps', numEpochs: 'epochs', trainBatchSize: 'batchSize', perDeviceTrainBatchSize: 'batchSize' };

/** fit()'s options with every default applied, checked. */
export interface CheckedFitOptions extends CheckedRunOptions<FitProgress> {
  loss: LossName;
  train: readonly TrainExample[];
  evaluator?: string | readonly StsPair[];
  /** Texts per example the loss takes. */
  textsPerExample: number;
  numLabels: number;
  margin: number;
  scale: number;
  classifierInit?: { weight: Float32Array; bias: Float32Array };
}

/** A value as an error message shows it (strings cut at 40 characters). */
export const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'function') return 'a function';
  return String(v);
};

function numberOf(v: unknown, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`options.${name} must be a number (got ${show(v)})`);
  return v;
}

export function positiveInt(v: unknown, name: string): number {
  const n = numberOf(v, name);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`options.${name} must be a positive integer (got ${show(v)})`);
  return n;
}

function nonNegativeInt(v: unknown, name: string): number {
  const n = numberOf(v, name);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`options.${name} must be a non-negative integer (got ${show(v)})`);
  return n;
}

/** A number in [min, max] (NaN refused; Infinity only when max is Infinity and `orInfinity`). */
function numberIn(v: unknown, name: string, min: number, max = Infinity, orInfinity = false): number {
  const n = numberOf(v, name);
  if (Number.isNaN(n) || n < min || n > max || (!orInfinity && !Number.isFinite(n))) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new RangeError(`options.${name} must be a ${orInfinity ? '' : 'finite '}number ${range} (got ${show(v)})`);
  }
  return n;
}

function positiveNumber(v: unknown, name: string): number {
  const n = numberOf(v, name);
  if (!(n > 0) || !Number.isFinite(n)) throw new RangeError(`options.${name} must be a finite number > 0 (got ${show(v)})`);
  return n;
}

function booleanOf(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`options.${name} must be true or false (got ${show(v)})`);
  return v;
}

/** AdamW's betas: two numbers in [0, 1), as torch.optim.AdamW requires. */
function betasOf(v: unknown): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) throw new TypeError(`options.adamBetas must be an array of two numbers [beta1, beta2] (got ${show(v)})`);
  return [numberIn(v[0], 'adamBetas[0]', 0, 1), numberIn(v[1], 'adamBetas[1]', 0, 1)].map((b, i) => {
    if (b >= 1) throw new RangeError(`options.adamBetas[${i}] must be in [0, 1) (got ${b})`);
    return b;
  }) as [number, number];
}

function finiteFloat32Array(v: unknown, name: string): Float32Array {
  if (!(v instanceof Float32Array)) throw new TypeError(`options.${name} must be a Float32Array (got ${show(v)})`);
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) throw new RangeError(`options.${name}[${i}] is not finite (${v[i]})`);
  return v;
}

function classifierInitOf(v: unknown): { weight: Float32Array; bias: Float32Array } {
  if (v === null || typeof v !== 'object') throw new TypeError(`options.classifierInit must be { weight: Float32Array, bias: Float32Array } (got ${show(v)})`);
  const c = v as Record<string, unknown>;
  return { weight: finiteFloat32Array(c.weight, 'classifierInit.weight'), bias: finiteFloat32Array(c.bias, 'classifierInit.bias') };
}

export function evaluatorOf(v: unknown): string | readonly StsPair[] {
  if (typeof v === 'string') return v; // the task name is checked when its data is loaded
  if (!Array.isArray(v) || v.length < 2) throw new TypeError(`options.evaluator must be an STS task name or an array of at least two { s1, s2, score } pairs (got ${show(v)})`);
  for (let i = 0; i < v.length; i++) {
    const p = v[i] as Partial<StsPair> | null;
    if (p === null || typeof p !== 'object' || typeof p.s1 !== 'string' || typeof p.s2 !== 'string') {
      throw new TypeError(`options.evaluator[${i}] must be { s1: string, s2: string, score: number }`);
    }
    if (typeof p.score !== 'number' || !Number.isFinite(p.score)) throw new RangeError(`options.evaluator[${i}].score must be a finite number (got ${show(p.score)})`);
  }
  return v as readonly StsPair[];
}

/** Texts per example each loss takes (mnrl: as many as the first example has, at least 2). */
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
      return Array.isArray(train[0]?.texts) ? Math.max(2, train[0].texts.length) : 2;
  }
}

/** softmax without numLabels: the largest label + 1, at least 2 (a loop: no spread of the data). */
function defaultNumLabels(train: readonly TrainExample[]): number {
  let n = 2;
  for (const ex of train) {
    const label = ex?.label;
    if (typeof label === 'number' && Number.isSafeInteger(label) && label + 1 > n) n = label + 1;
  }
  return n;
}

/**
 * An error about example `i` of options.train: its `exampleIndex` lets a caller that read the
 * examples from a file (sbert train) name the file and line instead of the index.
 */
export function exampleError(Ctor: TypeErrorConstructor | RangeErrorConstructor, i: number, message: string): Error & { exampleIndex: number } {
  return Object.assign(new Ctor(message), { exampleIndex: i });
}

/** Checks every example against the loss; the message names the example index. */
function checkExamples(loss: LossName, train: readonly TrainExample[], k: number, numLabels: number): void {
  const want = loss === 'mnrl' ? `${k} (anchor, positive${k > 2 ? ', negatives' : ''}; every example the same)` : String(k);
  for (let i = 0; i < train.length; i++) {
    const ex = train[i];
    if (ex === null || typeof ex !== 'object' || !Array.isArray(ex.texts)) throw exampleError(TypeError, i, `options.train[${i}] must be { texts: string[], label?, target? }`);
    if (ex.texts.length !== k) throw exampleError(RangeError, i, `options.train[${i}] has ${ex.texts.length} texts; the ${loss} loss takes ${want}`);
    for (let j = 0; j < k; j++) {
      if (typeof ex.texts[j] !== 'string') throw exampleError(TypeError, i, `options.train[${i}].texts[${j}] is not a string`);
    }
    if (loss === 'cosine' && (typeof ex.label !== 'number' || !Number.isFinite(ex.label))) {
      throw exampleError(RangeError, i, `options.train[${i}].label must be a finite number (the target cosine similarity) for the cosine loss`);
    }
    if (loss === 'softmax' && (typeof ex.label !== 'number' || !Number.isInteger(ex.label) || ex.label < 0 || ex.label >= numLabels)) {
      throw exampleError(RangeError, i, `options.train[${i}].label must be a class index 0..${numLabels - 1} for the softmax loss (got ${String(ex.label)})`);
    }
    if (loss === 'mse') {
      if (!(ex.target instanceof Float32Array)) throw exampleError(TypeError, i, `options.train[${i}].target must be a Float32Array for the mse loss`);
      for (let j = 0; j < ex.target.length; j++) {
        if (!Number.isFinite(ex.target[j])) throw exampleError(RangeError, i, `options.train[${i}].target[${j}] is not finite (${ex.target[j]})`);
      }
    }
  }
}

/**
 * Checks the options every training run shares (see CheckedRunOptions) on `o`, applying the
 * defaults of sentence-transformers' fit. TypeError / RangeError naming the option.
 */
export function checkRunOptions<P>(o: Record<string, unknown>): CheckedRunOptions<P> {
  const given = (name: string): boolean => o[name] !== undefined;
  const warmupRatio = given('warmupRatio') ? numberIn(o.warmupRatio, 'warmupRatio', 0, 1) : 0.1;
  const maxGradNorm = given('maxGradNorm') ? numberIn(o.maxGradNorm, 'maxGradNorm', 0, Infinity, true) : 1;
  if (maxGradNorm === 0) throw new RangeError('options.maxGradNorm must be > 0 (Infinity turns clipping off)');
  const [beta1, beta2] = given('adamBetas') ? betasOf(o.adamBetas) : [0.9, 0.999];
  if (given('onProgress') && typeof o.onProgress !== 'function') throw new TypeError(`options.onProgress must be a function (got ${show(o.onProgress)})`);
  if (given('signal') && !(o.signal instanceof AbortSignal)) throw new TypeError(`options.signal must be an AbortSignal (got ${show(o.signal)})`);
  if (given('outputDir') && (typeof o.outputDir !== 'string' || o.outputDir === '')) throw new TypeError(`options.outputDir must be a non-empty string (got ${show(o.outputDir)})`);
  const saveDtype = (o.saveDtype ?? 'fp32') as SaveDtype;
  if (!SAVE_DTYPES.includes(saveDtype)) throw new RangeError(`options.saveDtype must be one of ${SAVE_DTYPES.join(', ')} (got ${show(o.saveDtype)})`);
  return {
    epochs: given('epochs') ? positiveInt(o.epochs, 'epochs') : 1,
    batchSize: given('batchSize') ? positiveInt(o.batchSize, 'batchSize') : 16,
    learningRate: given('learningRate') ? numberIn(o.learningRate, 'learningRate', 0) : 2e-5,
    warmupRatio,
    ...(given('warmupSteps') ? { warmupSteps: nonNegativeInt(o.warmupSteps, 'warmupSteps') } : {}),
    weightDecay: given('weightDecay') ? numberIn(o.weightDecay, 'weightDecay', 0) : 0.01,
    maxGradNorm,
    seed: given('seed') ? nonNegativeInt(o.seed, 'seed') : 42,
    shuffle: given('shuffle') ? booleanOf(o.shuffle, 'shuffle') : true,
    dropout: given('dropout') ? booleanOf(o.dropout, 'dropout') : true,
    evaluationSteps: given('evaluationSteps') ? positiveInt(o.evaluationSteps, 'evaluationSteps') : 0,
    ...(given('outputDir') ? { outputDir: o.outputDir as string } : {}),
    ...(given('onProgress') ? { onProgress: o.onProgress as (progress: P) => void } : {}),
    ...(given('signal') ? { signal: o.signal as AbortSignal } : {}),
    saveDtype,
    beta1,
    beta2,
    eps: given('adamEps') ? numberIn(o.adamEps, 'adamEps', 0) : 1e-6,
    ...(given('batchTokens') ? { batchTokens: checkBatchTokens(o.batchTokens, 'options.batchTokens') } : {}),
  };
}

/** `options.train`: a non-empty array (its examples are checked against the loss afterwards). */
export function trainArrayOf(v: unknown): unknown[] {
  if (!Array.isArray(v) || v.length === 0) throw new TypeError('options.train must be a non-empty array of examples');
  return v;
}

/**
 * Checks every option of fit() and applies the defaults (see FitOptions). Throws TypeError or
 * RangeError naming the option or the example that is wrong.
 */
export function checkFitOptions(options: FitOptions): CheckedFitOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  checkOptions(options, FIT_OPTIONS, { fn: 'fit', aliases: FIT_ALIASES });
  const o = options as unknown as Record<string, unknown>;
  const given = (name: keyof FitOptions): boolean => o[name] !== undefined;

  const loss = o.loss as LossName;
  if (!LOSS_NAMES.includes(loss)) throw new RangeError(`options.loss must be one of ${LOSS_NAMES.join(', ')} (got ${show(loss)})`);
  const train = trainArrayOf(o.train) as TrainExample[];
  const run = checkRunOptions<FitProgress>(o);
  const k = textsPerExample(loss, train);
  const numLabels = loss !== 'softmax' ? 3 : given('numLabels') ? positiveInt(o.numLabels, 'numLabels') : defaultNumLabels(train);
  const checked: CheckedFitOptions = {
    ...run,
    loss,
    train,
    ...(given('evaluator') ? { evaluator: evaluatorOf(o.evaluator) } : {}),
    textsPerExample: k,
    numLabels,
    margin: given('margin') ? numberIn(o.margin, 'margin', 0) : 1,
    scale: given('scale') ? positiveNumber(o.scale, 'scale') : 20,
    ...(given('classifierInit') ? { classifierInit: classifierInitOf(o.classifierInit) } : {}),
  };
  checkExamples(loss, train, k, numLabels);
  return checked;
}
