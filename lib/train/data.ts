/**
 * Training data: the example shape `fit` takes, the file readers behind `sbert train --train`
 * (JSONL, and TSV/CSV with a header row), and the bundled `stsb-train` split.
 *
 * File formats (UTF-8; CR before LF ignored; blank lines skipped):
 *   *.jsonl / *.json lines  one object per line: {"texts": ["a", "b"], "label": 0.8} or
 *                           {"texts": ["a"], "target": [0.1, …]} (mse)
 *   *.tsv, *.csv            a header row naming the columns, then one example per row:
 *                           sentence1, sentence2, score|label   (cosine, softmax)
 *                           anchor, positive[, negative]        (mnrl, triplet)
 *                           Columns are tab-separated in .tsv files, comma-separated in .csv
 *                           files (RFC 4180 quoting: "a, b" and "" for a quote; a quoted field
 *                           may not span lines).
 * Any row that does not fit throws SbertError('ERR_BAD_DATA') naming the file and its 1-based
 * line number.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readBoundedFileSync, utf8Text } from '../bounded-file';
import { SbertError } from '../errors';

/** One training example: the texts the loss sees together, and its label or target. */
export interface TrainExample {
  /** 2 (cosine, softmax), 3 (triplet), 2 or more (mnrl: anchor, positive, hard negatives…), 1 (mse). */
  texts: string[];
  /** cosine: the target similarity (e.g. STSb score / 5); softmax: the class index. */
  label?: number;
  /** mse: the teacher's embedding of texts[0] (length = the model's embedding dimension). */
  target?: Float32Array;
}

/**
 * The package's data/ folder (this file runs from dist/train/). Not lib/eval's defaultDataDir:
 * the root entry point must not load the evaluation modules.
 */
const BUNDLED_DATA_DIR = path.resolve(__dirname, '..', '..', 'data');

/** Data sets bundled with the package that `--train` accepts by name. */
export const BUNDLED_TRAIN_SETS = ['stsb-train'] as const;
export type BundledTrainSet = (typeof BUNDLED_TRAIN_SETS)[number];

function badRow(file: string, line: number, reason: string): SbertError {
  return new SbertError('ERR_BAD_DATA', `${file}:${line}: ${reason}`);
}

/** The lines of a UTF-8 text file with their 1-based numbers, blank lines dropped. */
function readLines(file: string): { text: string; line: number }[] {
  // The bounded reader: a FIFO or a device is refused (not waited on), a file over the cap too.
  const content = utf8Text(readBoundedFileSync(file, { kind: 'training data', code: 'ERR_BAD_DATA', missing: 'cannot read the training file (no such file)' }));
  const out: { text: string; line: number }[] = [];
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (text.trim() !== '') out.push({ text, line: i + 1 });
  }
  return out;
}

/** Parses one JSONL line into an example. */
function parseJsonExample(text: string, file: string, line: number): TrainExample {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw badRow(file, line, `not valid JSON (${(err as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badRow(file, line, 'expected an object like {"texts": [...], "label": ...}');
  const o = v as Record<string, unknown>;
  const texts = o.texts;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
    throw badRow(file, line, '"texts" must be a non-empty array of strings');
  }
  const ex: TrainExample = { texts: texts as string[] };
  if (o.label !== undefined) {
    if (typeof o.label !== 'number' || !Number.isFinite(o.label)) throw badRow(file, line, `"label" must be a finite number (got ${JSON.stringify(o.label)})`);
    ex.label = o.label;
  }
  if (o.target !== undefined) {
    if (!Array.isArray(o.target) || o.target.length === 0 || !o.target.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw badRow(file, line, '"target" must be a non-empty array of finite numbers');
    }
    ex.target = Float32Array.from(o.target as number[]);
  }
  return ex;
}

/** Splits one CSV row (RFC 4180 quoting, no embedded newlines). */
function splitCsvRow(text: string, file: string, line: number): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw badRow(file, line, 'unterminated quoted field (quoted fields may not span lines)');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ',') throw badRow(file, line, `unexpected character after a quoted field at column ${i + 1}`);
    } else {
      const end = text.indexOf(',', i);
      field = end < 0 ? text.slice(i) : text.slice(i, end);
      i = end < 0 ? text.length : end;
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

/** Column layouts a header may name (lower-cased, trimmed). */
const PAIR_COLUMNS = ['sentence1', 'sentence2'];
const TRIPLE_COLUMNS = ['anchor', 'positive'];

/** Examples read from a file, with the 1-based line of each. */
export interface TrainingFileData {
  file: string;
  examples: TrainExample[];
  /** `lines[i]` is the line of `examples[i]` in `file`. */
  lines: number[];
}

/** Reads a TSV/CSV file with a header row. */
function readTable(file: string, delimiter: '\t' | ','): TrainingFileData {
  const lines = readLines(file);
  if (lines.length === 0) throw new SbertError('ERR_BAD_DATA', `${file}: empty file (expected a header row)`);
  const split = (l: { text: string; line: number }) => (delimiter === '\t' ? l.text.split('\t') : splitCsvRow(l.text, file, l.line));
  const header = split(lines[0]).map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  let textCols: number[];
  let labelCol = -1;
  if (PAIR_COLUMNS.every((c) => col(c) >= 0)) {
    textCols = PAIR_COLUMNS.map(col);
    labelCol = col('score') >= 0 ? col('score') : col('label');
    if (labelCol < 0) throw badRow(file, lines[0].line, 'a sentence1, sentence2 header needs a score or label column');
  } else if (TRIPLE_COLUMNS.every((c) => col(c) >= 0)) {
    textCols = TRIPLE_COLUMNS.map(col);
    if (col('negative') >= 0) textCols.push(col('negative'));
  } else {
    throw badRow(
      file,
      lines[0].line,
      `the header must name the columns: sentence1, sentence2, score|label — or anchor, positive[, negative] (got ${JSON.stringify(header.join(delimiter))})`,
    );
  }
  const out: TrainExample[] = [];
  const lineNumbers: number[] = [];
  for (let r = 1; r < lines.length; r++) {
    const { line } = lines[r];
    const fields = split(lines[r]);
    if (fields.length !== header.length) {
      throw badRow(file, line, `${fields.length} columns, the header has ${header.length}`);
    }
    const texts = textCols.map((c) => fields[c]);
    const ex: TrainExample = { texts };
    if (labelCol >= 0) {
      const raw = fields[labelCol].trim();
      const value = raw === '' ? NaN : Number(raw);
      if (!Number.isFinite(value)) throw badRow(file, line, `${header[labelCol]} ${JSON.stringify(raw)} is not a number`);
      ex.label = value;
    }
    out.push(ex);
    lineNumbers.push(line);
  }
  return { file, examples: out, lines: lineNumbers };
}

/**
 * Reads a training file by its extension: .jsonl/.ndjson (one JSON example per line), .tsv or
 * .csv (header row). Throws SbertError('ERR_BAD_DATA') naming the line of the first bad row.
 */
export function readTrainingFile(file: string): TrainExample[] {
  return readTrainingFileLines(file).examples;
}

/** readTrainingFile, with the line of each example (so later checks can name file:line). */
export function readTrainingFileLines(file: string): TrainingFileData {
  if (typeof file !== 'string' || file === '') throw new TypeError('file must be a non-empty string');
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') {
    const rows = readLines(file);
    return { file, examples: rows.map(({ text, line }) => parseJsonExample(text, file, line)), lines: rows.map((r) => r.line) };
  }
  if (ext === '.tsv') return readTable(file, '\t');
  if (ext === '.csv') return readTable(file, ',');
  throw new SbertError('ERR_BAD_DATA', `${file}: unknown training file type '${ext}' (use .jsonl, .tsv or .csv)`);
}

/**
 * The STS Benchmark training split (5,749 pairs; data/stsbenchmark/sts-train.csv, the
 * benchmark's own tab-separated format without a header) as cosine examples: the two
 * sentences and the gold score scaled from 0–5 to [0, 1], as sentence-transformers'
 * training_stsbenchmark.py does.
 */
export function loadStsbTrain(dataDir: string = BUNDLED_DATA_DIR): TrainExample[] {
  return stsbTrainLines(dataDir).examples;
}

function stsbTrainLines(dataDir: string = BUNDLED_DATA_DIR): TrainingFileData {
  const file = path.join(dataDir, 'stsbenchmark', 'sts-train.csv');
  const rows = readLines(file);
  const examples = rows.map(({ text, line }) => {
    const f = text.split('\t');
    const score = Number(f[4]);
    if (f.length < 7 || f[4] === '' || !Number.isFinite(score) || score < 0 || score > 5) {
      throw badRow(file, line, 'expected genre, file, year, id, score (0–5), sentence1, sentence2');
    }
    return { texts: [f[5], f[6]], label: score / 5 };
  });
  return { file, examples, lines: rows.map((r) => r.line) };
}

/** A bundled set by name, or a file path. */
export function loadTrainingData(source: string): TrainExample[] {
  return loadTrainingDataLines(source).examples;
}

/** loadTrainingData with the file and line of each example. */
export function loadTrainingDataLines(source: string): TrainingFileData {
  if ((BUNDLED_TRAIN_SETS as readonly string[]).includes(source) && !fs.existsSync(source)) return stsbTrainLines();
  return readTrainingFileLines(source);
}
