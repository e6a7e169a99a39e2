// CrossEncoder (issue 24): random-weight Hugging Face sequence-classification folders of every
// family (test/fixtures/cross-encoders, tools/reference/make_cross_encoder_fixtures.js) against
// plain-PyTorch logits; pair tokenization (ids and token type ids, longest-first truncation)
// against Hugging Face `tokenizers`; the score activations; rank against a brute-force sort;
// segment ids mattering; concurrency; bad input.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { CrossEncoder, SbertError } = require('../dist');
const w = require('../dist/weights');
const { FIXTURES } = require('./helpers/reference');

const CE = path.join(FIXTURES, 'cross-encoders');
const NAMES = ['bert-ce', 'xlmr-ce', 'distilbert-ce', 'mpnet-ce'];
const EXPECTED_ACTIVATION = { 'bert-ce': 'identity', 'xlmr-ce': 'identity', 'distilbert-ce': 'sigmoid', 'mpnet-ce': 'sigmoid' };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-ce-'));

function reference(name) {
  const meta = JSON.parse(fs.readFileSync(path.join(CE, name, 'reference.json'), 'utf8'));
  const st = w.parseSafetensors(fs.readFileSync(path.join(CE, name, 'reference.safetensors')), 'reference');
  const logits = st.tensors.get('logits');
  return { meta, logits: w.toFloat32(logits), labels: logits.shape[1] };
}

const sigmoid = (x) => 1 / (1 + Math.exp(-x));

for (const name of NAMES) {
  test(`${name}: pair ids and token types equal Hugging Face tokenizers; logits match the PyTorch reference; the default activation is the model's`, async () => {
    const ref = reference(name);
    const ce = await CrossEncoder.load(path.join(CE, name), { device: 'cpu' });
    try {
      assert.is(ce.numLabels, ref.labels);
      assert.is(ce.maxLength, ref.meta.max_length);
      assert.is(ce.activation, EXPECTED_ACTIVATION[name]);
      const enc = ce.tokenizer.encodePairBatch(ref.meta.pairs, { maxLength: ce.maxLength });
      for (let i = 0; i < ref.meta.pairs.length; i++) {
        const a = enc.cuSeqlens[i], b = enc.cuSeqlens[i + 1];
        assert.equal(Array.from(enc.ids.subarray(a, b)), ref.meta.ids[i], `ids of pair ${i}`);
        assert.equal(Array.from(enc.typeIds.subarray(a, b)), ref.meta.typeIds[i], `type ids of pair ${i}`);
      }
      const raw = await ce.predict(ref.meta.pairs, { activation: 'identity' });
      const flat = ref.labels === 1 ? raw : Float32Array.from(raw.flatMap((r) => Array.from(r)));
      let maxRef = 0, maxDiff = 0;
      for (let i = 0; i < flat.length; i++) {
        maxRef = Math.max(maxRef, Math.abs(ref.logits[i]));
        maxDiff = Math.max(maxDiff, Math.abs(flat[i] - ref.logits[i]));
      }
      assert.ok(maxDiff <= 1e-5 * Math.max(maxRef, 1), `${name}: logits differ by ${maxDiff} (max |logit| ${maxRef})`);
      const scores = await ce.predict(ref.meta.pairs);
      if (ref.labels === 1) {
        for (let i = 0; i < scores.length; i++) {
          const want = EXPECTED_ACTIVATION[name] === 'sigmoid' ? sigmoid(ref.logits[i]) : ref.logits[i];
          assert.ok(Math.abs(scores[i] - want) <= 1e-5, `${name} score ${i}: ${scores[i]} vs ${want}`);
        }
        const sig = await ce.predict(ref.meta.pairs, { activation: 'sigmoid' });
        for (let i = 0; i < sig.length; i++) assert.ok(Math.abs(sig[i] - sigmoid(ref.logits[i])) <= 1e-6);
      } else {
        const soft = await ce.predict(ref.meta.pairs, { applySoftmax: true });
        for (const row of soft) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'softmax rows sum to 1');
        assert.is(soft.length, ref.meta.pairs.length);
      }
    } finally {
      ce.dispose();
    }
  });
}

test('rank = a brute-force sort of predict (ties in input order), topK, returnDocuments; concurrent calls give the same scores', async () => {
  const ce = await CrossEncoder.load(path.join(CE, 'bert-ce'), { device: 'cpu' });
  try {
    const docs = ['A man is playing a flute.', 'A dog runs.', '', 'A man is playing a flute.', 'Stocks fell sharply on Monday.', 'x'.repeat(400)];
    const query = 'Someone plays a musical instrument.';
    const scores = await ce.predict(docs.map((d) => [query, d]));
    const brute = docs.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
    const hits = await ce.rank(query, docs);
    assert.equal(hits.map((h) => h.corpusId), brute);
    assert.equal(hits.map((h) => h.score), brute.map((i) => scores[i]));
    assert.ok(hits.every((h) => h.text === undefined));
    const top = await ce.rank(query, docs, { topK: 2, returnDocuments: true });
    assert.equal(top, brute.slice(0, 2).map((i) => ({ corpusId: i, score: scores[i], text: docs[i] })));
    // Duplicates tie: the earlier index first.
    assert.ok(hits.findIndex((h) => h.corpusId === 0) < hits.findIndex((h) => h.corpusId === 3));
    // Concurrent callers (merged into shared native calls) get exactly their own scores.
    const many = await Promise.all(docs.map((d) => ce.predict([[query, d]])));
    assert.equal(many.map((s) => s[0]), Array.from(scores));
    // Small token budgets cut the pairs into many native calls: same scores.
    assert.equal(Array.from(await ce.predict(docs.map((d) => [query, d]), { batchTokens: 20 })), Array.from(scores));
    assert.equal(await ce.rank(query, []), []);
    assert.equal(Array.from(await ce.predict([])), []);
  } finally {
    ce.dispose();
  }
});

test('segment ids matter (BERT): a type table whose row 1 equals row 0 gives other logits than the trained one', async () => {
  const ref = reference('bert-ce');
  const st = w.parseSafetensors(fs.readFileSync(path.join(CE, 'bert-ce', 'model.safetensors')), 'model');
  const tensors = {};
  for (const [k, v] of st.tensors) tensors[k] = { dtype: 'F32', shape: v.shape, data: w.toFloat32(v) };
  const types = tensors['bert.embeddings.token_type_embeddings.weight'];
  const H = types.shape[1];
  types.data.copyWithin(H, 0, H); // row 1 := row 0
  const dir = fs.mkdtempSync(path.join(tmp, 'types-'));
  fs.cpSync(path.join(CE, 'bert-ce'), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.safetensors'), w.writeSafetensors(tensors));
  const a = await CrossEncoder.load(path.join(CE, 'bert-ce'), { device: 'cpu' });
  const b = await CrossEncoder.load(dir, { device: 'cpu' });
  try {
    const pairs = ref.meta.pairs.slice(0, 6);
    const x = await a.predict(pairs);
    const y = await b.predict(pairs);
    let diff = 0;
    for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i] - y[i]));
    assert.ok(diff > 1e-3, `token type ids change the logits (max diff ${diff})`);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('bad input: pairs that are not two strings, bad options, a bi-encoder folder, the bundled model, disposed', async () => {
  const ce = await CrossEncoder.load(path.join(CE, 'bert-ce'), { device: 'cpu' });
  try {
    await ce.predict('a').then(() => assert.unreachable(), (e) => assert.ok(e instanceof TypeError && /pairs/.test(e.message), e.message));
    await ce.predict([['a']]).then(() => assert.unreachable(), (e) => assert.ok(e instanceof TypeError && /pairs\[0\]/.test(e.message), e.message));
    await ce.predict([['a', 'b'], ['c', 3]]).then(() => assert.unreachable(), (e) => assert.ok(e instanceof TypeError && /pairs\[1\]\[1\]/.test(e.message), e.message));
    await ce.predict([['a', 'b']], { activation: 'gelu' }).then(() => assert.unreachable(), (e) => assert.ok(e instanceof RangeError && /activation/.test(e.message)));
    await ce.rank('q', ['a', 7]).then(() => assert.unreachable(), (e) => assert.ok(e instanceof TypeError && /documents\[1\]/.test(e.message)));
    await ce.rank('q', ['a'], { topK: 0 }).then(() => assert.unreachable(), (e) => assert.ok(e instanceof RangeError && /topK/.test(e.message)));
  } finally {
    ce.dispose();
  }
  await ce.predict([['a', 'b']]).then(() => assert.unreachable(), (e) => assert.is(e.code, 'ERR_DISPOSED'));
  await CrossEncoder.load(path.join(FIXTURES, 'tiny'), { device: 'cpu' }).then(
    () => assert.unreachable('loaded a bi-encoder'),
    (e) => assert.ok(e instanceof SbertError && e.code === 'ERR_BAD_MODEL' && /SentenceEncoder/.test(e.message), e.message),
  );
  await CrossEncoder.load('default', { device: 'cpu' }).then(
    () => assert.unreachable('loaded the bundled bi-encoder'),
    (e) => assert.ok(e.code === 'ERR_BAD_MODEL' && /SentenceEncoder/.test(e.message), e.message),
  );
  const xlmr = await CrossEncoder.load(path.join(CE, 'xlmr-ce'), { device: 'cpu' });
  try {
    await xlmr.rank('q', ['a']).then(() => assert.unreachable(), (e) => assert.ok(e instanceof RangeError && /one label/.test(e.message)));
  } finally {
    xlmr.dispose();
  }
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
