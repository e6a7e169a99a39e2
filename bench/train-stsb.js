#!/usr/bin/env node
'use strict';
/**
 * The learning check of issue 13: fine-tune a model on the bundled STSb training split with the
 * cosine loss (the SBERT paper's regression objective; sentence-transformers'
 * training_stsbenchmark.py setup: batch 16, lr 2e-5 unless given, 10% warm-up) and report the
 * STSb-dev Spearman before and after, from the saved folder reloaded with SentenceEncoder.
 *
 *   node bench/train-stsb.js [--model DIR] [--epochs 1] [--lr 2e-5] [--batch-size 16] [--limit N]
 *
 * Default model: test/fixtures/tiny (random weights, hidden 32: fast). For the MiniLM shape:
 * --model bench/.models/minilm-l6-random (bench/make-minilm.js). The saved folder is deleted at
 * the end; the JSON line at the end carries the numbers.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const { SentenceEncoder, fit } = require(path.join(ROOT, 'dist'));
const { evaluateStsTask } = require(path.join(ROOT, 'dist', 'eval'));
const { loadStsbTrain } = require(path.join(ROOT, 'dist', 'train'));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function devSpearman(dir) {
  const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
  try {
    return (await evaluateStsTask(enc, 'stsb-dev')).headline.spearman;
  } finally {
    enc.dispose();
  }
}

async function main() {
  const model = path.resolve(arg('model', path.join(ROOT, 'test', 'fixtures', 'tiny')));
  const epochs = Number(arg('epochs', '1'));
  const learningRate = Number(arg('lr', '2e-5'));
  const batchSize = Number(arg('batch-size', '16'));
  const limit = Number(arg('limit', '0'));
  let train = loadStsbTrain();
  if (limit > 0) train = train.slice(0, limit);
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-train-stsb-')), 'model');

  const before = await devSpearman(model);
  console.log(`# ${model}: STSb-dev Spearman before ${(before * 100).toFixed(2)}; training on ${train.length} STSb-train pairs, ${epochs} epoch(s), lr ${learningRate}, batch ${batchSize}`);
  const t0 = Date.now();
  let lastPrint = 0;
  const result = await fit(model, {
    loss: 'cosine', train, epochs, learningRate, batchSize, evaluator: 'stsb-dev', outputDir: out,
    onProgress: (p) => {
      if (p.evaluation || Date.now() - lastPrint > 10000) {
        lastPrint = Date.now();
        console.log(`  step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)}${p.evaluation ? ` dev spearman ${(p.evaluation.spearman * 100).toFixed(2)}` : ''} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      }
    },
  });
  const seconds = (Date.now() - t0) / 1000;
  const after = await devSpearman(result.outputDir);
  const best = result.evaluations.find((e) => e.step === result.savedStep);
  console.log(`STSb-dev Spearman ×100: before ${(before * 100).toFixed(2)}, after ${(after * 100).toFixed(2)} (saved step ${result.savedStep}; fit's own evaluation ${(best.spearman * 100).toFixed(2)}); ${result.steps} steps in ${seconds.toFixed(1)} s = ${((train.length * epochs) / seconds).toFixed(1)} examples/s including evaluation`);
  console.log(JSON.stringify({ bench: 'train-stsb', model, epochs, learningRate, batchSize, examples: train.length, before, after, fitEvaluation: best.spearman, savedStep: result.savedStep, seconds, evaluations: result.evaluations }));
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  if (!(after > before)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
