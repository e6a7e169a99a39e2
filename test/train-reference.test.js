// The training parity fixtures (test/fixtures/train/, written by tools/reference/) describe the
// model our inference engine runs: the train-small folder (Transformer → mean Pooling → Dense
// 32→24 tanh → Normalize) loads, our tokenizer reproduces the recorded token ids, and the CPU
// engine's sentence embeddings equal the PyTorch forward's (step 0 of every loss, before any
// update) — an end-to-end check of the Dense chain as well.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const path = require('node:path');
const { SentenceEncoder } = require('../dist');
const { FIXTURES, cosine } = require('./helpers/reference');

const TRAIN = path.join(FIXTURES, 'train');
const MODEL = path.join(FIXTURES, 'train-small');
const LOSSES = ['softmax', 'cosine', 'triplet', 'mnrl', 'mse'];
const readJson = (file) => JSON.parse(fs.readFileSync(path.join(TRAIN, file), 'utf8'));
const cases = readJson('cases.json');

test('train-small loads with its module chain and the recorded token ids', async () => {
  const enc = await SentenceEncoder.load(MODEL, { device: 'cpu' });
  try {
    assert.is(enc.maxSeqLength, cases.maxSeqLength);
    for (const loss of LOSSES) {
      const step = cases.losses[loss].steps[0];
      const batch = enc.tokenizer.encodeBatch(step.texts, { maxLength: enc.maxSeqLength });
      assert.equal(Array.from(batch.ids), step.ids, `${loss}: token ids`);
      assert.equal(Array.from(batch.cuSeqlens), step.cuSeqlens, `${loss}: cuSeqlens`);
    }
  } finally {
    enc.dispose();
  }
});

test('CPU engine embeddings on train-small equal the PyTorch reference forward (cosine ≥ 0.99999)', async () => {
  const enc = await SentenceEncoder.load(MODEL, { device: 'cpu' });
  try {
    for (const loss of LOSSES) {
      const ref = readJson(`${loss}-step0.json`);
      const texts = cases.losses[loss].steps[0].texts;
      const emb = await enc.encode(texts);
      assert.is(emb.dim, ref.dim, `${loss}: sentence dimension`);
      assert.is(emb.count * emb.dim, ref.embeddings.length, `${loss}: embedding count`);
      let worstCos = 1;
      let worstAbs = 0;
      for (let i = 0; i < emb.count; i++) {
        const want = ref.embeddings.slice(i * ref.dim, (i + 1) * ref.dim);
        const got = Array.from(emb.row(i));
        worstCos = Math.min(worstCos, cosine(got, want));
        for (let d = 0; d < ref.dim; d++) worstAbs = Math.max(worstAbs, Math.abs(got[d] - want[d]));
      }
      assert.ok(worstCos >= 0.99999, `${loss}: worst cosine ${worstCos}`);
      assert.ok(worstAbs <= 1e-4, `${loss}: max abs diff ${worstAbs}`);
    }
  } finally {
    enc.dispose();
  }
});

test('the reference fixtures are complete and the weights visibly moved', () => {
  for (const loss of LOSSES) {
    const ref = readJson(`${loss}.json`);
    assert.is(ref.losses.length, 10, `${loss}: 10 losses`);
    assert.is(ref.gradNorms.length, 10, `${loss}: 10 grad norms`);
    assert.is(ref.options.warmupSteps, 1, `${loss}: warm-up ceil(0.1 × 10)`);
    assert.is(ref.learningRates[0], 0, `${loss}: step 0 runs at lr 0`);
    assert.ok(ref.maxWeightChange > 1e-3, `${loss}: weights moved by ${ref.maxWeightChange}`);
    assert.ok(fs.statSync(path.join(TRAIN, `${loss}-final.safetensors`)).size > 0, `${loss}: final weights`);
    assert.is(ref.classifierInit !== null, loss === 'softmax', `${loss}: classifierInit only for softmax`);
  }
});

test.run();
