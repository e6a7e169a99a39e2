/**
 * The server's limits and their defaults (TEI's where TEI has one), checked once at creation so
 * a typo fails at start-up, not on the first request.
 */

/** Options of createServer (the `sbert serve` flags of the same names). */
export interface ServeOptions {
  /** Token budget per native call, shared by the requests batched into it. Default: the encoder's. */
  maxBatchTokens?: number;
  /** Most inputs in one request; more → 413. Default 32 (TEI). */
  maxClientBatchSize?: number;
  /**
   * Most tokens an input may have (special tokens included); longer → 413 unless truncation is
   * asked for. Default and maximum: the model's max_seq_length, which is where truncation cuts.
   */
  maxInputLength?: number;
  /** Most encode requests served at once; more → 429. Default 512 (TEI). */
  maxConcurrentRequests?: number;
  /** Most tokens queued in the encoder (admitted, not yet answered); more → 429. Default 262144. */
  maxQueueTokens?: number;
  /** Truncate over-length inputs when the request does not say `truncate`. Default false (TEI). */
  autoTruncate?: boolean;
  /** Largest request body in bytes, refused before it is read or parsed → 413. Default 2,000,000 (TEI). */
  payloadLimit?: number;
  /** Seconds a 429 asks the client to wait (Retry-After). Default 1. */
  retryAfterSeconds?: number;
  /** On close(), how long in-flight requests may take before connections are cut. Default 30,000 ms. */
  drainTimeoutMs?: number;
  /** The model name /info and /v1/embeddings report. Default: the model folder's name. */
  modelId?: string;
  /** Where unexpected errors (500) are reported; default nowhere (the client gets the message). */
  log?: (line: string) => void;
}

export type ResolvedServeOptions = Required<Omit<ServeOptions, 'maxBatchTokens' | 'log'>> & Pick<ServeOptions, 'maxBatchTokens' | 'log'>;

function positiveInteger(options: ServeOptions, key: keyof ServeOptions, fallback: number): number {
  const v = options[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new RangeError(`options.${key} must be a positive integer (got ${String(v)})`);
  return v;
}

/** Fills in defaults and checks every option; throws TypeError/RangeError naming the option. */
export function resolveServeOptions(options: ServeOptions, model: { maxSeqLength: number; dir: string }): ResolvedServeOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const maxInputLength = positiveInteger(options, 'maxInputLength', model.maxSeqLength);
  if (maxInputLength > model.maxSeqLength) {
    throw new RangeError(`options.maxInputLength (${maxInputLength}) cannot exceed the model's max_seq_length (${model.maxSeqLength})`);
  }
  if (options.autoTruncate !== undefined && typeof options.autoTruncate !== 'boolean') throw new TypeError('options.autoTruncate must be a boolean');
  if (options.log !== undefined && typeof options.log !== 'function') throw new TypeError('options.log must be a function');
  const modelId = options.modelId ?? model.dir.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
  if (typeof modelId !== 'string' || modelId.length === 0) throw new TypeError('options.modelId must be a non-empty string');
  return {
    maxBatchTokens: options.maxBatchTokens === undefined ? undefined : positiveInteger(options, 'maxBatchTokens', 0),
    maxClientBatchSize: positiveInteger(options, 'maxClientBatchSize', 32),
    maxInputLength,
    maxConcurrentRequests: positiveInteger(options, 'maxConcurrentRequests', 512),
    maxQueueTokens: positiveInteger(options, 'maxQueueTokens', 262144),
    autoTruncate: options.autoTruncate ?? false,
    payloadLimit: positiveInteger(options, 'payloadLimit', 2_000_000),
    retryAfterSeconds: positiveInteger(options, 'retryAfterSeconds', 1),
    drainTimeoutMs: positiveInteger(options, 'drainTimeoutMs', 30_000),
    modelId,
    log: options.log,
  };
}
