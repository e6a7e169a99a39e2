/**
 * `sbert train`: fine-tunes a model folder on a training file (or the bundled stsb-train) and
 * writes the result as a sentence-transformers folder — or, with --cross-encoder, fine-tunes a
 * Hugging Face sequence-classification model on sentence pairs (fitCrossEncoder) and writes a
 * Hugging Face folder. Shows a progress bar (steps, loss, ETA)
 * on stderr. Ctrl-C stops between steps and leaves nothing in --output. Exit codes: 0 done,
 * 1 failed while running, 2 bad arguments, 130 interrupted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseFlags, UsageError, usageErrorText } from '../cli-args';
import { SbertError } from '../errors';
import { outputFolderProblem } from '../output-file';
import { isStsTaskName, STS_TASKS } from '../eval/datasets';
import { BUNDLED_TRAIN_SETS, loadTrainingDataLines, type TrainingFileData } from './data';
import { modelSource } from '../model-source';
import { fit, LOSS_NAMES, LossName } from './fit';
import { CROSS_ENCODER_LOSS_NAMES, type CrossEncoderLossName } from './cross-encoder-session';
import { fitCrossEncoder } from './fit-cross-encoder';
import type { TrainingProgress } from './loop';
import type { SaveDtype } from './save';

export const TRAIN_USAGE = `Usage: sbert train --model DIR --loss LOSS --train FILE|stsb-train [options]
       sbert train --cross-encoder --model DIR --train FILE|stsb-train [--loss bce|cross_entropy] [options]

Fine-tunes a sentence-transformers model on the CPU and saves it as a sentence-transformers
folder. With --cross-encoder, fine-tunes a cross-encoder (a Hugging Face
…ForSequenceClassification model) on sentence pairs and saves it as a Hugging Face folder that
CrossEncoder.load and sentence-transformers' CrossEncoder read.

  --model DIR          the model to start from: a folder, default (the bundled model), or a
                       Hugging Face id (ORG/NAME, or a bare sentence-transformers name)
  --loss LOSS          cosine | softmax | triplet | mnrl | mse; with --cross-encoder
                       bce | cross_entropy (default: bce for a model with one label,
                       cross_entropy for several)
  --train FILE         training data: .jsonl ({"texts": [...], "label": ...} per line), or
                       .tsv/.csv with a header row (sentence1, sentence2, score|label; or
                       anchor, positive[, negative]); or ${BUNDLED_TRAIN_SETS.join(', ')}
                       (STS Benchmark train, scores / 5). Cross-encoders read pairs with a
                       label: in [0, 1] for bce, the class index for cross_entropy
  --cross-encoder      train a cross-encoder (see above)
  --max-length N       cross-encoder: truncate pairs to N tokens (default: the model's)
  --num-labels N       cross-encoder: a new head of N labels on a base model without one
                       (e.g. xlm-roberta-base; 1 for bce scores, N classes for cross_entropy)
  --eval TASK|FILE     evaluate on an STS task (${STS_TASKS.join(', ')}) after each epoch
                       and keep the best checkpoint; a cross-encoder also takes a file of
                       labelled pairs (as --train): Spearman for one label, accuracy for several
  --eval-steps N       also evaluate every N steps
  --epochs N           default 1
  --batch-size N       examples per step, default 16
  --lr X               peak learning rate, default 2e-5
  --warmup-ratio X     linear warm-up over this fraction of the steps, default 0.1
  --output DIR         where to save (a new or empty folder; default <model>-<loss>-<time>)
  --seed N             shuffling, dropout and classifier seed, default 42
  --save-dtype D       fp32 | fp16 | bf16, default fp32
  --no-dropout         train without dropout (the encoder's, and a cross-encoder head's)
  --no-shuffle         keep the file's order
  --no-progress        no progress bar on stderr
  -h, --help           this help
`;

/** Where the command writes; defaults to the process streams (tests pass their own). */
export interface TrainIO {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Stream the progress bar draws on (default process.stderr). */
  progressStream?: NodeJS.WriteStream;
}


interface TrainArgs {
  model: string;
  crossEncoder: boolean;
  /** Bi-encoder: always set; cross-encoder: set when --loss was given. */
  loss?: LossName | CrossEncoderLossName;
  maxLength?: number;
  numLabels?: number;
  train: string;
  evaluator?: string;
  evaluationSteps?: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  warmupRatio: number;
  output: string;
  seed: number;
  saveDtype: SaveDtype;
  dropout: boolean;
  shuffle: boolean;
  progress: boolean;
}

function intArg(v: string | undefined, name: string, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min} (got '${v}')`);
  return n;
}

function numberArg(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number >= 0 (got '${v}')`);
  return n;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

function parseTrainArgs(argv: string[]): TrainArgs | 'help' {
  const v = parseFlags(argv, {
    model: { type: 'string', short: 'm' },
    'cross-encoder': { type: 'boolean' },
    'max-length': { type: 'string' },
    'num-labels': { type: 'string' },
    loss: { type: 'string' },
    train: { type: 'string' },
    eval: { type: 'string' },
    'eval-steps': { type: 'string' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    'warmup-ratio': { type: 'string' },
    output: { type: 'string', short: 'o' },
    seed: { type: 'string' },
    'save-dtype': { type: 'string' },
    'no-dropout': { type: 'boolean' },
    'no-shuffle': { type: 'boolean' },
    'no-progress': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  if (!v.model) throw new UsageError('--model DIR is required (a folder, default for the bundled model, or a Hugging Face id)');
  try {
    modelSource(v.model); // no request: a missing folder or a typo is an argument error
  } catch (err) {
    throw new UsageError(`--model ${v.model}: ${(err as Error).message}`);
  }
  const crossEncoder = v['cross-encoder'] === true;
  if (crossEncoder) {
    if (v.loss !== undefined && !(CROSS_ENCODER_LOSS_NAMES as readonly string[]).includes(v.loss)) {
      throw new UsageError(`--loss must be one of ${CROSS_ENCODER_LOSS_NAMES.join(', ')} with --cross-encoder (got '${v.loss}')`);
    }
  } else {
    if (!v.loss) throw new UsageError(`--loss is required (${LOSS_NAMES.join(', ')}; or --cross-encoder)`);
    if (!(LOSS_NAMES as readonly string[]).includes(v.loss)) {
      const hint = (CROSS_ENCODER_LOSS_NAMES as readonly string[]).includes(v.loss) ? ` — '${v.loss}' is a cross-encoder loss: add --cross-encoder` : '';
      throw new UsageError(`--loss must be one of ${LOSS_NAMES.join(', ')} (got '${v.loss}')${hint}`);
    }
    if (v['max-length'] !== undefined) throw new UsageError('--max-length is for --cross-encoder (a sentence-transformers model keeps its max_seq_length)');
    if (v['num-labels'] !== undefined) throw new UsageError('--num-labels is for --cross-encoder (a new classification head)');
  }
  if (!v.train) throw new UsageError('--train FILE|stsb-train is required');
  const bundled = (BUNDLED_TRAIN_SETS as readonly string[]).includes(v.train);
  if (!bundled && !fs.existsSync(v.train)) throw new UsageError(`--train ${v.train}: no such file (or use ${BUNDLED_TRAIN_SETS.join(', ')})`);
  if (v.eval !== undefined && !isStsTaskName(v.eval) && !(crossEncoder && fs.existsSync(v.eval))) {
    throw new UsageError(`--eval must be an STS task (${STS_TASKS.join(', ')})${crossEncoder ? ' or a file of labelled pairs' : ''}; got '${v.eval}'`);
  }
  if (v['eval-steps'] !== undefined && v.eval === undefined) throw new UsageError('--eval-steps needs --eval TASK');
  const saveDtype = v['save-dtype'] ?? 'fp32';
  if (saveDtype !== 'fp32' && saveDtype !== 'fp16' && saveDtype !== 'bf16') throw new UsageError(`--save-dtype must be fp32, fp16 or bf16 (got '${saveDtype}')`);
  const warmupRatio = numberArg(v['warmup-ratio'], 'warmup-ratio', 0.1);
  if (warmupRatio > 1) throw new UsageError(`--warmup-ratio must be in [0, 1] (got '${v['warmup-ratio']}')`);
  const output = v.output ?? `${path.basename(path.resolve(v.model))}-${v.loss ?? 'cross-encoder'}-${timestamp()}`;
  if (output === '') throw new UsageError('--output needs a folder name');
  if (fs.existsSync(output) && (!fs.statSync(output).isDirectory() || fs.readdirSync(output).length > 0)) {
    throw new UsageError(`--output ${output} exists and is not an empty folder`);
  }
  if (!fs.existsSync(path.dirname(path.resolve(output)))) throw new UsageError(`--output ${output}: its parent folder does not exist`);
  return {
    model: v.model,
    crossEncoder,
    ...(v.loss !== undefined ? { loss: v.loss as LossName | CrossEncoderLossName } : {}),
    ...(v['max-length'] !== undefined ? { maxLength: intArg(v['max-length'], 'max-length', 0, 1) } : {}),
    ...(v['num-labels'] !== undefined ? { numLabels: intArg(v['num-labels'], 'num-labels', 0, 1) } : {}),
    train: v.train,
    evaluator: v.eval,
    evaluationSteps: v['eval-steps'] === undefined ? undefined : intArg(v['eval-steps'], 'eval-steps', 0, 1),
    epochs: intArg(v.epochs, 'epochs', 1, 1),
    batchSize: intArg(v['batch-size'], 'batch-size', 16, 1),
    learningRate: numberArg(v.lr, 'lr', 2e-5),
    warmupRatio,
    output,
    seed: intArg(v.seed, 'seed', 42, 0),
    saveDtype,
    dropout: !v['no-dropout'],
    shuffle: !v['no-shuffle'],
    progress: !v['no-progress'],
  };
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

/** An evaluation as the bar and the summary print it: a bi-encoder's Spearman, a cross-encoder's metric. */
type ProgressEvaluation = { spearman?: number; pearson?: number; metric?: string; score?: number };

function evaluationText(e: ProgressEvaluation): string {
  if (e.metric !== undefined && e.score !== undefined) {
    return `${e.metric} ${(e.score * 100).toFixed(2)}${e.pearson !== undefined ? `  pearson ${(e.pearson * 100).toFixed(2)}` : ''}`;
  }
  return `spearman ${((e.spearman ?? NaN) * 100).toFixed(2)}  pearson ${((e.pearson ?? NaN) * 100).toFixed(2)}`;
}

/** The bar: `train [####------] 120/360 steps  loss 0.0412  ETA 1m23s` (redrawn ≤ 10×/s on a TTY, ≤ 1×/s otherwise). */
class TrainProgress {
  private lastDraw = 0;
  private readonly tty: boolean;
  private smoothed = NaN;
  constructor(private readonly stream: NodeJS.WriteStream) {
    this.tty = Boolean(stream.isTTY);
  }
  update(p: TrainingProgress<ProgressEvaluation>): void {
    // An exponential moving average: single-batch losses are noisy.
    this.smoothed = Number.isNaN(this.smoothed) ? p.loss : 0.9 * this.smoothed + 0.1 * p.loss;
    const now = Date.now();
    if (now - this.lastDraw < (this.tty ? 100 : 1000) && p.step !== p.totalSteps && !p.evaluation) return;
    this.lastDraw = now;
    const width = 30;
    const filled = Math.round((p.step / p.totalSteps) * width);
    const eta = (p.elapsedMs / p.step) * (p.totalSteps - p.step);
    let line = `train [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.step}/${p.totalSteps} steps  loss ${this.smoothed.toFixed(4)}  ETA ${formatDuration(eta)}`;
    if (p.evaluation) line += `  eval ${evaluationText(p.evaluation)}`;
    this.stream.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }
  finish(): void {
    if (this.tty) this.stream.write('\n');
  }
}

/**
 * fit's complaint about example i of a file, as `file:line: …` (the file's own line numbers,
 * not the index into the examples).
 */
function atLine(err: unknown, data: TrainingFileData | undefined): string | undefined {
  const i = (err as { exampleIndex?: unknown })?.exampleIndex;
  if (data === undefined || typeof i !== 'number' || data.lines[i] === undefined) return undefined;
  const message = (err as Error).message.replace(`options.train[${i}].`, "the example's ").replace(`options.train[${i}]`, 'the example');
  return `${data.file}:${data.lines[i]}: ${message}`;
}

/** Runs `sbert train` with `argv`; resolves to the exit code. */
export async function runTrainCommand(argv: string[], io: TrainIO = {}): Promise<number> {
  const stdout = io.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = io.stderr ?? ((t: string) => void process.stderr.write(t));
  let args: TrainArgs | 'help';
  try {
    args = parseTrainArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr(usageErrorText('train', err.message));
      return 2;
    }
    throw err;
  }
  if (args === 'help') {
    stdout(TRAIN_USAGE);
    return 0;
  }
  // Before any work: --output must be (made in) a real folder on a disk, not /proc or a hung mount.
  const problem = await outputFolderProblem(args.output);
  if (problem !== undefined) {
    stderr(usageErrorText('train', `--output ${problem}`));
    return 2;
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const bar = args.progress ? new TrainProgress(io.progressStream ?? process.stderr) : undefined;
  let data: TrainingFileData | undefined;
  try {
    data = loadTrainingDataLines(args.train);
    const train = data.examples;
    const common = {
      train,
      epochs: args.epochs,
      batchSize: args.batchSize,
      learningRate: args.learningRate,
      warmupRatio: args.warmupRatio,
      seed: args.seed,
      shuffle: args.shuffle,
      dropout: args.dropout,
      evaluationSteps: args.evaluationSteps,
      outputDir: args.output,
      saveDtype: args.saveDtype,
      signal: controller.signal,
      onProgress: bar ? (p: TrainingProgress<ProgressEvaluation>) => bar.update(p) : undefined,
    };
    const result = args.crossEncoder
      ? await fitCrossEncoder(args.model, {
          ...common,
          ...(args.loss !== undefined ? { loss: args.loss as CrossEncoderLossName } : {}),
          ...(args.maxLength !== undefined ? { maxLength: args.maxLength } : {}),
          ...(args.numLabels !== undefined ? { numLabels: args.numLabels } : {}),
          // An STS task by name, or a file of labelled pairs (read as --train is).
          evaluator: args.evaluator === undefined || isStsTaskName(args.evaluator) ? args.evaluator : loadTrainingDataLines(args.evaluator).examples,
        })
      : await fit(args.model, { ...common, loss: args.loss as LossName, evaluator: args.evaluator });
    bar?.finish();
    const mean = (a: Float64Array) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);
    const tail = result.losses.subarray(Math.max(0, result.losses.length - 10));
    stdout(`trained ${train.length} examples, ${result.steps} steps, ${result.epochs} epoch(s); mean loss of the last ${tail.length} steps ${mean(tail).toFixed(4)}\n`);
    const evaluations: readonly (ProgressEvaluation & { step: number })[] = result.evaluations;
    for (const e of evaluations) stdout(`  step ${e.step}: ${args.evaluator} ${evaluationText(e)}\n`);
    stdout(`saved ${result.outputDir} (weights of step ${result.savedStep})\n`);
    return 0;
  } catch (err) {
    bar?.finish();
    if (controller.signal.aborted) {
      stderr(`sbert train: interrupted; nothing was written to ${args.output}\n`);
      return 130;
    }
    const located = atLine(err, data);
    if (located) {
      stderr(`sbert train: ${located}\n`);
      return 1;
    }
    if (err instanceof SbertError || err instanceof RangeError || err instanceof TypeError) {
      stderr(`sbert train: ${err instanceof SbertError ? `${err.code}: ` : ''}${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
