#!/usr/bin/env node
/**
 * The `sbert` command: `sbert encode`, `sbert rerank`, `sbert eval`, `sbert demo`, `sbert info`.
 * Exit codes: 0 success, 1 failure while running, 2 bad arguments.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { FILE_SIZE_LIMITS, formatBytes, readBoundedFile } from './bounded-file';
import { parseDevice, parseFlags, parsePositiveInt, parsePrecision, parseQuantize, UsageError, usageErrorText } from './cli-args';
import { CrossEncoder } from './cross-encoder';
import { SentenceEncoder } from './encoder';
import { describeModel } from './model-info';
import { SbertError } from './errors';
import { buildInfo, cudaDevices } from './index';
import { DEFAULT_MODEL_NAME } from './default-model';
import { modelSource } from './model-source';
import { npyBytes } from './npy';
import { OutputFileError, PendingOutput } from './output-file';
import { ProgressBar } from './progress';

const ENCODE_USAGE = `Usage: sbert encode [--model DIR|ORG/NAME|default] [--input FILE|-] [--output OUT.npy|OUT.jsonl]
                    [--device auto|cpu|cuda|cuda:N] [--precision fp32|int8|bf16|fp16]
                    [--batch-tokens N] [--normalize] [--no-progress]
                    [--quantize int8|uint8|binary|ubinary]
  Encodes sentences (one per line) into embeddings. Without --model, the bundled model
  (models/default-en). Without --output, JSON lines go to stdout. Every input line is one
  sentence (an empty line is the empty sentence); a final newline ends the last line.
  --precision is what the engine computes in: on the CPU fp32 (default), int8 or bf16
  (AVX2 / avx512_bf16 needed: see sbert info), on a GPU fp16 (default), bf16 or fp32.
  --quantize is sentence-transformers' encode(precision=...) on the output: int8/uint8
  (ranges from these sentences) or sign bits packed 8 per byte (binary: int8, ubinary:
  uint8), written as integers (.npy int8/uint8).
`;

const RERANK_USAGE = `Usage: sbert rerank --model DIR|ORG/NAME --query TEXT [--input FILE|-] [--top-k N] [--json]
                    [--device auto|cpu|cuda|cuda:N] [--precision fp32|int8|bf16|fp16]
                    [--batch-tokens N] [--no-progress]
  Scores every document (one per line) against the query with a cross-encoder (a Hugging Face
  sequence-classification model with one label, e.g. cross-encoder/ms-marco-MiniLM-L6-v2) and
  prints them best first: rank, score and text, aligned; --json prints CrossEncoder.rank's hits,
  [{ "corpusId", "score", "text" }] (corpusId: the line's index from 0). Without --input,
  standard input. --top-k keeps the best N. Scores are the model's (its activation: sigmoid
  unless its config says otherwise), exactly as CrossEncoder.rank gives them.
`;

const DEMO_USAGE = `Usage: sbert demo [--model DIR|ORG/NAME|default] [--device auto|cpu|cuda|cuda:N]
  Encodes a few sentences with the bundled model (or --model) and prints their cosine
  similarities: proves the install works end to end.
`;

const INFO_USAGE = `Usage: sbert info [--model DIR|ORG/NAME|default] [--offline]
  Prints the build information (version, CUDA compiled in, CPU features, the addon's path) and
  the CUDA devices found, as JSON. With --model, also what that model is as the engine would run
  it (bi-encoder or cross-encoder, family, tokenizer, shape, pooling, output), read from its
  files without creating an engine; a model that would not load exits 1 with the reason.
`;

const USAGE = `Usage: sbert <command> [options]

Commands:
  encode   Encode sentences (one per line) into embeddings: sbert encode --help
  rerank   Rank documents (one per line) against a query with a cross-encoder: sbert rerank --help
  eval     STS evaluation (Spearman/Pearson): sbert eval --help
  serve    Embedding server (TEI- and OpenAI-compatible HTTP): sbert serve --help
  download Fetch a model from the Hugging Face Hub into the shared cache, print its folder:
           sbert download ORG/NAME [--revision REV] [--cache-dir DIR] [--offline]
  train    Fine-tune a model (cosine, softmax, triplet, mnrl, mse losses; --cross-encoder for
           a cross-encoder on sentence pairs): sbert train --help
  submit   Bulk job on a BullMQ queue (Redis): corpus → .npy shards + manifest: sbert submit --help
  worker   Embed the chunks of bulk jobs from a BullMQ queue: sbert worker --help
  demo     Encode a few sentences with the bundled model (or --model DIR) and show
           their cosine similarities: proves the install works end to end
  info     Print build information and the CUDA devices found; --model NAME: what a model is
`;

/** Standard input, within the same cap as an --input file. */
async function readStdin(): Promise<Buffer> {
  const limit = FILE_SIZE_LIMITS.input;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new SbertError('ERR_BAD_INPUT', `standard input: over the ${formatBytes(limit)} limit for input files`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

/**
 * The --input file through the bounded reader: a missing or unreadable path is an argument
 * error; a FIFO, a device or a file over the cap is ERR_BAD_INPUT (never a hang or a huge read).
 */
async function readInputFile(input: string): Promise<Buffer> {
  try {
    return await readBoundedFile(input, { kind: 'input', code: 'ERR_BAD_INPUT', missing: 'no such file' });
  } catch (err) {
    const errno = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    if (errno === 'ENOENT' || errno === 'EACCES' || errno === 'ENOTDIR') throw new UsageError(`cannot read --input ${(err as Error).message}`);
    // A pipe or a process substitution (`--input <(zcat x.gz)`): say how streams are read.
    if (err instanceof SbertError && /FIFO|socket|character device/.test(err.message)) {
      err.message += '; to read a stream, pipe it to standard input and pass --input - (capped like a file)';
    }
    throw err;
  }
}

async function readInput(input: string | undefined): Promise<string[]> {
  let text: string;
  if (input === undefined || input === '-') {
    if (input === undefined && process.stdin.isTTY) throw new UsageError('no --input given and stdin is a terminal');
    text = (await readStdin()).toString('utf8');
  } else {
    text = (await readInputFile(input)).toString('utf8');
  }
  if (text.length === 0) return [];
  // Windows, Unix and classic Mac line ends alike
  const lines = text.split(/\r\n|\n|\r/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

async function encodeCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', short: 'm' },
      input: { type: 'string', short: 'i' },
      output: { type: 'string', short: 'o' },
      device: { type: 'string', default: 'auto' },
      precision: { type: 'string' },
      quantize: { type: 'string' },
      'batch-tokens': { type: 'string' },
      normalize: { type: 'boolean', default: false },
      'no-progress': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(ENCODE_USAGE);
    return 0;
  }
  const output = values.output;
  if (output && !/\.(npy|jsonl)$/i.test(output)) throw new UsageError('--output must end in .npy or .jsonl');
  const device = parseDevice(values.device);
  const precision = parsePrecision(values.precision);
  const quantize = parseQuantize(values.quantize);
  const batchTokens = parsePositiveInt(values['batch-tokens'], '--batch-tokens');
  // Before any work: an output that cannot be written is an argument error, not a failure
  // after minutes of encoding.
  const pending = output ? await openOutput(output) : undefined;
  try {
    checkModelArg(values.model); // after the output (checked first, as before), before the input is read
    const sentences = await readInput(values.input);
    const encoder = await SentenceEncoder.load(values.model, {
      device,
      ...(precision ? { precision } : {}),
      ...(batchTokens ? { batchTokens } : {}),
    });
    try {
      const bar = values['no-progress'] || sentences.length < 2 ? undefined : new ProgressBar('encoding', sentences.length, { unit: 'sentences' });
      const emb = await encoder.encode(sentences, { normalize: values.normalize, precision: quantize, onProgress: (d) => bar?.update(d) });
      bar?.finish();
      let body: Uint8Array | string;
      if (output && output.toLowerCase().endsWith('.npy')) {
        body = npyBytes(emb.data, [emb.count, emb.dim]);
      } else {
        const lines: string[] = [];
        for (let i = 0; i < emb.count; i++) lines.push(JSON.stringify(Array.from(emb.data.subarray(i * emb.dim, (i + 1) * emb.dim))));
        body = lines.length ? lines.join('\n') + '\n' : '';
      }
      if (pending) await pending.commit(body);
      else process.stdout.write(body);
      if (output) process.stderr.write(`wrote ${emb.count} × ${emb.dim} embeddings to ${output} (${encoder.device}, ${encoder.precision})\n`);
    } finally {
      encoder.dispose();
    }
  } finally {
    await pending?.discard();
  }
  return 0;
}

/** The --output file, prepared up front (see PendingOutput); a path it cannot write is a UsageError. */
async function openOutput(output: string): Promise<PendingOutput> {
  try {
    return await PendingOutput.open(output);
  } catch (err) {
    throw new UsageError(`--output: ${(err as Error).message}`);
  }
}

async function rerankCommand(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    model: { type: 'string', short: 'm' },
    query: { type: 'string', short: 'q' },
    input: { type: 'string', short: 'i' },
    'top-k': { type: 'string', short: 'k' },
    json: { type: 'boolean', default: false },
    device: { type: 'string', default: 'auto' },
    precision: { type: 'string' },
    'batch-tokens': { type: 'string' },
    'no-progress': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(RERANK_USAGE);
    return 0;
  }
  if (values.model === undefined) throw new UsageError('--model is required (a cross-encoder folder or Hub id, e.g. cross-encoder/ms-marco-MiniLM-L6-v2)');
  if (values.query === undefined) throw new UsageError('--query is required');
  const device = parseDevice(values.device);
  const precision = parsePrecision(values.precision);
  const topK = parsePositiveInt(values['top-k'], '--top-k');
  const batchTokens = parsePositiveInt(values['batch-tokens'], '--batch-tokens');
  checkModelArg(values.model);
  const documents = await readInput(values.input);
  const ce = await CrossEncoder.load(values.model, { device, ...(precision ? { precision } : {}), ...(batchTokens ? { batchTokens } : {}) });
  try {
    if (ce.numLabels !== 1) {
      throw new SbertError('ERR_BAD_MODEL', `${values.model} has ${ce.numLabels} labels (${ce.labels.join(', ')}): ranking needs a reranker, a model with one label`);
    }
    const bar = values['no-progress'] || documents.length < 2 ? undefined : new ProgressBar('scoring', documents.length, { unit: 'documents' });
    const hits = await ce.rank(values.query, documents, { returnDocuments: true, onProgress: (d) => bar?.update(d), ...(topK ? { topK } : {}) });
    bar?.finish();
    if (values.json) {
      process.stdout.write(hits.length ? `[\n${hits.map((h) => JSON.stringify(h)).join(',\n')}\n]\n` : '[]\n');
    } else {
      const scores = hits.map((h) => h.score.toFixed(4));
      const rankWidth = String(hits.length).length;
      const scoreWidth = Math.max(0, ...scores.map((t) => t.length));
      process.stdout.write(hits.map((h, k) => `${String(k + 1).padStart(rankWidth)}  ${scores[k].padStart(scoreWidth)}  ${h.text}\n`).join(''));
    }
  } finally {
    ce.dispose();
  }
  return 0;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / (Math.max(Math.sqrt(na), 1e-12) * Math.max(Math.sqrt(nb), 1e-12));
}

/** --model: a folder, default, or a Hub id; a missing folder or a typo is an argument error (no request is made). */
function checkModelArg(model: string | undefined): void {
  if (model === undefined) return;
  try {
    modelSource(model);
  } catch (err) {
    throw new UsageError(`--model ${model}: ${(err as Error).message}`);
  }
}

async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { device: { type: 'string', default: 'auto' }, model: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(DEMO_USAGE);
    return 0;
  }
  const device = parseDevice(values.device);
  checkModelArg(values.model);
  const source = modelSource(values.model);
  const dir = source.kind === 'folder' ? source.dir : source.id;
  const info = buildInfo();
  process.stdout.write(`sbert-native ${info.version} — CUDA compiled: ${info.cuda.compiled}, devices: ${cudaDevices().length}, CPU threads: ${info.cpu.threads} (${info.cpu.gemmKernel})\n`);
  if (!values.model || values.model === DEFAULT_MODEL_NAME) {
    process.stdout.write(
      `Model: ${dir}\n` +
        'The bundled default model: a 4-layer BERT distilled from the Universal Sentence Encoder\n' +
        '(lite) with this package\'s own trainer (see its README.md). For the SBERT paper\'s models,\n' +
        'run: sbert demo --model sentence-transformers/all-MiniLM-L6-v2 (downloaded from the Hub once)\n\n',
    );
  }
  const sentences = [
    'A man is eating food.',
    'A man is eating a piece of bread.',
    'The girl is carrying a baby.',
    'A man is riding a horse.',
    'A woman is playing violin.',
  ];
  const started = process.hrtime.bigint();
  const encoder = await SentenceEncoder.load(values.model, { device });
  try {
    const emb = await encoder.encode(sentences);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(`Encoded ${emb.count} sentences → ${emb.count} × ${emb.dim} on ${encoder.device} in ${ms.toFixed(1)} ms (incl. load)\n\n`);
    let best = { score: -Infinity, i: 0, j: 0 };
    for (let i = 0; i < emb.count; i++) {
      for (let j = i + 1; j < emb.count; j++) {
        const s = cosine(emb.row(i), emb.row(j));
        if (s > best.score) best = { score: s, i, j };
        process.stdout.write(`  ${s.toFixed(4)}  "${sentences[i]}" ↔ "${sentences[j]}"\n`);
      }
    }
    process.stdout.write(`\nMost similar pair: "${sentences[best.i]}" ↔ "${sentences[best.j]}" (${best.score.toFixed(4)})\n`);
  } finally {
    encoder.dispose();
  }
  return 0;
}

async function infoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, model: { type: 'string' }, offline: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(INFO_USAGE);
    return 0;
  }
  const model = values.model === undefined ? undefined : await describeModel(values.model, { offline: values.offline });
  process.stdout.write(JSON.stringify({ buildInfo: buildInfo(), cudaDevices: cudaDevices(), ...(model ? { model } : {}) }, null, 2) + '\n');
  return 0;
}

/** Runs the `sbert` command with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let command: string | undefined = argv[0];
  const rest = argv.slice(1);
  try {
    switch (command) {
      case 'encode':
        return await encodeCommand(rest);
      case 'rerank':
        return await rerankCommand(rest);
      case 'eval': {
        const { runEvalCommand } = await import('./eval');
        return await runEvalCommand(rest);
      }
      case 'serve':
        return await (await import('./serve/cli')).runServeCommand(rest);
      case 'download': // issue 15: models by id from the Hugging Face Hub (lib/hub/cli.ts)
        return await (await import('./hub/cli')).runDownloadCommand(rest);
      case 'train':
        return await (await import('./train/cli')).runTrainCommand(rest);
      case 'submit': // issue 26: bulk jobs on BullMQ + Redis (lib/queue; loads bullmq only here)
        return await (await import('./queue/cli')).runSubmitCommand(rest);
      case 'worker':
        return await (await import('./queue/cli')).runWorkerCommand(rest);
      case 'demo':
        return await demoCommand(rest);
      case 'info':
        return await infoCommand(rest);
      case undefined:
        // No command is a mistake (exit 2): the usage goes to stderr.
        process.stderr.write(USAGE);
        return 2;
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return 0;
      default:
        command = undefined;
        throw new UsageError(`unknown command '${argv[0]}'`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(usageErrorText(command, (err as Error).message));
      return 2;
    }
    if (err instanceof SbertError) {
      process.stderr.write(`sbert: ${err.code}: ${err.message}\n`);
      return 1;
    }
    if (err instanceof OutputFileError) {
      process.stderr.write(`sbert: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`sbert: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

/**
 * `sbert encode | head`: the reader went away. There is nothing left to tell anyone (stderr
 * may be the same closed pipe), so the command ends quietly instead of crashing with an
 * unhandled EPIPE.
 */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

if (require.main === module) {
  exitQuietlyOnClosedPipe(process.stdout);
  exitQuietlyOnClosedPipe(process.stderr);
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
