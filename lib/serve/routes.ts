/**
 * The routes of an embedding model: TEI's (/embed, /embed_all, /embed_sparse, /similarity,
 * /tokenize, /decode, POST / and /invocations, /info, /health, GET /, /ping, /metrics, /docs,
 * /api-doc/openapi.json) and OpenAI's (/v1/embeddings and /embeddings, /v1/models and /models,
 * /v1/models/{id}), with the shapes of openapi.ts. Every route that encodes goes through
 * `server.encode` (tokenize once, limits, admission, parts, abort); the handlers here only
 * validate, choose the encode options, and write the answer. /rerank and /predict answer 424
 * (as TEI does for an embedding model) unless a cross-encoder is served (rerank-routes.ts
 * registers them with setRoute). A server of a cross-encoder alone answers the embedding routes
 * 424 (TEI's "Model is not an embedding model"), and /tokenize and /decode with its tokenizer.
 */
import * as fs from 'node:fs';
import { cosSim } from '../similarity';
import { wrongModelType, HttpError, tooLarge } from './errors';
import { docsPage, openApiDocument } from './openapi';
import type { EmbeddingServer, Reply, RequestContext, RouteSpec, ServeEncoder, ServeReranker } from './server';
import { tokensWithOffsets } from './token-offsets';
import {
  inputMethod,
  isSimilarityBody,
  parseDecodeRequest,
  parseEmbedAllRequest,
  parseEmbedRequest,
  parseOpenAIRequest,
  parseSimilarityRequest,
  parseTokenizeRequest,
  type ParseLimits,
} from './validate';
import { floatArrayJson, openAIEmbeddingsJson, rowsJson, tokenRowsJson } from './vectors';

/** TEI refuses longer texts on /tokenize (its MAX_CHAR_MULTIPLIER × max input length). */
const MAX_CHARS_PER_TOKEN = 250;

const field = (name: string) => (i: number) => `${name}[${i}]`;

/** The routes of `server`'s embedding model (refusals without one) and the routes every server has, as [path, route] pairs for setRoute. */
export function embeddingRoutes(server: EmbeddingServer): Array<[string, RouteSpec]> {
  return [...(server.encoder ? encodeRoutes(server, server.encoder) : refusedEncodeRoutes()), ...commonRoutes(server)];
}

/** A route the served model's type cannot answer (TEI: 424). */
const refuse = (message: string, openai = false): RouteSpec => ({
  method: 'POST',
  openai,
  handle: () => {
    throw wrongModelType(message);
  },
});

/** The embedding routes of a server without an embedding model (a cross-encoder alone): 424, as TEI answers them for a reranker. */
function refusedEncodeRoutes(): Array<[string, RouteSpec]> {
  const message = 'Model is not an embedding model: this server serves a cross-encoder (use /rerank or /predict)';
  return ['/embed', '/similarity', '/embed_all', '/embed_sparse', '/v1/embeddings', '/embeddings'].map((p) => [p, refuse(message, p.includes('embeddings'))]);
}

/** The routes that encode with the embedding model `enc`. */
function encodeRoutes(server: EmbeddingServer, enc: ServeEncoder): Array<[string, RouteSpec]> {
  const o = server.options;
  const tei: ParseLimits = { vocabSize: enc.model.config.vocabSize, maxInputs: o.maxClientBatchSize, dimension: enc.dimension };
  const openaiLimits: ParseLimits = { ...tei, maxInputs: o.maxOpenAIBatchSize };

  /** POST /embed (TEI) → `number[][]`. */
  const embed = async (ctx: RequestContext, body: unknown): Promise<Reply> => {
    ctx.method = inputMethod((body as { inputs?: unknown } | null)?.inputs);
    const r = parseEmbedRequest(body, tei);
    const data = await server.encode(ctx, {
      inputs: r.inputs,
      promptName: r.promptName,
      truncate: r.truncate,
      direction: r.truncationDirection,
      field: field('inputs'),
      normalize: r.normalize,
      truncateDim: r.dimensions,
    });
    return { status: 200, body: rowsJson(data, r.inputs.length, r.dimensions ?? enc.dimension) };
  };

  /** POST /similarity (TEI) → cosine of `source_sentence` with each of `sentences`, as `number[]`. */
  const similarity = async (ctx: RequestContext, body: unknown): Promise<Reply> => {
    ctx.method = 'batch';
    const r = parseSimilarityRequest(body, tei);
    const data = await server.encode(ctx, {
      inputs: [r.source, ...r.sentences],
      promptName: r.promptName,
      truncate: r.truncate,
      direction: r.truncationDirection,
      field: (i) => (i === 0 ? 'source_sentence' : `sentences[${i - 1}]`),
      normalize: true,
    });
    const dim = enc.dimension;
    const scores = await cosSim({ data: data.subarray(0, dim), count: 1, dim }, { data: data.subarray(dim), count: r.sentences.length, dim });
    return { status: 200, body: floatArrayJson(scores) };
  };

  /** POST /v1/embeddings (OpenAI) → `{ object: 'list', data, model, usage }`; normalized, as OpenAI's are. */
  const openaiEmbeddings: RouteSpec = {
    method: 'POST',
    encodes: true,
    openai: true,
    handle: async (ctx) => {
      const body = await ctx.json();
      ctx.method = inputMethod((body as { input?: unknown } | null)?.input);
      const r = parseOpenAIRequest(body, openaiLimits);
      const data = await server.encode(ctx, {
        inputs: r.inputs,
        promptName: undefined,
        truncate: undefined,
        direction: 'right',
        field: field('input'),
        normalize: true,
        truncateDim: r.dimensions,
      });
      return { status: 200, body: openAIEmbeddingsJson(data, r.inputs.length, r.dimensions ?? enc.dimension, r.encodingFormat === 'base64', o.modelId, ctx.timing.tokens) };
    },
  };

  /** POST / and /invocations: the Hugging Face Inference clients post embed and similarity bodies here. */
  const root: RouteSpec = {
    method: 'POST',
    encodes: true,
    handle: async (ctx) => {
      const body = await ctx.json();
      return isSimilarityBody(body) ? similarity(ctx, body) : embed(ctx, body);
    },
  };

  return [
    ['/embed', { method: 'POST', encodes: true, handle: async (ctx) => embed(ctx, await ctx.json()) }],
    ['/similarity', { method: 'POST', encodes: true, handle: async (ctx) => similarity(ctx, await ctx.json()) }],
    ['/', root],
    ['/invocations', root],
    [
      '/embed_all',
      {
        method: 'POST',
        encodes: true,
        handle: async (ctx) => {
          const body = await ctx.json();
          ctx.method = inputMethod((body as { inputs?: unknown } | null)?.inputs);
          const r = parseEmbedAllRequest(body, tei);
          const rows = await server.encode(ctx, {
            inputs: r.inputs,
            promptName: r.promptName,
            truncate: r.truncate,
            direction: r.truncationDirection,
            field: field('inputs'),
            normalize: false,
            tokens: true,
          });
          return { status: 200, body: tokenRowsJson(rows) };
        },
      },
    ],
    [
      '/embed_sparse',
      {
        method: 'POST',
        handle: async (ctx) => {
          parseEmbedAllRequest(await ctx.json(), tei);
          throw wrongModelType('Model is not an embedding model with SPLADE pooling: this server serves dense embeddings (use /embed)');
        },
      },
    ],
    ['/v1/embeddings', openaiEmbeddings],
    ['/embeddings', openaiEmbeddings],
  ];
}

/** An OpenAI model object for a served model. */
function modelObject(id: string, dir: string): string {
  let created = 0;
  try {
    created = Math.floor(fs.statSync(dir).mtimeMs / 1000);
  } catch {
    // a folder that is gone: 0, as for a model without a date
  }
  return JSON.stringify({ id, object: 'model', created, owned_by: 'sbert-native' });
}

/** The routes every server has: tokenize / decode, models, info, health, metrics, docs; /predict and /rerank refused until a cross-encoder registers them. */
function commonRoutes(server: EmbeddingServer): Array<[string, RouteSpec]> {
  const enc = server.encoder;
  const o = server.options;
  const tokenizer = (enc ?? server.reranker!).tokenizer;
  const lowerCase = enc?.model.doLowerCase ?? false;
  const maxInputs = { maxInputs: o.maxClientBatchSize };
  const maxInputLength = enc ? o.maxInputLength : server.reranker!.maxLength;
  // The served models by id (the embedding model first), for /v1/models.
  const served = new Map<string, string>();
  if (enc) served.set(o.modelId, modelObject(o.modelId, enc.model.dir));
  if (server.reranker) {
    const id = enc ? o.rerankerId! : o.modelId;
    served.set(id, modelObject(id, server.reranker.dir));
  }
  const names = [...served.keys()].map((k) => JSON.stringify(k)).join(' and ');
  const models: RouteSpec = { method: 'GET', openai: true, handle: () => ({ status: 200, body: `{"object":"list","data":[${[...served.values()].join(',')}]}` }) };
  const model: RouteSpec = {
    method: 'GET',
    openai: true,
    handle: (ctx) => {
      let id: string;
      try {
        id = decodeURIComponent(ctx.path.slice(ctx.path.indexOf('/models/') + '/models/'.length));
      } catch {
        id = ctx.path;
      }
      const found = served.get(id);
      if (found === undefined) {
        throw new HttpError(404, 'NotFound', `The model ${JSON.stringify(id)} does not exist: this server serves ${names}`, {}, { code: 'model_not_found', param: 'model' });
      }
      return { status: 200, body: found };
    },
  };

  const health: RouteSpec = { method: 'GET', public: true, handle: () => ({ status: 200, body: '{"status":"ok"}' }) };
  const document = openApiDocument(server.version);
  const documentJson = JSON.stringify(document);
  const docs = docsPage(document);

  return [
    ['/predict', refuse('Model is not a classifier model: this server serves a sentence embedding model (use /embed or /similarity; serve a cross-encoder with --reranker)')],
    ['/rerank', refuse('Model is not a reranker model: this server serves a sentence embedding model (use /similarity; serve a cross-encoder with --reranker)')],
    [
      '/tokenize',
      {
        method: 'POST',
        handle: async (ctx) => {
          const r = parseTokenizeRequest(await ctx.json(), maxInputs);
          const prompt = server.promptFor(r.promptName);
          const maxChars = maxInputLength * MAX_CHARS_PER_TOKEN;
          const tokens = r.texts.map((t, i) => {
            const text = prompt + t;
            if (text.length > maxChars) throw tooLarge(`\`inputs[${i}]\` must have less than ${maxChars} characters (given: ${text.length})`);
            return tokensWithOffsets(tokenizer, lowerCase ? text.toLowerCase() : text, r.addSpecialTokens, text);
          });
          return { status: 200, body: JSON.stringify(tokens) };
        },
      },
    ],
    [
      '/decode',
      {
        method: 'POST',
        handle: async (ctx) => {
          const r = parseDecodeRequest(await ctx.json(), maxInputs);
          return { status: 200, body: JSON.stringify(r.ids.map((ids) => tokenizer.decode(ids, { skipSpecialTokens: r.skipSpecialTokens }))) };
        },
      },
    ],
    ['/v1/models', models],
    ['/models', models],
    ['/v1/models/*', model],
    ['/models/*', model],
    ['/info', { method: 'GET', handle: () => ({ status: 200, body: JSON.stringify(info(server)) }) }],
    ['/health', health],
    ['/', health],
    ['/ping', health],
    [
      '/metrics',
      { method: 'GET', public: true, handle: () => ({ status: 200, body: server.metrics.registry.render(), contentType: 'text/plain; version=0.0.4; charset=utf-8' }) },
    ],
    ['/api-doc/openapi.json', { method: 'GET', public: true, handle: () => ({ status: 200, body: documentJson }) }],
    ['/docs', { method: 'GET', public: true, handle: () => ({ status: 200, body: docs, contentType: 'text/html; charset=utf-8' }) }],
  ];
}

// TEI's names; int8 (dynamic quantization: int8 weights and activations, fp32 elsewhere) has none there.
const DTYPES = { fp32: 'float32', fp16: 'float16', bf16: 'bfloat16', int8: 'int8' } as const;

/** A Hub model in the shared cache sits in snapshots/<commit>/: that commit is its sha. */
function modelSha(dir: string): string | null {
  return /[\\/]snapshots[\\/]([0-9a-f]{40})(?:[\\/]|$)/.exec(dir)?.[1] ?? null;
}

/**
 * TEI's model_type of a cross-encoder: `{ reranker: { id2label, label2id } }` for one label,
 * `{ classifier: … }` for several (TEI's rule; a classifier is served by /predict only).
 */
function crossEncoderType(reranker: ServeReranker): Record<string, { id2label: Record<string, string>; label2id: Record<string, number> }> {
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  reranker.labels.forEach((label, i) => {
    id2label[String(i)] = label;
    label2id[label] = i;
  });
  return { [reranker.numLabels === 1 ? 'reranker' : 'classifier']: { id2label, label2id } };
}

/**
 * GET /info: TEI's Info, plus the dimension, device, prompts and the limits specific to this
 * server. Of a cross-encoder served alone, TEI's Info for a reranker (model_type `reranker` or
 * `classifier`); served beside an embedding model, it is described under `reranker`.
 */
export function info(server: EmbeddingServer): Record<string, unknown> {
  const enc = server.encoder;
  const reranker = server.reranker;
  const o = server.options;
  const limits = {
    max_concurrent_requests: o.maxConcurrentRequests,
    max_input_length: enc ? o.maxInputLength : reranker!.maxLength,
    max_batch_tokens: o.maxBatchTokens,
    max_batch_requests: null,
    max_client_batch_size: o.maxClientBatchSize,
    auto_truncate: o.autoTruncate,
    // Requests are tokenized on the event loop: one worker.
    tokenization_workers: 1,
    version: server.version,
    sha: null,
    docker_label: null,
  };
  const own = { max_openai_batch_size: o.maxOpenAIBatchSize, max_queue_tokens: o.maxQueueTokens, payload_limit: o.payloadLimit };
  if (!enc) {
    const r = reranker!;
    return {
      model_id: o.modelId,
      model_sha: modelSha(r.dir),
      model_dtype: DTYPES[r.precision],
      served_model_name: o.modelId,
      model_type: crossEncoderType(r),
      ...limits,
      device: r.device,
      ...own,
    };
  }
  const pooling = enc.model.modules.find((m) => m.type === 'pooling');
  return {
    model_id: o.modelId,
    model_sha: modelSha(enc.model.dir),
    model_dtype: DTYPES[enc.precision],
    served_model_name: o.modelId,
    model_type: { embedding: { pooling: pooling && 'modes' in pooling ? pooling.modes.join('+') : 'unknown' } },
    ...limits,
    dimension: enc.dimension,
    device: enc.device,
    max_seq_length: enc.maxSeqLength,
    ...own,
    prompts: enc.model.prompts ?? {},
    default_prompt_name: enc.model.defaultPromptName ?? null,
    ...(reranker
      ? {
          reranker: {
            model_id: o.rerankerId,
            model_sha: modelSha(reranker.dir),
            model_dtype: DTYPES[reranker.precision],
            model_type: crossEncoderType(reranker),
            max_input_length: reranker.maxLength,
            device: reranker.device,
          },
        }
      : {}),
  };
}
