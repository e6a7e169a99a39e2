/**
 * Names in Redis for one embedding job: the BullMQ job ids of its parent and its chunks, and the
 * keys sbert-native keeps beside BullMQ's (the owner lock, the job record, the chunk results).
 * A job id is made of letters, digits and `_.-` so that `#` can separate a chunk's index from
 * it: no two jobs' chunk ids can ever meet.
 */

/** What a job id may be: 1–100 of letters, digits, `_`, `.`, `-`, starting with a letter or digit. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** `id` if it is a valid job id; RangeError naming `what` otherwise. */
export function checkJobId(id: unknown, what = 'jobId'): string {
  if (typeof id !== 'string') throw new TypeError(`${what} must be a string (got ${id === null ? 'null' : typeof id})`);
  // BullMQ refuses custom ids that are plain integers (they would meet its own counters).
  if (!JOB_ID_PATTERN.test(id) || /^[0-9]+$/.test(id)) {
    throw new RangeError(`${what} must be 1–100 letters, digits, '_', '.' or '-', start with a letter or digit, and not be a plain number (got ${JSON.stringify(id)})`);
  }
  return id;
}

/** BullMQ queue names end up inside Redis keys: the same rule as job ids, plus `:` refused. */
export function checkQueueName(name: unknown, what = 'queue'): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(name)) {
    throw new RangeError(`${what} must be 1–100 letters, digits, '_', '.' or '-', starting with a letter or digit (got ${JSON.stringify(name)})`);
  }
  return name;
}

/** The BullMQ id of the job's parent (flow) job. */
export function parentJobId(jobId: string): string {
  return `${jobId}#corpus`;
}

/** The BullMQ id of chunk `index` of the job. */
export function chunkJobId(jobId: string, index: number): string {
  return `${jobId}#${index}`;
}

/** The chunk index in a chunk job id of this job, or undefined for any other id. */
export function chunkIndexOf(jobId: string, bullJobId: string | undefined): number | undefined {
  if (!bullJobId || !bullJobId.startsWith(`${jobId}#`)) return undefined;
  const rest = bullJobId.slice(jobId.length + 1);
  return /^[0-9]+$/.test(rest) ? Number(rest) : undefined;
}

/** Keys sbert-native adds under the queue's BullMQ prefix (`bull:NAME:sbert:…`). */
export class JobKeys {
  private readonly base: string;
  constructor(prefix: string, queue: string, readonly jobId: string) {
    this.base = `${prefix}:${queue}:sbert`;
  }
  /** The submitter that collects this job's results holds this key (see OwnerLock). */
  get owner(): string {
    return `${this.base}:owner:${this.jobId}`;
  }
  /** JSON: the job's plan digest and where its output is written. */
  get record(): string {
    return `${this.base}:job:${this.jobId}`;
  }
  /** A chunk's result (see result.ts), written by the worker, deleted once the submitter has it. */
  result(index: number): string {
    return `${this.base}:result:${this.jobId}:${index}`;
  }
}
