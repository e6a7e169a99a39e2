/**
 * Validation of fitCrossEncoder's options before any work: the options every run shares
 * (fit-options.ts checkRunOptions), the pair examples (`{ texts: [a, b], label }`, the same
 * shape fit and the data readers use), and — once the model's label count is known — each
 * label against the loss. Errors are TypeError / RangeError naming the option or the example
 * (`options.train[3].label …`), with `exampleIndex` set so `sbert train` can name the file line.
 */
import { checkOptions, type OptionSpec } from '../options';
import type { TrainExample } from './data';
import { checkRunOptions, exampleError, FIT_ALIASES, RUN_OPTION_NAMES, show, trainArrayOf, type CheckedRunOptions } from './fit-options';
import { CROSS_ENCODER_LOSS_NAMES, type CrossEncoderLossName } from './cross-encoder-session';
import type { CrossEncoderFitOptions, CrossEncoderFitProgress } from './fit-cross-encoder';

const CROSS_ENCODER_FIT_OPTIONS: OptionSpec = Object.fromEntries(
  (['train', 'loss', 'maxLength', 'numLabels', 'evaluator', ...RUN_OPTION_NAMES] as const).map((k) => [k, 'any']),
);

/** fitCrossEncoder's options with every default applied, checked (labels against the loss come later). */
export interface CheckedCrossEncoderFitOptions extends CheckedRunOptions<CrossEncoderFitProgress> {
  train: readonly TrainExample[];
  loss?: CrossEncoderLossName;
  maxLength?: number;
  numLabels?: number;
  evaluator?: string | readonly TrainExample[];
}

/** An error about entry `i` of `name`; only options.train's carry `exampleIndex` (its file lines are known). */
function entryError(Ctor: TypeErrorConstructor | RangeErrorConstructor, name: string, i: number, message: string): Error {
  return name === 'options.train' ? exampleError(Ctor, i, message) : new Ctor(message);
}

/** Every entry of `list` is a pair example: `{ texts: [string, string], label: number }`. */
function checkPairExamples(list: readonly unknown[], name: string): void {
  const fail = (Ctor: TypeErrorConstructor | RangeErrorConstructor, i: number, message: string) => entryError(Ctor, name, i, message);
  for (let i = 0; i < list.length; i++) {
    const ex = list[i] as Partial<TrainExample> | null;
    const at = `${name}[${i}]`;
    if (ex === null || typeof ex !== 'object' || !Array.isArray(ex.texts)) throw fail(TypeError, i, `${at} must be a pair example { texts: [a, b], label } (got ${show(ex)})`);
    if (ex.texts.length !== 2) throw fail(RangeError, i, `${at} has ${ex.texts.length} texts; a cross-encoder reads a pair: { texts: [a, b], label }`);
    for (const j of [0, 1]) {
      if (typeof ex.texts[j] !== 'string') throw fail(TypeError, i, `${at}.texts[${j}] is not a string (got ${show(ex.texts[j])})`);
    }
    if (typeof ex.label !== 'number') throw fail(TypeError, i, `${at}.label must be a number (got ${show(ex.label)})`);
    if (!Number.isFinite(ex.label)) throw fail(RangeError, i, `${at}.label must be a finite number (got ${ex.label})`);
  }
}

/**
 * Checks every option of fitCrossEncoder and applies the defaults. Throws TypeError or
 * RangeError naming the option or the example that is wrong.
 */
export function checkCrossEncoderFitOptions(options: CrossEncoderFitOptions): CheckedCrossEncoderFitOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  checkOptions(options, CROSS_ENCODER_FIT_OPTIONS, { fn: 'fitCrossEncoder', aliases: FIT_ALIASES });
  const o = options as unknown as Record<string, unknown>;
  const train = trainArrayOf(o.train) as TrainExample[];
  if (o.loss !== undefined && !CROSS_ENCODER_LOSS_NAMES.includes(o.loss as CrossEncoderLossName)) {
    throw new RangeError(`options.loss must be one of ${CROSS_ENCODER_LOSS_NAMES.join(', ')} (got ${show(o.loss)}); the bi-encoder losses are fit()'s`);
  }
  if (o.maxLength !== undefined && (typeof o.maxLength !== 'number' || !Number.isSafeInteger(o.maxLength) || o.maxLength < 1)) {
    throw new RangeError(`options.maxLength must be a positive integer (got ${show(o.maxLength)})`);
  }
  if (o.numLabels !== undefined && (typeof o.numLabels !== 'number' || !Number.isSafeInteger(o.numLabels) || o.numLabels < 1 || o.numLabels > 1 << 16)) {
    throw new RangeError(`options.numLabels must be an integer from 1 to 65536 (got ${show(o.numLabels)})`);
  }
  let evaluator: string | readonly TrainExample[] | undefined;
  if (o.evaluator !== undefined) {
    if (typeof o.evaluator === 'string') evaluator = o.evaluator; // the task name is checked when its data is loaded
    else if (Array.isArray(o.evaluator) && o.evaluator.length >= 2) {
      checkPairExamples(o.evaluator, 'options.evaluator');
      evaluator = o.evaluator as TrainExample[];
    } else {
      throw new TypeError(`options.evaluator must be an STS task name or an array of at least two pair examples { texts: [a, b], label } (got ${show(o.evaluator)})`);
    }
  }
  const run = checkRunOptions<CrossEncoderFitProgress>(o);
  checkPairExamples(train, 'options.train');
  return {
    ...run,
    train,
    ...(o.loss !== undefined ? { loss: o.loss as CrossEncoderLossName } : {}),
    ...(o.maxLength !== undefined ? { maxLength: o.maxLength as number } : {}),
    ...(o.numLabels !== undefined ? { numLabels: o.numLabels as number } : {}),
    ...(evaluator !== undefined ? { evaluator } : {}),
  };
}

/**
 * Checks each label against the loss the model's head takes: a number in [0, 1] for 'bce'
 * (a binary label or a soft score such as an STSb score / 5), a class index below `numLabels`
 * for 'cross_entropy'. RangeError naming `name[i].label`.
 */
export function checkPairLabels(list: readonly TrainExample[], name: string, loss: CrossEncoderLossName, numLabels: number): void {
  const fail = (Ctor: RangeErrorConstructor, i: number, message: string) => entryError(Ctor, name, i, message);
  for (let i = 0; i < list.length; i++) {
    const y = list[i].label as number;
    if (loss === 'bce' && !(y >= 0 && y <= 1)) {
      throw fail(RangeError, i, `${name}[${i}].label must be in [0, 1] for the bce loss (a binary label or a soft score such as an STSb score / 5; got ${y})`);
    }
    if (loss === 'cross_entropy' && !(Number.isInteger(y) && y >= 0 && y < numLabels)) {
      throw fail(RangeError, i, `${name}[${i}].label must be a class index 0..${numLabels - 1} for the cross_entropy loss (got ${y})`);
    }
  }
}
