#!/usr/bin/env node
// Writes test/fixtures/train/cases.json: the fixed batches the training parity reference
// (tools/reference/train_reference.py) and our trainer both run, tokenized by OUR tokenizer
// (dist/, the train-small fixture's tokenizer.json) so both sides see identical token ids.
//
// Sentences are real STSb-dev pairs (data/stsbenchmark/sts-dev.csv), picked in file order from
// disjoint row ranges per loss; 10 steps per loss, 4 examples per step, examples example-major
// (text j of example e is text e*k + j):
//   softmax  (s1, s2), label = class 0 (score ≥ 3.5), 1 (≥ 1.5), 2 (otherwise)
//   cosine   (s1, s2), label = score / 5
//   triplet  (s1, s2, negative) of pairs scoring ≥ 4; the negative is s2 of a pair 5 rows on
//   mnrl     (s1, s2) of pairs scoring ≥ 3.5
//   mse      (s1), target = a seeded random vector of dim 24 (mulberry32 + Box–Muller), fp32
//
//   npx tsc -p tsconfig.json && node tools/reference/make_train_cases.js
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { loadTokenizer } = require('../../dist');
const { rng } = require('../../test/helpers/random');

const ROOT = path.resolve(__dirname, '..', '..');
const MODEL = 'test/fixtures/train-small';
const OUT = path.join(ROOT, 'test', 'fixtures', 'train', 'cases.json');
const STEPS = 10;
const EXAMPLES = 4;
const MAX_SEQ_LENGTH = 64;
const MAX_TOKENS = 48; // rows with a longer sentence are skipped: keeps the fixture small
const TARGET_DIM = 24;

function readStsDev() {
  const text = fs.readFileSync(path.join(ROOT, 'data', 'stsbenchmark', 'sts-dev.csv'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const cols = line.split('\t');
      return { score: Number(cols[4]), s1: cols[5], s2: cols[6] };
    });
}

// Standard normals by Box–Muller from the tests' seeded mulberry32 stream.
function normals(seed, n) {
  const uniform = rng(seed);
  const out = [];
  while (out.length < n) {
    const u = 1 - uniform();
    const v = uniform();
    out.push(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  return out;
}

function softmaxClass(score) {
  if (score >= 3.5) return 0;
  if (score >= 1.5) return 1;
  return 2;
}

async function main() {
  const tokenizer = await loadTokenizer(path.join(ROOT, MODEL));
  const tokens = (s) => tokenizer.encode(s, { maxLength: MAX_SEQ_LENGTH }).ids.length;
  const rows = readStsDev().filter(
    (r) => Number.isFinite(r.score) && r.s1 && r.s2 && tokens(r.s1) <= MAX_TOKENS && tokens(r.s2) <= MAX_TOKENS,
  );
  // Separate row ranges per loss (mse takes the last rows, which mnrl may share).
  const need = STEPS * EXAMPLES;
  const take = (pool, count) => {
    if (pool.length < count) throw new Error(`only ${pool.length} usable STSb rows, need ${count}`);
    return pool.slice(0, count);
  };
  const cosineRows = take(rows.slice(0, 200), need);
  const softmaxRows = take(rows.slice(200, 400), need);
  const high = rows.slice(400).filter((r) => r.score >= 4);
  const tripletRows = take(high, need + 5);
  const mnrlRows = take(rows.slice(400).filter((r) => r.score >= 3.5 && !tripletRows.includes(r)), need);
  const mseRows = take(rows.slice(-need), need); // the last rows: s1 only
  const targets = normals(20241202, need * TARGET_DIM).map((x) => Math.fround(x / Math.sqrt(TARGET_DIM)));

  const examples = {
    softmax: softmaxRows.map((r) => ({ texts: [r.s1, r.s2], label: softmaxClass(r.score) })),
    cosine: cosineRows.map((r) => ({ texts: [r.s1, r.s2], label: Math.fround(r.score / 5) })),
    triplet: tripletRows.slice(0, need).map((r, i) => ({ texts: [r.s1, r.s2, tripletRows[i + 5].s2] })),
    mnrl: mnrlRows.map((r) => ({ texts: [r.s1, r.s2] })),
    mse: mseRows.map((r, i) => ({ texts: [r.s1], target: targets.slice(i * TARGET_DIM, (i + 1) * TARGET_DIM) })),
  };
  const losses = {};
  for (const [loss, list] of Object.entries(examples)) {
    const steps = [];
    for (let s = 0; s < STEPS; s++) {
      const batch = list.slice(s * EXAMPLES, (s + 1) * EXAMPLES);
      const texts = batch.flatMap((e) => e.texts);
      const enc = tokenizer.encodeBatch(texts, { maxLength: MAX_SEQ_LENGTH });
      const step = { texts, ids: Array.from(enc.ids), cuSeqlens: Array.from(enc.cuSeqlens) };
      if (batch[0].label !== undefined) step.labels = batch.map((e) => e.label);
      if (batch[0].target !== undefined) step.targets = batch.map((e) => e.target);
      steps.push(step);
    }
    losses[loss] = { textsPerExample: list[0].texts.length, examplesPerStep: EXAMPLES, steps };
  }
  const out = {
    note: 'written by tools/reference/make_train_cases.js; token ids from our tokenizer (dist/)',
    model: MODEL,
    maxSeqLength: MAX_SEQ_LENGTH,
    losses,
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(out) + '\n');
  console.log(`wrote ${path.relative(ROOT, OUT)} (${(fs.statSync(OUT).size / 1024).toFixed(0)} KB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
