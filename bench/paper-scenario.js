#!/usr/bin/env node
'use strict';
/**
 * The Sentence-BERT paper's opening scenario, measured on our own engine (issue 24): find the most
 * similar pair among 10,000 sentences.
 *
 *   (a) bi-encoder: SentenceEncoder.encode(all 10,000) + paraphraseMining (the top-1 pair), end to
 *       end, timed as a whole (load excluded);
 *   (b) cross-encoder: CrossEncoder.predict on a seeded uniform sample of the n·(n−1)/2 =
 *       49,995,000 pairs (default 20,000), pairs/s measured, the time for all of them
 *       extrapolated. Same body shape on both sides.
 *
 * The paper (Reimers & Gurevych 2019, §1): a BERT cross-encoder needs ~65 hours on a V100 for
 * this; SBERT ~5 seconds. Printed beside ours. Weights are random (bench/make-minilm.js), which
 * changes no timing: the work per token is the same as a trained model's.
 *
 *   node bench/make-minilm.js && node bench/make-minilm.js --cross-encoder     # MiniLM-L6 shape
 *   node bench/make-minilm.js --shape bert-base && node bench/make-minilm.js --shape bert-base --cross-encoder
 *   node bench/paper-scenario.js [--shape minilm-l6|bert-base] [--n 10000] [--pairs 20000] [--seed 1]
 *                                [--device cpu|cuda] [--precision fp32|int8|bf16|fp16]
 *
 * Sentences: the first --n unique STS Benchmark sentences (bench/stsb.js).
 */
const path = require('node:path');
const os = require('node:os');
const fs = require('node:fs');
const { stsSentences } = require('./stsb');

const PAPER = { crossHours: 65, biSeconds: 5, card: 'V100' };

function parseArgs(argv) {
  const a = { shape: 'minilm-l6', n: 10000, pairs: 20000, seed: 1, device: 'cpu', precision: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (flag === '--shape') a.shape = value;
    else if (flag === '--n') a.n = Number(value);
    else if (flag === '--pairs') a.pairs = Number(value);
    else if (flag === '--seed') a.seed = Number(value);
    else if (flag === '--device') a.device = value;
    else if (flag === '--precision') a.precision = value;
    else throw new Error(`unknown flag ${flag}`);
  }
  if (!Number.isInteger(a.n) || a.n < 2) throw new Error('--n must be an integer ≥ 2');
  if (!Number.isInteger(a.pairs) || a.pairs < 1) throw new Error('--pairs must be a positive integer');
  return a;
}

/** mulberry32: seeded uniform [0, 1). */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct pairs (i < j) drawn uniformly from the n·(n−1)/2, seeded. */
function samplePairs(n, count, seed) {
  const total = (n * (n - 1)) / 2;
  if (count > total) throw new Error(`--pairs ${count} is more than the ${total} pairs of ${n} sentences`);
  const uniform = rng(seed);
  const seen = new Set();
  const pairs = [];
  while (pairs.length < count) {
    let i = Math.floor(uniform() * n);
    let j = Math.floor(uniform() * n);
    if (i === j) continue;
    if (i > j) [i, j] = [j, i];
    const key = i * n + j;
    if (seen.has(key)) continue;
    seen.add(key);
    pairs.push([i, j]);
  }
  return pairs;
}

function formatDuration(seconds) {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 2 * 3600) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 3 * 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

function cpuFlags() {
  try {
    const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8')) || [, ''])[1].split(' '));
    return ['avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile'].filter((f) => flags.has(f)).join(' ');
  } catch {
    return 'unknown';
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let lib;
  try {
    lib = require('../dist');
  } catch {
    throw new Error('dist/ missing: run npm run build:ts (and build the addon) first');
  }
  const { SentenceEncoder, CrossEncoder, paraphraseMining } = lib;
  const biDir = path.join(__dirname, '.models', `${args.shape}-random`);
  const crossDir = path.join(__dirname, '.models', `${args.shape}-cross-encoder-random`);
  for (const [dir, flags] of [[biDir, ''], [crossDir, ' --cross-encoder']]) {
    if (!fs.existsSync(path.join(dir, 'model.safetensors'))) throw new Error(`${dir} missing: run node bench/make-minilm.js --shape ${args.shape}${flags}`);
  }
  const { sentences, dir: stsDir } = stsSentences(args.n);
  if (sentences.length < args.n) throw new Error(`only ${sentences.length} unique sentences in ${stsDir}`);
  const n = sentences.length;
  const allPairs = (n * (n - 1)) / 2;
  console.log(`sentences: ${n} unique STSb sentences (${stsDir}); pairs: ${allPairs.toLocaleString('en-US')}`);
  console.log(`machine: ${os.cpus()[0].model}, ${os.cpus().length} cores, flags: ${cpuFlags()}; shape ${args.shape}; device ${args.device}${args.precision ? `, precision ${args.precision}` : ''}`);

  // (a) The bi-encoder: encode everything, then the most similar pair by cosine.
  const encoder = await SentenceEncoder.load(biDir, { device: args.device, ...(args.precision ? { precision: args.precision } : {}) });
  await encoder.encode(sentences.slice(0, 256)); // warm-up: workspaces, page-in of the weights
  const biStart = process.hrtime.bigint();
  const embeddings = await encoder.encode(sentences);
  const encodeSeconds = Number(process.hrtime.bigint() - biStart) / 1e9;
  const mined = await paraphraseMining(embeddings, { topK: 1, maxPairs: 1 });
  const biSeconds = Number(process.hrtime.bigint() - biStart) / 1e9;
  const best = mined[0];
  console.log(`\n(a) bi-encoder: encode ${n} in ${encodeSeconds.toFixed(2)} s + paraphraseMining top-1 in ${(biSeconds - encodeSeconds).toFixed(2)} s = ${biSeconds.toFixed(2)} s`);
  console.log(`    most similar pair (cosine ${best.score.toFixed(4)}; random weights, so not meaningful): #${best.i} / #${best.j}`);
  encoder.dispose();

  // (b) The cross-encoder: pairs/s on a uniform sample, extrapolated to all pairs.
  const ce = await CrossEncoder.load(crossDir, { device: args.device, ...(args.precision ? { precision: args.precision } : {}) });
  const sample = samplePairs(n, args.pairs, args.seed).map(([i, j]) => [sentences[i], sentences[j]]);
  await ce.predict(sample.slice(0, 256)); // warm-up
  const crossStart = process.hrtime.bigint();
  const scores = await ce.predict(sample);
  const crossSampleSeconds = Number(process.hrtime.bigint() - crossStart) / 1e9;
  if (scores.length !== sample.length || !scores.every(Number.isFinite)) throw new Error('cross-encoder returned a wrong or non-finite score');
  const pairsPerSecond = sample.length / crossSampleSeconds;
  const crossAllSeconds = allPairs / pairsPerSecond;
  console.log(`\n(b) cross-encoder: ${sample.length.toLocaleString('en-US')} sampled pairs in ${crossSampleSeconds.toFixed(1)} s = ${pairsPerSecond.toFixed(0)} pairs/s`);
  console.log(`    all ${allPairs.toLocaleString('en-US')} pairs: ${formatDuration(crossAllSeconds)} (extrapolated)`);
  ce.dispose();

  const ratio = crossAllSeconds / biSeconds;
  console.log('\n| | bi-encoder (encode + top-1) | cross-encoder (all pairs) | cross / bi |');
  console.log('|---|---|---|---|');
  console.log(`| ours, ${args.shape}, ${args.device}${args.precision ? ` ${args.precision}` : ''} | ${biSeconds.toFixed(2)} s | ${formatDuration(crossAllSeconds)} (${pairsPerSecond.toFixed(0)} pairs/s, extrapolated) | ${Math.round(ratio).toLocaleString('en-US')}× |`);
  console.log(`| paper, BERT-base, ${PAPER.card} | ~${PAPER.biSeconds} s | ~${PAPER.crossHours} h | ~${Math.round((PAPER.crossHours * 3600) / PAPER.biSeconds).toLocaleString('en-US')}× |`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
