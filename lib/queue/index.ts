/**
 * sbert-native/queue: bulk embedding on a BullMQ queue over Redis (issue 26). A submitter cuts
 * a corpus into chunks and enqueues them as one flow; workers on any number of machines embed
 * them; the submitter writes ordered .npy shards and a manifest. Resumable (same job id), and
 * nothing is lost or written twice when workers, the submitter or Redis go down mid-job.
 *
 * ```ts
 * import { submitEmbedJob, runEmbedWorker } from 'sbert-native/queue';
 * const worker = await runEmbedWorker({ connection: 'redis://127.0.0.1:6379', queue: 'embed' });
 * const manifest = await submitEmbedJob({ connection: 'redis://127.0.0.1:6379', queue: 'embed', input: 'corpus.txt', output: 'out/' });
 * ```
 * Needs the `bullmq` package (an optional peer dependency); `require('sbert-native')` never loads it.
 */
export { submitEmbedJob, ChunksFailedError } from './submit';
export type { SubmitEmbedJobOptions, EmbedJobProgress, FailedChunk } from './submit';
export { runEmbedWorker } from './worker';
export type { EmbedWorker, EmbedWorkerEvent, EmbedWorkerOptions } from './worker';
export { loadEmbedOutput } from './read-output';
export { readCorpus, planChunks, chunkHash } from './corpus';
export type { Corpus, ChunkPlan } from './corpus';
export { resolveModelIdentity } from './model-identity';
export type { ModelIdentity } from './model-identity';
export type { EmbedJobManifest, ShardEntry } from './output';
export type { QueueEncodeOptions, ResultTransport } from './job-data';
export type { RedisConnection } from './connection';
export { runSubmitCommand, runWorkerCommand } from './cli';
