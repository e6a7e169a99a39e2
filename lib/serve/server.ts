/**
 * The embedding server: text-embeddings-inference's HTTP API and OpenAI's embeddings and
 * models API (routes.ts), on node:http. node:http rather than a framework: the routes are fixed
 * with JSON bodies, and what matters here — a byte limit enforced before parsing, exact control
 * of the error shapes and status codes, dropping a departed client's work, draining on
 * shutdown — is direct in node:http, where a framework would add a dependency and a layer to
 * work around.
 *
 * This file is the request pipeline every route goes through: CORS (cors.ts), the API key,
 * admission control (admission.ts), metrics (metrics.ts), TEI's timing headers, the error
 * shapes, and graceful shutdown (close()). Encoding goes through one path, `encode()`: the
 * request's inputs are tokenized once (inputs.ts) and handed to `encoder.encodeTokenIds` in
 * budget-sized parts, at most two at a time, each reserving its tokens in the admission
 * queue; the encoder's batcher merges parts of concurrent requests into shared native calls.
 * A client that disconnects aborts its request: parts not yet run never reach the engine.
 *
 * A cross-encoder (`createServer({ encoder?, reranker })`) adds TEI's /rerank and /predict
 * (rerank-routes.ts); its pairs go through `score()`: measured and checked once (pairs.ts), a
 * reservation in the same admission queue, then `reranker.predict`, whose batcher merges
 * concurrent requests' pairs into shared native calls and drops a departed client's pairs.
 * Served alone, the reranker answers TEI's routes as TEI does for a reranker (the embedding
 * routes 424).
 */
import { budgetBounds, slicePacked } from '../token-budget';
import { timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { CrossEncoder, CrossEncoderActivation } from '../cross-encoder';
import type { Embeddings } from '../embeddings';
import type { SentenceEncoder } from '../encoder';
import { SbertError } from '../errors';
import { Admission } from './admission';
import { ClientGone, readJson } from './body';
import { CorsPolicy } from './cors';
import { badRequest, HttpError, type ServeErrorType } from './errors';
import { prepareInputs, type PreparedInputs } from './inputs';
import { preparePairs } from './pairs';
import { rerankerRoutes } from './rerank-routes';
import { serverMetrics, type CounterSeries, type HistogramSeries, type ServerMetrics } from './metrics';
import { resolveServeOptions, type ResolvedServeOptions, type ServeOptions } from './options';
import { embeddingRoutes } from './routes';
import type { InputItem, TruncationDirection } from './validate';

/** The part of SentenceEncoder the server uses (its public API only). */
export type ServeEncoder = Pick<
  SentenceEncoder,
  'encodeTokenIds' | 'tokenizer' | 'maxSeqLength' | 'dimension' | 'hiddenSize' | 'device' | 'model' | 'batchTokens' | 'precision' | 'promptLength'
>;

/** The part of CrossEncoder the server uses (its public API only). */
export type ServeReranker = Pick<CrossEncoder, 'predict' | 'tokenizer' | 'maxLength' | 'numLabels' | 'labels' | 'device' | 'dir' | 'batchTokens' | 'precision'>;

/** The models one server serves: an embedding model, a cross-encoder, or both. */
export interface ServeModels {
  encoder?: ServeEncoder;
  /** A cross-encoder (CrossEncoder.load): /rerank with one label, /predict with any. */
  reranker?: ServeReranker;
}

/** A route's answer. */
export interface Reply {
  status: number;
  body: string | Buffer;
  /** Default application/json. */
  contentType?: string;
}

/** What a route handler is given about its request. */
export interface RequestContext {
  readonly req: http.IncomingMessage;
  /** The path without the query string. */
  readonly path: string;
  /** Fires when the client leaves before its answer, or the request fails: queued work is dropped. */
  readonly signal: AbortSignal;
  /** The body parsed as JSON (read once, within the payload limit): 400 / 413 otherwise. */
  json(): Promise<unknown>;
  /**
   * TEI's `te_request_*` method label: whether the request carried one input or a batch. Set by
   * the route once the body is JSON; a request without it is not counted there (as TEI counts
   * only requests that deserialized).
   */
  method: 'single' | 'batch' | undefined;
  /** Timing and counts for TEI's response headers (set by encode()). */
  readonly timing: RequestTiming;
  /** Aborts the request's work still queued (as when its client leaves). */
  abort(): void;
  /** Whether the client closed the connection before its answer. */
  readonly clientGone: boolean;
}

/** What TEI reports per request in its x-* headers. */
export interface RequestTiming {
  /** performance.now() when the request arrived. */
  arrived: number;
  /** Set once the request encoded something: the x-* headers are sent then. */
  encoded: boolean;
  tokenizationMs: number;
  queueMs: number;
  inferenceMs: number;
  tokens: number;
  chars: number;
}

/** One route: its method, whether it encodes, whether it needs the API key, and its handler. */
export interface RouteSpec {
  method: 'GET' | 'POST';
  /**
   * Inference routes take a request slot (429 past max concurrent requests), count in TEI's
   * te_request_* series, and are refused (503) once close() was called.
   */
  encodes?: boolean;
  /** Answered without the API key (TEI's public routes: health, metrics, docs). */
  public?: boolean;
  /** Errors in OpenAI's shape (the OpenAI routes). */
  openai?: boolean;
  handle(ctx: RequestContext): Promise<Reply> | Reply;
}

/** What to encode and how, for {@link EmbeddingServer.encode}. */
export interface EncodeRequest {
  inputs: readonly InputItem[];
  /** The model's prompt by name (undefined: the model's default prompt, if any). */
  promptName: string | undefined;
  /** undefined: the server's --auto-truncate. */
  truncate: boolean | undefined;
  direction: TruncationDirection;
  /** How errors name input i (e.g. `inputs[3]`). */
  field: (i: number) => string;
  normalize: boolean;
  truncateDim?: number;
  tokens?: boolean;
}

/** What to score and how, for {@link EmbeddingServer.score}. */
export interface ScoreRequest {
  pairs: ReadonlyArray<readonly [string, string]>;
  /** undefined: the server's --auto-truncate. */
  truncate: boolean | undefined;
  direction: TruncationDirection;
  /** How errors name pair i (e.g. `texts[3]`). */
  field: (i: number) => string;
  /** What the first text of a pair is called in errors ('the query'). */
  partner: string;
  /** The activation on the logits ('identity' for TEI's raw_scores). */
  activation: CrossEncoderActivation | 'default';
  /** Softmax over each pair's labels after the activation (models with several labels). */
  applySoftmax: boolean;
}

/** One request's state: what a route handler sees (RequestContext) plus the client leaving. */
class ServerRequest implements RequestContext {
  method: 'single' | 'batch' | undefined = undefined;
  readonly timing: RequestTiming;
  /** Made when a route first asks for the signal (most answers never need one). */
  private controller: AbortController | undefined;
  private body: Promise<unknown> | undefined;
  private gone = false;

  constructor(
    readonly req: http.IncomingMessage,
    readonly path: string,
    arrived: number,
    private readonly payloadLimit: number,
  ) {
    this.timing = { arrived, encoded: false, tokenizationMs: 0, queueMs: 0, inferenceMs: 0, tokens: 0, chars: 0 };
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.gone) this.controller.abort();
    return this.controller.signal;
  }

  json(): Promise<unknown> {
    return (this.body ??= readJson(this.req, this.payloadLimit));
  }

  abort(): void {
    (this.controller ??= new AbortController()).abort();
  }

  get clientGone(): boolean {
    return this.gone;
  }

  /** The client closed the connection before its answer: its queued work is dropped. */
  leave(): void {
    this.gone = true;
    this.controller?.abort();
  }
}

/** Status recorded for a request whose client left before the answer (nginx's convention). */
const CLIENT_CLOSED = 499;
/** Parts of one request in the encoder at once: one running, one waiting (see admission.ts). */
const PARTS_IN_FLIGHT = 2;

function packageVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** OpenAI's error `type` for a status. */
function openaiErrorType(status: number): string {
  return status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
}

/**
 * The error body: TEI's `{ error, error_type }`; on the OpenAI routes `error` is OpenAI's error
 * object (`{ message, type, param, code }`, what OpenAI's SDKs read) and `error_type` stays beside it.
 */
function errorBody(err: HttpError, openai: boolean): string {
  if (!openai) return JSON.stringify({ error: err.message, error_type: err.errorType });
  const error = { message: err.message, type: openaiErrorType(err.status), param: err.openai.param ?? null, code: err.openai.code ?? null };
  return JSON.stringify({ error, error_type: err.errorType });
}

/** TEI's te_request_failure cause for an error status. */
function failureCause(status: number, message: string): string {
  if (status === 429) return 'overloaded';
  if (status === 424) return 'model_type';
  if (status === CLIENT_CLOSED) return 'dropped';
  if (status >= 500) return 'inference';
  if (status === 413 && message.startsWith('batch size')) return 'batch_size';
  return 'validation';
}

function isEncoder(v: unknown): v is ServeEncoder {
  return v !== null && typeof v === 'object' && typeof (v as ServeEncoder).encodeTokenIds === 'function' && !!(v as ServeEncoder).tokenizer;
}

function isReranker(v: unknown): v is ServeReranker {
  const r = v as ServeReranker;
  return v !== null && typeof v === 'object' && typeof r.predict === 'function' && !!r.tokenizer && Number.isInteger(r.maxLength) && Number.isInteger(r.numLabels);
}

/** The models of createServer's first argument: a SentenceEncoder, or `{ encoder?, reranker? }` with at least one. */
function serveModels(models: ServeEncoder | ServeModels): { encoder: ServeEncoder | undefined; reranker: ServeReranker | undefined } {
  if (isEncoder(models)) return { encoder: models, reranker: undefined };
  const usage = 'createServer takes an encoder (SentenceEncoder.load), or { encoder?, reranker? } with a SentenceEncoder and/or a CrossEncoder (CrossEncoder.load)';
  if (models === null || typeof models !== 'object') throw new TypeError(usage);
  const { encoder, reranker } = models as ServeModels;
  if (encoder === undefined && reranker === undefined) throw new TypeError(usage);
  if (encoder !== undefined && !isEncoder(encoder)) throw new TypeError(`encoder must be a SentenceEncoder (from SentenceEncoder.load): ${usage}`);
  if (reranker !== undefined && !isReranker(reranker)) throw new TypeError(`reranker must be a CrossEncoder (from CrossEncoder.load): ${usage}`);
  return { encoder, reranker };
}

/** An HTTP embedding server over one encoder and/or one cross-encoder; create it with {@link createServer}. */
export class EmbeddingServer {
  /** The node:http server (listen with {@link EmbeddingServer.listen}). */
  readonly httpServer: http.Server;
  /** The options in force, defaults filled in. */
  readonly options: Readonly<ResolvedServeOptions>;
  /** Prometheus series (rendered by GET /metrics). */
  readonly metrics: ServerMetrics;
  /** The package version (/info, the OpenAPI document). */
  readonly version = packageVersion();

  private readonly admission: Admission;
  private readonly cors: CorsPolicy;
  private readonly apiKey: Buffer | undefined;
  /** Routes by path, then method. */
  private readonly routes = new Map<string, Map<string, RouteSpec>>();
  /** Routes matched by a path prefix (`/v1/models/{id}`), checked in order when no exact path matches. */
  private readonly prefixRoutes: Array<{ prefix: string; route: RouteSpec }> = [];
  private readonly requestSeries = new Map<string, CounterSeries>();
  private readonly durationSeries = new Map<string, HistogramSeries>();
  private readonly teSeries: {
    count: Record<'single' | 'batch', CounterSeries>;
    success: Record<'single' | 'batch', CounterSeries>;
    failure: Map<string, CounterSeries>;
    duration: HistogramSeries;
    tokenization: HistogramSeries;
    queue: HistogramSeries;
    inference: HistogramSeries;
    inputLength: HistogramSeries;
  };
  private readonly computeType: string;
  private handling = 0;
  private closing: Promise<void> | undefined;
  private onIdle: (() => void) | undefined;

  /** The embedding model (undefined when the server serves a cross-encoder alone). */
  readonly encoder: ServeEncoder | undefined;
  /** The cross-encoder behind /rerank and /predict, if any. */
  readonly reranker: ServeReranker | undefined;

  constructor(models: ServeEncoder | ServeModels, options: ServeOptions = {}) {
    const { encoder, reranker } = serveModels(models);
    this.encoder = encoder;
    this.reranker = reranker;
    if (options !== null && typeof options === 'object' && !encoder && options.maxInputLength !== undefined && options.maxInputLength !== reranker!.maxLength) {
      throw new RangeError(
        `options.maxInputLength (${options.maxInputLength}): a reranker's max input length is its maxLength (${reranker!.maxLength}); set it with CrossEncoder.load(dir, { maxLength })`,
      );
    }
    const primary = encoder
      ? { maxSeqLength: encoder.maxSeqLength, dir: encoder.model.dir, batchTokens: encoder.batchTokens }
      : { maxSeqLength: reranker!.maxLength, dir: reranker!.dir, batchTokens: reranker!.batchTokens };
    this.options = resolveServeOptions(options, { ...primary, rerankerDir: encoder && reranker ? reranker.dir : undefined });
    this.admission = new Admission(this.options.maxConcurrentRequests, this.options.maxQueueTokens);
    this.cors = new CorsPolicy(this.options.corsAllowOrigin);
    this.apiKey = this.options.apiKey === undefined ? undefined : Buffer.from(`Bearer ${this.options.apiKey}`);
    this.computeType = (encoder ?? reranker)!.device.startsWith('cuda') ? 'gpu' : 'cpu';
    this.metrics = serverMetrics({
      inFlight: () => this.handling,
      queuedRequests: () => this.admission.requests,
      queuedTokens: () => this.admission.queuedTokens,
      queuedInputs: () => this.admission.queuedInputs,
      maxInputLength: this.options.maxInputLength,
    });
    const te = this.metrics.te;
    this.teSeries = {
      count: { single: te.requestCount.series({ method: 'single' }), batch: te.requestCount.series({ method: 'batch' }) },
      success: { single: te.requestSuccess.series({ method: 'single' }), batch: te.requestSuccess.series({ method: 'batch' }) },
      failure: new Map(),
      duration: te.requestDuration.series(),
      tokenization: te.tokenizationDuration.series(),
      queue: te.queueDuration.series(),
      inference: te.inferenceDuration.series(),
      inputLength: te.inputLength.series(),
    };
    for (const [p, route] of embeddingRoutes(this)) this.setRoute(p, route);
    if (reranker) for (const [p, route] of rerankerRoutes(this, reranker)) this.setRoute(p, route);
    this.httpServer = http.createServer((req, res) => void this.dispatch(req, res));
  }

  /**
   * Adds or replaces the route `method path` (`path` ending in `/*` matches every path under
   * it). The cross-encoder's /rerank and /predict are registered here; until then they answer
   * 424 as TEI does for an embedding model.
   */
  setRoute(routePath: string, route: RouteSpec): void {
    // (rerankerRoutes registers the cross-encoder's routes here when a reranker is served.)
    if (routePath.endsWith('/*')) {
      const prefix = routePath.slice(0, -1);
      const i = this.prefixRoutes.findIndex((r) => r.prefix === prefix && r.route.method === route.method);
      if (i >= 0) this.prefixRoutes[i] = { prefix, route };
      else this.prefixRoutes.push({ prefix, route });
      return;
    }
    let byMethod = this.routes.get(routePath);
    if (!byMethod) this.routes.set(routePath, (byMethod = new Map()));
    byMethod.set(route.method, route);
  }

  /** Starts listening (default 127.0.0.1:8080; port 0 picks a free port); resolves to the address. */
  listen(port = 8080, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.httpServer.once('error', onError);
      this.httpServer.listen(port, host, () => {
        this.httpServer.off('error', onError);
        resolve(this.httpServer.address() as AddressInfo);
      });
    });
  }

  /** Whether close() has been called. */
  get shuttingDown(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Graceful shutdown: stops accepting connections, answers new requests on open connections
   * with 503, lets every in-flight request finish and answers it (with `Connection: close`),
   * then resolves. After `drainTimeoutMs` the remaining connections are cut. Idempotent. The
   * encoder is not disposed: it belongs to the caller.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      let serverClosed = false;
      const finish = () => {
        clearTimeout(timer);
        this.onIdle = undefined;
        resolve();
      };
      const maybeDone = () => {
        if (serverClosed && this.handling === 0) finish();
      };
      // Past the drain timeout, cut what is left and report done.
      const timer = setTimeout(() => {
        this.httpServer.closeAllConnections();
        finish();
      }, this.options.drainTimeoutMs);
      timer.unref();
      this.onIdle = maybeDone;
      this.httpServer.close(() => {
        serverClosed = true;
        maybeDone();
      });
      this.httpServer.closeIdleConnections();
    });
    return this.closing;
  }

  /** Reserves admission and queue, encodes `r.inputs` in parts, and returns the rows; see the file comment. */
  async encode(ctx: RequestContext, r: EncodeRequest & { tokens: true }): Promise<Embeddings[]>;
  async encode(ctx: RequestContext, r: EncodeRequest): Promise<Float32Array>;
  async encode(ctx: RequestContext, r: EncodeRequest): Promise<Float32Array | Embeddings[]> {
    const o = this.options;
    const t0 = performance.now();
    const prompt = this.promptFor(r.promptName);
    const p = prepareInputs(this.encoder!, r.inputs, { prompt, truncate: r.truncate ?? o.autoTruncate, direction: r.direction, maxInputLength: o.maxInputLength, field: r.field });
    const timing = ctx.timing;
    const t1 = performance.now();
    timing.tokenizationMs += t1 - t0;
    timing.tokens += p.tokens;
    timing.chars += p.chars;
    let ranTokens = 0;
    let rows: Array<Embeddings | Embeddings[]>;
    try {
      rows = await this.encodeParts(ctx, p, r, (info) => {
        timing.inferenceMs += info.runMs;
        ranTokens += info.tokens;
      });
    } catch (err) {
      if (ctx.clientGone) this.metrics.dropped.inc({}, p.tokens - ranTokens);
      throw err;
    }
    const encodeMs = performance.now() - t1;
    timing.queueMs += Math.max(0, encodeMs - timing.inferenceMs);
    timing.encoded = true;
    const m = this.metrics;
    m.encodeDuration.observe(encodeMs / 1000);
    m.requestTokens.observe(p.tokens);
    m.requestSentences.observe(p.count);
    m.tokens.inc({}, p.tokens);
    m.sentences.inc({}, p.count);
    m.tokensWindow.add(p.tokens);
    const lengths = this.teSeries.inputLength;
    for (let i = 0; i < p.count; i++) lengths.observe(p.cuSeqlens[i + 1] - p.cuSeqlens[i]);
    if (r.tokens) return (rows as Embeddings[][]).flat();
    if (rows.length === 1) return (rows[0] as Embeddings).data;
    const dim = (rows[0] as Embeddings).dim;
    const out = new Float32Array(p.count * dim);
    let at = 0;
    for (const e of rows as Embeddings[]) {
      out.set(e.data, at);
      at += e.data.length;
    }
    return out;
  }

  /** The parts of `p` (sequence ranges within the token budget), streamed through admission; rows per part. */
  private async encodeParts(ctx: RequestContext, p: PreparedInputs, r: EncodeRequest, onBatch: (info: { runMs: number; tokens: number }) => void) {
    const budget = this.options.maxBatchTokens;
    const cu = p.cuSeqlens;
    const bounds = budgetBounds(cu, p.count, budget);
    const parts = bounds.length - 1;
    if (parts === 0) return [];
    const first = cu[bounds[1]];
    if (!this.admission.reserve(first, bounds[1])) {
      throw this.overloaded('max_queue_tokens', `Model is overloaded: ${this.admission.queuedTokens} tokens are queued (limit ${this.options.maxQueueTokens})`);
    }
    const options = {
      normalize: r.normalize,
      truncateDim: r.truncateDim,
      outputValue: r.tokens ? ('token_embeddings' as const) : ('sentence_embedding' as const),
      promptTokens: p.promptTokens,
      batchTokens: budget,
      signal: ctx.signal,
      onBatch,
    };
    if (parts === 1) {
      // The common case: one part, no streaming.
      try {
        return [await this.encoder!.encodeTokenIds(p, options)];
      } finally {
        this.admission.release(first, p.count);
      }
    }
    const submit = (i: number): Promise<Embeddings | Embeddings[]> => {
      const s = bounds[i];
      const e = bounds[i + 1];
      const tokens = cu[e] - cu[s];
      if (i > 0) this.admission.reserve(tokens, e - s, true);
      const promise = this.encoder!.encodeTokenIds(slicePacked(p, s, e), options);
      const release = () => this.admission.release(tokens, e - s);
      promise.then(release, release);
      return promise;
    };
    const pending: Array<Promise<Embeddings | Embeddings[]>> = [];
    for (let i = 0; i < Math.min(PARTS_IN_FLIGHT, parts); i++) pending.push(submit(i));
    const rows: Array<Embeddings | Embeddings[]> = [];
    try {
      for (let i = 0; i < parts; i++) {
        rows.push(await pending[i]);
        if (i + PARTS_IN_FLIGHT < parts) pending.push(submit(i + PARTS_IN_FLIGHT));
      }
    } catch (err) {
      // Drop the parts still queued (the signal is the request's own; see dispatch).
      ctx.abort();
      for (const q of pending) q.catch(() => undefined);
      throw err;
    }
    return rows;
  }

  /**
   * Scores text pairs with the reranker: checks their lengths (pairs.ts: 413 naming an
   * over-length pair unless truncating), reserves their tokens in the admission queue (429 when
   * it is full), and runs `reranker.predict` with the request's signal, so a client that leaves
   * has its pairs still waiting for the engine dropped. Resolves to predict's scores: one per
   * pair for a model with one label, a row per pair otherwise.
   */
  async score(ctx: RequestContext, r: ScoreRequest): Promise<Float32Array | Float32Array[]> {
    const reranker = this.reranker!;
    const o = this.options;
    const t0 = performance.now();
    const p = preparePairs(reranker, r.pairs, { truncate: r.truncate ?? o.autoTruncate, direction: r.direction, field: r.field, partner: r.partner });
    const timing = ctx.timing;
    const t1 = performance.now();
    timing.tokenizationMs += t1 - t0;
    timing.tokens += p.tokens;
    timing.chars += p.chars;
    if (p.count === 0) return reranker.numLabels === 1 ? new Float32Array(0) : [];
    if (!this.admission.reserve(p.tokens, p.count)) {
      throw this.overloaded('max_queue_tokens', `Model is overloaded: ${this.admission.queuedTokens} tokens are queued (limit ${o.maxQueueTokens})`);
    }
    const m = this.metrics;
    m.te.predictCount.inc({}, p.count);
    let ranTokens = 0;
    let scores: Float32Array | Float32Array[];
    try {
      scores = await reranker.predict(r.pairs as Array<[string, string]>, {
        activation: r.activation,
        applySoftmax: r.applySoftmax,
        batchTokens: o.maxBatchTokens,
        truncationSide: r.direction,
        signal: ctx.signal,
        onBatch: (info) => {
          timing.inferenceMs += info.runMs;
          ranTokens += info.tokens;
        },
      });
    } catch (err) {
      if (ctx.clientGone) m.dropped.inc({}, p.tokens - ranTokens);
      throw err;
    } finally {
      this.admission.release(p.tokens, p.count);
    }
    timing.queueMs += Math.max(0, performance.now() - t1 - timing.inferenceMs);
    timing.encoded = true;
    m.te.predictSuccess.inc({}, p.count);
    m.tokens.inc({}, p.tokens);
    m.tokensWindow.add(p.tokens);
    const lengths = this.teSeries.inputLength;
    for (let i = 0; i < p.count; i++) lengths.observe(p.lengths[i]);
    return scores;
  }

  /**
   * The prompt text a request's `prompt_name` stands for: one of the model's prompts
   * (config_sentence_transformers.json), the model's `default_prompt_name` when the request
   * names none (as `encode` does), '' for no prompt. An unknown name → 400 listing the prompts.
   */
  promptFor(promptName: string | undefined): string {
    const { prompts = {}, defaultPromptName = undefined } = this.encoder?.model ?? {};
    const name = promptName ?? defaultPromptName;
    if (name === undefined) return '';
    if (!this.encoder) throw badRequest(`\`prompt_name\` ${JSON.stringify(name)}: the served model is a cross-encoder, which has no prompts`);
    if (!Object.prototype.hasOwnProperty.call(prompts, name)) {
      const known = Object.keys(prompts);
      throw badRequest(
        `\`prompt_name\` ${JSON.stringify(name)} is not one of the model's prompts (${
          known.length ? known.map((k) => JSON.stringify(k)).join(', ') : 'the model defines none in config_sentence_transformers.json'
        })`,
      );
    }
    return prompts[name];
  }

  /** A 429 (counted by limit), with Retry-After. */
  overloaded(limit: string, message: string): HttpError {
    this.metrics.rejected.inc({ limit });
    return new HttpError(429, 'Overloaded', message, { 'Retry-After': String(this.options.retryAfterSeconds) });
  }

  /** The route for a method and path: the route, or the methods the path takes (405), or nothing (404). */
  private findRoute(method: string, pathname: string): RouteSpec | string[] | undefined {
    const byMethod = this.routes.get(pathname);
    if (byMethod) return byMethod.get(method) ?? [...byMethod.keys()];
    const allowed: string[] = [];
    for (const r of this.prefixRoutes) {
      if (!pathname.startsWith(r.prefix) || pathname.length === r.prefix.length) continue;
      if (r.route.method === method) return r.route;
      allowed.push(r.route.method);
    }
    return allowed.length ? allowed : undefined;
  }

  /** Whether the request carries the API key (constant-time comparison). */
  private authorized(req: http.IncomingMessage): boolean {
    const key = this.apiKey!;
    const given = req.headers.authorization;
    if (typeof given !== 'string') return false;
    const bytes = Buffer.from(given);
    return bytes.length === key.length && timingSafeEqual(bytes, key);
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrived = performance.now();
    this.handling++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const cors = this.cors.headers(req);
    const found = this.findRoute(method, pathname);
    const route = Array.isArray(found) ? undefined : found;
    const routeLabel = found === undefined ? 'unknown' : this.routeLabel(pathname);
    const openai = route ? route.openai === true : pathname.startsWith('/v1/');
    const ctx = new ServerRequest(req, pathname, arrived, this.options.payloadLimit);
    res.once('close', () => {
      if (!res.writableFinished) ctx.leave();
    });
    let slot = false;
    let status: number;
    let failure = '';
    try {
      if (method === 'OPTIONS' && CorsPolicy.isPreflight(req) && found !== undefined) {
        status = this.writeHead(res, 204, this.cors.preflightHeaders(req), '');
      } else {
        if (found === undefined) throw new HttpError(404, 'NotFound', `no such route: ${method} ${pathname}`);
        if (!route) {
          const allow = (found as string[]).join(', ');
          throw new HttpError(405, 'Validation', `${pathname} takes ${allow}, not ${method}`, { Allow: allow });
        }
        if (this.apiKey && !route.public && !this.authorized(req)) {
          throw new HttpError(
            401,
            'Unauthorized',
            req.headers.authorization === undefined ? 'this server needs an API key: send Authorization: Bearer <key>' : 'the API key is not valid',
            { 'WWW-Authenticate': 'Bearer' },
            { code: 'invalid_api_key' },
          );
        }
        if (route.encodes) {
          if (this.closing) throw new HttpError(503, 'Unhealthy', 'the server is shutting down');
          slot = this.admission.enterRequest();
          if (!slot) throw this.overloaded('max_concurrent_requests', `Model is overloaded: ${this.options.maxConcurrentRequests} requests are being served already`);
        }
        const reply = await route.handle(ctx);
        status = this.send(res, reply, cors, ctx.timing);
        if (route.encodes && ctx.method && !ctx.clientGone) this.teSeries.success[ctx.method].inc();
      }
    } catch (err) {
      status = this.sendError(res, err, openai, cors);
      if (route?.encodes && ctx.method) failure = failureCause(ctx.clientGone ? CLIENT_CLOSED : status, err instanceof Error ? err.message : '');
    } finally {
      if (slot) this.admission.leaveRequest();
    }
    const gone = ctx.clientGone;
    if (gone) {
      status = CLIENT_CLOSED;
      if (route?.encodes && ctx.method && !failure) failure = 'dropped';
    }
    if (route?.encodes && ctx.method) this.teSeries.count[ctx.method].inc();
    if (failure) {
      let s = this.teSeries.failure.get(failure);
      if (!s) this.teSeries.failure.set(failure, (s = this.metrics.te.requestFailure.series({ err: failure })));
      s.inc();
    }
    const seconds = (performance.now() - arrived) / 1000;
    this.series(routeLabel, status).inc();
    let d = this.durationSeries.get(routeLabel);
    if (!d) this.durationSeries.set(routeLabel, (d = this.metrics.requestDuration.series({ route: routeLabel })));
    d.observe(seconds);
    if (route?.encodes && ctx.timing.encoded && !failure) {
      const t = ctx.timing;
      const te = this.teSeries;
      te.duration.observe(seconds);
      te.tokenization.observe(t.tokenizationMs / 1000);
      te.queue.observe(t.queueMs / 1000);
      te.inference.observe(t.inferenceMs / 1000);
    }
    this.handling--;
    if (this.handling === 0) this.onIdle?.();
  }

  /** The metrics label of a path: the route's own path (`/v1/models/*` for a model id), so labels stay few. */
  private routeLabel(pathname: string): string {
    if (this.routes.has(pathname)) return pathname;
    for (const r of this.prefixRoutes) if (pathname.startsWith(r.prefix)) return r.prefix + '*';
    return 'unknown';
  }

  private series(route: string, status: number): CounterSeries {
    const key = `${route} ${status}`;
    let s = this.requestSeries.get(key);
    if (!s) this.requestSeries.set(key, (s = this.metrics.requests.series({ route, status: String(status) })));
    return s;
  }

  private writeHead(res: http.ServerResponse, status: number, headers: Record<string, string | number>, body: string | Buffer): number {
    if (res.headersSent || res.destroyed) return status;
    headers['Content-Length'] = Buffer.byteLength(body);
    if (this.closing) headers.Connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
    return status;
  }

  /** Writes a reply (with CORS and, for encode routes, TEI's timing headers) unless the client is gone. */
  private send(res: http.ServerResponse, reply: Reply, cors: Record<string, string> | undefined, timing: RequestTiming): number {
    if (res.destroyed) return reply.status;
    const headers: Record<string, string | number> = { 'Content-Type': reply.contentType ?? 'application/json' };
    if (cors) Object.assign(headers, cors);
    if (timing.encoded) {
      const total = String(Math.round(performance.now() - timing.arrived));
      headers['x-compute-type'] = this.computeType;
      headers['x-compute-time'] = total;
      headers['x-compute-characters'] = timing.chars;
      headers['x-compute-tokens'] = timing.tokens;
      headers['x-total-time'] = total;
      headers['x-tokenization-time'] = Math.round(timing.tokenizationMs);
      headers['x-queue-time'] = Math.round(timing.queueMs);
      headers['x-inference-time'] = Math.round(timing.inferenceMs);
    }
    return this.writeHead(res, reply.status, headers, reply.body);
  }

  private sendError(res: http.ServerResponse, err: unknown, openai: boolean, cors: Record<string, string> | undefined): number {
    if (err instanceof ClientGone) return CLIENT_CLOSED;
    let httpError: HttpError;
    if (err instanceof HttpError) {
      httpError = err;
    } else if (err instanceof Error && err.name === 'AbortError') {
      return CLIENT_CLOSED; // the client left; nobody to answer
    } else if (err instanceof SbertError && err.code === 'ERR_DISPOSED') {
      httpError = new HttpError(503, 'Unhealthy', 'the encoder has been disposed');
    } else if (err instanceof SbertError && err.code === 'ERR_UNSUPPORTED_TOKENIZER') {
      httpError = new HttpError(422, 'Tokenizer', err.message);
    } else {
      const message = err instanceof Error ? err.message : String(err);
      this.options.log?.(`sbert serve: 500: ${err instanceof Error ? err.stack : message}`);
      httpError = new HttpError(500, 'Backend', message);
    }
    return this.writeHead(
      res,
      httpError.status,
      { 'Content-Type': 'application/json', ...cors, ...httpError.headers },
      errorBody(httpError, openai),
    );
  }
}

/** The error types a client can see, for documentation and tests. */
export type { ServeErrorType };

/**
 * An HTTP server (not yet listening) that serves `encoder` with TEI- and OpenAI-compatible
 * endpoints, or `{ encoder?, reranker? }`: a cross-encoder adds TEI's /rerank and /predict (see
 * the README's "Server" section). `await server.listen(port, host)` starts it,
 * `await server.close()` drains and stops it.
 */
export function createServer(models: ServeEncoder | ServeModels, options: ServeOptions = {}): EmbeddingServer {
  return new EmbeddingServer(models, options);
}
