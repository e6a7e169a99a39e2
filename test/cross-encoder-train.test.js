// fitCrossEncoder end to end (issue 24) on the random-weight cross-encoder fixtures of every
// family: a saved folder reloads in CrossEncoder.load with the logits training ended with and the
// task model's checkpoint names; learnable toy tasks are learned (BCE and CrossEntropy), the best
// evaluation's weights are the ones saved; metamorphic checks (a batch of duplicated pairs trains
// exactly as the pairs once; one seed, one run); AbortSignal; bad input refused before any
// training with errors naming the argument; `sbert train --cross-encoder`.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fitCrossEncoder, CrossEncoderTrainingSession, CrossEncoder } = require('../dist');
const { loadStsTask, spearman } = require('../dist/eval');
const { spawnSync } = require('node:child_process');
const { runTrainCommand } = require('../dist/train/cli');
const w = require('../dist/weights');
const { FIXTURES } = require('./helpers/reference');
const { rejects } = require('./helpers/rejects');

const CE = path.join(FIXTURES, 'cross-encoders');
const FAMILIES = ['bert-ce', 'xlmr-ce', 'distilbert-ce', 'mpnet-ce'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-ce-train-'));
const sts = loadStsTask('stsb-dev').subsets[0].pairs;
const session = { beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01, maxGradNorm: 1, dropout: false, seed: 3 };
const longText = Array.from({ length: 40 }, (_, i) => `Sentence ${i} of a long passage about rivers and harbours.`).join(' ');
const probe = [[sts[0].s1, sts[0].s2], [sts[1].s1, sts[1].s2], ['', 'an empty query'], [longText, 'short document'], ['same', 'same']];

/** Pairs labelled by a keyword in the second text: learnable by any of the tiny fixtures. */
function keywordTask(words, count) {
  const out = [];
  for (let i = 0; i < count; i++) words.forEach((word, c) => out.push({ texts: [sts[i].s1, `this is ${word}`], label: c }));
  return out;
}

function maxAbs(a, b) {
  assert.is(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function predictFolder(dir, pairs, options = {}) {
  const ce = await CrossEncoder.load(dir, { device: 'cpu' });
  try {
    const out = await ce.predict(pairs, { activation: 'identity', ...options });
    return out instanceof Float32Array ? out : Float32Array.from(out.flatMap((row) => Array.from(row)));
  } finally {
    ce.dispose();
  }
}

const tensorNames = (file) => [...w.parseSafetensors(fs.readFileSync(file), file).tensors.keys()].sort();

for (const name of FAMILIES) {
  test(`${name}: the saved folder reloads with the trainer's logits, the checkpoint's names and the model's activation`, async () => {
    const model = path.join(CE, name);
    const s = await CrossEncoderTrainingSession.create(model, session);
    const train = keywordTask(s.numLabels === 1 ? ['no', 'yes'] : ['no', 'yes', 'maybe'], 6);
    let out;
    let after;
    try {
      const before = await s.logits(probe);
      for (let step = 0; step < 3; step++) await s.step(train.slice(step * 4, step * 4 + 4), 2e-3);
      after = await s.logits(probe);
      assert.ok(maxAbs(after, before) > 1e-3, 'training changed the logits');
      out = await s.save(path.join(tmp, `${name}-saved`));
    } finally {
      s.dispose();
    }
    const reloaded = await predictFolder(out, probe);
    const d = maxAbs(reloaded, after);
    assert.ok(d <= 1e-6, `reloaded logits differ from the trainer's by ${d}`);
    // The task model's names, exactly those of the source checkpoint (transformers loads it without new weights).
    assert.equal(tensorNames(path.join(out, 'model.safetensors')), tensorNames(path.join(model, 'model.safetensors')));
    const source = await CrossEncoder.load(model, { device: 'cpu' });
    const saved = await CrossEncoder.load(out, { device: 'cpu' });
    try {
      assert.is(saved.activation, source.activation, 'the score activation carries over');
      assert.equal(saved.labels, source.labels);
      assert.is(saved.maxLength, source.maxLength);
    } finally {
      source.dispose();
      saved.dispose();
    }
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    assert.ok(config.architectures[0].endsWith('ForSequenceClassification'));
    assert.ok(config.sentence_transformers.activation_fn.startsWith('torch.nn.modules.'), 'sentence-transformers >= 4 key');
    assert.is(config.sbert_ce_default_activation_function, undefined, 'the pre-v4 key is dropped, as sentence-transformers drops it');
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'README.md']) assert.ok(fs.existsSync(path.join(out, f)), f);
    assert.match(fs.readFileSync(path.join(out, 'README.md'), 'utf8'), /- cross-encoder/);
    // A disposed session refuses work with ERR_DISPOSED.
    await s.logits(probe).then(() => assert.unreachable(), (err) => assert.is(err.code, 'ERR_DISPOSED'));
  });
}

test('bce (bert-ce): a learnable task is learned; the best evaluation is the checkpoint saved', async () => {
  const data = keywordTask(['bad', 'good'], 48);
  const train = data.slice(0, 80);
  const held = data.slice(80);
  const out = path.join(tmp, 'bce-learned');
  const seen = [];
  const r = await fitCrossEncoder(path.join(CE, 'bert-ce'), {
    train, epochs: 12, batchSize: 16, learningRate: 3e-3, evaluator: held, seed: 5, outputDir: out, onProgress: (p) => seen.push(p),
  });
  assert.is(r.loss, 'bce');
  assert.is(r.steps, 60);
  assert.is(seen.length, 60);
  assert.is(r.evaluations.length, 12, 'one evaluation per epoch');
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const first = mean(Array.from(r.losses.subarray(0, 5)));
  const last = mean(Array.from(r.losses.subarray(-5)));
  assert.ok(first > 0.6 && last < 0.2, `the loss falls: ${first} → ${last}`);
  const best = r.evaluations.reduce((a, b) => (b.score > a.score ? b : a));
  assert.is(best.metric, 'spearman');
  // Two gold values split perfectly: Spearman's maximum for 8 + 8 tied pairs.
  assert.ok(best.score > 0.86, `held-out Spearman ${best.score}`);
  assert.is(r.savedStep, best.step);
  const scores = await predictFolder(out, held.map((ex) => ex.texts));
  const rho = spearman(scores, held.map((ex) => ex.label));
  assert.ok(Math.abs(rho - best.score) < 1e-9, `the saved model scores ${rho}, the best evaluation ${best.score}`);
  assert.match(fs.readFileSync(path.join(out, 'README.md'), 'utf8'), /loss:bce[\s\S]*\| spearman \|/);
});

test('cross_entropy (xlmr-ce, 3 labels): a learnable task is learned, accuracy evaluations', async () => {
  const data = keywordTask(['good', 'bad', 'maybe'], 48);
  const train = data.slice(0, 120);
  const held = data.slice(120);
  // Without dropout: the head's and the encoder's dropout slow this toy task past 12 epochs
  // (dropout itself is checked in "the head's own dropout …" and "one seed, one run").
  const r = await fitCrossEncoder(path.join(CE, 'xlmr-ce'), { train, epochs: 12, batchSize: 24, learningRate: 3e-3, evaluator: held, evaluationSteps: 10, seed: 5, dropout: false, outputDir: path.join(tmp, 'ce-learned') });
  assert.is(r.loss, 'cross_entropy');
  assert.is(r.numLabels, 3);
  assert.is(r.evaluations.length, 12, 'every 10 steps (each an epoch end too) counted once');
  const last = r.evaluations[r.evaluations.length - 1];
  assert.is(last.metric, 'accuracy');
  assert.ok(r.evaluations[0].accuracy < 0.7 && last.accuracy >= 0.9, `accuracy ${r.evaluations[0].accuracy} → ${last.accuracy}`);
  const logits = await predictFolder(r.outputDir, held.map((ex) => ex.texts));
  let correct = 0;
  held.forEach((ex, i) => {
    const row = Array.from(logits.subarray(i * 3, i * 3 + 3));
    if (row.indexOf(Math.max(...row)) === ex.label) correct++;
  });
  const best = r.evaluations.find((e) => e.step === r.savedStep);
  assert.is(correct / held.length, best.accuracy, 'the saved weights are the best evaluation\'s');
});

test('metamorphic: a batch of every pair twice trains exactly as the pairs once (mean loss over pairs)', async () => {
  const train = sts.slice(0, 24).map((p) => ({ texts: [p.s1, p.s2], label: p.score / 5 }));
  const twice = train.flatMap((ex) => [ex, ex]);
  const base = { epochs: 1, learningRate: 2e-3, warmupSteps: 1, shuffle: false, dropout: false };
  const a = await fitCrossEncoder(path.join(CE, 'bert-ce'), { ...base, train, batchSize: 6, outputDir: path.join(tmp, 'once') });
  const b = await fitCrossEncoder(path.join(CE, 'bert-ce'), { ...base, train: twice, batchSize: 12, outputDir: path.join(tmp, 'twice') });
  assert.is(a.steps, b.steps);
  for (let s = 0; s < a.steps; s++) assert.ok(Math.abs(a.losses[s] - b.losses[s]) <= 1e-6 * a.losses[s], `step ${s}: ${a.losses[s]} vs ${b.losses[s]}`);
  const d = maxAbs(await predictFolder(a.outputDir, probe), await predictFolder(b.outputDir, probe));
  assert.ok(d <= 1e-5, `the two models' logits differ by ${d}`);
});

test('one seed, one run (dropout and shuffling included); another seed, another run', async () => {
  const train = sts.slice(0, 32).map((p) => ({ texts: [p.s1, p.s2], label: p.score / 5 }));
  const run = (seed, dropout = true) => fitCrossEncoder(path.join(CE, 'mpnet-ce'), { train, batchSize: 8, learningRate: 1e-3, seed, dropout });
  const [a, b, c, noDropout] = [await run(7), await run(7), await run(8), await run(7, false)];
  assert.equal(Array.from(a.losses), Array.from(b.losses));
  assert.not.equal(Array.from(a.losses), Array.from(c.losses));
  assert.not.equal(Array.from(a.losses), Array.from(noDropout.losses), 'dropout is applied while training');
});

/** A copy of a cross-encoder fixture with some config.json keys changed. */
function fixtureWith(name, changes, tag) {
  const dir = path.join(tmp, `${name}-${tag}`);
  fs.cpSync(path.join(CE, name), dir, { recursive: true });
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), ...changes }));
  return dir;
}

/** The losses of `steps` optimizer steps on fixed batches (no shuffling). */
async function stepLosses(dir, dropout, steps = 3) {
  const s = await CrossEncoderTrainingSession.create(dir, { ...session, dropout });
  const label = (score) => (s.numLabels === 1 ? score / 5 : Math.min(s.numLabels - 1, Math.floor(score / 2)));
  const train = sts.slice(0, 4 * steps).map((p) => ({ texts: [p.s1, p.s2], label: label(p.score) }));
  const losses = [];
  for (let k = 0; k < steps; k++) losses.push((await s.step(train.slice(4 * k, 4 * k + 4), 2e-3)).loss);
  s.dispose?.();
  return losses;
}

test("the head's own dropout as each family's transformers head reads it; training only", async () => {
  // [before the dense / pooler layer, before the output layer]: BERT's pooler has none;
  // RoBERTa / XLM-R and MPNet drop before both; DistilBERT after its ReLU (seq_classif_dropout).
  const heads = async (dir) => (await w.loadCrossEncoderFolder(dir)).model.modules.filter((m) => m.type === 'dense').map((d) => d.dropoutBefore);
  assert.equal(await heads(path.join(CE, 'bert-ce')), [undefined, 0.1]);
  assert.equal(await heads(path.join(CE, 'xlmr-ce')), [0.1, 0.1]);
  assert.equal(await heads(path.join(CE, 'mpnet-ce')), [0.1, 0.1]);
  assert.equal(await heads(path.join(CE, 'distilbert-ce')), [undefined, 0.2]);
  // classifier_dropout overrides hidden_dropout_prob where transformers reads it (not MPNet's head).
  assert.equal(await heads(fixtureWith('bert-ce', { classifier_dropout: 0.3 }, 'cd03')), [undefined, 0.3]);
  assert.equal(await heads(fixtureWith('xlmr-ce', { classifier_dropout: 0.3 }, 'cd03')), [0.3, 0.3]);
  assert.equal(await heads(fixtureWith('mpnet-ce', { classifier_dropout: 0.3 }, 'cd03')), [0.1, 0.1]);
  assert.equal(await heads(fixtureWith('distilbert-ce', { seq_classif_dropout: 0 }, 'sc0')), [undefined, undefined]);
  for (const bad of [1.5, -0.1, 'x']) {
    const err = await rejects(w.loadCrossEncoderFolder(fixtureWith('bert-ce', { classifier_dropout: bad }, `bad${String(bad)}`)), Error, /"classifier_dropout" must be a number in \[0, 1\)/, `classifier_dropout ${JSON.stringify(bad)}`);
    assert.is(err.code, 'ERR_BAD_MODEL');
  }

  // Metamorphic: with the encoder's dropout at 0, training with dropout on equals training with
  // it off exactly when the head's is 0 too, and differs when the head's is not; predict never
  // sees it.
  const quiet = { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };
  const noHead = fixtureWith('xlmr-ce', { ...quiet, classifier_dropout: 0 }, 'nohead');
  const head = fixtureWith('xlmr-ce', { ...quiet, classifier_dropout: 0.5 }, 'head05');
  const off = await stepLosses(noHead, false);
  assert.equal(await stepLosses(noHead, true), off, 'no dropout anywhere: dropout on = off');
  assert.equal(await stepLosses(head, false), off, 'dropout off: the head probability changes nothing');
  const on = await stepLosses(head, true);
  assert.ok(on.every((l, k) => l !== off[k]), `the head's dropout applies in training: ${on} vs ${off}`);
  assert.equal(Array.from(await predictFolder(head, probe)), Array.from(await predictFolder(noHead, probe)), 'predict ignores it');
});

// A BERT base checkpoint (BertModel: encoder + pretrained pooler, no classifier): bert-ce without
// its classifier tensors.
function bertBaseFolder() {
  const dir = path.join(tmp, 'bert-base');
  fs.cpSync(path.join(CE, 'bert-ce'), dir, { recursive: true });
  const file = path.join(dir, 'model.safetensors');
  const st = w.parseSafetensors(fs.readFileSync(file), file);
  const kept = new Map([...st.tensors].filter(([name]) => !name.startsWith('classifier.')).map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data: t.bytes }]));
  fs.writeFileSync(file, w.writeSafetensors(kept, { format: 'pt' }));
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  delete cfg.id2label;
  delete cfg.label2id;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, architectures: ['BertModel'] }));
  return { dir, pooler: st.tensors.get('bert.pooler.dense.weight') };
}

test('numLabels: a base model trains a new head, as CrossEncoder(base, num_labels=N); saved, it loads as a cross-encoder', async () => {
  const FAM = path.join(FIXTURES, 'families');
  const { dir: bertBase, pooler } = bertBaseFolder();
  // Without numLabels the base model is refused with the way to train it.
  const err = await rejects(CrossEncoderTrainingSession.create(path.join(FAM, 'xlmr-tiny'), session), Error, /not a sequence classifier.*pass numLabels/, 'no numLabels');
  assert.is(err.code, 'ERR_BAD_MODEL');
  const heads = {
    [bertBase]: { created: ['classifier.weight', 'classifier.bias'] },  // the pretrained pooler is kept
    [path.join(FAM, 'multilingual-minilm-tiny')]: { created: ['pooler.dense.weight', 'pooler.dense.bias', 'classifier.weight', 'classifier.bias'] },
    [path.join(FAM, 'xlmr-tiny')]: { created: ['classifier.dense.weight', 'classifier.dense.bias', 'classifier.out_proj.weight', 'classifier.out_proj.bias'] },
    [path.join(FAM, 'mpnet-tiny')]: { created: ['classifier.dense.weight', 'classifier.dense.bias', 'classifier.out_proj.weight', 'classifier.out_proj.bias'] },
    [path.join(FAM, 'distilbert-tiny')]: { created: ['pre_classifier.weight', 'pre_classifier.bias', 'classifier.weight', 'classifier.bias'] },
  };
  for (const [dir, { created }] of Object.entries(heads)) {
    const name = path.basename(dir);
    const f = await w.loadCrossEncoderFolder(dir, { newHead: { numLabels: 3, seed: 11 } });
    assert.is(f.numLabels, 3, name);
    assert.equal(f.labels, ['LABEL_0', 'LABEL_1', 'LABEL_2'], name);
    assert.ok(f.notices.some((n) => created.every((t) => n.includes(t))), `${name}: ${f.notices}`);
    for (const d of f.model.modules.filter((m) => m.type === 'dense')) {
      const values = (t) => new Float32Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength / 4);
      if (created.includes(d.weight.name)) {
        // transformers' _init_weights: normal(0, initializer_range = 0.02) weights, zero biases.
        const v = values(d.weight);
        const mean = v.reduce((a, x) => a + x, 0) / v.length;
        const std = Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length);
        assert.ok(Math.abs(mean) < 0.02 && Math.abs(std - 0.02) < 0.004, `${name} ${d.weight.name}: mean ${mean}, std ${std}`);
        assert.ok(values(d.bias).every((x) => x === 0), `${name} ${d.bias.name}: zero`);
      } else {
        assert.is(d.weight.name, 'bert.pooler.dense.weight');
        assert.equal(Array.from(values(d.weight)), Array.from(values(pooler)), 'the pretrained pooler is kept');
      }
    }
  }
  // One seed, one head; another seed, another.
  const init = async (seed) => {
    const t = (await w.loadCrossEncoderFolder(path.join(FAM, 'xlmr-tiny'), { newHead: { numLabels: 1, seed } })).model.modules[3].weight;
    return Array.from(new Float32Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength / 4));
  };
  assert.equal(await init(5), await init(5));
  assert.not.equal(await init(5), await init(6));
  // A head of another size is refused (transformers refuses the mismatch too).
  await rejects(CrossEncoderTrainingSession.create(path.join(CE, 'xlmr-ce'), { ...session, numLabels: 2 }), Error, /numLabels 2 does not match the 3 labels/, 'head mismatch');
  await rejects(CrossEncoderTrainingSession.create(path.join(FAM, 'xlmr-tiny'), { ...session, numLabels: 0 }), RangeError, /options\.numLabels must be an integer/, 'numLabels 0');
  await rejects(fitCrossEncoder(path.join(FAM, 'xlmr-tiny'), { train: keywordTask(['no', 'yes'], 2), numLabels: 1.5 }), RangeError, /options\.numLabels must be an integer/, 'fit numLabels 1.5');

  // fitCrossEncoder learns a keyword task on a new head of each kind; the saved folder is a
  // sequence classifier whose logits are the trainer's.
  for (const [base, numLabels] of [[bertBase, 1], [path.join(FAM, 'xlmr-tiny'), 2]]) {
    const data = keywordTask(['no', 'yes'], 40);
    const outputDir = path.join(tmp, `new-head-${path.basename(base)}`);
    const r = await fitCrossEncoder(base, { train: data, numLabels, epochs: 6, batchSize: 16, learningRate: 3e-3, dropout: false, seed: 2, evaluator: data.slice(0, 16), outputDir });
    assert.is(r.numLabels, numLabels);
    assert.is(r.loss, numLabels === 1 ? 'bce' : 'cross_entropy');
    const best = r.evaluations[r.evaluations.length - 1];
    assert.ok(numLabels === 1 ? best.score > 0.8 : best.accuracy >= 0.9, `${path.basename(base)}: ${JSON.stringify(best)}`);
    const cfg = JSON.parse(fs.readFileSync(path.join(outputDir, 'config.json'), 'utf8'));
    assert.ok(cfg.architectures[0].endsWith('ForSequenceClassification'), cfg.architectures.join());
    assert.is(Object.keys(cfg.id2label).length, numLabels);
    const ce = await CrossEncoder.load(outputDir, { device: 'cpu' });
    assert.is(ce.numLabels, numLabels);
    ce.dispose();
  }
});

test('a loaded CrossEncoder trains from its folder, with its max length; maxLength is saved with the model', async () => {
  const loaded = await CrossEncoder.load(path.join(CE, 'distilbert-ce'), { device: 'cpu', maxLength: 16 });
  try {
    const train = sts.slice(0, 8).map((p) => ({ texts: [p.s1, p.s2], label: p.score / 5 }));
    const r = await fitCrossEncoder(loaded, { train, batchSize: 4, outputDir: path.join(tmp, 'from-instance') });
    const saved = await CrossEncoder.load(r.outputDir, { device: 'cpu' });
    assert.is(saved.maxLength, 16);
    saved.dispose();
    assert.is(JSON.parse(fs.readFileSync(path.join(r.outputDir, 'tokenizer_config.json'), 'utf8')).model_max_length, 16);
  } finally {
    loaded.dispose();
  }
});

test('an AbortSignal stops between steps: rejects with its reason, writes nothing', async () => {
  const controller = new AbortController();
  const out = path.join(tmp, 'aborted');
  const train = sts.slice(0, 64).map((p) => ({ texts: [p.s1, p.s2], label: p.score / 5 }));
  let steps = 0;
  const reason = new Error('stop now');
  await fitCrossEncoder(path.join(CE, 'bert-ce'), {
    train, batchSize: 4, outputDir: out, signal: controller.signal,
    onProgress: () => {
      if (++steps === 2) controller.abort(reason);
    },
  }).then(() => assert.unreachable(), (err) => assert.is(err, reason));
  assert.is(steps, 2);
  assert.not.ok(fs.existsSync(out));
  assert.equal(fs.readdirSync(tmp).filter((f) => f.includes('aborted')), []);
});

test('bad input is refused before any training, naming the argument', async () => {
  const bert = path.join(CE, 'bert-ce');
  const xlmr = path.join(CE, 'xlmr-ce');
  const ok = [{ texts: ['a', 'b'], label: 1 }];
  const out = path.join(tmp, 'never');
  const cases = [
    [bert, { train: [] }, TypeError, /options\.train must be a non-empty array/],
    [bert, { train: 'pairs.csv' }, TypeError, /options\.train must be a non-empty array/],
    [bert, { train: [{ texts: ['a'], label: 1 }] }, RangeError, /options\.train\[0\] has 1 texts; a cross-encoder reads a pair/],
    [bert, { train: [...ok, { texts: ['a', 'b', 'c'], label: 1 }] }, RangeError, /options\.train\[1\] has 3 texts/],
    [bert, { train: [{ texts: ['a', 7], label: 1 }] }, TypeError, /options\.train\[0\]\.texts\[1\] is not a string/],
    [bert, { train: [['a', 'b']] }, TypeError, /options\.train\[0\] must be a pair example \{ texts: \[a, b\], label \}/],
    [bert, { train: [{ texts: ['a', 'b'] }] }, TypeError, /options\.train\[0\]\.label must be a number \(got undefined\)/],
    [bert, { train: [{ texts: ['a', 'b'], label: '1' }] }, TypeError, /options\.train\[0\]\.label must be a number/],
    [bert, { train: [{ texts: ['a', 'b'], label: NaN }] }, RangeError, /options\.train\[0\]\.label must be a finite number/],
    [bert, { train: [...ok, { texts: ['a', 'b'], label: 3.2 }] }, RangeError, /options\.train\[1\]\.label must be in \[0, 1\] for the bce loss/],
    [xlmr, { train: [{ texts: ['a', 'b'], label: 3 }] }, RangeError, /options\.train\[0\]\.label must be a class index 0\.\.2 for the cross_entropy loss/],
    [xlmr, { train: [{ texts: ['a', 'b'], label: 0.5 }] }, RangeError, /class index 0\.\.2/],
    [xlmr, { train: ok, loss: 'bce' }, RangeError, /options\.loss 'bce' needs a model with one label .* this model has 3/],
    [bert, { train: ok, loss: 'cross_entropy' }, RangeError, /options\.loss 'cross_entropy' needs a model with two or more labels/],
    [bert, { train: ok, loss: 'cosine' }, RangeError, /options\.loss must be one of bce, cross_entropy .*fit\(\)'s/],
    [bert, { train: ok, learning_rate: 1e-3 }, TypeError, /learning_rate/],
    [bert, { train: ok, batchSize: 0 }, RangeError, /options\.batchSize/],
    [bert, { train: ok, maxLength: 1000 }, RangeError, /options\.maxLength 1000 exceeds the 128 positions/],
    [bert, { train: ok, maxLength: -1 }, RangeError, /options\.maxLength must be a positive integer/],
    [bert, { train: ok, evaluator: [{ texts: ['a', 'b'], label: 1 }] }, TypeError, /options\.evaluator must be an STS task name or an array of at least two/],
    [bert, { train: ok, evaluator: [ok[0], { texts: ['a'], label: 1 }] }, RangeError, /options\.evaluator\[1\] has 1 texts/],
    [bert, { train: ok, evaluator: 'stsb-train' }, RangeError, /options\.evaluator 'stsb-train' is not an STS task/],
    [xlmr, { train: [{ texts: ['a', 'b'], label: 2 }], evaluator: 'stsb-dev' }, RangeError, /'stsb-dev' is an STS task: it scores models with one label, this one has 3/],
    [xlmr, { train: [{ texts: ['a', 'b'], label: 2 }], evaluator: [{ texts: ['a', 'b'], label: 1 }, { texts: ['a', 'b'], label: 5 }] }, RangeError, /options\.evaluator\[1\]\.label must be a class index/],
    [bert, { train: ok, outputDir: FIXTURES }, RangeError, /outputDir .* exists and is not empty/],
    [{}, { train: ok }, TypeError, /model must be a model folder path, a Hugging Face id or a CrossEncoder/],
  ];
  for (const [model, options, type, re] of cases) {
    await fitCrossEncoder(model, { outputDir: out, ...options }).then(
      () => assert.unreachable(`accepted ${JSON.stringify(options).slice(0, 80)}`),
      (err) => {
        assert.instance(err, type, `${JSON.stringify(options).slice(0, 60)}: ${err.message}`);
        assert.match(err.message, re);
      },
    );
  }
  assert.not.ok(fs.existsSync(out));
  // A sentence-transformers bi-encoder folder, or the bundled model: pointed to fit().
  for (const model of [path.join(FIXTURES, 'train-small'), 'default']) {
    await fitCrossEncoder(model, { train: ok }).then(
      () => assert.unreachable(model),
      (err) => {
        assert.is(err.code, 'ERR_BAD_MODEL');
        assert.match(err.message, /bi-encoder.*fit\(\)/);
      },
    );
  }
  await fitCrossEncoder(path.join(tmp, 'no-such-model'), { train: ok }).then(() => assert.unreachable(), (err) => assert.is(err.code, 'ERR_BAD_MODEL'));
});

async function runCli(args) {
  let out = '';
  let err = '';
  const code = await runTrainCommand(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

function file(name, text) {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

test('sbert train --cross-encoder: trains from a CSV, evaluates on a file, saves a folder CrossEncoder loads', async () => {
  const rows = keywordTask(['bad', 'good'], 12).map((ex) => `"${ex.texts[0].replace(/"/g, '""')}",${ex.texts[1]},${ex.label}`);
  const csv = file('pairs.csv', `sentence1,sentence2,label\n${rows.join('\n')}\n`);
  const evalFile = file('eval.jsonl', keywordTask(['bad', 'good'], 14).slice(24).map((ex) => JSON.stringify(ex)).join('\n') + '\n');
  const out = path.join(tmp, 'cli-trained');
  const r = await runCli(['--cross-encoder', '--model', path.join(CE, 'bert-ce'), '--train', csv, '--eval', evalFile, '--batch-size', '8', '--epochs', '2', '--no-progress', '--output', out]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /trained 24 examples, 6 steps, 2 epoch\(s\)/);
  assert.match(r.out, /step 3: .*eval\.jsonl spearman -?\d+\.\d\d {2}pearson/);
  const scores = await predictFolder(out, [['a', 'this is good']]);
  assert.is(scores.length, 1);
  // --num-labels: a new head on a base model (a bi-encoder's transformer here).
  const fromBase = path.join(tmp, 'cli-new-head');
  const b = await runCli(['--cross-encoder', '--model', path.join(FIXTURES, 'families', 'xlmr-tiny'), '--num-labels', '1', '--train', csv, '--batch-size', '8', '--no-progress', '--output', fromBase]);
  assert.is(b.code, 0, b.err);
  assert.is((await predictFolder(fromBase, [['a', 'this is good'], ['b', 'this is bad']])).length, 2);
});

test('sbert train --cross-encoder: argument errors exit 2; a label the loss refuses is named by file and line', async () => {
  const csv = file('ok.csv', 'sentence1,sentence2,label\na,b,1\nc,d,0\n');
  const cases = [
    [['--cross-encoder', '--model', path.join(CE, 'bert-ce'), '--train', csv, '--loss', 'cosine'], /--loss must be one of bce, cross_entropy with --cross-encoder/],
    [['--model', path.join(CE, 'bert-ce'), '--train', csv, '--loss', 'bce'], /'bce' is a cross-encoder loss: add --cross-encoder/],
    [['--model', path.join(CE, 'bert-ce'), '--train', csv, '--loss', 'cosine', '--max-length', '8'], /--max-length is for --cross-encoder/],
    [['--cross-encoder', '--model', path.join(CE, 'bert-ce'), '--train', csv, '--max-length', '0'], /--max-length must be an integer >= 1/],
    [['--model', path.join(CE, 'bert-ce'), '--train', csv, '--loss', 'cosine', '--num-labels', '1'], /--num-labels is for --cross-encoder/],
    [['--cross-encoder', '--model', path.join(CE, 'bert-ce'), '--train', csv, '--num-labels', '0'], /--num-labels must be an integer >= 1/],
    [['--cross-encoder', '--model', path.join(CE, 'bert-ce'), '--train', csv, '--eval', path.join(tmp, 'none.csv')], /--eval must be an STS task .* or a file of labelled pairs/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
  }
  const bad = file('bad-label.csv', 'sentence1,sentence2,label\na,b,1\nc,d,4\n');
  const r = await runCli(['--cross-encoder', '--model', path.join(CE, 'bert-ce'), '--train', bad, '--no-progress', '--output', path.join(tmp, 'never-cli')]);
  assert.is(r.code, 1, r.err);
  assert.is(r.err, `sbert train: ${bad}:3: the example's label must be in [0, 1] for the bce loss (a binary label or a soft score such as an STSb score / 5; got 4)\n`);
  assert.not.ok(fs.existsSync(path.join(tmp, 'never-cli')));
});

test("examples/cross-encoder-training.mjs (the README's) runs as pasted, given a model folder", () => {
  const exampleTmp = fs.mkdtempSync(path.join(tmp, 'example-'));
  const r = spawnSync(process.execPath, [path.join('examples', 'cross-encoder-training.mjs'), path.join(CE, 'bert-ce')], {
    cwd: path.join(__dirname, '..'), encoding: 'utf8', env: { ...process.env, TMPDIR: exampleTmp }, timeout: 120_000,
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.match(r.stdout, /^step 1\/2 loss \d\.\d{4}\nstep 2\/2 loss \d\.\d{4}\n\[\n {2}\{ corpusId: \d, score: -?\d\.\d+ \},\n {2}\{ corpusId: \d, score: /);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
