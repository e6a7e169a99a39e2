// The clients people already use, unmodified, against the server's base URL (no route
// suffixes), on 127.0.0.1 with an ephemeral port: OpenAI's SDK (`openai`), Hugging Face's
// (`@huggingface/inference`), LangChain's OpenAIEmbeddings (`@langchain/openai`) and the AI
// SDK (`ai` with `@ai-sdk/openai-compatible`). Every vector a client returns is compared with
// the in-process encoder, float32 bit for bit; bulk calls go at each library's default batch
// size (LangChain 512 texts per request, embedMany 2,048); and the error classes the libraries
// raise on 400, 401, 413 and 429 are the ones their users catch. The clients are
// devDependencies; nothing here needs the network.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const path = require('node:path');
const { SentenceEncoder, createServer } = require('../dist');
const { FIXTURES } = require('./helpers/reference');
const { waitFor, request } = require('./helpers/http');
const { gated } = require('./helpers/serve-process');

const TINY = path.join(FIXTURES, 'tiny');
const TEXTS = ['A man is eating food.', 'A woman is playing violin.', 'Ünïcödé and 東京 too', 'The quick brown fox jumps over the lazy dog.'];
const LONG = 'lorem ipsum dolor sit amet '.repeat(80);

let enc;
let server;
let base;
let keyed; // the same model behind --api-key
let keyedBase;

const bits = (v) => Array.from(new Uint32Array(Float32Array.from(v).buffer));
/** Asserts each returned vector equals the encoder's row, as float32. */
function sameRows(got, want, what) {
  assert.is(got.length, want.count, `${what}: row count`);
  for (let i = 0; i < got.length; i++) {
    if (bits(got[i]).join() !== bits(want.row(i)).join()) assert.unreachable(`${what}: row ${i} differs from encode`);
  }
}
const many = (n) => Array.from({ length: n }, (_, i) => `document number ${i}: ${'some words '.repeat(i % 5)}end`);

async function listening(encoder, options) {
  const s = createServer(encoder, options);
  const { port } = await s.listen(0, '127.0.0.1');
  return { s, base: `http://127.0.0.1:${port}` };
}

test.before(async () => {
  enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  ({ s: server, base } = await listening(enc, {}));
  ({ s: keyed, base: keyedBase } = await listening(enc, { apiKey: 'right-key' }));
});

test.after(async () => {
  await server.close();
  await keyed.close();
  enc.dispose();
});

// ---- openai --------------------------------------------------------------------------------------

test('openai: embeddings.create (base64 by default, and float), token ids, models.list / retrieve, 2,048 inputs in one call', async () => {
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({ baseURL: base, apiKey: 'unused', maxRetries: 0 });
  const want = await enc.encode(TEXTS, { normalize: true });
  const r = await client.embeddings.create({ model: 'tiny', input: TEXTS });
  sameRows(r.data.map((d) => d.embedding), want, 'openai base64');
  assert.is(r.model, 'tiny');
  assert.ok(r.usage.prompt_tokens > 0);
  const f = await client.embeddings.create({ model: 'tiny', input: TEXTS, encoding_format: 'float' });
  sameRows(f.data.map((d) => d.embedding), want, 'openai float');
  const ids = Array.from(enc.tokenizer.encode(TEXTS[0].toLowerCase()).ids);
  const t = await client.embeddings.create({ model: 'tiny', input: [ids] });
  sameRows([t.data[0].embedding], await enc.encode(TEXTS[0], { normalize: true }), 'openai token ids');
  const models = [];
  for await (const m of client.models.list()) models.push(m.id);
  assert.equal(models, ['tiny']);
  assert.is((await client.models.retrieve('tiny')).id, 'tiny');
  const bulk = many(2048);
  const b = await client.embeddings.create({ model: 'tiny', input: bulk });
  sameRows(b.data.map((d) => d.embedding), await enc.encode(bulk, { normalize: true }), 'openai 2048');
});

test('openai: 400 BadRequestError, 401 AuthenticationError, 404 NotFoundError, 413 APIError(413), 429 RateLimitError', async () => {
  const { default: OpenAI, BadRequestError, AuthenticationError, NotFoundError, RateLimitError, APIError } = await import('openai');
  const client = new OpenAI({ baseURL: base, apiKey: 'unused', maxRetries: 0 });
  const bad = await client.embeddings.create({ model: 'tiny', input: [[1, 2.5]] }).catch((e) => e);
  assert.instance(bad, BadRequestError);
  assert.match(bad.message, '`input[0][1]` must be an integer token id');
  const wrongKey = new OpenAI({ baseURL: keyedBase, apiKey: 'wrong-key', maxRetries: 0 });
  const unauth = await wrongKey.embeddings.create({ model: 'tiny', input: 'x' }).catch((e) => e);
  assert.instance(unauth, AuthenticationError);
  assert.is(unauth.code, 'invalid_api_key');
  const rightKey = new OpenAI({ baseURL: keyedBase, apiKey: 'right-key', maxRetries: 0 });
  sameRows([(await rightKey.embeddings.create({ model: 'tiny', input: 'x' })).data[0].embedding], await enc.encode('x', { normalize: true }), 'with the key');
  const missing = await client.models.retrieve('gpt-4').catch((e) => e);
  assert.instance(missing, NotFoundError);
  const over = await client.embeddings.create({ model: 'tiny', input: LONG }).catch((e) => e);
  assert.instance(over, APIError);
  assert.is(over.status, 413);
  assert.match(over.message, 'more than 256 tokens');
  const g = gated(enc);
  const { s, base: busy } = await listening(g, { maxConcurrentRequests: 1 });
  try {
    const held = request(Number(busy.split(':')[2]), 'POST', '/v1/embeddings', { input: 'held' });
    await waitFor(() => g.waiting === 1, 'one request in flight');
    const limited = await new OpenAI({ baseURL: busy, apiKey: 'unused', maxRetries: 0 }).embeddings.create({ model: 'tiny', input: 'x' }).catch((e) => e);
    assert.instance(limited, RateLimitError);
    assert.is(limited.headers.get('retry-after'), '1');
    g.release();
    assert.is((await held).status, 200);
  } finally {
    await s.close();
  }
});

// ---- @huggingface/inference ------------------------------------------------------------------------

test('@huggingface/inference: featureExtraction and sentenceSimilarity with endpointUrl, and .endpoint(base), post to the base URL', async () => {
  const { InferenceClient, featureExtraction, sentenceSimilarity } = await import('@huggingface/inference');
  const want = await enc.encode(TEXTS, { normalize: true });
  sameRows(await featureExtraction({ endpointUrl: base, inputs: TEXTS }), want, 'featureExtraction');
  const one = await featureExtraction({ endpointUrl: base, inputs: TEXTS[0] });
  sameRows(one, await enc.encode(TEXTS[0], { normalize: true }), 'featureExtraction one');
  const client = new InferenceClient().endpoint(base);
  sameRows(await client.featureExtraction({ inputs: TEXTS }), want, '.endpoint(base)');
  // 32 inputs per call: TEI's default --max-client-batch-size.
  const bulk = many(32);
  sameRows(await client.featureExtraction({ inputs: bulk }), await enc.encode(bulk, { normalize: true }), 'featureExtraction 32');
  const scores = await sentenceSimilarity({ endpointUrl: base, inputs: { source_sentence: TEXTS[0], sentences: TEXTS.slice(1) } });
  assert.is(scores.length, 3);
  scores.forEach((s, i) => {
    let dot = 0;
    for (let k = 0; k < want.dim; k++) dot += want.row(0)[k] * want.row(i + 1)[k];
    assert.ok(Math.abs(s - dot) < 1e-6, `score ${i}`);
  });
  // With the key, as an HF user passes a token.
  const keyedClient = new InferenceClient('right-key').endpoint(keyedBase);
  sameRows(await keyedClient.featureExtraction({ inputs: TEXTS }), want, 'with the key');
});

test('@huggingface/inference: errors are InferenceClientProviderApiError with the status and the server\'s message (400, 401, 413, 429)', async () => {
  const { InferenceClient, InferenceClientProviderApiError } = await import('@huggingface/inference');
  const client = new InferenceClient().endpoint(base);
  const bad = await client.featureExtraction({ inputs: [] }).catch((e) => e);
  assert.instance(bad, InferenceClientProviderApiError);
  assert.is(bad.httpResponse.status, 400);
  assert.match(bad.message, '`inputs` cannot be empty');
  const unauth = await new InferenceClient('wrong-key').endpoint(keyedBase).featureExtraction({ inputs: 'x' }).catch((e) => e);
  assert.instance(unauth, InferenceClientProviderApiError);
  assert.is(unauth.httpResponse.status, 401);
  const over = await client.featureExtraction({ inputs: many(33) }).catch((e) => e);
  assert.instance(over, InferenceClientProviderApiError);
  assert.is(over.httpResponse.status, 413);
  assert.match(over.message, 'batch size 33 > maximum allowed batch size 32');
  const g = gated(enc);
  const { s, base: busy } = await listening(g, { maxConcurrentRequests: 1 });
  try {
    const held = request(Number(busy.split(':')[2]), 'POST', '/', { inputs: 'held' });
    await waitFor(() => g.waiting === 1, 'one request in flight');
    const limited = await new InferenceClient().endpoint(busy).featureExtraction({ inputs: 'x' }).catch((e) => e);
    assert.instance(limited, InferenceClientProviderApiError);
    assert.is(limited.httpResponse.status, 429);
    g.release();
    assert.is((await held).status, 200);
  } finally {
    await s.close();
  }
});

test('@huggingface/inference textClassification against a classifier cross-encoder served alone (POST / is /predict, as TEI): labels and float32 scores as ce.predict with the softmax', async () => {
  // The client reads the first element of the answer as the label list, so it takes TEI's
  // batch shape: inputs [[a, b]] (a bare string or one pair gets TEI's flat list, which the
  // client rejects against TEI as well). No npm client speaks /rerank (see the README).
  const { InferenceClient, InferenceClientProviderApiError } = await import('@huggingface/inference');
  const { CrossEncoder } = require('../dist');
  const classifier = await CrossEncoder.load(path.join(FIXTURES, 'cross-encoders', 'xlmr-ce'), { device: 'cpu' });
  const { s, base: ceBase } = await listening({ reranker: classifier }, {});
  try {
    const client = new InferenceClient().endpoint(ceBase);
    const pair = [TEXTS[0], TEXTS[2]];
    const got = await client.textClassification({ inputs: [pair] });
    const [want] = await classifier.predict([pair], { applySoftmax: true });
    assert.equal(got.map((p) => p.label).sort(), [...classifier.labels].sort());
    for (const p of got) assert.equal(bits([p.score]), bits([want[classifier.labels.indexOf(p.label)]]), p.label);
    assert.equal(got.map((p) => p.score), got.map((p) => p.score).sort((a, b) => b - a), 'best first');
    const bad = await client.textClassification({ inputs: [['a', 'b', 'c']] }).catch((e) => e);
    assert.instance(bad, InferenceClientProviderApiError);
    assert.is(bad.httpResponse.status, 400);
  } finally {
    await s.close();
    classifier.dispose();
  }
});

// ---- @langchain/openai ---------------------------------------------------------------------------

test('@langchain/openai OpenAIEmbeddings: embedQuery, embedDocuments in its default batches of 512 (1,100 texts = 3 requests)', async () => {
  const { OpenAIEmbeddings } = await import('@langchain/openai');
  const embeddings = new OpenAIEmbeddings({ model: 'tiny', apiKey: 'unused', configuration: { baseURL: base } });
  assert.is(embeddings.batchSize, 512);
  sameRows([await embeddings.embedQuery(TEXTS[0])], await enc.encode(TEXTS[0], { normalize: true }), 'embedQuery');
  sameRows(await embeddings.embedDocuments(TEXTS), await enc.encode(TEXTS, { normalize: true }), 'embedDocuments');
  const before = server.metrics.requests.get({ route: '/embeddings', status: '200' });
  const docs = many(1100);
  sameRows(await embeddings.embedDocuments(docs), await enc.encode(docs, { normalize: true }), 'embedDocuments 1100');
  assert.is(server.metrics.requests.get({ route: '/embeddings', status: '200' }) - before, 3, 'three requests: 512 + 512 + 76');
});

test('@langchain/openai: the errors it raises (openai\'s classes, with LangChain\'s codes) on 400, 401, 413, 429', async () => {
  const { OpenAIEmbeddings } = await import('@langchain/openai');
  const lc = (b, key = 'unused') => new OpenAIEmbeddings({ model: 'tiny', apiKey: key, maxRetries: 0, configuration: { baseURL: b } });
  const bad = await lc(base).embedDocuments(['ok', '']).then(() => undefined, (e) => e);
  assert.is(bad, undefined, 'an empty string is a valid input');
  const unauth = await lc(keyedBase, 'wrong-key').embedQuery('x').catch((e) => e);
  assert.is(unauth.constructor.name, 'AuthenticationError');
  assert.is(unauth.status, 401);
  assert.is(unauth.lc_error_code, 'MODEL_AUTHENTICATION');
  const over = await lc(base).embedQuery(LONG).catch((e) => e);
  assert.is(over.status, 413);
  const g = gated(enc);
  const { s, base: busy } = await listening(g, { maxConcurrentRequests: 1 });
  try {
    const held = request(Number(busy.split(':')[2]), 'POST', '/embeddings', { input: 'held' });
    await waitFor(() => g.waiting === 1, 'one request in flight');
    const limited = await lc(busy).embedQuery('x').catch((e) => e);
    assert.is(limited.constructor.name, 'RateLimitError');
    assert.is(limited.lc_error_code, 'MODEL_RATE_LIMIT');
    g.release();
    assert.is((await held).status, 200);
  } finally {
    await s.close();
  }
  // 400: an input the server refuses (LangChain passes token ids through).
  const refused = await new OpenAIEmbeddings({ model: 'tiny', apiKey: 'unused', maxRetries: 0, configuration: { baseURL: base }, dimensions: 999 }).embedQuery('x').catch((e) => e);
  assert.is(refused.constructor.name, 'BadRequestError');
  assert.is(refused.status, 400);
  assert.match(refused.message, '`dimensions` must be an integer from 1 to 32');
});

// ---- ai + @ai-sdk/openai-compatible ----------------------------------------------------------------

test('ai + @ai-sdk/openai-compatible: embed, embedMany at its default 2,048 values per call (3,000 values = 2 calls)', async () => {
  const { embed, embedMany } = await import('ai');
  const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
  const provider = createOpenAICompatible({ name: 'sbert', baseURL: base });
  const model = provider.textEmbeddingModel('tiny');
  const one = await embed({ model, value: TEXTS[0] });
  sameRows([one.embedding], await enc.encode(TEXTS[0], { normalize: true }), 'embed');
  assert.ok(one.usage.tokens > 0);
  const small = await embedMany({ model, values: TEXTS });
  sameRows(small.embeddings, await enc.encode(TEXTS, { normalize: true }), 'embedMany');
  const before = server.metrics.requests.get({ route: '/embeddings', status: '200' });
  const values = many(3000);
  const big = await embedMany({ model, values });
  sameRows(big.embeddings, await enc.encode(values, { normalize: true }), 'embedMany 3000');
  assert.is(server.metrics.requests.get({ route: '/embeddings', status: '200' }) - before, 2, 'two calls: 2,048 + 952');
});

test('ai + @ai-sdk/openai-compatible: APICallError with the status and message on 400, 401, 413, 429', async () => {
  const { embed, APICallError } = await import('ai');
  const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
  const model = (b, apiKey) => createOpenAICompatible({ name: 'sbert', baseURL: b, apiKey }).textEmbeddingModel('tiny');
  const fail = (m, value, extra = {}) => embed({ model: m, value, maxRetries: 0, ...extra }).catch((e) => e);
  const bad = await fail(model(base), 'x', { providerOptions: { sbert: { dimensions: 0 } } });
  assert.ok(APICallError.isInstance(bad), String(bad));
  assert.is(bad.statusCode, 400);
  assert.match(bad.responseBody, '`dimensions`');
  const unauth = await fail(model(keyedBase, 'wrong-key'), 'x');
  assert.ok(APICallError.isInstance(unauth));
  assert.is(unauth.statusCode, 401);
  const ok = await embed({ model: model(keyedBase, 'right-key'), value: 'x', maxRetries: 0 });
  sameRows([ok.embedding], await enc.encode('x', { normalize: true }), 'with the key');
  const over = await fail(model(base), LONG);
  assert.ok(APICallError.isInstance(over));
  assert.is(over.statusCode, 413);
  const g = gated(enc);
  const { s, base: busy } = await listening(g, { maxConcurrentRequests: 1 });
  try {
    const held = request(Number(busy.split(':')[2]), 'POST', '/embeddings', { input: 'held' });
    await waitFor(() => g.waiting === 1, 'one request in flight');
    const limited = await fail(model(busy), 'x');
    assert.ok(APICallError.isInstance(limited));
    assert.is(limited.statusCode, 429);
    assert.is(limited.isRetryable, true, 'the SDK would retry it');
    g.release();
    assert.is((await held).status, 200);
  } finally {
    await s.close();
  }
});

test.run();
