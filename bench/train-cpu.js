#!/usr/bin/env node
'use strict';
/**
 * Training speed and memory on the CPU (issue 13): optimizer steps of the `cosine` loss on
 * STSb-train pairs with the all-MiniLM-L6-v2 shape (bench/make-minilm.js: vocab 30522, hidden
 * 384, 6 layers, 12 heads, FFN 1536, mean pooling + Normalize, random seeded weights), ours
 * (TrainingSession: packed, unpadded batches) vs the same plain-PyTorch model
 * (bench/peers/train_speed.py: Debian's torch, batches padded per text column as
 * sentence-transformers pads them), same token ids, same threads, measured in the same run.
 * Dropout is off on both sides (the PyTorch model has none), so both do the same work.
 *
 *   node bench/train-cpu.js [--steps 8] [--warmup 1] [--batch 16,64] [--threads N] [--only ours,torch]
 *
 * Each (contender, batch size) runs in its own child process, so each peak RSS is its own.
 * Reported per run: examples/s by wall clock and by process CPU time (the machine is shared:
 * CPU time is the steadier number), ms per step, baseline RSS after loading the model and peak
 * RSS, and the fraction of the machine's fp32 FMA peak that the whole step reaches: useful
 * FLOPs (unpadded tokens; forward + backward = 3 × forward's GEMM and attention FLOPs) per
 * CPU-second against the per-core peak that build/bench/similarity_bench measures.
 * Needs: dist/ and build/ (npx tsc; cmake-js compile), /usr/bin/python3 with torch (with
 * libopenblas0-pthread installed, or torch runs on the reference BLAS).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const MODEL = path.join(__dirname, '.models', 'minilm-l6-random');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** Per-step batches of STSb-train pairs (cycling), tokenized by our tokenizer (= HF's ids). */
async function writeBatches(file, batch, steps) {
  const { loadModelFolder } = require(path.join(ROOT, 'dist'));
  const { loadStsbTrain } = require(path.join(ROOT, 'dist', 'train'));
  const folder = await loadModelFolder(MODEL);
  const examples = loadStsbTrain();
  const ids = (text) => Array.from(folder.tokenizer.encode(text, { maxLength: folder.maxSeqLength }).ids);
  const out = { model: MODEL, steps: [] };
  for (let s = 0; s < steps; s++) {
    const rows = Array.from({ length: batch }, (_, i) => examples[(s * batch + i) % examples.length]);
    out.steps.push({ a: rows.map((r) => ids(r.texts[0])), b: rows.map((r) => ids(r.texts[1])), labels: rows.map((r) => r.label) });
  }
  fs.writeFileSync(file, JSON.stringify(out));
  return out;
}

/** Useful FLOPs of one training step on unpadded sequences (3 × forward: dX and dW in backward). */
function stepFlops(cfg, lengths) {
  const h = cfg.hidden_size;
  const f = cfg.intermediate_size;
  let fwd = 0;
  for (const s of lengths) fwd += cfg.num_hidden_layers * (s * 2 * h * (4 * h + 2 * f) + 4 * s * s * h);
  return 3 * fwd;
}

/** Child: our trainer on the batches file. */
async function childOurs(file) {
  const { TrainingSession } = require(path.join(ROOT, 'dist', 'train'));
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  const session = await TrainingSession.create(MODEL, {
    loss: 'cosine', textsPerExample: 2, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01, maxGradNorm: 1, dropout: false, seed: 1,
  });
  const baselineRssMB = process.resourceUsage().maxRSS / 1024;
  const { linearWarmupLr, warmupStepsFor } = require(path.join(ROOT, 'dist', 'train'));
  const total = data.steps.length;
  const warm = warmupStepsFor(total, 0.1);
  const stepMs = [];
  const stepCpuMs = [];
  let last;
  for (let s = 0; s < total; s++) {
    // The same STSb rows as the ids PyTorch gets: the session tokenizes their texts itself.
    const step = data.steps[s];
    const examples = step.texts.map((t, i) => ({ texts: t, label: step.labels[i] }));
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    last = await session.step(examples, linearWarmupLr(2e-5, s, warm, total));
    const c1 = process.cpuUsage(c0);
    stepMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    stepCpuMs.push((c1.user + c1.system) / 1000);
  }
  session.dispose();
  process.stdout.write(JSON.stringify({ stepMs, stepCpuMs, baselineRssMB, peakRssMB: process.resourceUsage().maxRSS / 1024, lastLoss: last.loss }) + '\n');
}

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function fmt(x, d = 1) {
  return Number.isFinite(x) ? x.toFixed(d) : 'n/a';
}

function fmaPeakPerCore() {
  const bin = path.join(ROOT, 'build', 'bench', 'similarity_bench');
  if (!fs.existsSync(bin)) return undefined;
  const r = spawnSync(bin, [], { encoding: 'utf8' });
  try {
    const k = JSON.parse((r.stdout || '').trim().split('\n').pop());
    const isa = require(path.join(ROOT, 'dist')).buildInfo().cpu.avx512 ? k.peakAvx512 : k.peakAvx2;
    return isa.oneThreadCpu;
  } catch {
    return undefined;
  }
}

async function main() {
  if (process.argv[2] === '--child') return childOurs(process.argv[3]);
  const steps = Number(arg('steps', '8'));
  const warmup = Number(arg('warmup', '1'));
  const batches = arg('batch', '16,64').split(',').map(Number);
  const threads = Number(arg('threads', String(os.availableParallelism ? os.availableParallelism() : os.cpus().length)));
  const only = new Set(arg('only', 'ours,torch').split(','));
  if (!fs.existsSync(path.join(MODEL, 'model.safetensors'))) {
    console.log('# writing the bench model (bench/make-minilm.js)');
    spawnSync(process.execPath, [path.join(__dirname, 'make-minilm.js')], { stdio: 'inherit' });
  }
  const cfg = JSON.parse(fs.readFileSync(path.join(MODEL, 'config.json'), 'utf8'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-train-bench-'));
  const env = { ...process.env, SBERT_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  const peak = fmaPeakPerCore();
  console.log(`# train-cpu — ${os.cpus()[0].model}, ${threads} threads, MiniLM-L6 shape, cosine loss, STSb-train, ${steps} steps (${warmup} warm-up not timed)`);
  console.log(`# fp32 FMA peak (build/bench/similarity_bench): ${fmt(peak)} GFLOP/s per core-second; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const results = [];
  for (const batch of batches) {
    const file = path.join(tmp, `b${batch}.json`);
    const data = await writeBatches(file, batch, steps);
    // Our child needs the texts: add them next to the ids (same rows, same order).
    const { loadStsbTrain } = require(path.join(ROOT, 'dist', 'train'));
    const rows = loadStsbTrain();
    data.steps.forEach((st, s) => (st.texts = Array.from({ length: batch }, (_, i) => rows[(s * batch + i) % rows.length].texts)));
    fs.writeFileSync(file, JSON.stringify(data));
    const lengths = data.steps.slice(warmup).map((st) => [...st.a, ...st.b].map((r) => r.length));
    const flops = lengths.reduce((sum, l) => sum + stepFlops(cfg, l), 0);
    const padded = data.steps.slice(warmup).reduce((sum, st) => sum + st.a.length * Math.max(...st.a.map((r) => r.length)) + st.b.length * Math.max(...st.b.map((r) => r.length)), 0);
    const real = lengths.reduce((sum, l) => sum + l.reduce((a, b) => a + b, 0), 0);
    for (const who of ['ours', 'torch']) {
      if (!only.has(who)) continue;
      const r =
        who === 'ours'
          ? spawnSync(process.execPath, [__filename, '--child', file], { encoding: 'utf8', env, maxBuffer: 1 << 26 })
          : spawnSync('/usr/bin/python3', [path.join(__dirname, 'peers', 'train_speed.py'), file, '--threads', String(threads), '--warmup', String(warmup)], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
      let out;
      process.stdout.write(`# ${who} batch ${batch}: ${r.status === 0 ? 'done' : `exit ${r.status}`}\n`);
      try {
        out = JSON.parse(r.stdout.trim().split('\n').pop());
      } catch {
        console.log(`${who} batch ${batch}: failed (${r.status})\n${(r.stderr || '').slice(-2000)}`);
        continue;
      }
      const wallS = out.stepMs.slice(warmup).reduce((a, b) => a + b, 0) / 1000;
      const cpuS = out.stepCpuMs.slice(warmup).reduce((a, b) => a + b, 0) / 1000;
      const n = batch * (steps - warmup);
      results.push({
        who, batch, threads, examplesPerSecWall: n / wallS, examplesPerCpuSec: n / cpuS, msPerStepMedian: median(out.stepMs.slice(warmup)),
        baselineRssMB: out.baselineRssMB, peakRssMB: out.peakRssMB, gflopsPerCpuSec: flops / cpuS / 1e9,
        fractionOfPeak: peak ? flops / cpuS / 1e9 / peak : undefined, paddedTokenRatio: padded / real, lastLoss: out.lastLoss,
      });
    }
  }
  const pad = (s, n) => String(s).padEnd(n);
  const lpad = (s, n) => String(s).padStart(n);
  console.log(`${pad('contender', 10)}${lpad('batch', 6)}${lpad('ex/s wall', 11)}${lpad('ex/CPU-s', 10)}${lpad('ms/step', 9)}${lpad('base MB', 9)}${lpad('peak MB', 9)}${lpad('GFLOP/CPU-s', 13)}${lpad('% peak', 8)}`);
  for (const r of results) {
    console.log(`${pad(r.who, 10)}${lpad(r.batch, 6)}${lpad(fmt(r.examplesPerSecWall), 11)}${lpad(fmt(r.examplesPerCpuSec), 10)}${lpad(fmt(r.msPerStepMedian, 0), 9)}${lpad(fmt(r.baselineRssMB, 0), 9)}${lpad(fmt(r.peakRssMB, 0), 9)}${lpad(fmt(r.gflopsPerCpuSec), 13)}${lpad(r.fractionOfPeak === undefined ? 'n/a' : fmt(100 * r.fractionOfPeak), 8)}`);
  }
  const ratios = {};
  for (const batch of batches) {
    const o = results.find((r) => r.who === 'ours' && r.batch === batch);
    const t = results.find((r) => r.who === 'torch' && r.batch === batch);
    if (!o || !t) continue;
    ratios[batch] = { wall: o.examplesPerSecWall / t.examplesPerSecWall, cpu: o.examplesPerCpuSec / t.examplesPerCpuSec, peakRss: o.peakRssMB / t.peakRssMB, paddedTokenRatio: t.paddedTokenRatio };
    console.log(`batch ${batch}: ours/torch ${fmt(ratios[batch].wall, 2)}x wall, ${fmt(ratios[batch].cpu, 2)}x per CPU-second; peak RSS ours/torch ${fmt(ratios[batch].peakRss, 2)}; torch pads ${fmt(t.paddedTokenRatio, 2)}x the real tokens`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(JSON.stringify({ bench: 'train-cpu', cpu: os.cpus()[0].model, threads, steps, warmup, fmaPeakPerCore: peak, results, ratios }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
