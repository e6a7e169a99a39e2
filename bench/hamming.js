#!/usr/bin/env node
'use strict';
/**
 * Binary (Hamming) search vs float32 cosine search (issue #15). Not a test: prints a table and
 * one JSON line.
 *
 *   node bench/hamming.js [--nq 5000] [--nc 100000] [--dim 384] [--k 10] [--clusters 2000]
 *                         [--noise 0.6] [--rescore 4] [--seed 1]
 *
 * Data: synthetic embeddings with neighbourhood structure (random embeddings have none, so their
 * binary recall says nothing): `--clusters` normal random centres; every corpus row and query is a
 * centre plus normal noise of relative size `--noise`, normalised to unit length.
 *
 * Timed (wall clock, best of 2, same process):
 *   - float32: semanticSearch(queries, corpus, { topK: k }) — cosine, the native fused GEMM + top-k;
 *   - binary:  hammingSearch over quantizeEmbeddings(…, 'ubinary') of both sides (quantization
 *              timed separately: it is done once per corpus);
 *   - rescore: sentence-transformers' recipe — hammingSearch for k × --rescore candidates, then
 *              the float32 query · float32 corpus row dot products of those candidates (plain JS),
 *              best k kept.
 * Recall@k: the fraction of the float32 top-k (cosine) a method's top-k contains, over all queries.
 */
const { semanticSearch } = require('../dist/similarity');
const { quantizeEmbeddings, hammingSearch, hammingInfo } = require('../dist/quantize');
const { similarityInfo } = require('../dist/similarity');

function parseArgs(argv) {
  const a = { nq: 5000, nc: 100000, dim: 384, k: 10, clusters: 2000, noise: 0.6, rescore: 4, seed: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a)) throw new Error(`unknown argument ${argv[i]}`);
    a[key] = Number(argv[i + 1]);
    if (!Number.isFinite(a[key]) || a[key] <= 0) throw new Error(`${argv[i]} must be a positive number`);
  }
  return a;
}

function normalRng(seed) {
  let st = seed >>> 0;
  const uniform = () => {
    st = (st + 0x6d2b79f5) >>> 0;
    let t = st;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(Math.max(uniform(), 1e-12))) * Math.cos(2 * Math.PI * uniform());
}

function clustered(count, dim, centres, noise, normal) {
  const data = new Float32Array(count * dim);
  const nCentres = centres.length / dim;
  const scale = noise / Math.sqrt(dim);
  for (let i = 0; i < count; i++) {
    const c = Math.floor(Math.abs(normal() * 1e6)) % nCentres;
    let ss = 0;
    for (let d = 0; d < dim; d++) {
      const v = centres[c * dim + d] + scale * normal();
      data[i * dim + d] = v;
      ss += v * v;
    }
    const inv = 1 / Math.sqrt(ss);
    for (let d = 0; d < dim; d++) data[i * dim + d] *= inv;
  }
  return { data, count, dim };
}

async function best(fn, reps = 2) {
  let bestS = Infinity;
  let out;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    out = await fn();
    bestS = Math.min(bestS, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { seconds: bestS, out };
}

function recall(truth, got, k) {
  let hit = 0;
  for (let i = 0; i < truth.length; i++) {
    const want = new Set(truth[i].slice(0, k).map((h) => h.corpusId));
    for (const h of got[i].slice(0, k)) if (want.has(h.corpusId)) hit++;
  }
  return hit / (truth.length * k);
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const normal = normalRng(a.seed);
  const centres = new Float32Array(a.clusters * a.dim);
  for (let i = 0; i < centres.length; i++) centres[i] = normal() / Math.sqrt(a.dim);
  const corpus = clustered(a.nc, a.dim, centres, a.noise, normal);
  const queries = clustered(a.nq, a.dim, centres, a.noise, normal);

  const float = await best(() => semanticSearch(queries, corpus, { topK: a.k }));
  const quant = await best(async () => [quantizeEmbeddings(corpus, 'ubinary'), quantizeEmbeddings(queries, 'ubinary')]);
  const [qc, qq] = quant.out;
  const binary = await best(() => hammingSearch(qq, qc, { topK: a.k }));
  const fetchK = a.k * a.rescore;
  const rescored = await best(async () => {
    const cand = await hammingSearch(qq, qc, { topK: fetchK });
    return cand.map((hits, i) => {
      const q = queries.data.subarray(i * a.dim, (i + 1) * a.dim);
      const scored = hits.map(({ corpusId }) => {
        let dot = 0;
        const base = corpusId * a.dim;
        for (let d = 0; d < a.dim; d++) dot += q[d] * corpus.data[base + d];
        return { corpusId, score: dot };
      });
      scored.sort((x, y) => y.score - x.score || x.corpusId - y.corpusId);
      return scored.slice(0, a.k);
    });
  });

  const result = {
    bench: 'hamming',
    machine: `${require('node:os').cpus().length} CPUs (${require('node:os').cpus()[0].model}), load average ${require('node:os').loadavg()[0].toFixed(1)}`,
    kernels: { float32: similarityInfo().kernel, hamming: hammingInfo().kernel },
    shape: { nq: a.nq, nc: a.nc, dim: a.dim, k: a.k, clusters: a.clusters, noise: a.noise },
    seconds: { float32: float.seconds, quantize: quant.seconds, binary: binary.seconds, binaryRescored: rescored.seconds },
    speedup: { binary: float.seconds / binary.seconds, binaryRescored: float.seconds / rescored.seconds },
    recallAtK: { binary: recall(float.out, binary.out, a.k), binaryRescored: recall(float.out, rescored.out, a.k) },
    rescoreCandidates: fetchK,
  };
  const row = (name, s, r) => `${name.padEnd(34)} ${s.toFixed(3).padStart(9)} s ${(float.seconds / s).toFixed(1).padStart(8)}× ${r === null ? '       -' : r.toFixed(4).padStart(8)}`;
  console.log(`${a.nq} queries × ${a.nc} corpus × ${a.dim} dims, top-${a.k}; ${result.machine}`);
  console.log(`${'method'.padEnd(34)} ${'time'.padStart(11)} ${'vs f32'.padStart(9)} ${'recall@' + a.k}`);
  console.log(row(`float32 cosine (${result.kernels.float32})`, float.seconds, 1));
  console.log(row(`binary Hamming (${result.kernels.hamming})`, binary.seconds, result.recallAtK.binary));
  console.log(row(`binary top-${fetchK} + float32 rescore`, rescored.seconds, result.recallAtK.binaryRescored));
  console.log(`quantize both sides to ubinary: ${quant.seconds.toFixed(3)} s (once per corpus)`);
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
