/**
 * `sbert submit` and `sbert worker`: the bulk-job commands (see lib/queue/index.ts). Exit codes:
 * 0 done, 1 failed (a clear message: Redis out of reach, chunks failed with their rows, a
 * conflicting job or folder), 2 bad arguments, 130 stopped by a signal (the job stays in the
 * queue; submit again to resume).
 */
import { parseDevice, parseFlags, parsePositiveInt, parsePrecision, UsageError } from '../cli-args';
import { ProgressBar } from '../progress';
import type { QueueEncodeOptions, ResultTransport } from './job-data';
import { submitEmbedJob } from './submit';
import { runEmbedWorker, type EmbedWorkerEvent } from './worker';

export const SUBMIT_USAGE = `Usage: sbert submit --redis URL --queue NAME --input FILE.txt|FILE.jsonl --output DIR [options]

Embeds a corpus on the workers of a BullMQ queue (start them with 'sbert worker') and writes
ordered .npy shards plus manifest.json into DIR. Running it again with the same job id (the
default id is derived from the input, model and options) resumes: done chunks are kept.

Options:
  --redis URL               redis://[user:password@]host:port[/db] (rediss:// for TLS)
  --queue NAME              the queue the workers listen on
  --input FILE              .txt (one sentence a line) or .jsonl (a JSON string or {"text": ...} a line)
  --output DIR              new, empty, or this job's own folder
  --model M                 folder, Hub id or 'default' (the bundled model; the default);
                            workers must run the same model
  --chunk-size N            sentences per chunk (default 1024)
  --job-id ID               letters, digits, '_', '.', '-' (default: embed-<hash of the plan>)
  --transport redis|folder  rows come back through Redis (default), or workers write the shards
                            into DIR themselves (DIR must be shared, at the same path, with them)
  --attempts N              tries per chunk before it is reported failed (default 3)
  --normalize               L2-normalize the embeddings
  --truncate-dim N          keep the first N dimensions (Matryoshka models)
  --prompt TEXT | --prompt-name NAME   as for encode
  --batch-tokens N          token budget per native call on the workers
  --prefix P                BullMQ key prefix (default bull)
  --no-progress             no progress bar
`;

export const WORKER_USAGE = `Usage: sbert worker --redis URL --queue NAME [options]

Embeds chunks of the jobs 'sbert submit' puts in the queue, until SIGTERM or SIGINT: the first
signal finishes the chunks in hand and exits 0; a second puts them back in the queue at once
and exits 130. A chunk for another model is refused (it fails, and submit reports it).

Options:
  --redis URL                   redis://[user:password@]host:port[/db] (rediss:// for TLS)
  --queue NAME                  the queue to take chunks from
  --model M                     folder, Hub id or 'default' (the bundled model; the default)
  --device auto|cpu|cuda|cuda:N engine device (default auto)
  --precision P                 engine precision: fp32|int8|bf16 on the CPU, fp16|bf16|fp32 on a GPU
  --concurrency N               chunks in hand at once (default 1)
  --batch-tokens N              token budget per native call
  --lock-duration-ms N          a chunk is taken back from a worker silent this long (default 30000)
  --stalled-interval-ms N       how often to look for chunks of dead workers (default 30000)
  --prefix P                    BullMQ key prefix (default bull)
  --quiet                       no line per chunk
`;

const COMMON_FLAGS = {
  redis: { type: 'string' },
  queue: { type: 'string' },
  model: { type: 'string', short: 'm' },
  'batch-tokens': { type: 'string' },
  prefix: { type: 'string' },
  'connect-timeout-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

/** Runs until the first SIGINT/SIGTERM; calls `onSignal` with the count for each one. */
function onSignals(onSignal: (count: number) => void): () => void {
  let count = 0;
  const handler = () => onSignal(++count);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** `sbert submit`; resolves to the exit code. */
export async function runSubmitCommand(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    ...COMMON_FLAGS,
    input: { type: 'string', short: 'i' },
    output: { type: 'string', short: 'o' },
    'chunk-size': { type: 'string' },
    'job-id': { type: 'string' },
    transport: { type: 'string' },
    attempts: { type: 'string' },
    normalize: { type: 'boolean' },
    'truncate-dim': { type: 'string' },
    prompt: { type: 'string' },
    'prompt-name': { type: 'string' },
    'no-progress': { type: 'boolean' },
    'lock-ttl-ms': { type: 'string' },
    'poll-ms': { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(SUBMIT_USAGE);
    return 0;
  }
  const transport = values.transport ?? 'redis';
  if (transport !== 'redis' && transport !== 'folder') throw new UsageError(`--transport must be redis or folder (got '${transport}')`);
  const encodeOptions: QueueEncodeOptions = {
    ...(values.normalize ? { normalize: true } : {}),
    ...(values['truncate-dim'] !== undefined ? { truncateDim: parsePositiveInt(values['truncate-dim'], '--truncate-dim') } : {}),
    ...(values.prompt !== undefined ? { prompt: values.prompt } : {}),
    ...(values['prompt-name'] !== undefined ? { promptName: values['prompt-name'] } : {}),
    ...(values['batch-tokens'] !== undefined ? { batchTokens: parsePositiveInt(values['batch-tokens'], '--batch-tokens') } : {}),
  };
  const redis = required(values.redis, '--redis');
  const abort = new AbortController();
  let bar: ProgressBar | undefined;
  const stopSignals = onSignals((count) => {
    if (count === 1) {
      process.stderr.write('\nsbert submit: stopping (the job stays in the queue; submit again to resume)\n');
      abort.abort();
    } else {
      process.exit(130);
    }
  });
  try {
    const manifest = await submitEmbedJob({
      connection: redis,
      queue: required(values.queue, '--queue'),
      input: required(values.input, '--input'),
      output: required(values.output, '--output'),
      model: values.model,
      chunkSize: parsePositiveInt(values['chunk-size'], '--chunk-size'),
      jobId: values['job-id'],
      transport: transport as ResultTransport,
      attempts: parsePositiveInt(values.attempts, '--attempts'),
      prefix: values.prefix,
      connectTimeoutMs: parsePositiveInt(values['connect-timeout-ms'], '--connect-timeout-ms'),
      ownerLockMs: parsePositiveInt(values['lock-ttl-ms'], '--lock-ttl-ms'),
      pollIntervalMs: parsePositiveInt(values['poll-ms'], '--poll-ms'),
      encodeOptions,
      signal: abort.signal,
      onLog: (m) => process.stderr.write(`${bar ? '\n' : ''}sbert submit: ${m}\n`),
      onProgress: (p) => {
        if (values['no-progress']) return;
        if (!bar) {
          bar = new ProgressBar(`job ${p.jobId}`, p.totalRows, { unit: 'sentences' });
          if (p.rows > 0) process.stderr.write(`sbert submit: resuming job ${p.jobId}: ${p.chunks} of ${p.totalChunks} chunks already written\n`);
        }
        bar.update(p.rows);
      },
    });
    bar?.finish();
    process.stderr.write(`wrote ${manifest.rows} × ${manifest.dimension} ${manifest.dtype} embeddings in ${manifest.shards.length} shard${manifest.shards.length === 1 ? '' : 's'} to ${values.output} (job ${manifest.jobId})\n`);
    return 0;
  } catch (err) {
    if ((err as Error).name === 'AbortError') {
      process.stderr.write(`sbert submit: ${(err as Error).message}\n`);
      return 130;
    }
    if (err instanceof TypeError || err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  } finally {
    stopSignals();
  }
}

function describeEvent(e: EmbedWorkerEvent): string {
  switch (e.type) {
    case 'chunk-started':
      return `chunk ${e.jobId}#${e.index} rows [${e.rows[0]}, ${e.rows[1]}) started`;
    case 'chunk-done':
      return `chunk ${e.jobId}#${e.index} rows [${e.rows[0]}, ${e.rows[1]}) done in ${e.ms} ms`;
    case 'chunk-failed':
      return `chunk ${e.jobId}#${e.index} rows [${e.rows[0]}, ${e.rows[1]}) failed: ${e.error}`;
    case 'chunk-released':
      return `chunk ${e.jobId}#${e.index} rows [${e.rows[0]}, ${e.rows[1]}) put back in the queue`;
    case 'error':
      return `Redis: ${e.error.message}`;
  }
}

/** `sbert worker`; resolves to the exit code when a signal has stopped it. */
export async function runWorkerCommand(argv: string[]): Promise<number> {
  const values = parseFlags(argv, {
    ...COMMON_FLAGS,
    device: { type: 'string' },
    precision: { type: 'string' },
    concurrency: { type: 'string' },
    'lock-duration-ms': { type: 'string' },
    'stalled-interval-ms': { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(WORKER_USAGE);
    return 0;
  }
  const say = (m: string) => process.stderr.write(`sbert worker ${process.pid}: ${m}\n`);
  let lastErrorAt = 0;
  const redis = required(values.redis, '--redis');
  const queue = required(values.queue, '--queue');
  let worker: Awaited<ReturnType<typeof runEmbedWorker>>;
  try {
    worker = await runEmbedWorker({
      connection: redis,
      queue,
      model: values.model,
      device: values.device === undefined ? undefined : parseDevice(values.device),
      precision: parsePrecision(values.precision),
      concurrency: parsePositiveInt(values.concurrency, '--concurrency'),
      batchTokens: parsePositiveInt(values['batch-tokens'], '--batch-tokens'),
      lockDurationMs: parsePositiveInt(values['lock-duration-ms'], '--lock-duration-ms'),
      stalledIntervalMs: parsePositiveInt(values['stalled-interval-ms'], '--stalled-interval-ms'),
      connectTimeoutMs: parsePositiveInt(values['connect-timeout-ms'], '--connect-timeout-ms'),
      prefix: values.prefix,
      onEvent: (e) => {
        if (e.type === 'error') {
          // a client retrying a lost connection reports every try: say it every 10 s at most
          if (Date.now() - lastErrorAt < 10000) return;
          lastErrorAt = Date.now();
        } else if (values.quiet && e.type !== 'chunk-failed') {
          return;
        }
        say(describeEvent(e));
      },
    });
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
  say(`ready: model ${worker.model.id} (${worker.model.digest.slice(0, 19)}…) on ${worker.device}, queue '${queue}'`);
  return new Promise<number>((resolve) => {
    let released = false;
    const stopSignals = onSignals((count) => {
      if (count === 1) say('stopping: finishing the chunks in hand (signal again to put them back in the queue now)');
      else if (!released) say('putting the chunks in hand back in the queue');
      released ||= count > 1;
      void worker.close({ release: released }).then(() => {
        stopSignals();
        resolve(released ? 130 : 0);
      });
    });
  });
}
