#!/usr/bin/env node
'use strict';
/**
 * Our side of the GPU benchmark (bench/device-check.sh): SentenceEncoder on CUDA over a list of
 * sentences, sentences/s at several token budgets, embeddings saved for the agreement check.
 *
 *   node bench/encode-throughput.js --models DIR[,DIR] --sentences FILE --out DIR
 *        [--precisions fp16[,bf16,fp32]] [--batch-tokens 8192,32768,131072] [--reps 3] [--device cuda]
 *
 * Per model and precision: load, one warm-up pass over all sentences, then for each budget the
 * median of --reps full passes (wall clock around `encode`, which includes our tokenizer —
 * sentence-transformers' timings include its tokenizer too). Writes <out>/<model>-ours-<prec>.npy
 * (embeddings of the first budget) and <out>/ours-results.json; prints a table.
 */
const fs = require('node:fs');
const path = require('node:path');
const { SentenceEncoder } = require('../dist');
const { npyBytes } = require('../dist/npy');

function parseArgs(argv) {
  const a = { precisions: 'fp16', batchTokens: '8192,32768,131072', reps: 3, device: 'cuda' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--models') (a.models = v), i++;
    else if (k === '--sentences') (a.sentences = v), i++;
    else if (k === '--out') (a.out = v), i++;
    else if (k === '--precisions') (a.precisions = v), i++;
    else if (k === '--batch-tokens') (a.batchTokens = v), i++;
    else if (k === '--reps') (a.reps = Number(v)), i++;
    else if (k === '--device') (a.device = v), i++;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.models || !a.sentences || !a.out) throw new Error('--models, --sentences and --out are required');
  return a;
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const sentences = fs.readFileSync(a.sentences, 'utf8').split('\n').filter((s) => s.trim().length > 0);
  fs.mkdirSync(a.out, { recursive: true });
  const budgets = a.batchTokens.split(',').map(Number);
  const results = { sentences: sentences.length, device: a.device, models: {} };
  for (const dir of a.models.split(',')) {
    const name = path.basename(dir.replace(/\/+$/, ''));
    results.models[name] = {};
    for (const precision of a.precisions.split(',')) {
      const t0 = process.hrtime.bigint();
      const enc = await SentenceEncoder.load(dir, { device: a.device, precision });
      const loadS = Number(process.hrtime.bigint() - t0) / 1e9;
      try {
        results.deviceName = enc.device;
        await enc.encode(sentences, { batchTokens: budgets[0] }); // warm-up
        const runs = {};
        let saved = false;
        for (const bt of budgets) {
          const times = [];
          for (let r = 0; r < a.reps; r++) {
            const s = process.hrtime.bigint();
            const emb = await enc.encode(sentences, { batchTokens: bt });
            times.push(Number(process.hrtime.bigint() - s) / 1e9);
            if (!saved) {
              fs.writeFileSync(path.join(a.out, `${name}-ours-${precision}.npy`), npyBytes(emb.data, [emb.count, emb.dim]));
              saved = true;
            }
          }
          const m = median(times);
          runs[bt] = { seconds: m, sentences_per_s: sentences.length / m, all_seconds: times };
          console.log(`ours ${name} ${precision} batchTokens=${bt}: ${Math.round(sentences.length / m).toLocaleString('en-US')} sentences/s`);
        }
        results.models[name][precision] = { load_seconds: loadS, dim: enc.dimension, runs };
      } finally {
        enc.dispose();
      }
    }
  }
  fs.writeFileSync(path.join(a.out, 'ours-results.json'), JSON.stringify(results, null, 2));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
