/**
 * The server's OpenAPI 3.1 document (served at /api-doc/openapi.json, rendered at /docs): every
 * route, request and response body, and error shape. The shapes are text-embeddings-inference's
 * (its router/src/http/types.rs and docs/openapi.json) and OpenAI's embeddings and models API
 * where they share a route; what this server adds or answers differently is said in the
 * descriptions. One document for every server: the routes a served model's type cannot answer
 * (the embedding routes of a cross-encoder served alone, /rerank and /predict without one)
 * answer 424, as TEI does. test/serve-openapi.test.js checks every route's answers against it, so it
 * cannot drift from what the server does.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema, description: string) => ({ description, content: { 'application/json': { schema } } });
const integer = (minimum = 0): Schema => ({ type: 'integer', minimum });
const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });

/** Schemas shared by the paths (TEI's component names where TEI has the component). */
const SCHEMAS: Record<string, Schema> = {
  ErrorType: {
    type: 'string',
    enum: ['Unhealthy', 'Backend', 'Overloaded', 'Validation', 'Tokenizer', 'Empty', 'NotFound', 'Unauthorized'],
    description: "TEI's error kinds, plus NotFound (no such route or model) and Unauthorized (API key missing or wrong).",
  },
  ErrorResponse: {
    type: 'object',
    required: ['error', 'error_type'],
    properties: { error: { type: 'string' }, error_type: ref('ErrorType') },
    example: { error: 'Model is overloaded', error_type: 'Overloaded' },
  },
  OpenAIErrorResponse: {
    type: 'object',
    required: ['error', 'error_type'],
    description: "OpenAI's error object (what OpenAI's SDKs read), with TEI's error_type beside it.",
    properties: {
      error: {
        type: 'object',
        required: ['message', 'type', 'param', 'code'],
        properties: {
          message: { type: 'string' },
          type: { type: 'string', enum: ['invalid_request_error', 'rate_limit_error', 'server_error'] },
          param: nullable({ type: 'string' }),
          code: nullable({ type: 'string' }),
        },
      },
      error_type: ref('ErrorType'),
    },
  },
  TokenIds: { type: 'array', items: integer(), minItems: 1, description: 'Token ids as the model takes them (special tokens included; no prompt is added unless prompt_name is given).' },
  InputType: { anyOf: [{ type: 'string' }, ref('TokenIds')] },
  Input: {
    anyOf: [ref('InputType'), { type: 'array', items: ref('InputType'), minItems: 1 }],
    description: 'One input (a string or token ids) or a batch of them.',
    example: 'What is Deep Learning?',
  },
  TruncationDirection: { type: 'string', enum: ['Left', 'Right', 'left', 'right'], default: 'Right' },
  EmbedRequest: {
    type: 'object',
    required: ['inputs'],
    properties: {
      inputs: ref('Input'),
      normalize: { type: 'boolean', default: true },
      truncate: nullable({ type: 'boolean' }),
      truncation_direction: ref('TruncationDirection'),
      prompt_name: nullable({ type: 'string' }),
      dimensions: nullable(integer(1)),
    },
  },
  EmbedResponse: { type: 'array', items: { type: 'array', items: { type: 'number' } }, example: [[0.0, 1.0, 2.0]] },
  EmbedAllRequest: {
    type: 'object',
    required: ['inputs'],
    properties: { inputs: ref('Input'), truncate: nullable({ type: 'boolean' }), truncation_direction: ref('TruncationDirection'), prompt_name: nullable({ type: 'string' }) },
  },
  EmbedAllResponse: { type: 'array', items: { type: 'array', items: { type: 'array', items: { type: 'number' } } }, example: [[[0.0, 1.0, 2.0]]] },
  EmbedSparseRequest: { $ref: '#/components/schemas/EmbedAllRequest' },
  SimilarityRequest: {
    type: 'object',
    properties: {
      inputs: {
        type: 'object',
        required: ['source_sentence', 'sentences'],
        properties: { source_sentence: { type: 'string' }, sentences: { type: 'array', items: { type: 'string' }, minItems: 1 } },
      },
      parameters: nullable({
        type: 'object',
        properties: { truncate: nullable({ type: 'boolean' }), truncation_direction: ref('TruncationDirection'), prompt_name: nullable({ type: 'string' }) },
      }),
    },
    description: 'TEI\'s shape; the flat form `{ source_sentence, sentences, truncate?, prompt_name? }` is taken too.',
  },
  SimilarityResponse: { type: 'array', items: { type: 'number' }, example: [0.0, 1.0, 0.5] },
  TokenizeRequest: {
    type: 'object',
    required: ['inputs'],
    properties: {
      inputs: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] },
      add_special_tokens: { type: 'boolean', default: true },
      prompt_name: nullable({ type: 'string' }),
    },
  },
  SimpleToken: {
    type: 'object',
    required: ['id', 'text', 'special', 'start', 'stop'],
    properties: { id: integer(), text: { type: 'string' }, special: { type: 'boolean' }, start: nullable(integer()), stop: nullable(integer()) },
    description: 'start / stop: UTF-8 byte offsets into the input (with its prompt); null for special tokens.',
  },
  TokenizeResponse: { type: 'array', items: { type: 'array', items: ref('SimpleToken') } },
  DecodeRequest: {
    type: 'object',
    required: ['ids'],
    properties: {
      ids: { anyOf: [{ type: 'array', items: integer() }, { type: 'array', items: { type: 'array', items: integer() }, minItems: 1 }] },
      skip_special_tokens: { type: 'boolean', default: true },
    },
  },
  DecodeResponse: { type: 'array', items: { type: 'string' } },
  OpenAICompatRequest: {
    type: 'object',
    required: ['input'],
    properties: {
      input: ref('Input'),
      model: nullable({ type: 'string' }),
      user: nullable({ type: 'string' }),
      encoding_format: { type: 'string', enum: ['float', 'base64'], default: 'float' },
      dimensions: nullable(integer(1)),
    },
  },
  OpenAICompatResponse: {
    type: 'object',
    required: ['object', 'data', 'model', 'usage'],
    properties: {
      object: { const: 'list' },
      data: {
        type: 'array',
        items: {
          type: 'object',
          required: ['object', 'embedding', 'index'],
          properties: {
            object: { const: 'embedding' },
            embedding: { anyOf: [{ type: 'array', items: { type: 'number' } }, { type: 'string', contentEncoding: 'base64' }] },
            index: integer(),
          },
        },
      },
      model: { type: 'string' },
      usage: { type: 'object', required: ['prompt_tokens', 'total_tokens'], properties: { prompt_tokens: integer(), total_tokens: integer() } },
    },
  },
  Model: {
    type: 'object',
    required: ['id', 'object', 'created', 'owned_by'],
    properties: { id: { type: 'string' }, object: { const: 'model' }, created: integer(), owned_by: { type: 'string' } },
  },
  ModelList: { type: 'object', required: ['object', 'data'], properties: { object: { const: 'list' }, data: { type: 'array', items: ref('Model') } } },
  Info: {
    type: 'object',
    required: [
      'model_id', 'model_sha', 'model_dtype', 'served_model_name', 'model_type', 'max_concurrent_requests', 'max_input_length', 'max_batch_tokens',
      'max_batch_requests', 'max_client_batch_size', 'auto_truncate', 'tokenization_workers', 'version', 'sha', 'docker_label',
    ],
    properties: {
      model_id: { type: 'string' },
      model_sha: nullable({ type: 'string' }),
      model_dtype: { type: 'string', enum: ['float32', 'float16', 'bfloat16', 'int8'] },
      served_model_name: { type: 'string' },
      model_type: ref('ModelType'),
      max_concurrent_requests: integer(1),
      max_input_length: integer(1),
      max_batch_tokens: integer(1),
      max_batch_requests: nullable(integer(1)),
      max_client_batch_size: integer(1),
      auto_truncate: { type: 'boolean' },
      tokenization_workers: integer(1),
      version: { type: 'string' },
      sha: nullable({ type: 'string' }),
      docker_label: nullable({ type: 'string' }),
      dimension: integer(1),
      device: { type: 'string' },
      max_seq_length: integer(1),
      max_openai_batch_size: integer(1),
      max_queue_tokens: integer(1),
      payload_limit: integer(1),
      prompts: { type: 'object', additionalProperties: { type: 'string' } },
      default_prompt_name: nullable({ type: 'string' }),
      reranker: {
        type: 'object',
        required: ['model_id', 'model_sha', 'model_dtype', 'model_type', 'max_input_length', 'device'],
        properties: {
          model_id: { type: 'string' },
          model_sha: nullable({ type: 'string' }),
          model_dtype: { type: 'string', enum: ['float32', 'float16', 'bfloat16'] },
          model_type: ref('ModelType'),
          max_input_length: integer(1),
          device: { type: 'string' },
        },
        description: 'The cross-encoder served beside the embedding model (--reranker with --model).',
      },
    },
    description:
      "TEI's Info, plus this server's own fields (dimension, device, max_seq_length, max_openai_batch_size, max_queue_tokens, payload_limit, prompts; reranker). Of a cross-encoder served alone, TEI's Info of a reranker or classifier (no dimension, max_seq_length or prompts).",
  },
  Health: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } },
  RerankRequest: {
    type: 'object',
    required: ['query', 'texts'],
    properties: {
      query: { type: 'string', example: 'What is Deep Learning?' },
      texts: { type: 'array', items: { type: 'string' }, minItems: 1, example: ['Deep Learning is …'] },
      truncate: nullable({ type: 'boolean' }),
      truncation_direction: ref('TruncationDirection'),
      raw_scores: { type: 'boolean', default: false, description: 'The logits, without the model\'s activation.' },
      return_text: { type: 'boolean', default: false },
    },
  },
  Rank: {
    type: 'object',
    required: ['index', 'score'],
    properties: { index: integer(), text: { type: 'string', description: 'With return_text.' }, score: { type: 'number' } },
  },
  RerankResponse: {
    type: 'array',
    items: ref('Rank'),
    description: "Every text, best first (ties in input order): exactly CrossEncoder.rank's scores and order.",
    example: [{ index: 0, score: 0.98 }],
  },
  PredictSequence: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2, description: '[text] or [text_a, text_b]; this server scores pairs, so one text alone is a 400.' },
  PredictInput: {
    anyOf: [{ type: 'string' }, ref('PredictSequence'), { type: 'array', items: ref('PredictSequence'), minItems: 1 }],
    description: 'A pair of texts [a, b], or a batch of pairs [[a, b], …] (TEI also takes one text; a cross-encoder here scores pairs).',
    example: ['What is Deep Learning?', 'Deep Learning is …'],
  },
  PredictRequest: {
    type: 'object',
    required: ['inputs'],
    properties: {
      inputs: ref('PredictInput'),
      truncate: nullable({ type: 'boolean' }),
      truncation_direction: ref('TruncationDirection'),
      raw_scores: { type: 'boolean', default: false, description: 'The logits, without the activation and softmax.' },
    },
  },
  Prediction: { type: 'object', required: ['score', 'label'], properties: { score: { type: 'number' }, label: { type: 'string' } } },
  PredictResponse: {
    anyOf: [
      { type: 'array', items: ref('Prediction'), description: 'One input: every label, best first.' },
      { type: 'array', items: { type: 'array', items: ref('Prediction') }, description: 'A batch: one list per input.' },
    ],
    description: "Scores through the model's activation, then a softmax over the labels of a model with several (TEI's), unless raw_scores.",
  },
  ClassifierModel: {
    type: 'object',
    required: ['id2label', 'label2id'],
    properties: { id2label: { type: 'object', additionalProperties: { type: 'string' } }, label2id: { type: 'object', additionalProperties: integer() } },
  },
  ModelType: {
    type: 'object',
    minProperties: 1,
    maxProperties: 1,
    properties: {
      embedding: { type: 'object', required: ['pooling'], properties: { pooling: { type: 'string' } } },
      reranker: ref('ClassifierModel'),
      classifier: ref('ClassifierModel'),
    },
    description: "TEI's model_type: embedding, reranker (a cross-encoder with one label) or classifier (several).",
  },
};

const TIMING_HEADERS = {
  'x-compute-type': { description: "'cpu' or 'gpu'", schema: { type: 'string' } },
  'x-compute-time': { description: 'Milliseconds from the request arriving to the response (TEI sets it as x-total-time).', schema: { type: 'integer' } },
  'x-compute-characters': { description: 'Characters of the inputs (token ids count one each).', schema: { type: 'integer' } },
  'x-compute-tokens': { description: 'Tokens encoded (prompt and special tokens included; of every pair on /rerank and /predict).', schema: { type: 'integer' } },
  'x-total-time': { description: 'Milliseconds from the request arriving to the response.', schema: { type: 'integer' } },
  'x-tokenization-time': { description: 'Milliseconds spent tokenizing.', schema: { type: 'integer' } },
  'x-queue-time': { description: 'Milliseconds the inputs waited for the engine.', schema: { type: 'integer' } },
  'x-inference-time': { description: 'Milliseconds of the native calls that carried the inputs.', schema: { type: 'integer' } },
};

type ErrorStatus = 400 | 401 | 404 | 413 | 424 | 429 | 503;
const ERROR_TEXT: Record<ErrorStatus, string> = {
  400: 'Malformed JSON, a wrong type, an unknown prompt_name, a token id outside the vocabulary, one text where a pair is needed (Validation), or an empty batch (Empty)',
  401: 'The API key is missing or wrong (only with --api-key)',
  404: 'No such model',
  413: 'Over a limit: the body, the inputs per request, or an input (a pair, for a cross-encoder) over the max input length without truncation',
  424: "The served model's type cannot answer this route (the embedding routes of a cross-encoder served alone; /rerank and /predict without a cross-encoder; /rerank of a classifier), or a score is NaN",
  429: 'Overloaded: too many requests or queued tokens (Retry-After says when to try again)',
  503: 'Shutting down',
};

function errors(statuses: ErrorStatus[], openai = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of statuses) out[s] = json(ref(openai ? 'OpenAIErrorResponse' : 'ErrorResponse'), ERROR_TEXT[s]);
  return out;
}

/** The errors of POST / and /invocations: what their embedding or cross-encoder route answers. */
const ENCODE_ERRORS: ErrorStatus[] = [400, 401, 413, 429, 503];
/** The errors of an embedding route, which a cross-encoder served alone answers 424. */
const EMBED_ERRORS: ErrorStatus[] = [400, 401, 413, 424, 429, 503];

function post(summary: string, request: string, response: string, statuses: ErrorStatus[], options: { openai?: boolean; timing?: boolean; description?: string } = {}) {
  return {
    post: {
      summary,
      ...(options.description ? { description: options.description } : {}),
      requestBody: { required: true, content: { 'application/json': { schema: ref(request) } } },
      responses: {
        200: { ...json(ref(response), summary), ...(options.timing ? { headers: TIMING_HEADERS } : {}) },
        ...errors(statuses, options.openai),
      },
    },
  };
}

const embed = () => post('Embeddings', 'EmbedRequest', 'EmbedResponse', EMBED_ERRORS, { timing: true });
const openaiEmbed = () => post('Embeddings (OpenAI)', 'OpenAICompatRequest', 'OpenAICompatResponse', EMBED_ERRORS, { openai: true, timing: true });
/** POST / and /invocations: the served model's main route, as TEI. */
const rootPost = (summary: string) => ({
  summary,
  description:
    'With an embedding model: a body whose `inputs` is `{ source_sentence, sentences }` is answered as /similarity (a SimilarityResponse), any other as /embed. With a cross-encoder served alone: /rerank (one label) or /predict (several labels), as TEI.',
  requestBody: { required: true, content: { 'application/json': { schema: { anyOf: [ref('EmbedRequest'), ref('SimilarityRequest'), ref('RerankRequest'), ref('PredictRequest')] } } } },
  responses: {
    200: { ...json({ anyOf: [ref('EmbedResponse'), ref('SimilarityResponse'), ref('RerankResponse'), ref('PredictResponse')] }, 'Embeddings, scores, ranks or predictions'), headers: TIMING_HEADERS },
    ...errors(ENCODE_ERRORS),
  },
});
const models = () => ({ get: { summary: 'The served model (OpenAI)', responses: { 200: json(ref('ModelList'), 'One model'), ...errors([401], true) } } });
const model = () => ({
  get: {
    summary: 'One model by id (OpenAI)',
    parameters: [{ name: 'model', in: 'path', required: true, schema: { type: 'string' } }],
    responses: { 200: json(ref('Model'), 'The model'), ...errors([401, 404], true) },
  },
});
const health = (summary: string) => ({
  get: { summary, responses: { 200: json(ref('Health'), 'The server is up'), 503: json(ref('ErrorResponse'), ERROR_TEXT[503]) } },
});

/** The document (a fresh object each call). `title` and `version` go into its info. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'sbert-native embedding server',
      version,
      description:
        "text-embeddings-inference's HTTP API and OpenAI's embeddings API over a sentence-transformers model and/or a cross-encoder (TEI's /rerank and /predict). With --api-key every route but /health, /, /ping, /metrics, /docs and /api-doc/openapi.json needs `Authorization: Bearer KEY`.",
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    components: {
      schemas: SCHEMAS,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: '--api-key' } },
    },
    paths: {
      '/': {
        ...health('Health (GET)'),
        post: rootPost('Embeddings, or similarity scores for a similarity body (the Hugging Face Inference clients post here); reranking of a cross-encoder served alone'),
      },
      '/invocations': { post: rootPost('As POST / (the AWS SageMaker route)') },
      '/embed': embed(),
      '/embed_all': post('Token embeddings (all tokens of each input, special tokens included)', 'EmbedAllRequest', 'EmbedAllResponse', EMBED_ERRORS, { timing: true }),
      '/embed_sparse': {
        post: {
          summary: 'Sparse embeddings: refused, the served model is dense (TEI answers 424 for a model without SPLADE pooling); the body is still validated',
          requestBody: { required: true, content: { 'application/json': { schema: ref('EmbedSparseRequest') } } },
          responses: errors([400, 401, 413, 424]),
        },
      },
      '/similarity': post('Cosine similarity of source_sentence with each of sentences', 'SimilarityRequest', 'SimilarityResponse', EMBED_ERRORS, { timing: true }),
      '/tokenize': post('Tokens of each input, with their byte spans', 'TokenizeRequest', 'TokenizeResponse', [400, 401, 413]),
      '/decode': post('Text of each list of token ids', 'DecodeRequest', 'DecodeResponse', [400, 401, 413]),
      '/predict': post('Scores of text pairs with the cross-encoder (--reranker), every label per pair; 424 without one', 'PredictRequest', 'PredictResponse', EMBED_ERRORS, {
        timing: true,
      }),
      '/rerank': post('The texts ranked against the query by the cross-encoder (--reranker, one label); 424 without one', 'RerankRequest', 'RerankResponse', EMBED_ERRORS, {
        timing: true,
      }),
      '/embeddings': openaiEmbed(),
      '/v1/embeddings': openaiEmbed(),
      '/models': models(),
      '/v1/models': models(),
      '/models/{model}': model(),
      '/v1/models/{model}': model(),
      '/info': { get: { summary: 'Model and server info (TEI Info)', responses: { 200: json(ref('Info'), 'Info'), ...errors([401]) } } },
      '/health': health('Health'),
      '/ping': health('Health (AWS SageMaker route)'),
      '/metrics': {
        get: { summary: 'Prometheus metrics (sbert_* and TEI te_*)', responses: { 200: { description: 'text/plain; version=0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } } },
      },
      '/docs': { get: { summary: 'This document, as a page', responses: { 200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } } } },
      '/api-doc/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/**
 * /docs: the document as a self-contained page (no scripts or assets from elsewhere, so it works
 * offline): each route with its summary, request and answers, and the schemas as JSON.
 */
export function docsPage(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, { summary?: string; description?: string; requestBody?: unknown; responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }> }>>;
  const schemaName = (s: Schema | undefined) => (s && typeof s.$ref === 'string' ? s.$ref.split('/').pop()! : s ? 'object' : '');
  let rows = '';
  for (const [p, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const body = op.requestBody as { content: Record<string, { schema: Schema }> } | undefined;
      const answers = Object.entries(op.responses)
        .map(([status, r]) => `${status} ${escapeHtml(schemaName(r.content && Object.values(r.content)[0]?.schema) || r.description)}`)
        .join('<br>');
      rows +=
        `<tr><td><code>${method.toUpperCase()} ${escapeHtml(p)}</code></td><td>${escapeHtml(op.summary ?? '')}` +
        `${op.description ? `<br><small>${escapeHtml(op.description)}</small>` : ''}</td>` +
        `<td>${body ? `<a href="#${schemaName(body.content['application/json'].schema)}">${schemaName(body.content['application/json'].schema)}</a>` : ''}</td><td>${answers}</td></tr>\n`;
    }
  }
  const schemas = (doc.components as { schemas: Record<string, Schema> }).schemas;
  let defs = '';
  for (const [name, s] of Object.entries(schemas)) defs += `<h3 id="${name}">${name}</h3><pre>${escapeHtml(JSON.stringify(s, null, 2))}</pre>\n`;
  const info = doc.info as { title: string; version: string; description: string };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}td{border-top:1px solid #ddd;padding:.4em .8em;vertical-align:top}pre{background:#f6f6f6;padding:.6em;overflow:auto}</style>
</head><body>
<h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
<p>${escapeHtml(info.description)}</p>
<p>OpenAPI document: <a href="/api-doc/openapi.json">/api-doc/openapi.json</a></p>
<table>
<tr><th>Route</th><th>What</th><th>Request</th><th>Answers</th></tr>
${rows}</table>
<h2>Schemas</h2>
${defs}</body></html>
`;
}
