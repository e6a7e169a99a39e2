#!/usr/bin/env node
'use strict';
/**
 * Similarity benchmarks (issue #7). Not a test: prints a table and one JSON line.
 *
 *   node bench/similarity.js [--nq 20000] [--nc 100000] [--dim 384] [--k 10] [--n 5000]
 *        [--model DIR] [--device cpu|cuda|auto] [--only kernel,search,stsb] [--peer-queries 64]
 *        [--check-queries 256] [--min-agreement 0.99]
 *
 * (c) kernel: the CPU similarity kernel's GFLOP/s (2·nq·nc·dim / time) against the machine's
 *     measured fp32 FMA peak. Both come from build/bench/similarity_bench (a C++ FMA loop
 *     with 16 independent AVX-512 chains — or 12 AVX2 chains — per thread, timed; then
 *     similarityTopK at 4096 × 16384 × 384, k = 10, best of 3, per ISA path), plus the same shape
 *     through the addon (semanticSearch, wall clock).
 * (a) search: random unit-free normal vectors, nq × nc × dim, top-k. On the CPU the default is
 *     20k queries × 100k corpus (100k × 100k takes ~5× longer: pass --nq 100000). Peer: a plain
 *     JS float32 loop (dot products + top-k insertion) on --peer-queries queries, extrapolated per
 *     query. On a GPU (--device cuda, or auto with one present) the full 100k × 100k (or
 *     --nq × --nc with --device cuda), checked against the CPU on --check-queries sampled
 *     queries (default 256, seeded): top-k agreement = mean |GPU top-k ∩ CPU top-k| / k, and the
 *     run exits 1 when it is below --min-agreement (default 0.99). With --device cuda the full
 *     CPU search and the JS peer are skipped (they would take most of a GPU session's minutes),
 *     and a missing CUDA device fails at once.
 * (b) stsb: the first --n unique STS Benchmark sentences → SentenceEncoder.load(--model) → encode
 *     → the most similar pair (paraphraseMining, topK 1, maxPairs 1); seconds for encode, search
 *     and both. The default model is bench/.models/minilm-l6-random (random weights: the timing
 *     is real, the "most similar pair" is not meaningful — pass a real model folder for that).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { stsSentences } = require('./stsb');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const s = require('../dist/similarity');
const { Embeddings } = require('../dist/embeddings');
const { loadNative } = require('../dist/native');

function parseArgs(argv) {
  const a = { nq: 20000, nc: 100000, dim: 384, k: 10, n: 5000, device: 'auto', only: 'kernel,search,stsb', peerQueries: 64, checkQueries: 256, minAgreement: 0.99 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--nq') (a.nq = Number(v)), i++;
    else if (k === '--nc') (a.nc = Number(v)), i++;
    else if (k === '--dim') (a.dim = Number(v)), i++;
    else if (k === '--k') (a.k = Number(v)), i++;
    else if (k === '--n') (a.n = Number(v)), i++;
    else if (k === '--model') (a.model = v), i++;
    else if (k === '--device') (a.device = v), i++;
    else if (k === '--only') (a.only = v), i++;
    else if (k === '--peer-queries') (a.peerQueries = Number(v)), i++;
    else if (k === '--check-queries') (a.checkQueries = Number(v)), i++;
    else if (k === '--min-agreement') (a.minAgreement = Number(v)), i++;
    else throw new Error(`unknown argument ${k}`);
  }
  for (const key of ['nq', 'nc', 'dim', 'k', 'n', 'peerQueries', 'checkQueries']) {
    if (!Number.isInteger(a[key]) || a[key] < 1) throw new Error(`--${key} must be a positive integer`);
  }
  if (!(a.minAgreement >= 0 && a.minAgreement <= 1)) throw new Error('--min-agreement must be in [0, 1]');
  if (!['cpu', 'cuda', 'auto'].includes(a.device) && !/^cuda:\d+$/.test(a.device)) throw new Error('--device must be cpu, cuda, cuda:N or auto');
  return a;
}

/** mulberry32: a seeded uniform generator on [0, 1). */
function rngOf(seed) {
  let st = seed >>> 0;
  return () => {
    st = (st + 0x6d2b79f5) >>> 0;
    let t = st;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomEmb(count, dim, seed) {
  const r = rngOf(seed);
  const data = new Float32Array(count * dim);
  for (let i = 0; i < data.length; i += 2) {
    const u = Math.max(r(), 1e-12);
    const m = Math.sqrt(-2 * Math.log(u));
    const th = 2 * Math.PI * r();
    data[i] = m * Math.cos(th);
    if (i + 1 < data.length) data[i + 1] = m * Math.sin(th);
  }
  return new Embeddings(data, count, dim);
}

const now = () => Number(process.hrtime.bigint()) / 1e9;
const fmt = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));


// The peer: plain JS, float32 data, cosine via precomputed norms, per-query top-k insertion.
function jsTopK(q, c, k, queries) {
  const dim = q.dim;
  const cn = new Float32Array(c.count);
  for (let j = 0; j < c.count; j++) {
    let ss = 0;
    for (let t = 0; t < dim; t++) ss += c.data[j * dim + t] ** 2;
    cn[j] = 1 / Math.max(Math.sqrt(ss), 1e-12);
  }
  const out = [];
  for (let i = 0; i < queries; i++) {
    let qs = 0;
    for (let t = 0; t < dim; t++) qs += q.data[i * dim + t] ** 2;
    const qi = 1 / Math.max(Math.sqrt(qs), 1e-12);
    const bs = new Float64Array(k).fill(-Infinity);
    const bi = new Int32Array(k).fill(-1);
    for (let j = 0; j < c.count; j++) {
      let d = 0;
      const qo = i * dim;
      const co = j * dim;
      for (let t = 0; t < dim; t++) d += q.data[qo + t] * c.data[co + t];
      d *= qi * cn[j];
      if (d > bs[k - 1]) {
        let p = k - 1;
        while (p > 0 && bs[p - 1] < d) {
          bs[p] = bs[p - 1];
          bi[p] = bi[p - 1];
          p--;
        }
        bs[p] = d;
        bi[p] = j;
      }
    }
    out.push(bi);
  }
  return out;
}

/** `count` distinct indices in [0, n), seeded (the queries the CPU checks a GPU search on). */
function sampleIndices(n, count, seed) {
  const r = rngOf(seed);
  const picked = new Set();
  const want = Math.min(count, n);
  while (picked.size < want) picked.add(Math.floor(r() * n));
  return [...picked].sort((x, y) => x - y);
}

/**
 * The GPU's top-k lists against the CPU's on sampled queries: `agreement` is the mean fraction
 * of the CPU's top-k ids that the GPU found; `tieAware` also counts a GPU hit whose CPU score is
 * within 2e-3 of the CPU's k-th score (fp16 scores may swap near-equal neighbours at the cut).
 */
async function checkAgainstCpu(q, c, gpuRes, k, rows) {
  const dim = q.dim;
  const qs = new Embeddings(new Float32Array(rows.length * dim), rows.length, dim);
  rows.forEach((r, i) => qs.data.set(q.data.subarray(r * dim, (r + 1) * dim), i * dim));
  const cpuRes = await s.semanticSearch(qs, c, { topK: k, device: 'cpu' });
  let agree = 0;
  let tieAware = 0;
  let top1 = 0;
  for (let i = 0; i < rows.length; i++) {
    const want = cpuRes[i];
    const got = gpuRes[rows[i]];
    const wantIds = new Set(want.map((h) => h.corpusId));
    const kth = want[want.length - 1].score;
    let inter = 0;
    let near = 0;
    for (const h of got) {
      if (wantIds.has(h.corpusId)) inter++;
      else if (cosineOf(qs, i, c, h.corpusId) >= kth - 2e-3) near++;
    }
    agree += inter / want.length;
    tieAware += (inter + near) / want.length;
    top1 += got[0] && got[0].corpusId === want[0].corpusId ? 1 : 0;
  }
  return { queries: rows.length, agreement: agree / rows.length, tieAware: tieAware / rows.length, top1: top1 / rows.length };
}

/** Cosine of row i of a and row j of b, in float64. */
function cosineOf(a, i, b, j) {
  const dim = a.dim;
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let t = 0; t < dim; t++) {
    const x = a.data[i * dim + t];
    const y = b.data[j * dim + t];
    d += x * y;
    na += x * x;
    nb += y * y;
  }
  return d / Math.max(Math.sqrt(na * nb), 1e-30);
}

function findBenchBinary(addonPath) {
  const cands = [
    process.env.SBERT_SIMILARITY_BENCH,
    path.join(path.dirname(addonPath), '..', 'bench', 'similarity_bench'),
    path.join(root, 'build', 'bench', 'similarity_bench'),
    path.join(root, 'build-cpu', 'bench', 'similarity_bench'),
  ].filter(Boolean);
  return cands.find((f) => fs.existsSync(f));
}

function cudaAvailable() {
  try {
    return s.similarityInfo().cudaMaxK > 0 && loadNative().addon.cudaDevices().length > 0;
  } catch {
    return false;
  }
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const only = new Set(a.only.split(','));
  const { addon, path: addonPath } = loadNative();
  const info = addon.buildInfo();
  const gpu = cudaAvailable();
  if (only.has('search') && a.device.startsWith('cuda') && !gpu) throw new Error(`--device ${a.device}: no CUDA device (or CUDA not compiled in)`);
  const devices = gpu ? addon.cudaDevices() : [];
  const result = {
    bench: 'similarity',
    cpu: os.cpus()[0] && os.cpus()[0].model,
    threads: info.cpu.threads,
    kernel: s.similarityInfo().kernel,
    gpu: devices[0] ? devices[0].name : null,
    loadBefore: os.loadavg()[0],
  };
  console.log(`# similarity bench — ${result.cpu}, ${result.threads} threads, kernel ${result.kernel}, GPU: ${result.gpu || 'none'}`);
  console.log(`# load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const rows = [];

  // (c) kernel vs peak
  if (only.has('kernel')) {
    const bin = findBenchBinary(addonPath);
    if (bin) {
      const r = spawnSync(bin, [], { encoding: 'utf8' });
      const line = (r.stdout || '').trim().split('\n').pop();
      try {
        const k = JSON.parse(line);
        result.kernelBench = k;
        for (const [label, peak] of [
          ['AVX-512', k.peakAvx512],
          ['AVX2', k.peakAvx2],
        ]) {
          if (!peak) continue;
          rows.push([`fp32 FMA peak (${label} loop)`, `${fmt(peak.oneThreadCpu)} GFLOP/s/core`, `all ${k.threads} threads: ${fmt(peak.allThreadsWall)} wall (${fmt(peak.allThreadsCpu)} summed per-thread CPU time)`]);
        }
        for (const [name, v] of Object.entries(k.kernels)) {
          rows.push([
            `kernel ${name} (${k.nq}×${k.nc}×${k.dim}, k=${k.k})`,
            `${fmt(v.gflops)} GFLOP/s`,
            `${fmt(v.gflopsPerCore)} per core-second = ${fmt(100 * v.fractionOfCorePeak)}% of that ISA's core peak`,
          ]);
        }
      } catch (err) {
        rows.push(['kernel', 'failed', `${bin}: ${(r.stderr || err.message).slice(0, 200)}`]);
      }
    } else {
      rows.push(['kernel', 'skipped', 'build/bench/similarity_bench not built (npx cmake-js compile --out build)']);
    }
    // The same shape through the addon (wall clock, includes the JS wrapper).
    const q = randomEmb(4096, 384, 1);
    const c = randomEmb(16384, 384, 2);
    await s.semanticSearch(q, c, { topK: 10 });
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = now();
      await s.semanticSearch(q, c, { topK: 10 });
      best = Math.min(best, now() - t0);
    }
    result.addonGflops = (2 * 4096 * 16384 * 384) / best / 1e9;
    rows.push(['semanticSearch 4096×16384×384 k=10 (cpu)', `${fmt(result.addonGflops)} GFLOP/s`, `${fmt(best, 3)} s wall`]);
  }

  // (a) big search
  if (only.has('search')) {
    const onlyCuda = a.device.startsWith('cuda');
    const t0 = now();
    const nGpu = onlyCuda ? a.nq : 100000;
    const nMax = onlyCuda ? a.nq : Math.max(a.nq, gpu ? nGpu : 0);
    const q = randomEmb(nMax, a.dim, 3);
    const c = randomEmb(a.nc, a.dim, 4);
    console.log(`# generated ${nMax} + ${a.nc} random vectors in ${fmt(now() - t0, 1)} s`);
    if (!onlyCuda) {
      const qCpu = new Embeddings(q.data.subarray(0, a.nq * a.dim), a.nq, a.dim);
      const t1 = now();
      const cpuRes = await s.semanticSearch(qCpu, c, { topK: a.k, device: 'cpu' });
      const cpuS = now() - t1;
      const flop = 2 * a.nq * a.nc * a.dim;
      result.searchCpu = { nq: a.nq, nc: a.nc, dim: a.dim, k: a.k, seconds: cpuS, gflops: flop / cpuS / 1e9, projected100kx100kSeconds: (cpuS * 1e10) / (a.nq * a.nc) };
      rows.push([`search cpu ${a.nq}×${a.nc}×${a.dim} top-${a.k}`, `${fmt(cpuS, 2)} s`, `${fmt(flop / cpuS / 1e9)} GFLOP/s; 100k×100k ≈ ${fmt(result.searchCpu.projected100kx100kSeconds, 0)} s`]);

      // Peer: plain JS on a few queries, extrapolated.
      const pq = Math.min(a.peerQueries, a.nq);
      const t2 = now();
      const peer = jsTopK(q, c, a.k, pq);
      const peerS = now() - t2;
      const peerPerQuery = peerS / pq;
      const oursPerQuery = cpuS / a.nq;
      let agree = 0;
      for (let i = 0; i < pq; i++) agree += peer[i][0] === cpuRes[i][0].corpusId ? 1 : 0;
      result.peerJs = { queries: pq, secondsPerQuery: peerPerQuery, top1Agreement: agree / pq, speedup: peerPerQuery / oursPerQuery };
      rows.push([`peer: plain JS (${pq} queries)`, `${fmt(peerPerQuery * 1000, 2)} ms/query`, `ours ${fmt(oursPerQuery * 1000, 3)} ms/query → ${fmt(peerPerQuery / oursPerQuery, 0)}× ; top-1 agree ${agree}/${pq}`]);
    }

    if (gpu) {
      const device = onlyCuda ? a.device : 'cuda';
      const qg = new Embeddings(q.data.subarray(0, nGpu * a.dim), nGpu, a.dim);
      const cg = onlyCuda || a.nc <= nGpu ? c : new Embeddings(c.data.subarray(0, nGpu * a.dim), nGpu, a.dim);
      await s.semanticSearch(randomEmb(256, a.dim, 9), cg, { topK: a.k, device }); // warm-up
      const t3 = now();
      const gpuRes = await s.semanticSearch(qg, cg, { topK: a.k, device });
      const gpuS = now() - t3;
      const gflop = 2 * nGpu * cg.count * a.dim;
      const t4 = now();
      const check = await checkAgainstCpu(qg, cg, gpuRes, a.k, sampleIndices(nGpu, a.checkQueries, 17));
      const checkS = now() - t4;
      const pass = check.agreement >= a.minAgreement;
      result.searchGpu = { device, nq: nGpu, nc: cg.count, dim: a.dim, k: a.k, seconds: gpuS, tflops: gflop / gpuS / 1e12, checkVsCpu: { ...check, seconds: checkS, minAgreement: a.minAgreement, pass } };
      rows.push([`search ${device} ${nGpu}×${cg.count}×${a.dim} top-${a.k}`, `${fmt(gpuS, 3)} s`, `${fmt(gflop / gpuS / 1e12, 1)} TFLOP/s (incl. upload)`]);
      rows.push([
        `  vs cpu on ${check.queries} sampled queries`,
        pass ? 'pass' : 'FAIL',
        `top-${a.k} agreement ${fmt(check.agreement, 4)} (≥ ${a.minAgreement}); with near-ties ${fmt(check.tieAware, 4)}; top-1 ${fmt(check.top1, 4)}; ${fmt(checkS, 2)} s`,
      ]);
      if (!pass) process.exitCode = 1;
    } else {
      rows.push(['search cuda', 'skipped', 'no CUDA device (or CUDA not compiled in)']);
    }
  }

  // (b) STSb: encode + most similar pair
  if (only.has('stsb')) {
    const modelDir = a.model || path.join(root, 'bench', '.models', 'minilm-l6-random');
    let SentenceEncoder;
    try {
      ({ SentenceEncoder } = require('../dist/encoder'));
    } catch (err) {
      SentenceEncoder = undefined;
    }
    if (!SentenceEncoder || !fs.existsSync(modelDir)) {
      rows.push(['stsb encode + most similar pair', 'skipped', !SentenceEncoder ? 'dist/encoder.js missing' : `no model at ${modelDir} (node bench/make-minilm.js)`]);
    } else {
      const { sentences } = stsSentences(a.n);
      const device = a.device === 'auto' ? (gpu ? 'cuda' : 'cpu') : a.device;
      const tl = now();
      const enc = await SentenceEncoder.load(modelDir, { device });
      const loadS = now() - tl;
      try {
        await enc.encode(sentences.slice(0, 64)); // warm-up
        const t0 = now();
        const e = await enc.encode(sentences);
        const t1 = now();
        const [top] = await s.paraphraseMining(e, { topK: 1, maxPairs: 1, device: device.startsWith('cuda') ? device : 'cpu' });
        const t2 = now();
        result.stsb = {
          model: path.basename(modelDir),
          device: enc.device,
          sentences: sentences.length,
          loadSeconds: loadS,
          encodeSeconds: t1 - t0,
          searchSeconds: t2 - t1,
          totalSeconds: t2 - t0,
          pair: top ? { score: top.score, a: sentences[top.i], b: sentences[top.j] } : null,
        };
        rows.push([`stsb ${sentences.length} sentences (${path.basename(modelDir)}, ${enc.device})`, `${fmt(t2 - t0, 2)} s`, `encode ${fmt(t1 - t0, 2)} s + most similar pair ${fmt(t2 - t1, 3)} s (load ${fmt(loadS, 2)} s)`]);
        if (top) console.log(`# most similar pair (${top.score.toFixed(4)}): "${sentences[top.i]}" / "${sentences[top.j]}"`);
      } finally {
        if (typeof enc.dispose === 'function') enc.dispose();
      }
    }
  }

  result.loadAfter = os.loadavg()[0];
  const w0 = Math.max(...rows.map((r) => r[0].length), 10);
  const w1 = Math.max(...rows.map((r) => r[1].length), 8);
  console.log(`\n${'what'.padEnd(w0)}  ${'result'.padEnd(w1)}  notes`);
  console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}  -----`);
  for (const r of rows) console.log(`${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`);
  console.log(`# load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1; // not process.exit: piped stdout is flushed first
});
