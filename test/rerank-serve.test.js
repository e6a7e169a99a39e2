// `sbert serve --reranker` / createServer({ encoder?, reranker }) (issue 24, item 4): TEI's
// /rerank and /predict over a CrossEncoder. Every score is compared with the in-process
// cross-encoder float32 bit for bit (/rerank against ce.rank, order included; /predict against
// ce.predict); TEI's shapes (field order, single vs batch, labels best first); bad input (named,
// never reaching the engine, never disturbing other requests); admission (429) and a departing
// client (its queued pairs never reach the engine, counted at the engine); rerank, predict and
// embed requests at once on one server; a cross-encoder served alone (POST / is /rerank, the
// embedding routes 424, /tokenize with its tokenizer); /info, /v1/models and te_* metrics; and the
// CLI (--reranker alone and beside --model, argument and load errors). Loopback only.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { SentenceEncoder, CrossEncoder, createServer } = require('../dist');
const { FIXTURES } = require('./helpers/reference');
const { request, waitFor } = require('./helpers/http');
const { gated, serveProcess } = require('./helpers/serve-process');
const { spyOnEngines } = require('./helpers/engine-spy');

const TINY = path.join(FIXTURES, 'tiny');
const CE = path.join(FIXTURES, 'cross-encoders');
const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
const QUERY = 'Someone plays a musical instrument.';
const DOCS = ['A man is playing a flute.', 'A dog runs in the park.', '', 'Ünïcödé and 東京 too', 'Stocks fell sharply on Monday.', 'A woman plays the violin on stage.'];
const LONG = 'lorem ipsum dolor sit amet '.repeat(30); // well over the fixtures' 64 tokens

let enc;
const models = {}; // name → CrossEncoder

const bits = (numbers) => Array.from(new Uint32Array(Float32Array.from(numbers).buffer));
const f32 = (x) => Math.fround(x);

async function started(m, options) {
  const s = createServer(m, options);
  const { port } = await s.listen(0, '127.0.0.1');
  return { s, port };
}

function metricValue(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** Tokens of a pair as the cross-encoder sees it (truncated to its max length). */
const pairTokens = (ce, a, b) => ce.tokenizer.encodePair(a, b, { maxLength: ce.maxLength }).ids.length;

/** Asserts a /rerank answer equals ce.rank's hits: same order, same float32 scores. */
function sameHits(got, hits, what) {
  assert.equal(
    got.map((h) => h.index),
    hits.map((h) => h.corpusId),
    `${what}: order`,
  );
  assert.equal(bits(got.map((h) => h.score)), bits(hits.map((h) => h.score)), `${what}: scores`);
}

test.before(async () => {
  enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  for (const name of ['bert-ce', 'distilbert-ce', 'mpnet-ce', 'xlmr-ce']) models[name] = await CrossEncoder.load(path.join(CE, name), { device: 'cpu' });
});

test.after(() => {
  enc.dispose();
  for (const ce of Object.values(models)) ce.dispose();
});

test('/rerank = ce.rank(query, texts) for every one-label family: the same float32 scores, best first, ties in input order; raw_scores = the logits; return_text', async () => {
  for (const name of ['bert-ce', 'distilbert-ce', 'mpnet-ce']) {
    const ce = models[name];
    const { s, port } = await started({ reranker: ce });
    try {
      const docs = [...DOCS, DOCS[0]]; // a tie: the same text twice keeps input order
      const r = await request(port, 'POST', '/rerank', { query: QUERY, texts: docs });
      assert.is(r.status, 200, r.text);
      const hits = await ce.rank(QUERY, docs);
      sameHits(r.json, hits, name);
      assert.ok(r.json.findIndex((h) => h.index === 0) < r.json.findIndex((h) => h.index === docs.length - 1), `${name}: tie in input order`);
      for (const h of r.json) assert.equal(Object.keys(h), ['index', 'score'], 'no text unless asked for');
      // The scores are the model's activation of its logits (sigmoid for distilbert/mpnet, identity for bert-ce).
      const raw = await request(port, 'POST', '/rerank', { query: QUERY, texts: docs, raw_scores: true, return_text: true });
      sameHits(raw.json, await ce.rank(QUERY, docs, { activation: 'identity' }), `${name} raw`);
      for (const h of raw.json) {
        assert.equal(Object.keys(h), ['index', 'text', 'score'], "TEI's field order");
        assert.is(h.text, docs[h.index]);
      }
      if (ce.activation === 'sigmoid') {
        const byIndex = new Map(raw.json.map((h) => [h.index, h.score]));
        for (const h of r.json) assert.ok(Math.abs(h.score - 1 / (1 + Math.exp(-byIndex.get(h.index)))) < 1e-6, `${name}: sigmoid of the logit`);
      }
    } finally {
      await s.close();
    }
  }
});

test('/rerank truncation: over-length pairs are 413 naming the text unless truncate (or --auto-truncate); truncated as ce.rank truncates, from the end truncation_direction says', async () => {
  const ce = models['bert-ce'];
  const { s, port } = await started({ reranker: ce }, { maxClientBatchSize: 64 });
  const auto = await started({ reranker: ce }, { autoTruncate: true });
  try {
    const texts = ['short', LONG, `${LONG} the end differs`];
    const refused = await request(port, 'POST', '/rerank', { query: QUERY, texts });
    assert.is(refused.status, 413);
    assert.equal(refused.json, {
      error: `Input validation error: \`texts[1]\` with the query has more than ${ce.maxLength} tokens, the reranker's maximum input length; set \`truncate: true\` to truncate it`,
      error_type: 'Validation',
    });
    const right = await request(port, 'POST', '/rerank', { query: QUERY, texts, truncate: true });
    assert.is(right.status, 200);
    sameHits(right.json, await ce.rank(QUERY, texts), 'right');
    const left = await request(port, 'POST', '/rerank', { query: QUERY, texts, truncate: true, truncation_direction: 'Left' });
    sameHits(left.json, await ce.rank(QUERY, texts, { truncationSide: 'left' }), 'left');
    const bad = await ce.predict([['a', 'b']], { truncationSide: 'up' }).catch((e) => e);
    assert.ok(bad instanceof RangeError && /truncationSide/.test(bad.message), 'CrossEncoder refuses a bad truncationSide');
    // Truncated from the right, texts 1 and 2 are the same pair; from the left they are not.
    const score = (json, i) => json.find((h) => h.index === i).score;
    assert.is(score(right.json, 1), score(right.json, 2));
    assert.is.not(score(left.json, 1), score(left.json, 2));
    // The x-compute-tokens header counts the truncated pairs.
    assert.is(right.headers['x-compute-tokens'], String(texts.reduce((n, t) => n + pairTokens(ce, QUERY, t), 0)));
    assert.is(Number(right.headers['x-compute-tokens']) <= 3 * ce.maxLength, true);
    const a = await request(auto.port, 'POST', '/rerank', { query: QUERY, texts });
    sameHits(a.json, await ce.rank(QUERY, texts), '--auto-truncate');
    assert.is((await request(auto.port, 'POST', '/rerank', { query: QUERY, texts, truncate: false })).status, 413);
    // A long query is cut longest-first with its texts.
    const longQuery = await request(port, 'POST', '/rerank', { query: LONG, texts: ['a b c', LONG], truncate: true });
    sameHits(longQuery.json, await ce.rank(LONG, ['a b c', LONG]), 'long query');
  } finally {
    await s.close();
    await auto.s.close();
  }
});

test('/predict: TEI shapes — one pair → [{ score, label }], a batch → one list per pair — every label best first; scores = ce.predict with the softmax over several labels (raw_scores: the logits)', async () => {
  const classifier = models['xlmr-ce'];
  const reranker = models['mpnet-ce'];
  const { s, port } = await started({ encoder: enc, reranker: classifier }, { maxClientBatchSize: 8 });
  const alone = await started({ reranker });
  try {
    const pairs = [[QUERY, DOCS[0]], ['Ünïcödé', '東京'], ['', ''], [LONG, 'x']];
    const one = await request(port, 'POST', '/predict', { inputs: pairs[0] });
    assert.is(one.status, 200, one.text);
    const probs = await classifier.predict([pairs[0]], { applySoftmax: true });
    assert.is(one.json.length, 3);
    for (const p of one.json) assert.equal(Object.keys(p), ['score', 'label']);
    const sorted = Array.from(probs[0].keys()).sort((a, b) => probs[0][b] - probs[0][a]);
    assert.equal(one.json.map((p) => p.label), sorted.map((j) => classifier.labels[j]));
    assert.equal(bits(one.json.map((p) => p.score)), bits(sorted.map((j) => probs[0][j])));
    assert.ok(Math.abs(one.json.reduce((n, p) => n + p.score, 0) - 1) < 1e-6, 'a softmax over the labels');

    const batch = await request(port, 'POST', '/predict', { inputs: pairs, truncate: true });
    assert.is(batch.status, 200, batch.text);
    const want = await classifier.predict(pairs, { applySoftmax: true });
    const raw = await classifier.predict(pairs, { activation: 'identity' });
    const rawAnswer = (await request(port, 'POST', '/predict', { inputs: pairs, truncate: true, raw_scores: true })).json;
    assert.is(batch.json.length, pairs.length);
    for (let i = 0; i < pairs.length; i++) {
      const byLabel = (list) => classifier.labels.map((l) => list.find((p) => p.label === l).score);
      assert.equal(bits(byLabel(batch.json[i])), bits(Array.from(want[i])), `pair ${i}`);
      assert.equal(bits(byLabel(rawAnswer[i])), bits(Array.from(raw[i])), `pair ${i} raw`);
      const scores = batch.json[i].map((p) => p.score);
      assert.equal(scores, [...scores].sort((a, b) => b - a), 'best first');
    }
    // One label: the model's activation (sigmoid), as /rerank; the label is LABEL_0.
    const single = await request(alone.port, 'POST', '/predict', { inputs: [pairs[0], pairs[1]] });
    const scores = await reranker.predict([pairs[0], pairs[1]]);
    assert.equal(single.json.map((l) => l.map((p) => p.label)), [['LABEL_0'], ['LABEL_0']]);
    assert.equal(bits(single.json.map((l) => l[0].score)), bits(scores));
  } finally {
    await s.close();
    await alone.s.close();
  }
});

test('bad input: 400 naming the field (non-string texts, missing fields, one text where a pair is needed), 400 Empty for no texts, 413 past the batch size; an empty query is a query', async () => {
  const ce = models['bert-ce'];
  const { s, port } = await started({ reranker: ce }, { maxClientBatchSize: 4 });
  try {
    const cases = [
      ['/rerank', { query: QUERY, texts: ['a', 7] }, 400, 'Validation', '`texts[1]` must be a string (got number)'],
      ['/rerank', { query: QUERY, texts: ['a', null] }, 400, 'Validation', '`texts[1]` must be a string (got null)'],
      ['/rerank', { query: QUERY, texts: 'a' }, 400, 'Validation', '`texts` must be an array of strings (got string)'],
      ['/rerank', { query: QUERY }, 400, 'Validation', '`texts` is required (an array of strings)'],
      ['/rerank', { texts: ['a'] }, 400, 'Validation', '`query` is required (a string)'],
      ['/rerank', { query: ['q'], texts: ['a'] }, 400, 'Validation', '`query` must be a string (got an array)'],
      ['/rerank', { query: QUERY, texts: ['a'], raw_scores: 'yes' }, 400, 'Validation', '`raw_scores` must be a boolean (got string)'],
      ['/rerank', { query: QUERY, texts: ['a'], truncation_direction: 'up' }, 400, 'Validation', "`truncation_direction` must be 'Left' or 'Right' (got \"up\")"],
      ['/rerank', { query: QUERY, texts: [] }, 400, 'Empty', '`texts` cannot be empty'],
      ['/rerank', { query: QUERY, texts: ['a', 'b', 'c', 'd', 'e'] }, 413, 'Validation', 'batch size 5 > maximum allowed batch size 4'],
      ['/predict', { inputs: 'one text' }, 400, 'Validation', '`inputs` is one text: the served cross-encoder scores pairs of texts, [text_a, text_b]'],
      ['/predict', { inputs: [['a', 'b'], ['c']] }, 400, 'Validation', '`inputs[1]` is one text'],
      ['/predict', { inputs: ['a', 'b', 'c'] }, 400, 'Validation', '`inputs` must be a text or a pair of texts: [string] or [string, string] (got an array of 3)'],
      ['/predict', { inputs: [['a', 2]] }, 400, 'Validation', '`inputs[0][1]` must be a string (got number)'],
      ['/predict', { inputs: [] }, 400, 'Empty', '`inputs` cannot be empty'],
      ['/predict', {}, 400, 'Validation', '`inputs` is required'],
      ['/predict', { inputs: Array(5).fill(['a', 'b']) }, 413, 'Validation', 'batch size 5 > maximum allowed batch size 4'],
      ['/predict', { inputs: ['q', LONG] }, 413, 'Validation', '`inputs` with its first text has more than 64 tokens'],
    ];
    const spy = [];
    const realPredict = ce.predict;
    ce.predict = (...args) => (spy.push(args), realPredict.apply(ce, args));
    try {
      for (const [route, body, status, type, message] of cases) {
        const r = await request(port, 'POST', route, body);
        assert.is(r.status, status, `${route} ${JSON.stringify(body).slice(0, 80)}: ${r.text}`);
        assert.is(r.json.error_type, type);
        assert.match(r.json.error, message);
      }
      assert.is(spy.length, 0, 'no bad request reached the cross-encoder');
    } finally {
      ce.predict = realPredict;
    }
    const empty = await request(port, 'POST', '/rerank', { query: '', texts: DOCS.slice(0, 3) });
    assert.is(empty.status, 200);
    sameHits(empty.json, await ce.rank('', DOCS.slice(0, 3)), 'empty query');
  } finally {
    await s.close();
  }
});

test('rerank, predict and embed requests at once, good and bad mixed, on one server: every answer exact', async () => {
  const ce = models['distilbert-ce'];
  const { s, port } = await started({ encoder: enc, reranker: ce }, { maxClientBatchSize: 64 });
  try {
    const jobs = [];
    for (let k = 0; k < 24; k++) {
      const texts = DOCS.map((d, i) => `${d} ${k} ${'x '.repeat((k + i) % 7)}`);
      if (k % 4 === 0) jobs.push({ kind: 'embed', texts, reply: request(port, 'POST', '/embed', { inputs: texts }) });
      else if (k % 4 === 1) jobs.push({ kind: 'rerank', texts, reply: request(port, 'POST', '/rerank', { query: `${QUERY} ${k}`, texts, return_text: k % 2 === 1 }) });
      else if (k % 4 === 2) jobs.push({ kind: 'predict', texts, reply: request(port, 'POST', '/predict', { inputs: texts.map((t) => [`q${k}`, t]) }) });
      else jobs.push({ kind: 'bad', reply: request(port, 'POST', '/rerank', { query: QUERY, texts: [...texts, { not: 'a string' }] }) });
    }
    const replies = await Promise.all(jobs.map((j) => j.reply));
    for (let k = 0; k < jobs.length; k++) {
      const j = jobs[k];
      const r = replies[k];
      if (j.kind === 'bad') {
        assert.is(r.status, 400);
        assert.match(r.json.error, `\`texts[${DOCS.length}]\` must be a string`);
        continue;
      }
      assert.is(r.status, 200, `${j.kind} ${k}: ${r.text}`);
      if (j.kind === 'embed') {
        const e = await enc.encode(j.texts, { normalize: true });
        r.json.forEach((row, i) => assert.equal(bits(row), bits(e.row(i)), `embed ${k} row ${i}`));
      } else if (j.kind === 'rerank') {
        sameHits(r.json, await ce.rank(`${QUERY} ${k}`, j.texts), `rerank ${k}`);
      } else {
        const want = await ce.predict(j.texts.map((t) => [`q${k}`, t]));
        assert.equal(bits(r.json.map((l) => l[0].score)), bits(want), `predict ${k}`);
      }
    }
    const m = (await request(port, 'GET', '/metrics')).text;
    assert.is(metricValue(m, 'sbert_queue_tokens'), 0);
    assert.is(metricValue(m, 'te_predict_count'), 12 * DOCS.length);
    assert.is(metricValue(m, 'te_predict_success'), 12 * DOCS.length);
  } finally {
    await s.close();
  }
});

test('admission: 429 past max concurrent requests and queued tokens, shared by rerank and embed requests; the admitted ones are answered exactly', async () => {
  const ce = models['bert-ce'];
  const held = gated(ce, 'predict');
  const tokens = pairTokens(ce, QUERY, DOCS[0]);
  const { s, port } = await started({ encoder: enc, reranker: held }, { maxConcurrentRequests: 2, maxQueueTokens: tokens + 2 });
  try {
    const first = request(port, 'POST', '/rerank', { query: QUERY, texts: [DOCS[0]] });
    await waitFor(() => held.waiting === 1, 'a rerank in the cross-encoder');
    const byTokens = await request(port, 'POST', '/embed', { inputs: 'one two three four five' });
    assert.is(byTokens.status, 429);
    assert.match(byTokens.json.error, `${tokens} tokens are queued (limit ${tokens + 2})`);
    const second = request(port, 'POST', '/predict', { inputs: ['', ''] }); // [CLS] [SEP] [SEP]: 3 tokens… over the limit too
    const r2 = await second;
    assert.is(r2.status, 429, 'queued tokens are shared by both models');
    const small = request(port, 'POST', '/rerank', { query: '', texts: [''] }); // 3 tokens: refused as well (tokens + 3 > limit)
    assert.is((await small).status, 429);
    held.release();
    const r1 = await first;
    assert.is(r1.status, 200);
    sameHits(r1.json, await ce.rank(QUERY, [DOCS[0]]), 'admitted');
    assert.is((await request(port, 'POST', '/predict', { inputs: ['', ''] })).status, 200, 'admitted once the queue is empty');
    const m = (await request(port, 'GET', '/metrics')).text;
    assert.is(metricValue(m, 'sbert_rejected_total{limit="max_queue_tokens"}'), 3);
    assert.is(metricValue(m, 'te_request_failure{err="overloaded"}'), 3);
  } finally {
    held.release();
    await s.close();
  }
});

test('a client that leaves has its pairs still queued dropped before they reach the engine (counted at the engine); a bystander is answered exactly', async () => {
  const spy = spyOnEngines();
  const ce = await CrossEncoder.load(path.join(CE, 'bert-ce'), { device: 'cpu' });
  spy.restore();
  const { s, port } = await started({ reranker: ce }, { maxBatchTokens: 64, maxClientBatchSize: 512 });
  try {
    const texts = Array.from({ length: 120 }, (_, i) => `document ${i} with a few words`);
    const total = texts.reduce((n, t) => n + pairTokens(ce, QUERY, t), 0);
    let left = 0;
    s.httpServer.on('request', (req, res) => res.on('close', () => (left += res.writableFinished ? 0 : 1)));
    spy.hold(); // the engine takes the first part and keeps it
    let clientReq;
    const leaving = request(port, 'POST', '/rerank', { query: QUERY, texts }, { onRequest: (r) => (clientReq = r) }).catch((err) => err);
    await waitFor(() => spy.calls === 1, 'the first part in the engine');
    const firstPart = spy.tokens;
    assert.ok(firstPart <= 64 && firstPart < total);
    const bystander = request(port, 'POST', '/rerank', { query: 'q', texts: DOCS });
    assert.is((await request(port, 'POST', '/rerank', { query: 'q', texts: [1] })).status, 400);
    clientReq.destroy();
    assert.instance(await leaving, Error);
    // Release the engine only once the server has seen the client go (its response closed
    // unfinished: the server's own listener, registered first, has aborted the request by then).
    await waitFor(() => left === 1, 'the server to see the client leave');
    spy.release();
    await waitFor(() => s.metrics.requests.get({ route: '/rerank', status: '499' }) === 1, 'the abandoned request to finish');
    const b = await bystander;
    const ran = spy.tokens; // before the test's own ce.rank below (the same spied engine)
    assert.is(b.status, 200);
    sameHits(b.json, await ce.rank('q', DOCS), 'bystander');
    const bystanderTokens = DOCS.reduce((n, t) => n + pairTokens(ce, 'q', t), 0);
    assert.is(ran, firstPart + bystanderTokens, 'only the part already in the engine ran');
    const m = (await request(port, 'GET', '/metrics')).text;
    assert.is(metricValue(m, 'sbert_dropped_tokens_total'), total - firstPart);
    assert.is(metricValue(m, 'sbert_queue_tokens'), 0);
    assert.is(metricValue(m, 'te_request_failure{err="dropped"}'), 1);
  } finally {
    spy.release();
    await s.close();
    ce.dispose();
  }
});

test('a cross-encoder served alone: POST / and /invocations are /rerank (/predict for several labels), the embedding routes 424 as TEI, /tokenize uses its tokenizer; /info and /v1/models name it', async () => {
  const ce = models['mpnet-ce'];
  const { s, port } = await started({ reranker: ce }, { modelId: 'my-reranker' });
  const cls = await started({ reranker: models['xlmr-ce'] });
  try {
    for (const route of ['/', '/invocations']) {
      const r = await request(port, 'POST', route, { query: QUERY, texts: DOCS });
      assert.is(r.status, 200, r.text);
      sameHits(r.json, await ce.rank(QUERY, DOCS), route);
      const p = await request(cls.port, 'POST', route, { inputs: ['a', 'b'] });
      assert.is(p.status, 200, p.text);
      assert.is(p.json.length, 3);
    }
    for (const route of ['/embed', '/embed_all', '/embed_sparse', '/similarity']) {
      const r = await request(port, 'POST', route, { inputs: 'x' });
      assert.is(r.status, 424, route);
      assert.equal(r.json, { error: 'Model is not an embedding model: this server serves a cross-encoder (use /rerank or /predict)', error_type: 'Backend' });
    }
    const openai = await request(port, 'POST', '/v1/embeddings', { input: 'x' });
    assert.is(openai.status, 424);
    assert.is(openai.json.error.type, 'invalid_request_error');
    assert.match(openai.json.error.message, 'Model is not an embedding model');
    const tok = await request(port, 'POST', '/tokenize', { inputs: 'Hello world' });
    assert.equal(tok.json[0].map((t) => t.id), Array.from(ce.tokenizer.encode('Hello world').ids));
    const dec = await request(port, 'POST', '/decode', { ids: Array.from(ce.tokenizer.encode('hello world').ids) });
    assert.equal(dec.json, [ce.tokenizer.decode(Array.from(ce.tokenizer.encode('hello world').ids), { skipSpecialTokens: true })]);
    assert.is((await request(port, 'POST', '/tokenize', { inputs: 'x', prompt_name: 'query' })).status, 400);
    const info = (await request(port, 'GET', '/info')).json;
    assert.is(info.model_id, 'my-reranker');
    assert.equal(info.model_type, { reranker: { id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 } } });
    assert.is(info.max_input_length, ce.maxLength);
    assert.is(info.model_dtype, 'float32');
    assert.is(info.device, 'cpu');
    assert.is(info.dimension, undefined);
    assert.equal((await request(cls.port, 'GET', '/info')).json.model_type, {
      classifier: { id2label: { 0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2' }, label2id: { LABEL_0: 0, LABEL_1: 1, LABEL_2: 2 } },
    });
    assert.equal((await request(port, 'GET', '/v1/models')).json.data.map((m) => m.id), ['my-reranker']);
    // The rerank of a classifier is refused as TEI refuses it.
    const refused = await request(cls.port, 'POST', '/rerank', { query: 'q', texts: ['a'] });
    assert.is(refused.status, 424);
    assert.match(refused.json.error, 'Model is not a reranker model: it has 3 labels');
  } finally {
    await s.close();
    await cls.s.close();
  }
});

test('both models: /info describes the reranker under `reranker`, /v1/models lists both; te_* metrics count rerank (batch) and predict (single / batch) requests', async () => {
  const ce = models['bert-ce'];
  const { s, port } = await started({ encoder: enc, reranker: ce }, { maxClientBatchSize: 4 });
  try {
    const info = (await request(port, 'GET', '/info')).json;
    assert.equal(info.model_type, { embedding: { pooling: 'mean' } });
    assert.equal(info.reranker, {
      model_id: 'bert-ce',
      model_sha: null,
      model_dtype: 'float32',
      model_type: { reranker: { id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 } } },
      max_input_length: ce.maxLength,
      device: 'cpu',
    });
    assert.equal((await request(port, 'GET', '/v1/models')).json.data.map((m) => m.id), ['tiny', 'bert-ce']);
    assert.is((await request(port, 'GET', '/v1/models/bert-ce')).json.id, 'bert-ce');
    const nope = await request(port, 'GET', '/v1/models/nope');
    assert.is(nope.status, 404);
    assert.match(nope.json.error.message, 'this server serves "tiny" and "bert-ce"');
    const r = await request(port, 'POST', '/rerank', { query: 'a b', texts: ['Ünï', 'c d e'] });
    assert.is(r.headers['x-compute-tokens'], String(pairTokens(ce, 'a b', 'Ünï') + pairTokens(ce, 'a b', 'c d e')));
    assert.is(r.headers['x-compute-characters'], String(3 + 3 + 3 + 5), "TEI's count: the query once per text");
    for (const h of ['x-compute-time', 'x-total-time', 'x-tokenization-time', 'x-queue-time', 'x-inference-time']) assert.match(r.headers[h], /^\d+$/, h);
    await request(port, 'POST', '/predict', { inputs: ['a', 'b'] });
    await request(port, 'POST', '/predict', { inputs: [['a', 'b'], ['c', 'd']] });
    await request(port, 'POST', '/rerank', { query: 'q', texts: [] });
    await request(port, 'POST', '/rerank', { query: 'q', texts: Array(5).fill('a') });
    const m = (await request(port, 'GET', '/metrics')).text;
    assert.is(metricValue(m, 'te_request_count{method="batch"}'), 4);
    assert.is(metricValue(m, 'te_request_count{method="single"}'), 1);
    assert.is(metricValue(m, 'te_request_success{method="batch"}'), 2);
    assert.is(metricValue(m, 'te_request_success{method="single"}'), 1);
    assert.is(metricValue(m, 'te_request_failure{err="validation"}'), 1);
    assert.is(metricValue(m, 'te_request_failure{err="batch_size"}'), 1);
    assert.is(metricValue(m, 'te_predict_count'), 5);
    assert.is(metricValue(m, 'te_request_input_length_count'), 5);
    assert.is(metricValue(m, 'sbert_requests_total{route="/rerank",status="200"}'), 1);
  } finally {
    await s.close();
  }
});

test('a NaN score is a 424 Backend error, as TEI answers it (never a sort of NaNs)', async () => {
  const ce = models['bert-ce'];
  const broken = Object.create(ce);
  broken.predict = async (pairs) => Float32Array.from(pairs, (_, i) => (i === 1 ? NaN : i));
  const { s, port } = await started({ reranker: broken });
  try {
    for (const [route, body] of [
      ['/rerank', { query: 'q', texts: ['a', 'b', 'c'] }],
      ['/predict', { inputs: [['a', 'b'], ['c', 'd']] }],
    ]) {
      const r = await request(port, 'POST', route, body);
      assert.is(r.status, 424, route);
      assert.equal(r.json, { error: 'score is NaN', error_type: 'Backend' });
    }
  } finally {
    await s.close();
  }
});

test('createServer checks the models it is given', () => {
  const ce = models['bert-ce'];
  assert.throws(() => createServer({}), (e) => e instanceof TypeError && /encoder.*reranker/.test(e.message));
  assert.throws(() => createServer({ reranker: enc }), (e) => e instanceof TypeError && /reranker must be a CrossEncoder/.test(e.message));
  assert.throws(() => createServer({ encoder: ce }), (e) => e instanceof TypeError && /encoder must be a SentenceEncoder/.test(e.message));
  assert.throws(() => createServer({ reranker: ce }, { maxInputLength: 10 }), (e) => e instanceof RangeError && /maxLength/.test(e.message));
  assert.throws(() => createServer({ reranker: ce }, { rerankerId: 'x' }), (e) => e instanceof TypeError && /modelId/.test(e.message));
  assert.throws(() => createServer({ encoder: enc, reranker: ce }, { modelId: 'same', rerankerId: 'same' }), (e) => e instanceof RangeError && /differ/.test(e.message));
  assert.ok(createServer({ reranker: ce }, { maxInputLength: ce.maxLength }));
});

// ---- the CLI ------------------------------------------------------------------------------------


async function stop(p) {
  const exited = new Promise((r) => p.child.on('exit', (code) => r(code)));
  p.child.kill('SIGTERM');
  return exited;
}

test('`sbert serve --reranker DIR` serves the cross-encoder alone; with --model both; --max-input-length sets its max length; exit 0 on SIGTERM', async () => {
  const dir = path.join(CE, 'distilbert-ce');
  const ce = models['distilbert-ce'];
  const alone = await serveProcess(['--reranker', dir, '--device', 'cpu', '--port', '0', '--max-input-length', '32']);
  try {
    assert.ok(alone.port, alone.stderr);
    assert.match(alone.stdout, 'sbert serve: reranker distilbert-ce on cpu, listening on');
    const r = await request(alone.port, 'POST', '/rerank', { query: QUERY, texts: DOCS });
    const short = await CrossEncoder.load(dir, { device: 'cpu', maxLength: 32 });
    try {
      sameHits(r.json, await short.rank(QUERY, DOCS), 'alone');
    } finally {
      short.dispose();
    }
    assert.is((await request(alone.port, 'GET', '/info')).json.max_input_length, 32);
    assert.is((await request(alone.port, 'POST', '/embed', { inputs: 'x' })).status, 424);
  } finally {
    assert.is(await stop(alone), 0, alone.stderr);
  }
  const both = await serveProcess(['--model', TINY, '--reranker', dir, '--reranker-id', 'ce', '--device', 'cpu', '--port', '0']);
  try {
    assert.ok(both.port, both.stderr);
    assert.match(both.stdout, 'sbert serve: tiny on cpu and reranker ce on cpu, listening on');
    const [e, r] = await Promise.all([
      request(both.port, 'POST', '/embed', { inputs: DOCS }),
      request(both.port, 'POST', '/rerank', { query: QUERY, texts: DOCS }),
    ]);
    const want = await enc.encode(DOCS, { normalize: true });
    e.json.forEach((row, i) => assert.equal(bits(row), bits(want.row(i))));
    sameHits(r.json, await ce.rank(QUERY, DOCS), 'both');
    assert.is((await request(both.port, 'GET', '/info')).json.reranker.model_id, 'ce');
  } finally {
    assert.is(await stop(both), 0, both.stderr);
  }
});

test('`sbert serve --reranker` errors: a folder that is not a cross-encoder is one line and exit 1; argument errors exit 2', async () => {
  for (const [args, message] of [
    [['--reranker', TINY], 'sbert serve: cannot load the reranker: ERR_BAD_MODEL'],
    [['--reranker', path.join(CE, 'nope')], 'sbert serve: cannot load the reranker: ERR_BAD_MODEL'],
    [['--reranker', path.join(CE, 'bert-ce'), '--max-input-length', '4096'], 'sbert serve: --reranker'],
  ]) {
    const r = await serveProcess([...args, '--device', 'cpu', '--port', '0']);
    assert.is(r.code, 1, r.stderr);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
  for (const args of [
    ['serve', '--reranker', path.join(CE, 'bert-ce'), '--reranker-id', 'x'],
    ['serve', '--reranker', ''],
    ['serve', '--reranker'],
  ]) {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10000 });
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^sbert serve: /);
  }
});

test.run();
