'use strict';
// End to end: STS evaluation through the real SentenceEncoder (CPU engine) on the tiny fixture
// model (random weights, so the correlations are only checked to be finite and in range).
const { test } = require('uvu');
const assert = require('uvu/assert');
const path = require('path');
const ev = require('../dist/eval');
const { SentenceEncoder } = require('../dist/encoder');

const TINY = path.join(__dirname, 'fixtures', 'tiny');

test('evaluateSts with SentenceEncoder (tiny model, CPU) on 50 STSb dev pairs', async () => {
  const pairs = ev.loadStsTask('stsb-dev').subsets[0].pairs.slice(0, 50);
  const encoder = await SentenceEncoder.load(TINY, { device: 'cpu' });
  try {
    const progress = [];
    const r = await ev.evaluateSts(encoder, pairs, { onProgress: (d, t) => progress.push([d, t]) });
    assert.is(r.n, 50);
    for (const k of ['spearman', 'pearson']) {
      assert.ok(Number.isFinite(r[k]) && r[k] >= -1 && r[k] <= 1, `${k} = ${r[k]}`);
    }
    assert.is(r.predicted.length, 50);
    for (const c of r.predicted) assert.ok(c >= -1 && c <= 1, `cosine ${c}`);
    const unique = new Set(pairs.flatMap((p) => [p.s1, p.s2])).size;
    assert.equal(progress[progress.length - 1], [unique, unique]);
    // the same sentences in another batching give the same scores (rows come back in order)
    const again = await ev.evaluateSts(encoder, pairs, { batchSize: 7, batchTokens: 64 });
    for (let i = 0; i < 50; i++) assert.ok(Math.abs(again.predicted[i] - r.predicted[i]) < 1e-5, `pair ${i}`);
  } finally {
    encoder.dispose();
  }
});

test('sbert eval --model test/fixtures/tiny --task stsb-dev --device cpu --json', async () => {
  let out = '';
  let err = '';
  const code = await ev.runEvalCommand(['--model', TINY, '--task', 'stsb-dev', '--device', 'cpu', '--json', '--no-progress'], {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
  });
  assert.is(code, 0, err);
  const doc = JSON.parse(out);
  assert.is(doc.modelName, 'tiny');
  assert.is(doc.device, 'cpu');
  const t = doc.tasks[0];
  assert.is(t.task, 'stsb-dev');
  assert.is(t.headline.n, 1500);
  for (const k of ['spearman', 'pearson']) assert.ok(t.headline[k] >= -1 && t.headline[k] <= 1, `${k} = ${t.headline[k]}`);
});

test.run();
