// fit() end to end on the train-small fixture: the saved folder reloads with the embeddings
// training ended with, an AbortSignal stops between steps and leaves no output folder, an
// evaluator keeps its best checkpoint, and bad examples or options are refused before any
// training with an error naming them.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fit, SentenceEncoder, TrainingSession, evaluateSts } = require('../dist');
const { loadStsTask } = require('../dist/eval');
const { FIXTURES } = require('./helpers/reference');

const MODEL = path.join(FIXTURES, 'train-small');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-train-fit-'));
const pairs = loadStsTask('stsb-dev').subsets[0].pairs.slice(0, 64);
const cosineExamples = pairs.map((p) => ({ texts: [p.s1, p.s2], label: p.score / 5 }));
const probe = ['A man is playing a guitar.', 'The cat sleeps on the sofa.', 'Stocks fell sharply on Monday.'];

function maxAbs(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function encodeFolder(dir, texts) {
  const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
  try {
    return await enc.encode(texts);
  } finally {
    enc.dispose();
  }
}

test('a saved folder reloads with the embeddings training ended with', async () => {
  const session = await TrainingSession.create(MODEL, {
    loss: 'cosine', textsPerExample: 2, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01, maxGradNorm: 1, dropout: true, seed: 3,
  });
  try {
    const before = await session.encode(probe);
    for (let s = 0; s < 4; s++) await session.step(cosineExamples.slice(s * 16, (s + 1) * 16), 2e-3);
    const after = await session.encode(probe);
    assert.ok(maxAbs(after.data, before.data) > 1e-3, 'training changed the embeddings');
    const out = await session.save(path.join(tmp, 'session-saved'));
    const reloaded = await encodeFolder(out, probe);
    const d = maxAbs(reloaded.data, after.data);
    assert.ok(d <= 1e-5, `reloaded embeddings differ from the trainer's by ${d}`);
  } finally {
    session.dispose();
  }
  // A disposed session refuses work with ERR_DISPOSED.
  await session.encode(probe).then(() => assert.unreachable(), (err) => assert.is(err.code, 'ERR_DISPOSED'));
});

test('fit with an outputDir saves a model that encodes differently from the start model', async () => {
  const out = path.join(tmp, 'fit-saved');
  const seen = [];
  const result = await fit(MODEL, { loss: 'cosine', train: cosineExamples, batchSize: 16, epochs: 2, learningRate: 2e-3, outputDir: out, onProgress: (p) => seen.push(p) });
  assert.is(result.steps, 8);
  assert.is(result.epochs, 2);
  assert.is(result.losses.length, 8);
  assert.ok(result.losses.every((l) => Number.isFinite(l) && l >= 0));
  assert.is(result.outputDir, path.resolve(out));
  assert.is(result.savedStep, 8);
  assert.equal(seen.map((p) => p.step), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(seen.map((p) => p.epoch), [0, 0, 0, 0, 1, 1, 1, 1]);
  assert.is(seen[0].learningRate, 0, 'the first step runs at lr 0 (warm-up)');
  const [a, b] = [await encodeFolder(MODEL, probe), await encodeFolder(out, probe)];
  assert.ok(maxAbs(a.data, b.data) > 1e-3);
  // Same seed, same data → the same run, step for step.
  const again = await fit(MODEL, { loss: 'cosine', train: cosineExamples, batchSize: 16, epochs: 2, learningRate: 2e-3 });
  assert.equal(Array.from(again.losses), Array.from(result.losses));
  assert.is(again.outputDir, undefined);
});

test('an AbortSignal stops between steps: rejects with its reason, leaves no output folder', async () => {
  const out = path.join(tmp, 'aborted');
  const controller = new AbortController();
  let steps = 0;
  await fit(MODEL, {
    loss: 'cosine', train: cosineExamples, batchSize: 8, outputDir: out, signal: controller.signal,
    onProgress: (p) => {
      steps = p.step;
      if (p.step === 2) controller.abort();
    },
  }).then(() => assert.unreachable('fit resolved after abort'), (err) => assert.is(err.name, 'AbortError'));
  assert.is(steps, 2, 'no step ran after the abort');
  assert.not.ok(fs.existsSync(out));
  assert.equal(fs.readdirSync(tmp).filter((f) => f.includes('aborted')), [], 'no temporary folder left');
  // Already aborted: nothing starts.
  const reason = new Error('stop now');
  await fit(MODEL, { loss: 'cosine', train: cosineExamples, signal: AbortSignal.abort(reason), outputDir: out })
    .then(() => assert.unreachable(), (err) => assert.is(err, reason));
  assert.not.ok(fs.existsSync(out));
});

test('an evaluator keeps the best checkpoint, not the last', async () => {
  // Labels inverted (1 − score/5): training pushes the evaluator's Spearman down, so the best
  // evaluation comes early and differs from the last.
  const inverted = pairs.map((p) => ({ texts: [p.s1, p.s2], label: 1 - p.score / 5 }));
  const out = path.join(tmp, 'best');
  const result = await fit(MODEL, {
    loss: 'cosine', train: inverted, batchSize: 16, epochs: 2, learningRate: 5e-3, warmupRatio: 0,
    evaluator: pairs, evaluationSteps: 1, outputDir: out,
  });
  assert.is(result.evaluations.length, 8, 'every step, the epoch ends included once');
  const best = result.evaluations.reduce((a, b) => (b.spearman > a.spearman ? b : a));
  const last = result.evaluations[result.evaluations.length - 1];
  assert.ok(best.spearman > last.spearman + 0.01, `training against the evaluator lowers Spearman (best ${best.spearman} at ${best.step}, last ${last.spearman})`);
  assert.is(result.savedStep, best.step);
  const enc = await SentenceEncoder.load(out, { device: 'cpu' });
  try {
    const r = await evaluateSts(enc, pairs);
    assert.ok(Math.abs(r.spearman - best.spearman) < 1e-3, `saved model scores ${r.spearman}, the best evaluation ${best.spearman}`);
  } finally {
    enc.dispose();
  }
});

test('bad examples and options are refused before training, naming what is wrong', async () => {
  const out = path.join(tmp, 'never');
  const cases = [
    [{ loss: 'cosine', train: [{ texts: ['a', 'b'], label: 0.5 }, { texts: ['a'], label: 1 }] }, RangeError, /options\.train\[1\] has 1 texts; the cosine loss takes 2/],
    [{ loss: 'cosine', train: [{ texts: ['a', 'b'] }] }, RangeError, /options\.train\[0\]\.label must be a finite number/],
    [{ loss: 'softmax', train: [{ texts: ['a', 'b'], label: 0 }, { texts: ['a', 'b'], label: 1.5 }] }, RangeError, /options\.train\[1\]\.label must be a class index/],
    [{ loss: 'softmax', numLabels: 2, train: [{ texts: ['a', 'b'], label: 2 }] }, RangeError, /class index 0\.\.1/],
    [{ loss: 'triplet', train: [{ texts: ['a', 'b'] }] }, RangeError, /the triplet loss takes 3/],
    [{ loss: 'mnrl', train: [{ texts: ['a', 'b', 'c'] }, { texts: ['a', 'b'] }] }, RangeError, /options\.train\[1\] has 2 texts; the mnrl loss takes 3/],
    [{ loss: 'mse', train: [{ texts: ['a'], target: [1, 2] }] }, TypeError, /options\.train\[0\]\.target must be a Float32Array/],
    [{ loss: 'mse', train: [{ texts: ['a'], target: new Float32Array(5) }] }, RangeError, /target has 5 values; the model's embeddings have 24/],
    [{ loss: 'cosine', train: [{ texts: ['a', 3], label: 1 }] }, TypeError, /options\.train\[0\]\.texts\[1\] is not a string/],
    [{ loss: 'l1', train: cosineExamples }, RangeError, /options\.loss must be one of/],
    [{ loss: 'cosine', train: [] }, TypeError, /options\.train must be a non-empty array/],
    [{ loss: 'cosine', train: cosineExamples, batchSize: 0 }, RangeError, /options\.batchSize/],
    [{ loss: 'cosine', train: cosineExamples, learningRate: NaN }, RangeError, /options\.learningRate/],
    [{ loss: 'cosine', train: cosineExamples, evaluator: 'stsb-train' }, RangeError, /options\.evaluator 'stsb-train' is not an STS task/],
    [{ loss: 'cosine', train: cosineExamples, outputDir: FIXTURES }, RangeError, /outputDir .* exists and is not empty/],
  ];
  for (const [options, type, re] of cases) {
    await fit(MODEL, { outputDir: out, ...options }).then(
      () => assert.unreachable(`accepted ${JSON.stringify(options).slice(0, 80)}`),
      (err) => {
        assert.instance(err, type, err.message);
        assert.match(err.message, re);
      },
    );
  }
  assert.not.ok(fs.existsSync(out));
  await fit(path.join(tmp, 'no-such-model'), { loss: 'cosine', train: cosineExamples }).then(
    () => assert.unreachable(),
    (err) => assert.is(err.code, 'ERR_BAD_MODEL'),
  );
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
