// The server's TEI and OpenAI surface beyond /embed (test/serve.test.js): POST / and
// /invocations (embed and similarity bodies), /embeddings, /v1/models, token-id inputs,
// truncation_direction, /embed_all, /embed_sparse, /tokenize, /decode, /info, TEI's headers and
// te_* metrics, --api-key, CORS, bulk requests streamed in parts through admission, and a client
// that leaves having its queued parts dropped before they reach the engine (counted at the
// engine). Every embedding is compared bit for bit with the in-process encoder. Loopback only.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const http = require('node:http');
const path = require('node:path');
const { SentenceEncoder, createServer } = require('../dist');
const { FIXTURES } = require('./helpers/reference');
const { request, waitFor } = require('./helpers/http');
const { spyOnEngines } = require('./helpers/engine-spy');

const TINY = path.join(FIXTURES, 'tiny');
const TEXTS = ['A man is eating food.', 'Ünïcödé and 東京 too', 'The quick brown fox jumps over the lazy dog.'];
const LONG = 'one two three four five six seven eight nine ten '.repeat(40); // > 256 tokens

let enc;
let server;
let port;

const bitsOf = (numbers) => Array.from(new Uint32Array(Float32Array.from(numbers).buffer));
const packed = (seqs) => {
  const cu = [0];
  for (const s of seqs) cu.push(cu[cu.length - 1] + s.length);
  const ids = new Int32Array(cu[cu.length - 1]);
  seqs.forEach((s, i) => ids.set(s, cu[i]));
  return { ids, cuSeqlens: Int32Array.from(cu) };
};
const ids = (text, options) => Array.from(enc.tokenizer.encode(text.toLowerCase(), options).ids);

async function started(encoder, options) {
  const s = createServer(encoder, options);
  const addr = await s.listen(0, '127.0.0.1');
  return { s, port: addr.port };
}

function metricValue(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

test.before(async () => {
  enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  ({ s: server, port } = await started(enc, { maxClientBatchSize: 8 }));
});

test.after(async () => {
  await server.close();
  enc.dispose();
});

test('POST / and /invocations: an embed body → /embed, a similarity body → /similarity (what the HF Inference clients send)', async () => {
  const want = await enc.encode(TEXTS, { normalize: true });
  for (const route of ['/', '/invocations']) {
    const r = await request(port, 'POST', route, { inputs: TEXTS });
    assert.is(r.status, 200, route);
    r.json.forEach((row, i) => assert.equal(bitsOf(row), bitsOf(want.row(i)), `${route} row ${i}`));
    const sim = await request(port, 'POST', route, { inputs: { source_sentence: TEXTS[0], sentences: TEXTS.slice(1) } });
    assert.is(sim.status, 200);
    assert.equal(sim.json, (await request(port, 'POST', '/similarity', { inputs: { source_sentence: TEXTS[0], sentences: TEXTS.slice(1) } })).json);
  }
  assert.is((await request(port, 'GET', '/')).status, 200, 'GET / is health');
  assert.is((await request(port, 'GET', '/ping')).status, 200);
  assert.is((await request(port, 'POST', '/', '{')).status, 400);
});

test('/embeddings = /v1/embeddings; /v1/models and /models list the model, /v1/models/{id} finds it or 404s in OpenAI\'s shape', async () => {
  const a = await request(port, 'POST', '/embeddings', { input: TEXTS, model: 'anything' });
  const b = await request(port, 'POST', '/v1/embeddings', { input: TEXTS });
  assert.is(a.status, 200);
  assert.equal(a.json, b.json);
  for (const route of ['/v1/models', '/models']) {
    const m = await request(port, 'GET', route);
    assert.is(m.status, 200);
    assert.is(m.json.object, 'list');
    assert.is(m.json.data.length, 1);
    assert.equal(Object.keys(m.json.data[0]).sort(), ['created', 'id', 'object', 'owned_by']);
    assert.is(m.json.data[0].id, 'tiny');
    assert.is(m.json.data[0].object, 'model');
    assert.ok(Number.isInteger(m.json.data[0].created));
  }
  const one = await request(port, 'GET', '/v1/models/tiny');
  assert.is(one.status, 200);
  assert.is(one.json.id, 'tiny');
  const missing = await request(port, 'GET', '/v1/models/gpt-4');
  assert.is(missing.status, 404);
  assert.is(missing.json.error.code, 'model_not_found');
  assert.is(missing.json.error.param, 'model');
  assert.match(missing.json.error.message, 'The model "gpt-4" does not exist');
  // A Hub-style id with a slash, encoded as the SDKs encode it, or not.
  const { s, port: p } = await started(enc, { modelId: 'org/name' });
  try {
    assert.is((await request(p, 'GET', '/v1/models/org%2Fname')).json.id, 'org/name');
    assert.is((await request(p, 'GET', '/models/org/name')).json.id, 'org/name');
    assert.is((await request(p, 'GET', '/v1/models/%E0%A4%A')).status, 404, 'a malformed escape is just an unknown id');
  } finally {
    await s.close();
  }
});

test('token-id inputs (one list, lists, mixed with text) on /embed and /v1/embeddings are encoded as given, bit-identical', async () => {
  const seqs = [ids(TEXTS[0]), ids(TEXTS[1]), [101, 7592, 102]];
  const want = await enc.encodeTokenIds(packed(seqs), { normalize: true });
  const one = await request(port, 'POST', '/embed', { inputs: seqs[0] });
  assert.is(one.status, 200);
  assert.is(one.json.length, 1);
  assert.equal(bitsOf(one.json[0]), bitsOf(want.row(0)));
  const many = await request(port, 'POST', '/embed', { inputs: seqs });
  many.json.forEach((row, i) => assert.equal(bitsOf(row), bitsOf(want.row(i)), `ids ${i}`));
  const mixed = await request(port, 'POST', '/v1/embeddings', { input: [TEXTS[0], seqs[1]], encoding_format: 'base64' });
  assert.is(mixed.status, 200);
  const row = (d) => new Float32Array(new Uint8Array(Buffer.from(d.embedding, 'base64')).buffer);
  assert.equal(bitsOf(row(mixed.json.data[0])), bitsOf(want.row(0)), 'the text equals its own token ids');
  assert.equal(bitsOf(row(mixed.json.data[1])), bitsOf(want.row(1)));
  assert.is(mixed.json.usage.prompt_tokens, seqs[0].length + seqs[1].length);
  // Over the max input length: 413 unless truncated; truncation keeps the first / last ids.
  const tooMany = Array.from({ length: 300 }, (_, i) => 1000 + i);
  const over = await request(port, 'POST', '/embed', { inputs: [tooMany] });
  assert.is(over.status, 413);
  assert.match(over.json.error, '`inputs[0]` has more than 256 tokens');
  for (const [direction, kept] of [['Right', tooMany.slice(0, 256)], ['left', tooMany.slice(44)]]) {
    const r = await request(port, 'POST', '/embed', { inputs: tooMany, truncate: true, truncation_direction: direction });
    assert.is(r.status, 200, direction);
    assert.equal(bitsOf(r.json[0]), bitsOf((await enc.encodeTokenIds(packed([kept]), { normalize: true })).row(0)), direction);
  }
});

test('truncation_direction Left keeps the end of the text and the special tokens, as HF truncates; Right (default) the start', async () => {
  const full = ids(LONG);
  assert.ok(full.length > 256);
  const left = [full[0], ...full.slice(full.length - 255, full.length - 1), full[full.length - 1]];
  const right = [...full.slice(0, 255), full[full.length - 1]];
  assert.is(left.length, 256);
  const want = await enc.encodeTokenIds(packed([left, right]), { normalize: true });
  for (const [direction, i] of [['Left', 0], ['left', 0], ['Right', 1], [undefined, 1]]) {
    const r = await request(port, 'POST', '/embed', { inputs: ['short', LONG], truncate: true, truncation_direction: direction });
    assert.is(r.status, 200);
    assert.equal(bitsOf(r.json[1]), bitsOf(want.row(i)), String(direction));
  }
  assert.equal(bitsOf((await request(port, 'POST', '/embed', { inputs: LONG, truncate: true })).json[0]), bitsOf((await enc.encode(LONG, { normalize: true })).row(0)), 'right truncation is encode()\'s');
  // A long text (tokenized from a window at its end) gives the same ids as tokenizing all of it.
  for (const huge of [
    Array.from({ length: 30000 }, (_, i) => `w${i % 977}ord,`).join(' ') + ' the end.',
    'x'.repeat(9000) + ' ' + 'ab '.repeat(300), // the window's first cut lands inside a long word
    '東京'.repeat(5000), // no whitespace at all: every character a token
  ]) {
    const all = ids(huge);
    const leftIds = [all[0], ...all.slice(all.length - 255, all.length - 1), all[all.length - 1]];
    const r = await request(port, 'POST', '/embed', { inputs: huge, truncate: true, truncation_direction: 'Left' });
    assert.is(r.status, 200);
    assert.is(r.headers['x-compute-tokens'], '256');
    assert.equal(bitsOf(r.json[0]), bitsOf((await enc.encodeTokenIds(packed([leftIds]), { normalize: true })).row(0)), huge.slice(0, 20));
  }
  const sim = await request(port, 'POST', '/similarity', { inputs: { source_sentence: LONG, sentences: [LONG] }, parameters: { truncate: true, truncation_direction: 'Left' } });
  assert.is(sim.status, 200);
  assert.ok(Math.abs(sim.json[0] - 1) < 1e-5);
});

test('/embed dimensions: truncateDim, normalized again only when normalize is true (as encode)', async () => {
  for (const normalize of [true, false]) {
    const r = await request(port, 'POST', '/embed', { inputs: TEXTS, dimensions: 5, normalize });
    assert.is(r.status, 200);
    const want = await enc.encode(TEXTS, { truncateDim: 5, normalize });
    r.json.forEach((row, i) => assert.equal(bitsOf(row), bitsOf(want.row(i))));
  }
});

test('/embed_all: every token embedding of every input, bit-identical to encode({ outputValue: "token_embeddings" })', async () => {
  const r = await request(port, 'POST', '/embed_all', { inputs: TEXTS });
  assert.is(r.status, 200);
  const want = await enc.encode(TEXTS, { outputValue: 'token_embeddings' });
  assert.is(r.json.length, TEXTS.length);
  r.json.forEach((tokens, i) => {
    assert.is(tokens.length, want[i].count);
    tokens.forEach((t, k) => assert.equal(bitsOf(t), bitsOf(want[i].row(k)), `input ${i} token ${k}`));
  });
  const single = await request(port, 'POST', '/embed_all', { inputs: 'x' });
  assert.is(single.json.length, 1);
  assert.is(single.json[0].length, 3);
});

test('/embed_sparse, /predict, /rerank: 424 saying what the served model is; a malformed body is still 400', async () => {
  const sparse = await request(port, 'POST', '/embed_sparse', { inputs: 'x' });
  assert.is(sparse.status, 424);
  assert.is(sparse.json.error_type, 'Backend');
  assert.match(sparse.json.error, 'not an embedding model with SPLADE pooling');
  assert.is((await request(port, 'POST', '/embed_sparse', { inputs: 3 })).status, 400);
  for (const route of ['/predict', '/rerank']) {
    const r = await request(port, 'POST', route, { query: 'q', texts: ['a'] });
    assert.is(r.status, 424, route);
    assert.is(r.json.error_type, 'Backend');
  }
});

test('/tokenize: ids as the model tokenizes, specials flagged, byte spans of the input', async () => {
  const r = await request(port, 'POST', '/tokenize', { inputs: ['Hello, world!', 'Café ünbelievable 東京'] });
  assert.is(r.status, 200);
  assert.equal(
    r.json[0].map((t) => [t.id, t.text, t.special, t.start, t.stop]),
    [
      [101, '[CLS]', true, null, null],
      [7592, 'Hello', false, 0, 5],
      [1010, ',', false, 5, 6],
      [2088, 'world', false, 7, 12],
      [999, '!', false, 12, 13],
      [102, '[SEP]', true, null, null],
    ],
  );
  const text = 'Café ünbelievable 東京';
  const bytes = Buffer.from(text);
  const toks = r.json[1];
  assert.equal(toks.map((t) => t.id), ids(text));
  for (const t of toks.filter((x) => !x.special)) {
    assert.is(t.text, bytes.subarray(t.start, t.stop).toString(), `span of ${t.text}`);
    assert.ok(t.start < t.stop);
  }
  assert.equal(toks.filter((t) => !t.special).map((t) => t.text).join('|'), ['Café', ...toks.slice(2, -3).map((t) => t.text), '東', '京'].join('|'));
  const noSpecial = await request(port, 'POST', '/tokenize', { inputs: 'Hello', add_special_tokens: false });
  assert.equal(noSpecial.json, [[{ id: 7592, text: 'Hello', special: false, start: 0, stop: 5 }]]);
  const unk = await request(port, 'POST', '/tokenize', { inputs: 'a ' + 'x'.repeat(120) + ' b', add_special_tokens: false });
  assert.equal(unk.json[0].map((t) => [t.text.length, t.start, t.stop]), [[1, 0, 1], [120, 2, 122], [1, 123, 124]], '[UNK] spans its whole word');
  const long = await request(port, 'POST', '/tokenize', { inputs: 'x'.repeat(256 * 250 + 1) });
  assert.is(long.status, 413);
  assert.is((await request(port, 'POST', '/tokenize', { inputs: [] })).json.error_type, 'Empty');
});

test('/decode: one list or lists, skip_special_tokens (default true); ids are checked', async () => {
  const seq = ids('Hello, world!');
  const one = await request(port, 'POST', '/decode', { ids: seq });
  assert.equal(one.json, ['hello, world!']);
  const two = await request(port, 'POST', '/decode', { ids: [seq, [7592]], skip_special_tokens: false });
  assert.equal(two.json, ['[CLS] hello, world! [SEP]', 'hello']);
  assert.equal((await request(port, 'POST', '/decode', { ids: [] })).json, [''], 'TEI reads [] as one empty list');
  for (const body of [{ ids: [1.5] }, { ids: [[1], 'a'] }, { ids: [-1] }, { ids: 3 }, {}, { ids: [2 ** 32] }]) {
    const r = await request(port, 'POST', '/decode', body);
    assert.is(r.status, 400, JSON.stringify(body));
    assert.is(r.json.error_type, 'Validation');
  }
  assert.equal((await request(port, 'POST', '/decode', { ids: [2 ** 32 - 1, 7592] })).json, ['hello'], 'an id without a token is skipped, as HF does');
});

test('/info: TEI\'s fields, typed; TEI\'s timing headers; te_* metrics beside sbert_*', async () => {
  const info = (await request(port, 'GET', '/info')).json;
  assert.is(info.model_id, 'tiny');
  assert.is(info.model_sha, null);
  assert.is(info.model_dtype, 'float32');
  assert.is(info.served_model_name, 'tiny');
  assert.equal(info.model_type, { embedding: { pooling: 'mean' } });
  assert.is(info.max_batch_tokens, 8192);
  assert.is(info.tokenization_workers, 1);
  assert.is(info.max_batch_requests, null);
  assert.is(info.max_client_batch_size, 8);
  assert.is(info.max_openai_batch_size, 2048);
  assert.is(info.sha, null);
  assert.is(info.docker_label, null);
  assert.is(typeof info.version, 'string');

  const { s, port: p } = await started(enc, {});
  try {
    const r = await request(p, 'POST', '/embed', { inputs: ['a b c', 'Ünï'] });
    const tokens = ids('a b c').length + ids('Ünï').length;
    assert.is(r.headers['x-compute-tokens'], String(tokens));
    assert.is(r.headers['x-compute-characters'], String(5 + 3));
    assert.is(r.headers['x-compute-type'], 'cpu');
    for (const h of ['x-compute-time', 'x-total-time', 'x-tokenization-time', 'x-queue-time', 'x-inference-time']) assert.match(r.headers[h], /^\d+$/, h);
    assert.is((await request(p, 'GET', '/health')).headers['x-compute-tokens'], undefined, 'only inference answers carry them');
    await request(p, 'POST', '/embed', { inputs: 'single' });
    await request(p, 'POST', '/embed', { inputs: ['x', 1] });
    await request(p, 'POST', '/embed', { inputs: Array(33).fill('a') });
    const m = (await request(p, 'GET', '/metrics')).text;
    assert.is(metricValue(m, 'te_request_count{method="batch"}'), 3);
    assert.is(metricValue(m, 'te_request_count{method="single"}'), 1);
    assert.is(metricValue(m, 'te_request_success{method="batch"}'), 1);
    assert.is(metricValue(m, 'te_request_success{method="single"}'), 1);
    assert.is(metricValue(m, 'te_request_failure{err="validation"}'), 1);
    assert.is(metricValue(m, 'te_request_failure{err="batch_size"}'), 1);
    assert.is(metricValue(m, 'te_request_duration_count'), 2);
    assert.is(metricValue(m, 'te_request_input_length_count'), 3);
    assert.is(metricValue(m, 'te_request_input_length_sum'), tokens + ids('single').length);
    for (const name of ['te_request_tokenization_duration', 'te_request_queue_duration', 'te_request_inference_duration']) assert.is(metricValue(m, `${name}_count`), 2, name);
    assert.is(metricValue(m, 'te_queue_size'), 0);
    assert.is(metricValue(m, 'sbert_requests_total{route="/embed",status="200"}'), 2);
  } finally {
    await s.close();
  }
});

test('--api-key: 401 in TEI\'s shape (OpenAI\'s on its routes) without the right bearer token; health, metrics and docs stay open', async () => {
  const { s, port: p } = await started(enc, { apiKey: 's3cret' });
  try {
    const none = await request(p, 'POST', '/embed', { inputs: 'x' });
    assert.is(none.status, 401);
    assert.equal(none.json, { error: 'this server needs an API key: send Authorization: Bearer <key>', error_type: 'Unauthorized' });
    assert.is(none.headers['www-authenticate'], 'Bearer');
    const wrong = await request(p, 'POST', '/v1/embeddings', { input: 'x' }, { headers: { Authorization: 'Bearer s3cre' } });
    assert.is(wrong.status, 401);
    assert.is(wrong.json.error.code, 'invalid_api_key');
    assert.is(wrong.json.error.message, 'the API key is not valid');
    for (const route of ['/info', '/v1/models', '/tokenize', '/', '/embed_all']) {
      assert.is((await request(p, route === '/info' || route === '/v1/models' ? 'GET' : 'POST', route, route === '/info' || route === '/v1/models' ? undefined : { inputs: 'x' })).status, 401, route);
    }
    for (const route of ['/health', '/', '/ping', '/metrics', '/docs', '/api-doc/openapi.json']) assert.is((await request(p, 'GET', route)).status, 200, route);
    const ok = await request(p, 'POST', '/embed', { inputs: 'x' }, { headers: { Authorization: 'Bearer s3cret' } });
    assert.is(ok.status, 200);
    assert.equal(bitsOf(ok.json[0]), bitsOf((await enc.encode('x', { normalize: true })).row(0)));
  } finally {
    await s.close();
  }
  assert.throws(() => createServer(enc, { apiKey: '' }), /apiKey/);
  assert.throws(() => createServer(enc, { corsAllowOrigin: ['example.com'] }), /not an origin/);
});

test('CORS: any origin by default; a preflight is answered 204 before the API key is checked; a list echoes allowed origins only', async () => {
  const origin = 'https://app.example.com';
  const a = await request(port, 'POST', '/embed', { inputs: 'x' }, { headers: { Origin: origin } });
  assert.is(a.headers['access-control-allow-origin'], '*');
  assert.is((await request(port, 'POST', '/embed', { inputs: 'x' })).headers['access-control-allow-origin'], undefined, 'no Origin, no CORS headers');
  const bad = await request(port, 'POST', '/embed', '{', { headers: { Origin: origin } });
  assert.is(bad.headers['access-control-allow-origin'], '*', 'errors carry them too (so the page can read the error)');
  const { s, port: p } = await started(enc, { apiKey: 'k', corsAllowOrigin: [origin] });
  try {
    const pre = await request(p, 'OPTIONS', '/v1/embeddings', undefined, {
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
    });
    assert.is(pre.status, 204);
    assert.is(pre.headers['access-control-allow-origin'], origin);
    assert.match(pre.headers['access-control-allow-methods'], 'POST');
    assert.match(pre.headers['access-control-allow-headers'], 'authorization');
    assert.match(pre.headers.vary, 'Origin');
    const other = await request(p, 'OPTIONS', '/embed', undefined, { headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    assert.is(other.headers['access-control-allow-origin'], undefined);
    const real = await request(p, 'POST', '/embed', { inputs: 'x' }, { headers: { Origin: origin, Authorization: 'Bearer k' } });
    assert.is(real.status, 200);
    assert.is(real.headers['access-control-allow-origin'], origin);
    assert.is((await request(p, 'OPTIONS', '/nope', undefined, { headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } })).status, 404);
    assert.is((await request(p, 'OPTIONS', '/embed')).status, 405, 'not a preflight');
  } finally {
    await s.close();
  }
});

test('bulk: 2,048 inputs on /v1/embeddings in budget-sized parts, bit-identical; 2,049 → 413; small requests are served meanwhile (429 by queued tokens, not inputs)', async () => {
  const texts = Array.from({ length: 2048 }, (_, i) => `sentence ${i} ${'word '.repeat(i % 7)}`);
  const want = await enc.encode(texts, { normalize: true });
  const spy = spyOnEngines();
  const e = await SentenceEncoder.load(TINY, { device: 'cpu' });
  spy.restore();
  // Parts of ≤ 256 tokens; the queue limit (1,000 tokens) is far below the request's ~14,000.
  const { s, port: p } = await started(e, { maxBatchTokens: 256, maxQueueTokens: 1000 });
  try {
    const bulk = request(p, 'POST', '/v1/embeddings', { input: texts }, { timeoutMs: 60000 });
    await waitFor(() => spy.calls >= 3, 'the bulk request to be under way', 30000);
    const small = await request(p, 'POST', '/embed', { inputs: 'meanwhile' });
    assert.is(small.status, 200, 'admitted while the bulk request streams');
    const r = await bulk;
    assert.is(r.status, 200);
    assert.is(r.json.data.length, 2048);
    r.json.data.forEach((d, i) => {
      if (d.index !== i || bitsOf(d.embedding).join() !== bitsOf(want.row(i)).join()) assert.unreachable(`row ${i} differs`);
    });
    const tokens = r.json.usage.prompt_tokens;
    assert.ok(spy.calls >= Math.ceil(tokens / 256), `${spy.calls} native calls for ${tokens} tokens`);
    const m = (await request(p, 'GET', '/metrics')).text;
    assert.is(metricValue(m, 'sbert_queue_tokens'), 0);
    assert.is(metricValue(m, 'te_queue_size'), 0);
    const over = await request(p, 'POST', '/v1/embeddings', { input: Array(2049).fill('a') });
    assert.is(over.status, 413);
    assert.match(over.json.error.message, 'batch size 2049 > maximum allowed batch size 2048');
  } finally {
    await s.close();
    e.dispose();
  }
});

test('a client that leaves has its queued parts dropped before they reach the engine (tokens counted at the engine); others are answered exactly', async () => {
  const spy = spyOnEngines();
  const e = await SentenceEncoder.load(TINY, { device: 'cpu' });
  spy.restore();
  const { s, port: p } = await started(e, { maxBatchTokens: 64, maxClientBatchSize: 512 });
  try {
    const texts = Array.from({ length: 200 }, (_, i) => `leaving ${i} with some words`);
    const total = texts.reduce((n, t) => n + ids(t).length, 0);
    spy.hold(); // the engine takes the first part and keeps it
    let clientReq;
    const leaving = request(p, 'POST', '/embed', { inputs: texts }, { onRequest: (r) => (clientReq = r) }).catch((err) => err);
    await waitFor(() => spy.calls === 1, 'the first part in the engine');
    const firstPart = spy.tokens;
    assert.ok(firstPart <= 64 && firstPart < total);
    // A bystander queued behind it, and a malformed request meanwhile.
    const bystander = request(p, 'POST', '/embed', { inputs: TEXTS });
    assert.is((await request(p, 'POST', '/embed', '{"inputs": [1, "a"]}')).status, 400);
    clientReq.destroy();
    assert.instance(await leaving, Error);
    const bystanderTokens = TEXTS.reduce((n, t) => n + ids(t).length, 0);
    // The queued part leaves the queue at once; the one in the engine runs to its end.
    const queued = async () => metricValue((await request(p, 'GET', '/metrics')).text, 'sbert_queue_tokens');
    const deadline = Date.now() + 5000;
    while ((await queued()) !== firstPart + bystanderTokens && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.is(await queued(), firstPart + bystanderTokens, 'only the running part and the bystander are queued');
    spy.release();
    await waitFor(() => s.metrics.requests.get({ route: '/embed', status: '499' }) === 1, 'the abandoned request to finish');
    const b = await bystander;
    assert.is(b.status, 200);
    const want = await enc.encode(TEXTS, { normalize: true });
    b.json.forEach((row, i) => assert.equal(bitsOf(row), bitsOf(want.row(i))));
    assert.is(spy.tokens, firstPart + bystanderTokens, 'only the part already in the engine ran; the queued and unsent parts never reached it');
    const m = (await request(p, 'GET', '/metrics')).text;
    assert.is(metricValue(m, 'sbert_dropped_tokens_total'), total - firstPart);
    assert.is(metricValue(m, 'sbert_queue_tokens'), 0);
    assert.is(metricValue(m, 'te_request_failure{err="dropped"}'), 1);
  } finally {
    spy.release();
    await s.close();
    e.dispose();
  }
});

test('the docs page and the OpenAPI document are served', async () => {
  const docs = await request(port, 'GET', '/docs');
  assert.is(docs.status, 200);
  assert.match(docs.headers['content-type'], 'text/html');
  assert.match(docs.text, 'POST /v1/embeddings');
  const doc = await request(port, 'GET', '/api-doc/openapi.json');
  assert.is(doc.json.openapi, '3.1.0');
  assert.ok(doc.json.paths['/embed'].post);
});

test.run();
