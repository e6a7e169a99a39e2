/**
 * The bundled STS evaluation sets (data/, see data/README.md for sources and licences) and
 * their loaders.
 *
 * Tasks and subsets:
 *   stsb-dev, stsb-test  STS Benchmark (Cer et al., 2017) dev 1500 / test 1379 pairs, gold 0–5
 *   sick-r               SICK relatedness test set (SemEval-2014 task 1), 4927 pairs, gold 1–5
 *   sts12 … sts16        SemEval STS test sets, one subset per file, gold 0–5
 *
 * File formats (all UTF-8, tab-separated, one pair per line; CR before LF is ignored):
 *   'stsb'  genre, file, year, id, score, sentence 1, sentence 2[, licence fields…]
 *   'sick'  header line, then pair_ID, sentence A, sentence B, relatedness, entailment
 *   'sts'   score, sentence 1, sentence 2 (exactly three fields). An EMPTY score means the pair
 *           was not part of the official scoring: it is skipped, as SentEval does
 *           (senteval/sts.py keeps only lines whose gold score is not ''). STS 2015/2016 ship
 *           their full input files, most of whose lines have no gold score.
 * Entirely empty lines are ignored. Any other line that does not fit its format throws
 * SbertError('ERR_BAD_DATA') naming the file and the 1-based line number.
 *
 * STS12 MSRvid is not in the STS 2012–2016 collection we copied; data/sts12-16/2012/
 * MSRvid.test.tsv is rebuilt from the STS Benchmark, which holds all 750 of its test pairs
 * (data/scripts/sts12-msrvid-from-stsb.js; the same extraction gives back the MSRpar file byte
 * for byte). STS13's SMT subset is not distributed (LDC only): `sts13` has SentEval's three
 * subsets (SentEval lacks SMT too).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SbertError } from '../errors';

/** One sentence pair with its gold similarity score. */
export interface StsPair {
  s1: string;
  s2: string;
  score: number;
}

/** One scored file of a task (e.g. STS14 'headlines'). */
export interface StsSubset {
  name: string;
  /** Absolute path of the file it was read from. */
  file: string;
  pairs: StsPair[];
  /** Lines skipped because their gold score was empty (STS12–16 only). */
  unscored: number;
}

export interface StsTask {
  name: StsTaskName;
  /** The column name the SBERT paper uses for it ('STS12', 'STSb', 'SICK-R'). */
  title: string;
  subsets: StsSubset[];
}

export type StsFileFormat = 'stsb' | 'sick' | 'sts';

/** Every task `loadStsTask` knows, in the order of the SBERT paper's Table 1 (plus stsb-dev). */
export const STS_TASKS = ['sts12', 'sts13', 'sts14', 'sts15', 'sts16', 'stsb-test', 'sick-r', 'stsb-dev'] as const;
export type StsTaskName = (typeof STS_TASKS)[number];

/** What `--task all` runs: the seven columns of the SBERT paper's Table 1 (not stsb-dev). */
export const PAPER_TASKS: readonly StsTaskName[] = ['sts12', 'sts13', 'sts14', 'sts15', 'sts16', 'stsb-test', 'sick-r'];

interface TaskSpec {
  title: string;
  format: StsFileFormat;
  /** [subset name, path relative to the data folder] */
  files: [string, string][];
}

const yearFiles = (year: number, names: string[]): [string, string][] =>
  names.map((n) => [n, `sts12-16/${year}/${n}.test.tsv`]);

const TASK_SPECS: Record<StsTaskName, TaskSpec> = {
  'stsb-dev': { title: 'STSb-dev', format: 'stsb', files: [['dev', 'stsbenchmark/sts-dev.csv']] },
  'stsb-test': { title: 'STSb', format: 'stsb', files: [['test', 'stsbenchmark/sts-test.csv']] },
  'sick-r': { title: 'SICK-R', format: 'sick', files: [['test', 'sick/SICK_test_annotated.txt']] },
  // Subset order follows SentEval (senteval/sts.py).
  sts12: { title: 'STS12', format: 'sts', files: yearFiles(2012, ['MSRpar', 'MSRvid', 'SMTeuroparl', 'OnWN', 'SMTnews']) },
  sts13: { title: 'STS13', format: 'sts', files: yearFiles(2013, ['FNWN', 'headlines', 'OnWN']) },
  sts14: {
    title: 'STS14',
    format: 'sts',
    files: yearFiles(2014, ['deft-forum', 'deft-news', 'headlines', 'images', 'OnWN', 'tweet-news']),
  },
  sts15: {
    title: 'STS15',
    format: 'sts',
    files: yearFiles(2015, ['answers-forums', 'answers-students', 'belief', 'headlines', 'images']),
  },
  sts16: {
    title: 'STS16',
    format: 'sts',
    files: yearFiles(2016, ['answer-answer', 'headlines', 'plagiarism', 'postediting', 'question-question']),
  },
};

/** The bundled data folder: `<package root>/data` (this file runs from dist/eval/). */
export function defaultDataDir(): string {
  return path.resolve(__dirname, '..', '..', 'data');
}

export function isStsTaskName(name: string): name is StsTaskName {
  return (STS_TASKS as readonly string[]).includes(name);
}

/** The SBERT-paper column name of a task ('STS12', 'STSb', 'SICK-R', 'STSb-dev'). */
export function taskTitle(name: StsTaskName): string {
  return TASK_SPECS[name].title;
}

export interface LoadTaskOptions {
  /** Folder holding stsbenchmark/, sick/ and sts12-16/ (default: the bundled data/). */
  dataDir?: string;
}

/**
 * Loads one evaluation task from the bundled data: its subsets, each a list of
 * `{ s1, s2, score }` pairs in file order. Throws RangeError for an unknown task name and
 * SbertError('ERR_BAD_DATA') for a missing or malformed file.
 */
export function loadStsTask(name: string, options: LoadTaskOptions = {}): StsTask {
  if (!isStsTaskName(name)) {
    throw new RangeError(`unknown STS task '${name}' (known: ${STS_TASKS.join(', ')})`);
  }
  const spec = TASK_SPECS[name];
  const dir = options.dataDir ?? defaultDataDir();
  const subsets = spec.files.map(([subset, rel]) => {
    const file = path.join(dir, rel);
    const { pairs, unscored } = parseStsFile(file, spec.format);
    return { name: subset, file, pairs, unscored };
  });
  return { name, title: spec.title, subsets };
}

/**
 * Reads one STS data file given by path. `format` defaults from the file name: a name
 * containing 'SICK' → 'sick', *.csv → 'stsb', *.tsv → 'sts'. Pairs without a gold score
 * ('sts' format) are skipped.
 */
export function loadStsFile(file: string, format?: StsFileFormat): StsPair[] {
  return parseStsFile(file, format ?? guessFormat(file)).pairs;
}

function guessFormat(file: string): StsFileFormat {
  const base = path.basename(file);
  if (/sick/i.test(base)) return 'sick';
  if (/\.csv$/i.test(base)) return 'stsb';
  if (/\.tsv$/i.test(base)) return 'sts';
  throw new TypeError(`cannot tell the format of '${file}' from its name: pass 'stsb', 'sick' or 'sts'`);
}

const SCORE_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function badData(file: string, line: number, reason: string): SbertError {
  const err = new SbertError('ERR_BAD_DATA', `${file}:${line}: ${reason}`);
  return Object.assign(err, { file, line });
}

function parseScore(field: string, file: string, line: number): number {
  const s = field.trim();
  if (!SCORE_RE.test(s)) {
    throw badData(file, line, `gold score ${JSON.stringify(field.length > 40 ? field.slice(0, 40) + '…' : field)} is not a number`);
  }
  return Number(s);
}

function parseStsFile(file: string, format: StsFileFormat): { pairs: StsPair[]; unscored: number } {
  if (format !== 'stsb' && format !== 'sick' && format !== 'sts') {
    throw new TypeError(`format must be 'stsb', 'sick' or 'sts' (got ${JSON.stringify(format)})`);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SbertError('ERR_BAD_DATA', `${file}: cannot read the file (${(err as Error).message})`, { cause: err });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  const pairs: StsPair[] = [];
  let unscored = 0;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length === 0) continue;
    const f = line.split('\t');
    switch (format) {
      case 'stsb': {
        if (f.length < 7) {
          throw badData(file, lineNo, `expected at least 7 tab-separated fields (genre, file, year, id, score, sentence 1, sentence 2), found ${f.length}`);
        }
        pairs.push({ s1: f[5], s2: f[6], score: parseScore(f[4], file, lineNo) });
        break;
      }
      case 'sick': {
        if (pairs.length === 0 && f[0] === 'pair_ID') continue; // header
        if (f.length < 4) {
          throw badData(file, lineNo, `expected at least 4 tab-separated fields (pair_ID, sentence A, sentence B, relatedness score), found ${f.length}`);
        }
        pairs.push({ s1: f[1], s2: f[2], score: parseScore(f[3], file, lineNo) });
        break;
      }
      case 'sts': {
        if (f.length !== 3) {
          throw badData(file, lineNo, `expected 3 tab-separated fields (score, sentence 1, sentence 2), found ${f.length}`);
        }
        if (f[0].trim() === '') {
          unscored++; // not in the official scoring (SentEval skips these too)
          continue;
        }
        pairs.push({ s1: f[1], s2: f[2], score: parseScore(f[0], file, lineNo) });
        break;
      }
    }
  }
  return { pairs, unscored };
}
