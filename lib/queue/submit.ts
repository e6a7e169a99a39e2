/**
 * submitEmbedJob: embeds a corpus file on the workers of a BullMQ queue and writes ordered .npy
 * shards plus manifest.json. The corpus is checked whole first (nothing is enqueued for a bad
 * line), cut into chunks, and enqueued as one flow (a parent job with a child per chunk). The
 * submitter then collects each chunk's rows as workers finish them, writes its shard, and frees
 * the chunk's memory in Redis.
 *
 * Everything it needs to go on lives in the output folder (the shards written) and in Redis (the
 * chunk jobs and results), so a submitter that is killed or restarted — or a Redis restart —
 * loses nothing: running it again with the same job id takes up the same job. A chunk is
 * written exactly once whatever happened to its workers, because its shard is named by its
 * index and written whole or not at all.
 */
import type { FlowProducer, Job, Queue, QueueEvents } from 'bullmq';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { SbertError } from '../errors';
import { bullmq, connectOrFail, connectionOptions, describeConnection, type RedisConnection } from './connection';
import { readCorpus, planChunks, type ChunkPlan, type Corpus } from './corpus';
import { checkJobId, checkQueueName, chunkIndexOf, chunkJobId, JobKeys, parentJobId } from './ids';
import { checkQueueEncodeOptions, CHUNK_JOB, CORPUS_JOB, type ChunkJobData, type CorpusJobData, type QueueEncodeOptions, type ResultTransport } from './job-data';
import { resolveModelIdentity, type ModelIdentity } from './model-identity';
import { inspectOutput, OUTPUT_FORMAT, OutputFolder, shardFileName, type EmbedJobManifest, type ShardEntry } from './output';
import { OwnerLock, type LockClient } from './owner-lock';
import { sha256Hex, unpackResult } from './result';
import { hostname } from 'node:os';

export interface SubmitEmbedJobOptions {
  /** Redis: a URL (`redis://host:port`) or ioredis options. */
  connection: RedisConnection;
  /** The BullMQ queue the workers listen on. */
  queue: string;
  /** The corpus: a .txt file (one sentence a line) or .jsonl (a JSON string or {"text": …} a line). */
  input: string;
  /** The output folder (created; must be empty, new, or this job's own). */
  output: string;
  /** Model folder, Hub id, or 'default' (the bundled model; also when omitted). Workers must run the same. */
  model?: string;
  /** Sentences per chunk (default 1024). */
  chunkSize?: number;
  /** The job's id; default: derived from the input, model, chunk size and options, so a rerun resumes. */
  jobId?: string;
  /** Passed to every chunk's encode. */
  encodeOptions?: QueueEncodeOptions;
  /** 'redis' (default: rows travel back through Redis) or 'folder' (workers write shards into `output`, which they must reach at the same path). */
  transport?: ResultTransport;
  /** Tries per chunk before it is reported as failed (default 3). */
  attempts?: number;
  /** First retry delay, doubled on each retry (default 1000 ms). */
  backoffMs?: number;
  /** BullMQ key prefix (default 'bull'). */
  prefix?: string;
  /** How long to wait for Redis at start before failing (default 5000 ms). */
  connectTimeoutMs?: number;
  /** How long Redis may stay out of reach mid-job before the submitter gives up (default 300000 ms). */
  redisDownTimeoutMs?: number;
  /** Time to live of the submitter's lock on the job id (default 30000 ms; see OwnerLock). */
  ownerLockMs?: number;
  /** How often the submitter checks the queue besides reacting to its events (default 1000 ms). */
  pollIntervalMs?: number;
  /** Called when rows have been written (and once at the start, with what a resumed job already had). */
  onProgress?: (progress: EmbedJobProgress) => void;
  /** Messages for a log: waiting for a lock, Redis out of reach, chunks lost and enqueued again. */
  onLog?: (message: string) => void;
  /** Stops collecting (the job stays in the queue; a rerun with the same job id resumes). */
  signal?: AbortSignal;
}

export interface EmbedJobProgress {
  jobId: string;
  rows: number;
  totalRows: number;
  chunks: number;
  totalChunks: number;
}

/** A chunk that failed for good. */
export interface FailedChunk {
  index: number;
  /** Rows [start, end) of the input. */
  rows: [number, number];
  attempts: number;
  reason: string;
}

/** Chunks failed after their retries; the others were written. A rerun with the same job id tries the failed ones again. */
export class ChunksFailedError extends SbertError {
  constructor(readonly jobId: string, readonly failures: FailedChunk[], readonly output: string) {
    const list = failures
      .slice(0, 10)
      .map((f) => `  chunk ${f.index}, rows [${f.rows[0]}, ${f.rows[1]}) (${f.attempts} attempt${f.attempts === 1 ? '' : 's'}): ${f.reason}`)
      .join('\n');
    super(
      'ERR_CHUNKS_FAILED',
      `job '${jobId}': ${failures.length} chunk${failures.length === 1 ? '' : 's'} failed; the other chunks are in ${output}; ` +
        `run the same job again to retry them\n${list}${failures.length > 10 ? `\n  … and ${failures.length - 10} more` : ''}`,
    );
    this.name = 'ChunksFailedError';
  }
}

/** What the job record in Redis says: which plan and which output this job id has. */
interface JobRecord {
  planDigest: string;
  host: string;
  output: string;
  state: 'running' | 'complete';
}

/** How long Redis remembers a job id's output: a week after it completed, a month after it was last submitted. */
const COMPLETE_RECORD_TTL_MS = 7 * 24 * 3600 * 1000;
const RUNNING_RECORD_TTL_MS = 30 * 24 * 3600 * 1000;

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer (got ${String(value)})`);
  return value;
}

/** Everything that decides the job's numbers, hashed: a job id means one plan. */
function planDigest(model: ModelIdentity, encodeOptions: QueueEncodeOptions, chunkSize: number, chunks: ChunkPlan[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ model: model.digest, encodeOptions, chunkSize, rows: chunks.length ? chunks[chunks.length - 1].end : 0 }));
  for (const c of chunks) hash.update(c.sha256);
  return hash.digest('hex');
}

/** The error a stopped submitter throws (name 'AbortError'). */
function abortError(jobId: string): Error {
  const err = new Error(`job '${jobId}': stopped; the job stays in the queue — run it again with the same job id to resume`);
  err.name = 'AbortError';
  return err;
}

/** A promise resolved by wake() or after `ms`, whichever comes first. */
class Waker {
  private resolve: (() => void) | undefined;
  wake(): void {
    this.resolve?.();
  }
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.resolve = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
      this.resolve = done;
    });
  }
}

/** The ioredis commands the submitter uses beside BullMQ's. */
type RawClient = LockClient & {
  set(key: string, value: string): Promise<unknown>;
  getBuffer(key: string): Promise<Buffer | null>;
  del(...keys: string[]): Promise<number>;
  pexpire(key: string, ms: number): Promise<number>;
  pipeline(): { exists(key: string): unknown; del(key: string): unknown; exec(): Promise<[Error | null, unknown][] | null> };
};

/**
 * Runs a bulk job to the end and resolves to its manifest (also written as manifest.json).
 * @throws SbertError ERR_BAD_INPUT (input missing or a bad line, as `file:line`; nothing enqueued),
 *   ERR_JOB_CONFLICT (the output folder is another job's or not empty; the job id is another
 *   submitter's or writes elsewhere), ERR_QUEUE_UNREACHABLE (naming the URL),
 *   ChunksFailedError (ERR_CHUNKS_FAILED: chunks that failed after their retries, with row ranges)
 */
export async function submitEmbedJob(options: SubmitEmbedJobOptions): Promise<EmbedJobManifest> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const queueName = checkQueueName(options.queue, 'queue');
  const connection = connectionOptions(options.connection);
  if (typeof options.input !== 'string' || options.input === '') throw new TypeError('input must be a file path');
  if (typeof options.output !== 'string' || options.output === '') throw new TypeError('output must be a folder path');
  const chunkSize = positiveInt(options.chunkSize, 'chunkSize', 1024);
  const attempts = positiveInt(options.attempts, 'attempts', 3);
  const backoffMs = positiveInt(options.backoffMs, 'backoffMs', 1000);
  const connectTimeoutMs = positiveInt(options.connectTimeoutMs, 'connectTimeoutMs', 5000);
  const redisDownTimeoutMs = positiveInt(options.redisDownTimeoutMs, 'redisDownTimeoutMs', 300000);
  const ownerLockMs = positiveInt(options.ownerLockMs, 'ownerLockMs', 30000);
  const pollIntervalMs = positiveInt(options.pollIntervalMs, 'pollIntervalMs', 1000);
  const transport = options.transport ?? 'redis';
  if (transport !== 'redis' && transport !== 'folder') throw new RangeError(`transport must be 'redis' or 'folder' (got ${JSON.stringify(transport)})`);
  const encodeOptions = checkQueueEncodeOptions(options.encodeOptions);
  const prefix = options.prefix ?? 'bull';
  const output = path.resolve(options.output);
  const log = (m: string) => options.onLog?.(m);

  // 1. Everything that can be refused without Redis, before anything is enqueued.
  const corpus: Corpus = await readCorpus(options.input);
  const chunks = planChunks(corpus.sentences, chunkSize);
  const { identity: model } = await resolveModelIdentity(options.model);
  const plan = planDigest(model, encodeOptions, chunkSize, chunks);
  const jobId = options.jobId === undefined ? `embed-${plan.slice(0, 16)}` : checkJobId(options.jobId, 'jobId');
  const finished = await inspectOutput(output, jobId, plan);
  if (finished) return finished;

  // 2. Redis: reachable, this job id ours, its record consistent with this output.
  const { Queue: QueueClass, FlowProducer: FlowClass, QueueEvents: EventsClass } = bullmq();
  const queue: Queue = new QueueClass(queueName, { connection, prefix });
  await connectOrFail(queue, options.connection, connectTimeoutMs);
  let flows: FlowProducer | undefined;
  let events: QueueEvents | undefined;
  let lock: OwnerLock | undefined;
  const onClientError = () => undefined; // outages are handled where commands fail
  queue.on('error', onClientError);
  try {
    const client = (await queue.client) as unknown as RawClient;
    const keys = new JobKeys(prefix, queueName, jobId);
    lock = await OwnerLock.acquire(client, keys.owner, `job '${jobId}'`, `${hostname()}:${output}`, ownerLockMs, log);
    const recordText = await client.get(keys.record);
    const record = recordText ? (JSON.parse(recordText) as JobRecord) : undefined;
    if (record && record.planDigest !== plan) {
      throw new SbertError('ERR_JOB_CONFLICT', `job '${jobId}' in queue '${queueName}' was submitted with other input, model, chunk size or encode options: use another job id`);
    }
    if (record && (record.host !== hostname() || record.output !== output)) {
      throw new SbertError('ERR_JOB_CONFLICT', `job '${jobId}' writes its output to ${record.host}:${record.output}, not here: one job id has one output; use another job id`);
    }
    await client.set(keys.record, JSON.stringify({ planDigest: plan, host: hostname(), output, state: 'running' } satisfies JobRecord));
    await client.pexpire(keys.record, RUNNING_RECORD_TTL_MS);
    const folder = await OutputFolder.claim(output, jobId, plan);
    const createdAt = await folder.createdAt();

    // 3. What is done already, and the flow for the rest.
    const { shards: written, dim: writtenDim } = await folder.writtenShards();
    for (const [index, entry] of written) {
      const c = chunks[index];
      if (!c || c.sha256 !== entry.inputSha256 || c.start !== entry.rows[0] || c.end !== entry.rows[1]) written.delete(index);
    }
    const pending = new Set(chunks.filter((c) => !written.has(c.index)).map((c) => c.index));
    let dimension: number | undefined = writtenDim;
    const failures = new Map<number, FailedChunk>();
    const verifyFailures = new Map<number, number>();
    let rowsDone = [...written.values()].reduce((a, e) => a + e.rows[1] - e.rows[0], 0);
    const progress = () =>
      options.onProgress?.({ jobId, rows: rowsDone, totalRows: corpus.sentences.length, chunks: written.size, totalChunks: chunks.length });
    progress();

    const jobOptions = {
      attempts,
      backoff: { type: 'exponential' as const, delay: backoffMs },
      removeOnComplete: true,
      removeOnFail: false,
    };
    const chunkData = (c: ChunkPlan): ChunkJobData => ({
      v: 1, jobId, index: c.index, start: c.start, end: c.end, sha256: c.sha256,
      texts: corpus.sentences.slice(c.start, c.end), model, encodeOptions, transport,
      ...(transport === 'folder' ? { output, shardFile: shardFileName(c.index, chunks.length) } : {}),
    });
    const parentId = parentJobId(jobId);
    const qualifiedName = `${prefix}:${queueName}`;
    const enqueueFlow = async (indices: number[]) => {
      if (!flows) {
        flows = new FlowClass({ connection, prefix });
        flows.on('error', onClientError);
      }
      const data: CorpusJobData = { v: 1, jobId, chunks: chunks.length, rows: corpus.sentences.length, model };
      await flows.add({
        // the parent completes (and goes) once every chunk is done; it is there for dashboards
        name: CORPUS_JOB, queueName, data, opts: { jobId: parentId, removeOnComplete: true, removeOnFail: false },
        children: indices.map((i) => ({ name: CHUNK_JOB, queueName, data: chunkData(chunks[i]), opts: { ...jobOptions, jobId: chunkJobId(jobId, i) } })),
      });
    };
    /** Chunks with neither a job nor a result in Redis: never enqueued, or lost (Redis lost them, or the result expired). */
    const missing = async (indices: number[]): Promise<number[]> => {
      if (indices.length === 0) return [];
      const pipe = client.pipeline();
      for (const i of indices) {
        pipe.exists(queue.toKey(chunkJobId(jobId, i)));
        pipe.exists(keys.result(i));
      }
      const replies = (await pipe.exec()) ?? [];
      const exists = (k: number) => {
        const [err, value] = replies[k] ?? [new Error('no reply'), 0];
        if (err) throw err;
        return value === 1;
      };
      return indices.filter((_, k) => !exists(2 * k) && !exists(2 * k + 1));
    };
    /** Enqueues chunks: one flow (the parent and its chunks) when there is no parent yet, else chunks under it. */
    const enqueue = async (indices: number[]) => {
      if (indices.length === 0) return;
      const parentState = await queue.getJobState(parentId);
      if (parentState === 'unknown') return enqueueFlow(indices);
      const parent = parentState === 'waiting-children' ? { parent: { id: parentId, queue: qualifiedName } } : {};
      await queue.addBulk(indices.map((i) => ({ name: CHUNK_JOB, data: chunkData(chunks[i]), opts: { ...jobOptions, jobId: chunkJobId(jobId, i), ...parent } })));
    };
    await enqueue(await missing([...pending]));

    // 4. Collect: events wake the loop, a poll catches what events missed (a Redis restart).
    const waker = new Waker();
    events = new EventsClass(queueName, { connection, prefix });
    events.on('error', onClientError);
    const onEvent = ({ jobId: id }: { jobId: string }): void => {
      if (chunkIndexOf(jobId, id) !== undefined) waker.wake();
    };
    let stateCheckDue = false;
    events.on('completed', onEvent);
    events.on('failed', (e) => {
      if (chunkIndexOf(jobId, e.jobId) === undefined) return;
      stateCheckDue = true;
      waker.wake();
    });

    const collect = async (index: number, buf: Buffer): Promise<void> => {
      const c = chunks[index];
      let entry: ShardEntry;
      try {
        const { header, payload } = unpackResult(buf);
        if (header.modelDigest !== model.digest) throw new Error(`encoded with model ${header.modelDigest}, the job's is ${model.digest}`);
        if (header.rows !== c.end - c.start || header.dtype !== 'float32' || !(header.dim > 0)) throw new Error(`holds ${header.rows} × ${header.dim} ${header.dtype} for ${c.end - c.start} rows`);
        if (dimension !== undefined && header.dim !== dimension) throw new Error(`has ${header.dim} dimensions, other chunks ${dimension}`);
        const base = { index, file: shardFileName(index, chunks.length), rows: [c.start, c.end] as [number, number], inputSha256: c.sha256, device: header.device, worker: header.worker };
        if (header.shardFile !== undefined) {
          if (header.shardFile !== base.file) throw new Error(`names shard ${header.shardFile}, expected ${base.file}`);
          entry = await folder.adoptShard(base, header.sha256, header.dim);
        } else {
          if (payload.length !== header.rows * header.dim * 4 || sha256Hex(payload) !== header.sha256) throw new Error('its rows do not match their hash');
          entry = await folder.writeShard(base, payload, header.dim);
        }
        dimension = header.dim;
      } catch (err) {
        // Not usable: drop it so the chunk is encoded again (up to `attempts` times).
        const n = (verifyFailures.get(index) ?? 0) + 1;
        verifyFailures.set(index, n);
        log(`chunk ${index} (rows [${c.start}, ${c.end})): result refused: ${(err as Error).message}`);
        if (n >= attempts) failures.set(index, { index, rows: [c.start, c.end], attempts: n, reason: `result refused: ${(err as Error).message}` });
        await client.del(keys.result(index));
        return;
      }
      written.set(index, entry);
      pending.delete(index);
      rowsDone += c.end - c.start;
      await client.del(keys.result(index));
      progress();
    };

    let firstRound = true;
    let lastStateCheck = 0;
    const reconcile = async () => {
      const open = [...pending].filter((i) => !failures.has(i));
      if (open.length === 0) return;
      const pipe = client.pipeline();
      for (const i of open) pipe.exists(keys.result(i));
      const exists = (await pipe.exec()) ?? [];
      const withResult = open.filter((_, k) => exists[k]?.[1] === 1);
      for (const i of withResult) {
        const buf = await client.getBuffer(keys.result(i));
        if (buf) await collect(i, buf);
      }
      // Job states cost a script call each: look at them on the first round (a resumed job) and
      // every few seconds (failed chunks, lost ones).
      if (!firstRound && !stateCheckDue && Date.now() - lastStateCheck < Math.max(5000, pollIntervalMs)) return;
      lastStateCheck = Date.now();
      stateCheckDue = false;
      const lost: number[] = [];
      const toCheck = open.filter((i) => pending.has(i) && !failures.has(i));
      for (let from = 0; from < toCheck.length; from += 256) {
        // a few hundred state queries in flight at once, not one round trip each
        const batch = toCheck.slice(from, from + 256);
        const states = await Promise.all(batch.map((i) => queue.getJobState(chunkJobId(jobId, i))));
        for (let k = 0; k < batch.length; k++) {
          const i = batch[k];
          if (states[k] === 'unknown') lost.push(i);
          if (states[k] !== 'failed') continue;
          const job: Job | undefined = await queue.getJob(chunkJobId(jobId, i));
          if (firstRound && job) {
            // failed in an earlier run: try again, with its sentences read afresh from the input
            await job.updateData(chunkData(chunks[i]));
            await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
            log(`chunk ${i} (rows [${chunks[i].start}, ${chunks[i].end})) failed before; retrying it`);
          } else {
            failures.set(i, { index: i, rows: [chunks[i].start, chunks[i].end], attempts: job?.attemptsMade ?? attempts, reason: job?.failedReason ?? 'failed' });
          }
        }
      }
      // completed jobs are removed only after their result is stored, so no job and no result means lost
      const gone = await missing(lost);
      for (const i of gone) log(`chunk ${i} (rows [${chunks[i].start}, ${chunks[i].end})) is neither queued nor done (Redis lost it?); enqueuing it again`);
      await enqueue(gone);
      firstRound = false;
    };

    let downSince: number | undefined;
    while ([...pending].some((i) => !failures.has(i))) {
      if (options.signal?.aborted) throw abortError(jobId);
      if (lock.lost) throw lock.lost;
      try {
        await reconcile();
        if (downSince !== undefined) log(`Redis at ${describeConnection(options.connection)} is back`);
        downSince = undefined;
      } catch (err) {
        if (err instanceof SbertError) throw err;
        if (downSince === undefined) {
          downSince = Date.now();
          log(`Redis at ${describeConnection(options.connection)} is out of reach (${(err as Error).message}); retrying`);
        } else if (Date.now() - downSince > redisDownTimeoutMs) {
          throw new SbertError('ERR_QUEUE_UNREACHABLE', `Redis at ${describeConnection(options.connection)} was out of reach for ${Math.round(redisDownTimeoutMs / 1000)} s; run the job again to resume`, { cause: err });
        }
      }
      if ([...pending].some((i) => !failures.has(i))) await waker.wait(downSince === undefined ? pollIntervalMs : Math.min(pollIntervalMs, 500), options.signal);
    }

    if (failures.size > 0) {
      throw new ChunksFailedError(jobId, [...failures.values()].sort((a, b) => a.index - b.index), output);
    }

    // 5. Done: free the job's memory in Redis, then the manifest.
    const parent = await queue.getJob(parentId);
    await parent?.remove().catch(() => undefined);
    const leftovers = client.pipeline();
    for (const c of chunks) leftovers.del(keys.result(c.index));
    await leftovers.exec();
    await client.set(keys.record, JSON.stringify({ planDigest: plan, host: hostname(), output, state: 'complete' } satisfies JobRecord));
    await client.pexpire(keys.record, COMPLETE_RECORD_TTL_MS);
    const shards = chunks.map((c) => written.get(c.index)!);
    const manifest: EmbedJobManifest = {
      format: OUTPUT_FORMAT,
      jobId,
      queue: queueName,
      model,
      dimension: dimension!,
      dtype: 'float32',
      rows: corpus.sentences.length,
      chunkSize,
      encodeOptions: encodeOptions as Record<string, unknown>,
      input: { file: path.resolve(corpus.file), format: corpus.format, sha256: corpus.sha256 },
      transport,
      shards,
      createdAt,
      completedAt: new Date().toISOString(),
    };
    await folder.writeManifest(manifest);
    return manifest;
  } finally {
    await lock?.release();
    await Promise.all([queue.close(), flows?.close(), events?.close()].map((p) => p?.catch(() => undefined)));
  }
}
