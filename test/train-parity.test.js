// Training parity with PyTorch: `fit` on the train-small fixture, with the batches, options and
// (softmax) classifier initialisation the reference used (tools/reference/train_reference.py:
// torch autograd + torch.optim.AdamW + clip_grad_norm_ + get_linear_schedule_with_warmup,
// dropout off, no shuffling), must give the reference's loss at every step (relative ≤ 1e-4)
// and, in the folder fit saves, the reference's final weights (max abs ≤ 1e-5).
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fit } = require('../dist');
const w = require('../dist/weights');
const { FIXTURES } = require('./helpers/reference');

const TRAIN = path.join(FIXTURES, 'train');
const MODEL = path.join(FIXTURES, 'train-small');
const LOSSES = ['softmax', 'cosine', 'triplet', 'mnrl', 'mse'];
const cases = JSON.parse(fs.readFileSync(path.join(TRAIN, 'cases.json'), 'utf8'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-train-parity-'));

/** The fixture's batches, concatenated in step order, as fit's examples. */
function examplesOf(loss) {
  const c = cases.losses[loss];
  const k = c.textsPerExample;
  const out = [];
  for (const step of c.steps) {
    for (let e = 0; e * k < step.texts.length; e++) {
      const ex = { texts: step.texts.slice(e * k, (e + 1) * k) };
      if (step.labels) ex.label = step.labels[e];
      if (step.targets) ex.target = Float32Array.from(step.targets[e]);
      out.push(ex);
    }
  }
  return out;
}

/** Every tensor of a saved folder by canonical name: the Transformer's and dense.{j}.* of each Dense. */
function savedTensors(dir) {
  const out = new Map();
  for (const [name, v] of w.parseSafetensors(fs.readFileSync(path.join(dir, 'model.safetensors')), 'saved').tensors) out.set(name, w.toFloat32(v));
  const modules = JSON.parse(fs.readFileSync(path.join(dir, 'modules.json'), 'utf8'));
  let j = 0;
  for (const m of modules) {
    if (!m.type.endsWith('.Dense')) continue;
    const st = w.parseSafetensors(fs.readFileSync(path.join(dir, m.path, 'model.safetensors')), 'dense');
    for (const [name, v] of st.tensors) out.set(`dense.${j}.${name}`, w.toFloat32(v));
    j++;
  }
  return out;
}

for (const loss of LOSSES) {
  test(`${loss}: per-step losses and final weights equal PyTorch's`, async () => {
    const ref = JSON.parse(fs.readFileSync(path.join(TRAIN, `${loss}.json`), 'utf8'));
    const o = ref.options;
    const train = examplesOf(loss);
    assert.is(train.length, o.examplesPerStep * o.totalSteps);
    const outputDir = path.join(tmp, loss);
    const seenRates = [];
    const result = await fit(MODEL, {
      loss,
      train,
      epochs: 1,
      batchSize: o.examplesPerStep,
      learningRate: o.lr,
      warmupSteps: o.warmupSteps,
      weightDecay: o.weightDecay,
      maxGradNorm: o.maxGradNorm,
      adamBetas: o.betas,
      adamEps: o.eps,
      shuffle: false,
      dropout: false,
      ...(o.numLabels !== undefined ? { numLabels: o.numLabels } : {}),
      ...(o.margin !== undefined ? { margin: o.margin } : {}),
      ...(o.scale !== undefined ? { scale: o.scale } : {}),
      ...(ref.classifierInit
        ? { classifierInit: { weight: Float32Array.from(ref.classifierInit.weight), bias: Float32Array.from(ref.classifierInit.bias) } }
        : {}),
      outputDir,
      onProgress: (p) => seenRates.push(p.learningRate),
    });
    assert.is(result.steps, o.totalSteps);
    // The schedule: the learning rate of every step as the reference's LambdaLR gave it.
    for (let s = 0; s < o.totalSteps; s++) assert.ok(Math.abs(seenRates[s] - ref.learningRates[s]) <= 1e-12 * o.lr, `lr at step ${s}`);
    for (let s = 0; s < o.totalSteps; s++) {
      const rel = Math.abs(result.losses[s] - ref.losses[s]) / Math.max(Math.abs(ref.losses[s]), 1e-12);
      assert.ok(rel <= 1e-4, `${loss} step ${s}: loss ${result.losses[s]} vs PyTorch ${ref.losses[s]} (relative ${rel.toExponential(2)})`);
    }
    const want = w.parseSafetensors(fs.readFileSync(path.join(TRAIN, `${loss}-final.safetensors`)), 'reference');
    const got = savedTensors(result.outputDir);
    let worst = 0;
    let worstName = '';
    for (const [name, view] of want.tensors) {
      const g = got.get(name);
      assert.ok(g, `${loss}: saved model lacks ${name}`);
      const r = w.toFloat32(view);
      assert.is(g.length, r.length, name);
      for (let i = 0; i < r.length; i++) {
        const d = Math.abs(g[i] - r[i]);
        if (d > worst) [worst, worstName] = [d, name];
      }
    }
    assert.ok(worst <= 1e-5, `${loss}: final weights differ from PyTorch's by ${worst.toExponential(2)} (${worstName})`);
    // The weights moved (a real test): the reference records how far.
    assert.ok(ref.maxWeightChange > 10 * 1e-5, `${loss}: the reference weights barely moved (${ref.maxWeightChange})`);
  });
}

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
