// SentenceEncoder.encodeTokenIds: sequences given as token ids give exactly (bit for bit) what
// encode gives for the texts they were tokenized from — sentence and token embeddings, with
// normalize, truncateDim, prompts under include_prompt: false, any batch budget — and bad
// batches are refused before anything reaches the engine.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SentenceEncoder } = require('../dist');
const { FIXTURES } = require('./helpers/reference');
const { spyOnEngines } = require('./helpers/engine-spy');

const TINY = path.join(FIXTURES, 'tiny');
const TEXTS = ['A man is eating food.', '', 'Ünïcödé and 東京 too', 'lorem ipsum '.repeat(200), 'x'];

let enc;
test.before(async () => {
  enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
});
test.after(() => enc.dispose());

const bits = (f32) => Array.from(new Uint32Array(Float32Array.from(f32).buffer));
const tokenized = (e, texts) => e.tokenizer.encodeBatch(texts.map((t) => (e.model.doLowerCase ? t.toLowerCase() : t)), { maxLength: e.maxSeqLength });

test('sentence embeddings equal encode() bit for bit (normalize, truncateDim, budgets of 1 to all)', async () => {
  const { ids, cuSeqlens } = tokenized(enc, TEXTS);
  for (const options of [{}, { normalize: true }, { truncateDim: 7 }, { truncateDim: 7, normalize: true }]) {
    const want = await enc.encode(TEXTS, options);
    for (const batchTokens of [1, 17, 300, 8192]) {
      const infos = [];
      const got = await enc.encodeTokenIds({ ids, cuSeqlens }, { ...options, batchTokens, onBatch: (i) => infos.push(i) });
      assert.is(got.count, TEXTS.length);
      assert.is(got.dim, want.dim);
      assert.equal(bits(got.data), bits(want.data), `${JSON.stringify(options)} budget ${batchTokens}`);
      assert.is(infos.reduce((a, i) => a + i.sequences, 0), TEXTS.length);
      assert.is(infos.reduce((a, i) => a + i.tokens, 0), ids.length);
    }
  }
});

test('token embeddings equal encode({ outputValue: "token_embeddings" })', async () => {
  const { ids, cuSeqlens } = tokenized(enc, TEXTS);
  const want = await enc.encode(TEXTS, { outputValue: 'token_embeddings' });
  const got = await enc.encodeTokenIds({ ids, cuSeqlens }, { outputValue: 'token_embeddings', batchTokens: 40 });
  assert.is(got.length, TEXTS.length);
  got.forEach((g, i) => {
    assert.is(g.count, cuSeqlens[i + 1] - cuSeqlens[i]);
    assert.equal(bits(g.data), bits(want[i].data), `sequence ${i}`);
  });
});

test('promptTokens leaves the prompt out of the pooling under include_prompt: false, as encode({ prompt })', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-token-ids-'));
  try {
    fs.cpSync(TINY, dir, { recursive: true });
    const pf = path.join(dir, '1_Pooling', 'config.json');
    fs.writeFileSync(pf, JSON.stringify({ ...JSON.parse(fs.readFileSync(pf, 'utf8')), include_prompt: false }));
    const penc = await SentenceEncoder.load(dir, { device: 'cpu' });
    try {
      const prompt = 'query: ';
      const texts = ['A man is eating food.', 'Someone plays a guitar.'];
      const { ids, cuSeqlens } = tokenized(penc, texts.map((t) => prompt + t));
      const want = await penc.encode(texts, { prompt });
      const got = await penc.encodeTokenIds({ ids, cuSeqlens }, { promptTokens: penc.promptLength(prompt) });
      assert.equal(bits(got.data), bits(want.data));
      const pooledAll = await penc.encodeTokenIds({ ids, cuSeqlens });
      assert.not.equal(bits(pooledAll.data), bits(want.data), 'without promptTokens the prompt is pooled');
    } finally {
      penc.dispose();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad batches are refused before anything reaches the engine', async () => {
  const spy = spyOnEngines();
  const e = await SentenceEncoder.load(TINY, { device: 'cpu' });
  spy.restore();
  try {
    const vocab = e.model.config.vocabSize;
    const cases = [
      [null, TypeError, /batch must be/],
      [{ ids: [1, 2], cuSeqlens: Int32Array.of(0, 2) }, TypeError, /batch.ids must be an Int32Array/],
      [{ ids: Int32Array.of(1), cuSeqlens: [0, 1] }, TypeError, /cuSeqlens must be an Int32Array/],
      [{ ids: Int32Array.of(1, 2), cuSeqlens: Int32Array.of(0, 1) }, RangeError, /end at ids.length \(2\)/],
      [{ ids: Int32Array.of(1, 2), cuSeqlens: Int32Array.of(1, 2) }, RangeError, /start at 0/],
      [{ ids: Int32Array.of(1, 2), cuSeqlens: Int32Array.of(0, 0, 2) }, RangeError, /sequence 0 has 0 token ids/],
      [{ ids: new Int32Array(e.maxSeqLength + 1).fill(5), cuSeqlens: Int32Array.of(0, e.maxSeqLength + 1) }, RangeError, /1 to 256/],
      [{ ids: Int32Array.of(1, vocab), cuSeqlens: Int32Array.of(0, 2) }, RangeError, new RegExp(`batch.ids\\[1\\] = ${vocab} is not a token id`)],
      [{ ids: Int32Array.of(-1), cuSeqlens: Int32Array.of(0, 1) }, RangeError, /batch.ids\[0\] = -1/],
    ];
    for (const [batch, cls, message] of cases) {
      const err = await e.encodeTokenIds(batch).catch((x) => x);
      assert.instance(err, cls, String(message));
      assert.match(err.message, message);
    }
    for (const [options, message] of [
      [{ promptTokens: -1 }, /promptTokens/],
      [{ outputValue: 'x' }, /outputValue/],
      [{ batchTokens: 0 }, /batchTokens/],
      [{ signal: {} }, /signal/],
      [{ onBatch: 1 }, /onBatch/],
    ]) {
      const err = await e.encodeTokenIds({ ids: Int32Array.of(1), cuSeqlens: Int32Array.of(0, 1) }, options).catch((x) => x);
      assert.match(err.message, message);
    }
    assert.is(spy.calls, 0, 'nothing reached the engine');
    const empty = await e.encodeTokenIds({ ids: new Int32Array(0), cuSeqlens: Int32Array.of(0) });
    assert.is(empty.count, 0);
    e.dispose();
    const disposed = await e.encodeTokenIds({ ids: Int32Array.of(1), cuSeqlens: Int32Array.of(0, 1) }).catch((x) => x);
    assert.is(disposed.code, 'ERR_DISPOSED');
  } finally {
    e.dispose();
  }
});

test('batchTokens and precision describe the encoder', () => {
  assert.is(enc.batchTokens, 8192);
  assert.is(enc.precision, 'fp32');
});

test.run();
