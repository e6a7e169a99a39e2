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
const { spawn } = require('node:child_process');
const { fit, SentenceEncoder, TrainingSession } = require('../dist');
const { evaluateSts, loadStsTask } = require('../dist/eval');
const { FIXTURES } = require('./helpers/reference');

const MODEL = path.join(FIXTURES, 'train-small');
const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
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

test('fit takes a CPU SentenceEncoder as the start model (its folder, reloaded)', async () => {
  const enc = await SentenceEncoder.load(MODEL, { device: 'cpu' });
  try {
    const a = await fit(enc, { loss: 'cosine', train: cosineExamples.slice(0, 16), learningRate: 2e-3, warmupRatio: 0 });
    const b = await fit(MODEL, { loss: 'cosine', train: cosineExamples.slice(0, 16), learningRate: 2e-3, warmupRatio: 0 });
    assert.equal(Array.from(a.losses), Array.from(b.losses));
  } finally {
    enc.dispose();
  }
  await fit({ encode() {} }, { loss: 'cosine', train: cosineExamples }).then(() => assert.unreachable(), (err) => assert.instance(err, TypeError));
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

test('sbert train: Ctrl-C stops between steps, exit 130, nothing in --output', async () => {
  const out = path.join(tmp, 'cli-interrupted');
  const child = spawn(process.execPath, [CLI, 'train', '--model', MODEL, '--loss', 'cosine', '--train', 'stsb-train', '--epochs', '20', '--output', out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let signalled = false;
  child.stderr.on('data', (d) => {
    stderr += d;
    // The first progress line means training is under way: interrupt it.
    if (!signalled && stderr.includes('train [')) {
      signalled = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  assert.ok(signalled, `training never reported progress: ${stderr}`);
  assert.is(code, 130, stderr);
  assert.match(stderr, /interrupted; nothing was written to/);
  assert.not.ok(fs.existsSync(out));
  assert.equal(fs.readdirSync(tmp).filter((f) => f.includes('cli-interrupted')), []);
});

test('the native trainer checks its arguments and batches (errors name them, nothing crashes)', async () => {
  const { native } = require('../dist/native');
  const { loadModelFolder, buildNativeSpec } = require('../dist/weights');
  const spec = buildNativeSpec(await loadModelFolder(MODEL));
  const base = { loss: 'cosine', textsPerExample: 2, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01, maxGradNorm: 1, dropout: false, seed: 1 };
  assert.throws(() => native().createTrainer(spec, { ...base, loss: 'hinge' }), (e) => e instanceof RangeError && /options\.loss/.test(e.message));
  assert.throws(() => native().createTrainer(spec, { ...base, textsPerExample: undefined }), (e) => e instanceof TypeError && /options\.textsPerExample/.test(e.message));
  assert.throws(() => native().createTrainer(spec, { ...base, maxGradNorm: 0 }), (e) => e instanceof RangeError && /maxGradNorm/.test(e.message));
  await native().createTrainer(spec, { ...base, loss: 'softmax', classifier: { weight: new Float32Array(5), bias: new Float32Array(3) } })
    .then(() => assert.unreachable(), (e) => assert.match(e.message, /options\.classifier\.weight must hold 216 values/));
  const trainer = await native().createTrainer(spec, base);
  const ids = Int32Array.from([101, 150, 102, 101, 160, 161, 102]);
  const cuSeqlens = Int32Array.from([0, 3, 7]);
  const rejects = async (batch, re) => {
    await trainer.step({ ids, cuSeqlens, labels: Float32Array.of(0.5), learningRate: 1e-3, ...batch }).then(
      () => assert.unreachable(`accepted ${re}`),
      (e) => {
        assert.instance(e, RangeError);
        assert.is(e.code, 'ERR_OUT_OF_RANGE');
        assert.match(e.message, re);
      },
    );
  };
  await rejects({ labels: Float32Array.of(0.5, 0.1) }, /labels must hold one value per example \(1\)/);
  await rejects({ ids: Int32Array.from([101, 150, 102, 101, 9999, 161, 102]) }, /token id 9999 at 4 is outside the vocabulary/);
  await rejects({ cuSeqlens: Int32Array.from([0, 3, 6]) }, /cuSeqlens ends at 6 but ids has 7 tokens/);
  await rejects({ ids: Int32Array.from([101, 102, 103]), cuSeqlens: Int32Array.from([0, 3]) }, /not a multiple of textsPerExample 2/);
  assert.throws(() => trainer.step({ ids: [1, 2], cuSeqlens, learningRate: 0 }), (e) => e instanceof TypeError && /ids must be an Int32Array/.test(e.message));
  assert.throws(() => trainer.step({ ids, cuSeqlens, learningRate: -1 }), (e) => e instanceof RangeError && /learningRate/.test(e.message));
  const ok = await trainer.step({ ids, cuSeqlens, labels: Float32Array.of(0.5), learningRate: 1e-3 });
  assert.ok(Number.isFinite(ok.loss) && ok.gradNorm > 0);
  assert.is(trainer.sentenceDim, 24);
  trainer.dispose();
  trainer.dispose();
  assert.ok(trainer.disposed);
  await trainer.encode({ ids, cuSeqlens }).then(() => assert.unreachable(), (e) => assert.is(e.code, 'ERR_DISPOSED'));
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
