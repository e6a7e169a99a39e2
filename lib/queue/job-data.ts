/**
 * What the submitter puts in BullMQ jobs and what workers take from them: the shape of a chunk
 * job's data, and the encode options a bulk job may use (the ones whose result does not depend
 * on how the corpus is cut into chunks).
 */
import type { EncodeOptions } from '../encoder';
import type { ModelIdentity } from './model-identity';

/** How chunk results reach the submitter (see the README, "Bulk jobs"). */
export type ResultTransport = 'redis' | 'folder';

/**
 * Encode options of a bulk job. Quantization (`precision` other than float32) is left out: its
 * int8 / uint8 ranges come from the rows of one call, so they would change with the chunk size;
 * token embeddings are left out too (one shard per chunk of sentence embeddings).
 */
export type QueueEncodeOptions = Pick<EncodeOptions, 'normalize' | 'truncateDim' | 'prompt' | 'promptName' | 'batchTokens'>;

const QUEUE_ENCODE_KEYS = ['normalize', 'truncateDim', 'prompt', 'promptName', 'batchTokens'] as const;

/**
 * The encode options as a plain object with sorted keys (it goes into the plan digest and the
 * manifest). TypeError / RangeError naming `encodeOptions.KEY` for anything else.
 */
export function checkQueueEncodeOptions(options: unknown): QueueEncodeOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError('encodeOptions must be an object');
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(options).sort()) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (key === 'precision' && value === 'float32') continue;
    if (key === 'outputValue' && value === 'sentence_embedding') continue;
    if (!(QUEUE_ENCODE_KEYS as readonly string[]).includes(key)) {
      throw new RangeError(
        `encodeOptions.${key} cannot be used in a bulk job (allowed: ${QUEUE_ENCODE_KEYS.join(', ')})` +
          (key === 'precision' ? ': int8/uint8 ranges would depend on the chunks; quantize the manifest\'s rows afterwards with quantizeEmbeddings' : ''),
      );
    }
    if (key === 'normalize' && typeof value !== 'boolean') throw new TypeError('encodeOptions.normalize must be a boolean');
    if ((key === 'prompt' || key === 'promptName') && typeof value !== 'string') throw new TypeError(`encodeOptions.${key} must be a string`);
    if ((key === 'truncateDim' || key === 'batchTokens') && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
      throw new RangeError(`encodeOptions.${key} must be a positive integer (got ${String(value)})`);
    }
    out[key] = value;
  }
  return out as QueueEncodeOptions;
}

/** Data of a chunk job. */
export interface ChunkJobData {
  v: 1;
  /** The bulk job's id (not BullMQ's id of this chunk). */
  jobId: string;
  index: number;
  /** Rows [start, end) of the input. */
  start: number;
  end: number;
  /** chunkHash(texts): the worker checks it before encoding. */
  sha256: string;
  texts: string[];
  model: ModelIdentity;
  encodeOptions: QueueEncodeOptions;
  transport: ResultTransport;
  /** Folder transport: the output folder (the same path on every worker) and this chunk's shard name. */
  output?: string;
  shardFile?: string;
}

/** Data of the parent (flow) job of a bulk job: what a dashboard shows about it. */
export interface CorpusJobData {
  v: 1;
  jobId: string;
  chunks: number;
  rows: number;
  model: ModelIdentity;
}

/** The job names used in the queue. */
export const CHUNK_JOB = 'chunk';
export const CORPUS_JOB = 'corpus';
