// The CUDA similarity search (native/cuda/similarity_topk.cu: fp16 tensor-core GEMM with the
// top-k fused into it) against the CPU kernel (fp32) on the same inputs. Runs only where a CUDA
// device is present (test/run.js skips test/gpu/ otherwise).
//
// fp16 inputs make GPU scores differ from the CPU's by ~1e-3 (relative to |q|·|c|), so top-k sets
// are compared up to near-ties at the cut: every GPU hit must be within tolerance of the CPU's
// k-th score, and every corpus row clearly above it must be found.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const s = require('../../dist/similarity');
const { Embeddings } = require('../../dist/embeddings');

const { rng } = require('../helpers/random');

function randomEmb(count, dim, seed, scale = 1) {
  const r = rng(seed);
  const data = new Float32Array(count * dim);
  for (let i = 0; i < data.length; i++) {
    const u = Math.max(r(), 1e-12);
    data[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return new Embeddings(data, count, dim);
}

function rowNorms(e) {
  const out = new Float64Array(e.count);
  for (let i = 0; i < e.count; i++) {
    let ss = 0;
    for (let k = 0; k < e.dim; k++) ss += e.data[i * e.dim + k] ** 2;
    out[i] = Math.sqrt(ss);
  }
  return out;
}

// GPU hits vs the CPU's fp32 score matrix.
async function compare(gpu, q, c, k, fn, label) {
  const cpu = await s.similarity(q, c, { fn });
  const qn = rowNorms(q);
  const cn = rowNorms(c);
  const nc = c.count;
  const kk = Math.min(k, nc);
  assert.is(gpu.length, q.count, `${label}: one list per query`);
  for (let i = 0; i < q.count; i++) {
    const hits = gpu[i];
    assert.is(hits.length, kk, `${label} row ${i}: ${kk} hits`);
    const row = cpu.subarray(i * nc, (i + 1) * nc);
    const sorted = Float64Array.from(row).sort().reverse();
    const kth = sorted[kk - 1];
    const tolOf = (j) => (fn === 'cosine' ? 3e-3 : 3e-3 * qn[i] * cn[j]);
    const got = new Set();
    for (let t = 0; t < kk; t++) {
      const { corpusId: j, score } = hits[t];
      assert.ok(Number.isInteger(j) && j >= 0 && j < nc, `${label} row ${i}: id ${j} in range`);
      assert.not.ok(got.has(j), `${label} row ${i}: duplicate id ${j}`);
      got.add(j);
      const tol = tolOf(j);
      assert.ok(Math.abs(score - row[j]) <= tol, `${label} row ${i}: score of ${j} is ${score}, cpu ${row[j]}`);
      assert.ok(row[j] >= kth - 2 * tol, `${label} row ${i}: ${j} (cpu ${row[j]}) is not near the top ${kk} (cut ${kth})`);
      if (t > 0) {
        const p = hits[t - 1];
        assert.ok(p.score > score || (p.score === score && p.corpusId < j), `${label} row ${i}: sorted at ${t}`);
      }
    }
    for (let j = 0; j < nc; j++) {
      if (row[j] > kth + 2 * tolOf(j)) assert.ok(got.has(j), `${label} row ${i}: missed ${j} (cpu ${row[j]}, cut ${kth})`);
    }
  }
}

test('semanticSearch on cuda matches the CPU (cosine and dot, odd shapes, every k bucket)', async () => {
  let seed = 1;
  const shapes = [
    // nq, nc, dim, k — dims not multiple of 32, k in each shared-memory bucket (16/32/64/128)
    [1, 1, 1, 1],
    [3, 17, 3, 5],
    [17, 300, 384, 10],
    [129, 1000, 33, 17],
    [50, 700, 64, 40],
    [130, 1000, 768, 100],
    [64, 2000, 384, 128],
    [300, 5000, 384, 10],
    [2, 40000, 128, 10], // few queries: many corpus segments to merge
  ];
  for (const [nq, nc, dim, k] of shapes) {
    const q = randomEmb(nq, dim, seed++);
    const c = randomEmb(nc, dim, seed++);
    for (const fn of ['cosine', 'dot']) {
      const gpu = await s.semanticSearch(q, c, { topK: k, fn, device: 'cuda' });
      await compare(gpu, q, c, k, fn, `${fn} ${nq}x${nc} dim ${dim} k ${k}`);
    }
  }
});

test('cuda: dot products of large and small magnitudes (fp16 range scaling)', async () => {
  for (const [scale, seed] of [
    [1e4, 100],
    [1e-4, 200],
  ]) {
    const q = randomEmb(20, 96, seed, scale);
    const c = randomEmb(500, 96, seed + 1, scale);
    const gpu = await s.semanticSearch(q, c, { topK: 10, fn: 'dot', device: 'cuda' });
    await compare(gpu, q, c, 10, 'dot', `dot scale ${scale}`);
  }
});

test('cuda: duplicates tie (lower id first), zero vectors score 0, topK > corpus', async () => {
  const dim = 48;
  const base = randomEmb(1, dim, 7);
  const noise = randomEmb(300, dim, 8);
  const data = new Float32Array(300 * dim);
  const copies = [];
  for (let j = 0; j < 300; j++) {
    if (j % 37 === 5) {
      data.set(base.data, j * dim);
      copies.push(j);
    } else data.set(noise.data.subarray(j * dim, (j + 1) * dim), j * dim);
  }
  const corpus = new Embeddings(data, 300, dim);
  const [hits] = await s.semanticSearch(base, corpus, { topK: 4, device: 'cuda' });
  assert.equal(
    hits.map((h) => h.corpusId),
    copies.slice(0, 4),
  );
  assert.ok(hits.every((h) => h.score === hits[0].score), 'equal scores for equal vectors');

  const zero = new Embeddings(new Float32Array(dim), 1, dim);
  const [z] = await s.semanticSearch(zero, corpus, { topK: 3, device: 'cuda' });
  assert.equal(
    z.map((h) => [h.corpusId, h.score]),
    [
      [0, 0],
      [1, 0],
      [2, 0],
    ],
  );

  const small = randomEmb(5, dim, 9);
  const all = await s.semanticSearch(base, small, { topK: 50, device: 'cuda' });
  assert.is(all[0].length, 5);
  const empty = new Embeddings(new Float32Array(0), 0, dim);
  assert.equal(await s.semanticSearch(base, empty, { device: 'cuda' }), [[]]);
});

test('cuda: topK above the fused limit runs on the CPU (identical results); bad device index rejects', async () => {
  const q = randomEmb(4, 32, 11);
  const c = randomEmb(400, 32, 12);
  const maxK = s.similarityInfo().cudaMaxK;
  assert.ok(maxK >= 1, 'CUDA compiled in');
  const viaCuda = await s.semanticSearch(q, c, { topK: maxK + 1, device: 'cuda' });
  const onCpu = await s.semanticSearch(q, c, { topK: maxK + 1, device: 'cpu' });
  assert.equal(viaCuda, onCpu);
  try {
    await s.semanticSearch(q, c, { device: 'cuda:99' });
    assert.unreachable('cuda:99 should reject');
  } catch (err) {
    assert.instance(err, RangeError);
    assert.match(err.message, /device 99/);
  }
});

test('paraphraseMining on cuda agrees with the CPU on the clear pairs', async () => {
  const e = randomEmb(2000, 64, 13);
  const cpu = await s.paraphraseMining(e, { topK: 5 });
  const gpu = await s.paraphraseMining(e, { topK: 5, device: 'cuda' });
  const gpuKeys = new Map(gpu.map((p) => [`${p.i},${p.j}`, p.score]));
  const cut = cpu[Math.min(199, cpu.length - 1)].score;
  for (const p of cpu.slice(0, 200)) {
    if (p.score > cut + 6e-3) {
      assert.ok(gpuKeys.has(`${p.i},${p.j}`), `pair ${p.i},${p.j} (${p.score}) missing on cuda`);
      assert.ok(Math.abs(gpuKeys.get(`${p.i},${p.j}`) - p.score) < 3e-3);
    }
  }
});

test('cuda: 20k x 20k x 384 search runs and matches the CPU on sampled rows', async () => {
  const q = randomEmb(20000, 384, 21);
  const c = randomEmb(20000, 384, 22);
  const gpu = await s.semanticSearch(q, c, { topK: 10, device: 'cuda' });
  const rows = [0, 1, 127, 128, 9999, 19999];
  const qs = new Embeddings(new Float32Array(rows.length * 384), rows.length, 384);
  rows.forEach((r, i) => qs.data.set(q.row(r), i * 384));
  await compare(
    rows.map((r) => gpu[r]),
    qs,
    c,
    10,
    'cosine',
    '20k',
  );
});

test.run();
