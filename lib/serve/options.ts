/**
 * The server's limits and their defaults (TEI's where TEI has one), checked once at creation so
 * a typo fails at start-up, not on the first request.
 */

/** Options of createServer (the `sbert serve` flags of the same names). */
export interface ServeOptions {
  /** Token budget per native call, shared by the requests batched into it; larger requests are streamed in parts of this size. Default: the encoder's. */
  maxBatchTokens?: number;
  /** Most inputs in one request to TEI's routes (/embed, /embed_all, /similarity, /tokenize, /decode, POST /); more → 413. Default 32 (TEI). */
  maxClientBatchSize?: number;
  /** Most inputs in one request to OpenAI's /v1/embeddings (and /embeddings); more → 413. Default 2048 (OpenAI's limit). */
  maxOpenAIBatchSize?: number;
  /**
   * Most tokens an input may have (special tokens and prompt included); longer → 413 unless
   * truncation is asked for, which cuts there. Default and maximum: the model's max_seq_length.
   */
  maxInputLength?: number;
  /** Most encode requests served at once; more → 429. Default 512 (TEI). */
  maxConcurrentRequests?: number;
  /** Most tokens queued in the encoder (handed to it, not yet answered); more → 429. Default 262144. */
  maxQueueTokens?: number;
  /** Truncate over-length inputs when the request does not say `truncate`. Default false (TEI). */
  autoTruncate?: boolean;
  /** Largest request body in bytes, refused before it is read or parsed → 413. Default 16,000,000 (room for 2,048 inputs of 512 tokens). */
  payloadLimit?: number;
  /** Seconds a 429 asks the client to wait (Retry-After). Default 1. */
  retryAfterSeconds?: number;
  /** On close(), how long in-flight requests may take before connections are cut. Default 30,000 ms. */
  drainTimeoutMs?: number;
  /** The model name /info, /v1/models and /v1/embeddings report. Default: the model folder's name. */
  modelId?: string;
  /**
   * The reranker's name in /info and /v1/models when an embedding model is served beside it.
   * Default: its folder's name. (Served alone, the reranker is named by `modelId`.)
   */
  rerankerId?: string;
  /**
   * Requests must carry `Authorization: Bearer <apiKey>` (TEI's --api-key); without it → 401.
   * /health, GET /, /ping, /metrics, /docs and /api-doc/openapi.json stay open, as in TEI.
   */
  apiKey?: string;
  /**
   * Origins a browser may call from (CORS): '*' (default, as TEI) or a list of exact origins
   * (`https://app.example.com`).
   */
  corsAllowOrigin?: '*' | string[];
  /** Where unexpected errors (500) are reported; default nowhere (the client gets the message). */
  log?: (line: string) => void;
}

export type ResolvedServeOptions = Required<Omit<ServeOptions, 'maxBatchTokens' | 'log' | 'apiKey' | 'rerankerId'>> &
  Pick<ServeOptions, 'log' | 'apiKey' | 'rerankerId'> & { maxBatchTokens: number };

function positiveInteger(options: ServeOptions, key: keyof ServeOptions, fallback: number): number {
  const v = options[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new RangeError(`options.${key} must be a positive integer (got ${String(v)})`);
  return v;
}

/** Checks a CORS origin list: '*' or exact origins (scheme://host[:port], no path). */
function corsOrigins(v: unknown): '*' | string[] {
  if (v === undefined || v === '*') return '*';
  if (!Array.isArray(v) || v.length === 0) throw new TypeError("options.corsAllowOrigin must be '*' or a non-empty array of origins");
  if (v.includes('*')) return '*';
  for (const o of v) {
    if (typeof o !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/i.test(o)) {
      throw new TypeError(`options.corsAllowOrigin: ${JSON.stringify(o)} is not an origin (scheme://host[:port], e.g. https://app.example.com)`);
    }
  }
  return v.slice();
}

/** A model folder's name (the last part of its path). */
function folderName(dir: string): string | undefined {
  return dir.split(/[\\/]/).filter(Boolean).pop();
}

/**
 * Fills in defaults and checks every option; throws TypeError/RangeError naming the option.
 * `model` is the served model (the embedding model, else the reranker); `rerankerDir` the
 * reranker's folder when one is served beside an embedding model (it gets its own id).
 */
export function resolveServeOptions(options: ServeOptions, model: { maxSeqLength: number; dir: string; batchTokens: number; rerankerDir?: string }): ResolvedServeOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const maxInputLength = positiveInteger(options, 'maxInputLength', model.maxSeqLength);
  if (maxInputLength > model.maxSeqLength) {
    throw new RangeError(`options.maxInputLength (${maxInputLength}) cannot exceed the model's max_seq_length (${model.maxSeqLength})`);
  }
  if (options.autoTruncate !== undefined && typeof options.autoTruncate !== 'boolean') throw new TypeError('options.autoTruncate must be a boolean');
  if (options.log !== undefined && typeof options.log !== 'function') throw new TypeError('options.log must be a function');
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey.length === 0 || /[\s]/.test(options.apiKey))) {
    throw new TypeError('options.apiKey must be a non-empty string without whitespace');
  }
  const modelId = options.modelId ?? folderName(model.dir) ?? 'model';
  if (typeof modelId !== 'string' || modelId.length === 0) throw new TypeError('options.modelId must be a non-empty string');
  let rerankerId: string | undefined;
  if (model.rerankerDir !== undefined) {
    rerankerId = options.rerankerId ?? folderName(model.rerankerDir) ?? 'reranker';
    if (typeof rerankerId !== 'string' || rerankerId.length === 0) throw new TypeError('options.rerankerId must be a non-empty string');
    if (rerankerId === modelId) throw new RangeError(`options.rerankerId must differ from the embedding model's id (both are ${JSON.stringify(modelId)}): set modelId or rerankerId`);
  } else if (options.rerankerId !== undefined) {
    throw new TypeError('options.rerankerId names a reranker served beside an embedding model; served alone, the reranker is named by options.modelId');
  }
  return {
    maxBatchTokens: positiveInteger(options, 'maxBatchTokens', model.batchTokens),
    maxClientBatchSize: positiveInteger(options, 'maxClientBatchSize', 32),
    maxOpenAIBatchSize: positiveInteger(options, 'maxOpenAIBatchSize', 2048),
    maxInputLength,
    maxConcurrentRequests: positiveInteger(options, 'maxConcurrentRequests', 512),
    maxQueueTokens: positiveInteger(options, 'maxQueueTokens', 262144),
    autoTruncate: options.autoTruncate ?? false,
    payloadLimit: positiveInteger(options, 'payloadLimit', 16_000_000),
    retryAfterSeconds: positiveInteger(options, 'retryAfterSeconds', 1),
    drainTimeoutMs: positiveInteger(options, 'drainTimeoutMs', 30_000),
    modelId,
    rerankerId,
    apiKey: options.apiKey,
    corsAllowOrigin: corsOrigins(options.corsAllowOrigin),
    log: options.log,
  };
}
