// The server's OpenAPI document (/api-doc/openapi.json) against what the server does: every
// route the server answers is in the document and every documented route answers; every answer
// the routes give here — successes and each error they can produce (400, 401, 404, 413, 424,
// 429) — has its status documented for that route and a body that validates against the
// documented schema; the request bodies sent validate against the documented request schema.
// Validation by ajv (JSON Schema 2020-12, which OpenAPI 3.1 schemas are), a devDependency: a
// well-kept validator rather than a hand-written one, so the check does not share the server's
// own reading of the shapes.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020').default;
const { SentenceEncoder, CrossEncoder, createServer } = require('../dist');
const { FIXTURES } = require('./helpers/reference');
const { request, waitFor } = require('./helpers/http');
const { gated } = require('./helpers/serve-process');

const TINY = path.join(FIXTURES, 'tiny');
const CE = path.join(FIXTURES, 'cross-encoders');

let enc;
let ce; // one label: a reranker
let classifier; // three labels
let doc;
let ajv;
const servers = [];

async function started(encoder, options) {
  const s = createServer(encoder, options);
  const { port } = await s.listen(0, '127.0.0.1');
  servers.push(s);
  return port;
}

const pointer = (...parts) => parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** The documented operation for a concrete path (`/v1/models/tiny` → `/v1/models/{model}`). */
function operation(route, method) {
  const paths = doc.paths;
  const key = paths[route] ? route : Object.keys(paths).find((p) => p.includes('{') && new RegExp(`^${p.replace(/\{[^}]+\}/g, '.+')}$`).test(route));
  assert.ok(key, `${route} is documented`);
  const op = paths[key][method.toLowerCase()];
  assert.ok(op, `${method} ${key} is documented`);
  return { key, op };
}

const checked = new Set();

/** Sends a request, then checks the request body and the answer against the document. */
async function check(port, method, route, body, { headers, status } = {}) {
  const { key, op } = operation(route, method);
  const m = method.toLowerCase();
  if (body !== undefined && typeof body === 'object' && status === 200) {
    const validate = ajv.getSchema(`openapi.json#/${pointer('paths', key, m, 'requestBody', 'content', 'application/json', 'schema')}`);
    assert.ok(validate(body), `${method} ${route} request: ${ajv.errorsText(validate.errors)}`);
  }
  const r = await request(port, method, route, body, { headers });
  if (status !== undefined) assert.is(r.status, status, `${method} ${route}: ${r.text.slice(0, 200)}`);
  const documented = op.responses[r.status];
  assert.ok(documented, `${method} ${key} documents status ${r.status}`);
  const type = Object.keys(documented.content ?? {})[0];
  assert.ok(type, `${method} ${key} ${r.status} has a body type`);
  assert.match(r.headers['content-type'], type === 'application/json' ? 'application/json' : type, `${method} ${route} content type`);
  if (type === 'application/json') {
    const validate = ajv.getSchema(`openapi.json#/${pointer('paths', key, m, 'responses', r.status, 'content', type, 'schema')}`);
    assert.ok(validate(r.json), `${method} ${route} ${r.status}: ${ajv.errorsText(validate.errors)} in ${r.text.slice(0, 300)}`);
  }
  checked.add(`${m} ${key} ${r.status}`);
  return r;
}


test.before(async () => {
  enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  ce = await CrossEncoder.load(path.join(CE, 'bert-ce'), { device: 'cpu' });
  classifier = await CrossEncoder.load(path.join(CE, 'xlmr-ce'), { device: 'cpu' });
  const probe = await started(enc, {});
  doc = (await request(probe, 'GET', '/api-doc/openapi.json')).json;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema(doc, 'openapi.json');
});

test.after(async () => {
  for (const s of servers) await s.close();
  enc.dispose();
  ce.dispose();
  classifier.dispose();
});

test('the document is OpenAPI 3.1 and every schema in it compiles', () => {
  assert.is(doc.openapi, '3.1.0');
  for (const name of Object.keys(doc.components.schemas)) assert.ok(ajv.getSchema(`openapi.json#/components/schemas/${name}`), name);
});

test('every documented route answers (no 404), and the server answers no undocumented route', async () => {
  const port = await started(enc, {});
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods)) {
      const r = await request(port, method.toUpperCase(), p.replace('{model}', 'tiny'), method === 'post' ? '{}' : undefined);
      assert.is.not(r.status, 404, `${method} ${p}`);
    }
  }
  const server = servers[servers.length - 1];
  const routes = [...server.routes.keys(), ...server.prefixRoutes.map((r) => r.prefix + '{model}')];
  for (const r of routes) assert.ok(doc.paths[r], `${r} is documented`);
});

test('successful answers of every route validate against the document', async () => {
  const port = await started(enc, { maxClientBatchSize: 4 });
  const texts = ['A man is eating food.', 'Ünïcödé and 東京'];
  await check(port, 'POST', '/embed', { inputs: texts }, { status: 200 });
  await check(port, 'POST', '/embed', { inputs: [101, 2000, 102], dimensions: 4, normalize: false, truncate: true, truncation_direction: 'Left' }, { status: 200 });
  await check(port, 'POST', '/', { inputs: texts[0] }, { status: 200 });
  await check(port, 'POST', '/', { inputs: { source_sentence: 'a', sentences: ['b', 'c'] } }, { status: 200 });
  await check(port, 'POST', '/invocations', { inputs: [[101, 102], 'x'] }, { status: 200 });
  await check(port, 'POST', '/embed_all', { inputs: texts, prompt_name: 'query' }, { status: 200 });
  await check(port, 'POST', '/similarity', { inputs: { source_sentence: 'a', sentences: ['b'] }, parameters: { truncate: true } }, { status: 200 });
  await check(port, 'POST', '/tokenize', { inputs: texts, add_special_tokens: true }, { status: 200 });
  await check(port, 'POST', '/decode', { ids: [[101, 7592, 102], [7592]], skip_special_tokens: false }, { status: 200 });
  for (const route of ['/v1/embeddings', '/embeddings']) {
    await check(port, 'POST', route, { input: texts, model: 'tiny', encoding_format: 'float' }, { status: 200 });
    await check(port, 'POST', route, { input: [[101, 102]], encoding_format: 'base64', dimensions: 3, user: 'u' }, { status: 200 });
  }
  for (const route of ['/v1/models', '/models', '/v1/models/tiny', '/models/tiny', '/info', '/health', '/', '/ping', '/api-doc/openapi.json']) {
    await check(port, 'GET', route, undefined, { status: 200 });
  }
  assert.match((await check(port, 'GET', '/metrics', undefined, { status: 200 })).text, 'te_request_count');
  await check(port, 'GET', '/docs', undefined, { status: 200 });
});

test('error answers of every route validate against the document (400, 401, 404, 413, 424, 429)', async () => {
  const port = await started(enc, { maxClientBatchSize: 2, payloadLimit: 5000 });
  for (const route of ['/embed', '/', '/invocations', '/embed_all', '/embed_sparse', '/similarity', '/tokenize', '/decode', '/v1/embeddings', '/embeddings']) {
    await check(port, 'POST', route, '{"inputs": [', { status: 400 });
    await check(port, 'POST', route, '[]', { status: 400 });
  }
  for (const [route, body] of [
    ['/embed', { inputs: [] }],
    ['/embed', { inputs: [1e12] }],
    ['/embed_all', { inputs: 'x', truncation_direction: 'up' }],
    ['/similarity', { inputs: { source_sentence: 'a', sentences: [] } }],
    ['/tokenize', { inputs: [] }],
    ['/decode', { ids: [[-1]] }],
    ['/v1/embeddings', { input: [[1, 2.5]] }],
    ['/embeddings', { input: 'x', encoding_format: 'hex' }],
  ]) {
    await check(port, 'POST', route, body, { status: 400 });
  }
  const long = 'word '.repeat(400);
  for (const [route, body] of [
    ['/embed', { inputs: ['a', 'b', 'c'] }],
    ['/embed', { inputs: long }],
    ['/', { inputs: ['a', 'b', 'c'] }],
    ['/invocations', { inputs: long }],
    ['/embed_all', { inputs: long }],
    ['/embed_sparse', { inputs: ['a', 'b', 'c'] }],
    ['/similarity', { inputs: { source_sentence: 'a', sentences: ['b', 'c'] } }],
    ['/tokenize', { inputs: ['a', 'b', 'c'] }],
    ['/decode', { ids: [[1], [2], [3]] }],
    ['/v1/embeddings', { input: long }],
    ['/embeddings', { input: 'x'.repeat(6000) }],
  ]) {
    await check(port, 'POST', route, body, { status: 413 });
  }
  await check(port, 'POST', '/embed_sparse', { inputs: 'x' }, { status: 424 });
  await check(port, 'POST', '/predict', { inputs: 'x' }, { status: 424 });
  await check(port, 'POST', '/rerank', { query: 'x', texts: ['y'] }, { status: 424 });
  await check(port, 'GET', '/v1/models/nope', undefined, { status: 404 });
  await check(port, 'GET', '/models/nope', undefined, { status: 404 });

  const keyed = await started(enc, { apiKey: 'k' });
  for (const route of ['/embed', '/', '/invocations', '/embed_all', '/embed_sparse', '/similarity', '/tokenize', '/decode', '/predict', '/rerank', '/v1/embeddings', '/embeddings']) {
    await check(keyed, 'POST', route, { inputs: 'x' }, { status: 401 });
  }
  for (const route of ['/info', '/v1/models', '/models', '/v1/models/tiny', '/models/tiny']) await check(keyed, 'GET', route, undefined, { status: 401 });

  const g = gated(enc);
  const busy = await started(g, { maxConcurrentRequests: 1 });
  const held = request(busy, 'POST', '/embed', { inputs: 'held' });
  await waitFor(() => g.waiting === 1, 'a request in flight');
  for (const route of ['/embed', '/', '/invocations', '/embed_all', '/similarity', '/v1/embeddings', '/embeddings']) {
    await check(busy, 'POST', route, { inputs: 'x', input: 'x' }, { status: 429 });
  }
  g.release();
  assert.is((await held).status, 200);
});

test('the cross-encoder routes (/rerank, /predict; POST / of a reranker alone; the embedding routes\' 424 then) validate against the document', async () => {
  const alone = await started({ reranker: ce }, { maxClientBatchSize: 2 });
  const both = await started({ encoder: enc, reranker: classifier }, { maxClientBatchSize: 2 });
  const texts = ['A man is eating food.', 'Ünïcödé and 東京'];
  await check(alone, 'POST', '/rerank', { query: 'food', texts }, { status: 200 });
  await check(alone, 'POST', '/rerank', { query: '', texts, raw_scores: true, return_text: true, truncate: true, truncation_direction: 'Left' }, { status: 200 });
  await check(alone, 'POST', '/', { query: 'food', texts }, { status: 200 });
  await check(alone, 'POST', '/invocations', { query: 'food', texts, return_text: true }, { status: 200 });
  await check(alone, 'POST', '/predict', { inputs: ['a', 'b'] }, { status: 200 });
  await check(alone, 'POST', '/predict', { inputs: [['a', 'b'], ['c', 'd']], raw_scores: true }, { status: 200 });
  await check(both, 'POST', '/predict', { inputs: ['a', 'b'] }, { status: 200 });
  await check(both, 'POST', '/predict', { inputs: [['a', 'b']], truncate: false }, { status: 200 });
  for (const route of ['/info', '/v1/models']) {
    await check(alone, 'GET', route, undefined, { status: 200 });
    await check(both, 'GET', route, undefined, { status: 200 });
  }
  await check(alone, 'GET', '/v1/models/bert-ce', undefined, { status: 200 });
  await check(both, 'GET', '/models/xlmr-ce', undefined, { status: 200 });

  for (const route of ['/rerank', '/predict', '/']) {
    await check(alone, 'POST', route, '{"query": ', { status: 400 });
    await check(alone, 'POST', route, '[]', { status: 400 });
  }
  for (const [route, body] of [
    ['/rerank', { query: 'q', texts: [] }],
    ['/rerank', { query: 'q', texts: ['a', 1] }],
    ['/rerank', { texts: ['a'] }],
    ['/predict', { inputs: 'one text' }],
    ['/predict', { inputs: [['a', 'b', 'c']] }],
    ['/predict', { inputs: [] }],
    ['/', { query: 'q' }],
    ['/invocations', { query: 'q', texts: 'a' }],
  ]) {
    await check(alone, 'POST', route, body, { status: 400 });
  }
  const long = 'word '.repeat(100);
  for (const [route, body] of [
    ['/rerank', { query: 'q', texts: ['a', 'b', 'c'] }],
    ['/rerank', { query: 'q', texts: [long] }],
    ['/predict', { inputs: [['a', 'b'], ['a', 'b'], ['a', 'b']] }],
    ['/predict', { inputs: ['q', long] }],
    ['/', { query: long, texts: ['a'], truncate: false }],
    ['/invocations', { query: 'q', texts: ['a', 'b', 'c'] }],
  ]) {
    await check(alone, 'POST', route, body, { status: 413 });
  }
  await check(both, 'POST', '/rerank', { query: 'q', texts: ['a'] }, { status: 424 });
  for (const route of ['/embed', '/embed_all', '/embed_sparse', '/similarity', '/v1/embeddings', '/embeddings']) {
    await check(alone, 'POST', route, { inputs: 'x', input: 'x' }, { status: 424 });
  }
  const keyed = await started({ reranker: ce }, { apiKey: 'k' });
  for (const route of ['/rerank', '/predict', '/', '/invocations']) await check(keyed, 'POST', route, { query: 'q', texts: ['a'] }, { status: 401 });

  // 429: a reranker whose predict waits at a gate holds the only request slot.
  const held = gated(ce, 'predict');
  const busy = await started({ reranker: held }, { maxConcurrentRequests: 1 });
  const first = request(busy, 'POST', '/rerank', { query: 'q', texts: ['held'] });
  await waitFor(() => held.waiting === 1, 'a rerank in flight');
  for (const route of ['/rerank', '/predict', '/', '/invocations']) {
    await check(busy, 'POST', route, { query: 'q', texts: ['a'], inputs: ['a', 'b'] }, { status: 429 });
  }
  held.release();
  assert.is((await first).status, 200);
});

test('each route\'s documented answers were all seen, except 503 (shutdown) and the health routes\' 503', () => {
  const missing = [];
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(methods)) {
      for (const status of Object.keys(op.responses)) {
        if (status === '503') continue;
        if (!checked.has(`${m} ${p} ${status}`)) missing.push(`${m} ${p} ${status}`);
      }
    }
  }
  assert.equal(missing, []);
});

test.run();
