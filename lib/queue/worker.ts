/**
 * runEmbedWorker: a BullMQ worker that embeds the chunks of bulk jobs. It loads its model once,
 * encodes each chunk with `encoder.encode` (token-budget batches; concurrent chunks share native
 * calls through the batcher) and hands the rows back through Redis (default) or as a shard in
 * the shared output folder. A chunk whose model is not this worker's is refused for good, so a
 * manifest never mixes models; a chunk whose sentences do not match their hash fails (and is
 * retried, then reported by the submitter).
 */
import type { Job, Worker } from 'bullmq';
import * as path from 'node:path';
import { SentenceEncoder, type Device, type Precision } from '../encoder';
import { SbertError } from '../errors';
import { bullmq, connectOrFail, connectionOptions, type RedisConnection } from './connection';
import { chunkHash } from './corpus';
import { checkQueueName, JobKeys } from './ids';
import { checkQueueEncodeOptions, CHUNK_JOB, CORPUS_JOB, type ChunkJobData, type CorpusJobData } from './job-data';
import { resolveModelIdentity, type ModelIdentity } from './model-identity';
import { processTag, shardBytes, writeFileAtomic } from './output';
import { floatBytes, packResult, sha256Hex, type ChunkResultHeader } from './result';

export interface EmbedWorkerOptions {
  /** Redis: a URL (`redis://host:port`) or ioredis options. */
  connection: RedisConnection;
  /** The BullMQ queue the submitter uses. */
  queue: string;
  /** Model folder, Hub id, or 'default' (the bundled model; also when omitted). */
  model?: string;
  /** Chunks encoded at once (default 1; more overlap Redis I/O with encoding and share native calls). */
  concurrency?: number;
  /** Engine device (default 'auto'). */
  device?: Device;
  /** What the engine computes in (SentenceEncoder.load's `precision`; default the device's own). */
  precision?: Precision;
  /** Token budget per native call (default: the encoder's). */
  batchTokens?: number;
  /** BullMQ key prefix (default 'bull'). */
  prefix?: string;
  /** How long to wait for Redis at start before failing (default 5000 ms). */
  connectTimeoutMs?: number;
  /** How long a chunk stays this worker's without a lock renewal before others take it (default 30000 ms). */
  lockDurationMs?: number;
  /** How often this worker looks for chunks whose worker died (default 30000 ms). */
  stalledIntervalMs?: number;
  /** Times a chunk may be taken back from dead workers before it fails (default 2). */
  maxStalledCount?: number;
  /** How long an uncollected result stays in Redis (default 7 days). */
  resultTtlMs?: number;
  /** What the worker does, for logs. */
  onEvent?: (event: EmbedWorkerEvent) => void;
}

/** A chunk taken, finished, failed or released, or a connection problem. */
export type EmbedWorkerEvent =
  | { type: 'chunk-started'; jobId: string; index: number; rows: [number, number] }
  | { type: 'chunk-done'; jobId: string; index: number; rows: [number, number]; ms: number }
  | { type: 'chunk-failed'; jobId: string; index: number; rows: [number, number]; error: string }
  | { type: 'chunk-released'; jobId: string; index: number; rows: [number, number] }
  | { type: 'error'; error: Error };

/** A running worker. */
export interface EmbedWorker {
  readonly model: ModelIdentity;
  /** The engine's device, e.g. 'cpu'. */
  readonly device: string;
  /**
   * Stops taking chunks. By default the chunks in hand are finished first; with
   * `{ release: true }` they are put back in the queue at once for another worker. Idempotent.
   */
  close(options?: { release?: boolean }): Promise<void>;
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer (got ${String(value)})`);
  return value;
}

/** Why a chunk's data cannot be encoded, or undefined when it is sound. */
function badChunk(data: ChunkJobData): string | undefined {
  if (!data || data.v !== 1) return 'not a chunk of this sbert-native version';
  if (!Array.isArray(data.texts) || data.texts.some((t) => typeof t !== 'string')) return 'its sentences are not a list of strings';
  if (data.texts.length !== data.end - data.start) return `it holds ${data.texts.length} sentences for rows [${data.start}, ${data.end})`;
  if (chunkHash(data.texts) !== data.sha256) return 'its sentences do not match their hash (changed in transit or in Redis)';
  return undefined;
}

function describeModel(m: ModelIdentity): string {
  return `${m.id}${m.revision ? `@${m.revision}` : ''} (${m.digest.slice(0, 19)}…)`;
}

/**
 * Starts a worker on `queue`: checks Redis (SbertError ERR_QUEUE_UNREACHABLE naming the URL
 * when it cannot be reached within `connectTimeoutMs`), loads the model once, then takes chunks
 * until close().
 */
export async function runEmbedWorker(options: EmbedWorkerOptions): Promise<EmbedWorker> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const queueName = checkQueueName(options.queue, 'queue');
  const connection = connectionOptions(options.connection);
  const concurrency = positiveInt(options.concurrency, 'concurrency', 1);
  const connectTimeoutMs = positiveInt(options.connectTimeoutMs, 'connectTimeoutMs', 5000);
  const lockDuration = positiveInt(options.lockDurationMs, 'lockDurationMs', 30000);
  const stalledInterval = positiveInt(options.stalledIntervalMs, 'stalledIntervalMs', 30000);
  const maxStalledCount = positiveInt(options.maxStalledCount, 'maxStalledCount', 2);
  const resultTtlMs = positiveInt(options.resultTtlMs, 'resultTtlMs', 7 * 24 * 3600 * 1000);
  const prefix = options.prefix ?? 'bull';
  const emit = (e: EmbedWorkerEvent) => options.onEvent?.(e);
  const { Worker: WorkerClass, UnrecoverableError, WaitingError } = bullmq();

  // Chunks in hand, so close({ release: true }) can hand them back.
  const inHand = new Map<string, { release: () => void }>();
  let encoder: SentenceEncoder | undefined;
  let identity: ModelIdentity | undefined;
  let deviceTag = '';
  const tag = processTag();

  const processChunk = async (job: Job, token?: string): Promise<unknown> => {
    if (job.name === CORPUS_JOB) return { chunks: (job.data as CorpusJobData).chunks };
    if (job.name !== CHUNK_JOB) throw new UnrecoverableError(`not an sbert-native job (name '${job.name}')`);
    const data = job.data as ChunkJobData;
    const rows: [number, number] = [data.start, data.end];
    const where = `chunk ${data.index} (rows [${data.start}, ${data.end})) of job '${data.jobId}'`;
    let release!: () => void;
    const released = new Promise<'released'>((resolve) => {
      release = () => resolve('released');
    });
    inHand.set(job.id!, { release });
    try {
      if (!data.model || data.model.digest !== identity!.digest) {
        throw new UnrecoverableError(`ERR_MODEL_MISMATCH: ${where} is for model ${data.model ? describeModel(data.model) : '?'}, this worker runs ${describeModel(identity!)}`);
      }
      const bad = badChunk(data);
      if (bad) throw new Error(`ERR_BAD_INPUT: ${where}: ${bad}`);
      const encodeOptions = checkQueueEncodeOptions(data.encodeOptions);
      emit({ type: 'chunk-started', jobId: data.jobId, index: data.index, rows });
      const started = Date.now();
      const encoding = encoder!.encode(data.texts, encodeOptions);
      encoding.catch(() => undefined);
      const outcome = await Promise.race([encoding, released]);
      if (outcome === 'released') {
        await job.moveToWait(token);
        emit({ type: 'chunk-released', jobId: data.jobId, index: data.index, rows });
        throw new WaitingError();
      }
      const emb = outcome;
      const payload = floatBytes(emb.data);
      const header: ChunkResultHeader = {
        rows: emb.count, dim: emb.dim, dtype: 'float32', sha256: sha256Hex(payload), modelDigest: identity!.digest, device: deviceTag, worker: tag,
      };
      const keys = new JobKeys(prefix, queueName, data.jobId);
      let packed: Buffer;
      if (data.transport === 'folder') {
        if (!data.output || !data.shardFile || path.basename(data.shardFile) !== data.shardFile) throw new Error(`ERR_BAD_INPUT: ${where}: no output folder for the folder transport`);
        try {
          await writeFileAtomic(data.output, data.shardFile, shardBytes(payload, emb.count, emb.dim));
        } catch (err) {
          throw new Error(`cannot write ${data.shardFile} into the shared output folder ${data.output} from ${tag}: ${(err as Error).message}`);
        }
        packed = packResult({ ...header, shardFile: data.shardFile });
      } else {
        packed = packResult(header, payload);
      }
      const client = (await worker.client) as unknown as { set(key: string, value: Buffer, px: 'PX', ms: number): Promise<unknown> };
      await client.set(keys.result(data.index), packed, 'PX', resultTtlMs);
      emit({ type: 'chunk-done', jobId: data.jobId, index: data.index, rows, ms: Date.now() - started });
      return { rows: emb.count, dim: emb.dim, sha256: header.sha256 };
    } catch (err) {
      if (!(err instanceof WaitingError)) emit({ type: 'chunk-failed', jobId: data.jobId, index: data.index, rows, error: (err as Error).message });
      if (err instanceof SbertError) throw new Error(`${err.code}: ${where}: ${err.message}`);
      throw err;
    } finally {
      inHand.delete(job.id!);
    }
  };

  const worker: Worker = new WorkerClass(queueName, processChunk, {
    connection, prefix, concurrency, lockDuration, stalledInterval, maxStalledCount, autorun: false,
  });
  await connectOrFail(worker, options.connection, connectTimeoutMs);
  worker.on('error', (error) => emit({ type: 'error', error }));
  try {
    const resolved = await resolveModelIdentity(options.model);
    identity = resolved.identity;
    encoder = await SentenceEncoder.load(resolved.dir, {
      ...(options.device ? { device: options.device } : {}),
      ...(options.precision ? { precision: options.precision } : {}),
      ...(options.batchTokens ? { batchTokens: options.batchTokens } : {}),
    });
    // The precision is named wherever it is not the plain CPU engine's fp32 (results differ by it).
    deviceTag = encoder.device.startsWith('cuda') || encoder.precision !== 'fp32' ? `${encoder.device} ${encoder.precision}` : encoder.device;
  } catch (err) {
    await worker.close(true).catch(() => undefined);
    throw err;
  }
  const running = worker.run();
  running.catch((error) => emit({ type: 'error', error }));
  let closing: Promise<void> | undefined;
  return {
    model: identity,
    device: deviceTag,
    close(closeOptions: { release?: boolean } = {}) {
      if (closeOptions.release) for (const { release } of inHand.values()) release();
      closing ??= (async () => {
        await worker.close();
        await running.catch(() => undefined);
        encoder?.dispose();
      })();
      return closing;
    },
  };
}
