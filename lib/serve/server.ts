/**
 * The embedding server: TEI's `/embed`, `/similarity`, `/health`, `/info`, `/metrics` and
 * OpenAI's `/v1/embeddings`, on node:http. node:http rather than a framework: the server has
 * six fixed routes and JSON bodies, and what matters here — a byte limit enforced before
 * parsing, exact control of the error shapes and status codes, draining on shutdown — is direct
 * in node:http, where a framework would add a dependency and a layer to work around.
 *
 * Dynamic batching is the encoder's own: every request's inputs go to `encoder.encode`, whose
 * batcher (lib/batcher.ts) merges the calls waiting while the engine is busy into shared
 * token-budget native calls. This file adds what a server needs on top: validation and limits
 * (nothing invalid reaches the encoder, so a bad request never fails or delays a good one),
 * admission control (admission.ts), exact serialization (vectors.ts), metrics (metrics.ts) and
 * graceful shutdown (close()).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { SentenceEncoder } from '../encoder';
import { SbertError } from '../errors';
import { cosSim } from '../similarity';
import { Admission } from './admission';
import { ClientGone, readJson } from './body';
import { badRequest, HttpError, tooLarge } from './errors';
import { serverMetrics, type ServerMetrics } from './metrics';
import { resolveServeOptions, type ResolvedServeOptions, type ServeOptions } from './options';
import { parseEmbedRequest, parseOpenAIRequest, parseSimilarityRequest } from './validate';
import { floatArrayBase64, floatArrayJson, rowsJson, shortenRows } from './vectors';

/** The part of SentenceEncoder the server uses (its public API only). */
export type ServeEncoder = Pick<SentenceEncoder, 'encode' | 'tokenizer' | 'maxSeqLength' | 'dimension' | 'device' | 'model'>;

interface Reply {
  status: number;
  body: string | Buffer;
  contentType?: string;
}

interface Route {
  method: 'GET' | 'POST';
  /** Encode routes take a request slot (max concurrent requests) and are refused while closing. */
  encodes: boolean;
  handle: (req: http.IncomingMessage, gone: () => boolean) => Promise<Reply> | Reply;
}

/** Status recorded for a request whose client left before the answer (nginx's convention). */
const CLIENT_CLOSED = 499;

function packageVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/**
 * The error body: TEI's `{ error, error_type }`; under /v1/ `error` is OpenAI's error object
 * (`{ message, type, param, code }`, what OpenAI's SDKs read) and `error_type` stays beside it.
 */
function errorBody(err: HttpError, openai: boolean): string {
  if (!openai) return JSON.stringify({ error: err.message, error_type: err.errorType });
  const type = err.status === 429 ? 'rate_limit_error' : err.status >= 500 ? 'server_error' : 'invalid_request_error';
  return JSON.stringify({ error: { message: err.message, type, param: null, code: null }, error_type: err.errorType });
}

/** An HTTP embedding server over one encoder; create it with {@link createServer}. */
export class EmbeddingServer {
  /** The node:http server (listen with {@link EmbeddingServer.listen}). */
  readonly httpServer: http.Server;
  /** The options in force, defaults filled in. */
  readonly options: Readonly<ResolvedServeOptions>;
  /** Prometheus series (rendered by GET /metrics). */
  readonly metrics: ServerMetrics;

  private readonly admission: Admission;
  private readonly routes: Map<string, Route>;
  private readonly version = packageVersion();
  private handling = 0;
  private closing: Promise<void> | undefined;
  private onIdle: (() => void) | undefined;

  constructor(
    private readonly encoder: ServeEncoder,
    options: ServeOptions = {},
  ) {
    if (!encoder || typeof encoder.encode !== 'function' || !encoder.tokenizer) {
      throw new TypeError('encoder must be a SentenceEncoder (from SentenceEncoder.load)');
    }
    this.options = resolveServeOptions(options, { maxSeqLength: encoder.maxSeqLength, dir: encoder.model.dir });
    this.admission = new Admission(this.options.maxConcurrentRequests, this.options.maxQueueTokens);
    this.metrics = serverMetrics({
      inFlight: () => this.handling,
      queuedRequests: () => this.admission.requests,
      queuedTokens: () => this.admission.queuedTokens,
    });
    this.routes = new Map<string, Route>([
      ['/embed', { method: 'POST', encodes: true, handle: (req, gone) => this.embed(req, gone) }],
      ['/v1/embeddings', { method: 'POST', encodes: true, handle: (req, gone) => this.openaiEmbeddings(req, gone) }],
      ['/similarity', { method: 'POST', encodes: true, handle: (req) => this.similarity(req) }],
      ['/health', { method: 'GET', encodes: false, handle: () => ({ status: 200, body: '{"status":"ok"}' }) }],
      ['/info', { method: 'GET', encodes: false, handle: () => ({ status: 200, body: JSON.stringify(this.info()) }) }],
      [
        '/metrics',
        { method: 'GET', encodes: false, handle: () => ({ status: 200, body: this.metrics.registry.render(), contentType: 'text/plain; version=0.0.4; charset=utf-8' }) },
      ],
    ]);
    this.httpServer = http.createServer((req, res) => void this.dispatch(req, res));
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

  /** GET /info: TEI's fields, plus the dimension, device and the limits specific to this server. */
  info(): Record<string, unknown> {
    const pooling = this.encoder.model.modules.find((m) => m.type === 'pooling');
    const o = this.options;
    return {
      model_id: o.modelId,
      model_sha: null,
      model_type: { embedding: { pooling: pooling && 'modes' in pooling ? pooling.modes.join('+') : null } },
      dimension: this.encoder.dimension,
      device: this.encoder.device,
      max_concurrent_requests: o.maxConcurrentRequests,
      max_input_length: o.maxInputLength,
      max_seq_length: this.encoder.maxSeqLength,
      max_batch_tokens: o.maxBatchTokens ?? null,
      max_batch_requests: null,
      max_client_batch_size: o.maxClientBatchSize,
      max_queue_tokens: o.maxQueueTokens,
      auto_truncate: o.autoTruncate,
      payload_limit: o.payloadLimit,
      version: this.version,
    };
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    this.handling++;
    const pathname = (req.url ?? '/').split('?', 1)[0];
    const route = this.routes.get(pathname);
    const routeLabel = route ? pathname : 'unknown';
    let gone = false;
    res.once('close', () => {
      if (!res.writableFinished) gone = true;
    });
    let slot = false;
    let status: number;
    try {
      if (!route) throw new HttpError(404, 'NotFound', `no such route: ${req.method} ${pathname}`);
      if (req.method !== route.method) {
        throw new HttpError(405, 'Validation', `${pathname} takes ${route.method}, not ${req.method}`, { Allow: route.method });
      }
      if (route.encodes) {
        if (this.closing) throw new HttpError(503, 'Unhealthy', 'the server is shutting down');
        slot = this.admission.enterRequest();
        if (!slot) throw this.overloaded('max_concurrent_requests', `Model is overloaded: ${this.options.maxConcurrentRequests} requests are being served already`);
      }
      const reply = await route.handle(req, () => gone);
      status = this.send(res, reply.status, reply.body, reply.contentType);
    } catch (err) {
      status = this.sendError(res, err, pathname.startsWith('/v1/'));
    } finally {
      if (slot) this.admission.leaveRequest();
    }
    if (gone) status = CLIENT_CLOSED;
    this.metrics.requests.inc({ route: routeLabel, status: String(status) });
    this.metrics.requestDuration.observe(Number(process.hrtime.bigint() - started) / 1e9, { route: routeLabel });
    this.handling--;
    if (this.handling === 0) this.onIdle?.();
  }

  private overloaded(limit: string, message: string): HttpError {
    this.metrics.rejected.inc({ limit });
    return new HttpError(429, 'Overloaded', message, { 'Retry-After': String(this.options.retryAfterSeconds) });
  }

  /** Writes a reply unless the client is gone; returns the status for the metrics. */
  private send(res: http.ServerResponse, status: number, body: string | Buffer, contentType = 'application/json', extra: Record<string, string> = {}): number {
    if (res.headersSent || res.destroyed) return status;
    const headers: Record<string, string | number> = { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...extra };
    if (this.closing) headers.Connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
    return status;
  }

  private sendError(res: http.ServerResponse, err: unknown, openai: boolean): number {
    if (err instanceof ClientGone) return CLIENT_CLOSED;
    let httpError: HttpError;
    if (err instanceof HttpError) {
      httpError = err;
    } else if (err instanceof SbertError && err.code === 'ERR_DISPOSED') {
      httpError = new HttpError(503, 'Unhealthy', 'the encoder has been disposed');
    } else {
      const message = err instanceof Error ? err.message : String(err);
      this.options.log?.(`sbert serve: 500: ${err instanceof Error ? err.stack : message}`);
      httpError = new HttpError(500, 'Backend', message);
    }
    return this.send(res, httpError.status, errorBody(httpError, openai), 'application/json', httpError.headers);
  }

  /**
   * The prompt text a request's `prompt_name` stands for: one of the model's prompts
   * (config_sentence_transformers.json), the model's `default_prompt_name` when the request
   * names none (as `encode` does), '' for no prompt. An unknown name → 400 listing the prompts.
   */
  private promptFor(promptName: string | undefined): string {
    const { prompts = {}, defaultPromptName } = this.encoder.model;
    const name = promptName ?? defaultPromptName;
    if (name === undefined) return '';
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

  /**
   * Validates `texts` against the limits, encodes them with `promptName`'s prompt (sharing
   * native batches with concurrent requests) and returns the rows and the token count (prompt
   * tokens included). `field` names the inputs in errors.
   */
  private async encodeTexts(
    texts: string[],
    truncate: boolean | undefined,
    normalize: boolean,
    field: (i: number) => string,
    promptName?: string,
  ): Promise<{ data: Float32Array; tokens: number }> {
    const o = this.options;
    if (texts.length > o.maxClientBatchSize) {
      throw tooLarge(`batch size ${texts.length} > maximum allowed batch size ${o.maxClientBatchSize}`);
    }
    const prompt = this.promptFor(promptName);
    const tokens = this.countTokens(texts, prompt, truncate ?? o.autoTruncate, field);
    if (!this.admission.reserveTokens(tokens)) {
      throw this.overloaded('max_queue_tokens', `Model is overloaded: ${this.admission.queuedTokens} tokens are queued (limit ${o.maxQueueTokens})`);
    }
    const started = process.hrtime.bigint();
    try {
      // The resolved prompt text (possibly ''), so what runs is exactly what was counted.
      const emb = await this.encoder.encode(texts, { normalize, prompt, ...(o.maxBatchTokens ? { batchTokens: o.maxBatchTokens } : {}) });
      const m = this.metrics;
      m.encodeDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      m.requestTokens.observe(tokens);
      m.requestSentences.observe(texts.length);
      m.tokens.inc({}, tokens);
      m.sentences.inc({}, texts.length);
      m.tokensWindow.add(tokens);
      return { data: emb.data, tokens };
    } finally {
      this.admission.releaseTokens(tokens);
    }
  }

  /**
   * Tokens the encoder will run for `prompt` + each text (after truncation), tokenized as the
   * encoder tokenizes them; an input over the limit without truncation → 413 naming its index
   * (TEI); the prompt's tokens count towards the limit. Tokenization stops one token past the
   * model's limit, so a huge input costs little here.
   */
  private countTokens(texts: string[], prompt: string, truncate: boolean, field: (i: number) => string): number {
    const enc = this.encoder;
    const limit = this.options.maxInputLength;
    const prompted = prompt ? texts.map((t) => prompt + t) : texts;
    const list = enc.model.doLowerCase ? prompted.map((t) => t.toLowerCase()) : prompted;
    const { cuSeqlens } = enc.tokenizer.encodeBatch(list, { maxLength: enc.maxSeqLength + 1 });
    let total = 0;
    for (let i = 0; i < texts.length; i++) {
      const length = cuSeqlens[i + 1] - cuSeqlens[i];
      if (length > limit) {
        if (!truncate || limit < enc.maxSeqLength) {
          const hint = truncate
            ? `; truncation cuts at the model's max_seq_length (${enc.maxSeqLength}), above this server's max input length`
            : '; set `truncate: true` to truncate it';
          const withPrompt = prompt ? ` with its prompt (${JSON.stringify(prompt)})` : '';
          throw tooLarge(`Input validation error: \`${field(i)}\`${withPrompt} has more than ${limit} tokens, the maximum input length${hint}`);
        }
        total += enc.maxSeqLength;
      } else {
        total += length;
      }
    }
    return total;
  }

  /** POST /embed (TEI) → `number[][]`. */
  private async embed(req: http.IncomingMessage, gone: () => boolean): Promise<Reply> {
    const r = parseEmbedRequest(await readJson(req, this.options.payloadLimit));
    const { data } = await this.encodeTexts(r.texts, r.truncate, r.normalize, (i) => `inputs[${i}]`, r.promptName);
    if (gone()) return { status: 200, body: '' };
    return { status: 200, body: rowsJson(data, r.texts.length, this.encoder.dimension) };
  }

  /** POST /v1/embeddings (OpenAI) → `{ object: 'list', data, model, usage }`; always normalized, as OpenAI's are. */
  private async openaiEmbeddings(req: http.IncomingMessage, gone: () => boolean): Promise<Reply> {
    const dim = this.encoder.dimension;
    const r = parseOpenAIRequest(await readJson(req, this.options.payloadLimit), dim);
    const { data: full, tokens } = await this.encodeTexts(r.texts, undefined, true, (i) => `input[${i}]`);
    if (gone()) return { status: 200, body: '' };
    const dims = r.dimensions ?? dim;
    const data = dims < dim ? shortenRows(full, r.texts.length, dim, dims) : full;
    const items = new Array<string>(r.texts.length);
    for (let i = 0; i < items.length; i++) {
      const embedding = r.encodingFormat === 'base64' ? `"${floatArrayBase64(data, i * dims, dims)}"` : floatArrayJson(data, i * dims, dims);
      items[i] = `{"object":"embedding","index":${i},"embedding":${embedding}}`;
    }
    const usage = `{"prompt_tokens":${tokens},"total_tokens":${tokens}}`;
    return { status: 200, body: `{"object":"list","data":[${items.join(',')}],"model":${JSON.stringify(this.options.modelId)},"usage":${usage}}` };
  }

  /** POST /similarity (TEI) → cosine of `source_sentence` with each of `sentences`, as `number[]`. */
  private async similarity(req: http.IncomingMessage): Promise<Reply> {
    const r = parseSimilarityRequest(await readJson(req, this.options.payloadLimit));
    const texts = [r.source, ...r.sentences];
    const field = (i: number) => (i === 0 ? 'source_sentence' : `sentences[${i - 1}]`);
    const { data } = await this.encodeTexts(texts, r.truncate, true, field, r.promptName);
    const dim = this.encoder.dimension;
    const scores = await cosSim({ data: data.subarray(0, dim), count: 1, dim }, { data: data.subarray(dim), count: r.sentences.length, dim });
    return { status: 200, body: floatArrayJson(scores) };
  }
}

/**
 * An HTTP server (not yet listening) that serves `encoder` with TEI- and OpenAI-compatible
 * endpoints; see the README's "Server" section. `await server.listen(port, host)` starts it,
 * `await server.close()` drains and stops it.
 */
export function createServer(encoder: ServeEncoder, options: ServeOptions = {}): EmbeddingServer {
  return new EmbeddingServer(encoder, options);
}
