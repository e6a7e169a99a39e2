// Similarity and search (lib/similarity.ts) against brute-force float64 JS on seeded random
// vectors: score matrices, semanticSearch top-k sets and scores, ties, empty and zero inputs,
// argument errors, and paraphraseMining / communityDetection against straightforward float64
// implementations of sentence-transformers' algorithms.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const s = require('../dist/similarity');
const { Embeddings } = require('../dist/embeddings');

// ---- helpers ----------------------------------------------------------------------------------

const { rng } = require('./helpers/random');
const { rejects } = require('./helpers/rejects');
const { testUnless } = require('./helpers/skip');
const { cudaDevices } = require('../dist');

function randomEmb(count, dim, seed) {
  const r = rng(seed);
  const data = new Float32Array(count * dim);
  for (let i = 0; i < data.length; i++) {
    // Box-Muller: normal values
    const u = Math.max(r(), 1e-12);
    data[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return new Embeddings(data, count, dim);
}

function norms(e) {
  const out = new Float64Array(e.count);
  for (let i = 0; i < e.count; i++) {
    let ss = 0;
    for (let k = 0; k < e.dim; k++) ss += e.data[i * e.dim + k] ** 2;
    out[i] = Math.max(Math.sqrt(ss), 1e-12);
  }
  return out;
}

// float64 scores [a.count x b.count] straight from the definitions (cosine, dot, and
// sentence-transformers' euclidean_sim / manhattan_sim: negative distances), and a per-entry
// error bound for fp32 accumulation.
function refScores(a, b, fn) {
  const na = fn === 'cosine' ? norms(a) : null;
  const nb = fn === 'cosine' ? norms(b) : null;
  const out = new Float64Array(a.count * b.count);
  const bound = new Float64Array(a.count * b.count);
  for (let i = 0; i < a.count; i++) {
    for (let j = 0; j < b.count; j++) {
      let d = 0;
      let abs = 0;
      for (let k = 0; k < a.dim; k++) {
        const x = a.data[i * a.dim + k];
        const y = b.data[j * b.dim + k];
        const p = fn === 'euclidean' ? (x - y) ** 2 : fn === 'manhattan' ? Math.abs(x - y) : x * y;
        d += p;
        abs += Math.abs(p);
      }
      const scale = na ? na[i] * nb[j] : 1;
      out[i * b.count + j] = fn === 'euclidean' ? -Math.sqrt(d) : fn === 'manhattan' ? -d : d / scale;
      bound[i * b.count + j] = 1e-5 * Math.max(1, abs / scale);
    }
  }
  return { scores: out, bound };
}

// Checks one query's hits against the reference row: scores within tolerance, sorted by
// (score desc, id asc), and the set is the true top-k (exact when there is no near-tie at the cut).
function checkHits(hits, ref, bound, row, nc, k, label) {
  const kk = Math.min(k, nc);
  assert.is(hits.length, kk, `${label}: ${kk} hits`);
  const rowScores = Array.from({ length: nc }, (_, j) => ref[row * nc + j]);
  const order = rowScores.map((v, j) => j).sort((x, y) => rowScores[y] - rowScores[x] || x - y);
  const kth = rowScores[order[kk - 1]];
  const tol = Math.max(...Array.from({ length: nc }, (_, j) => bound[row * nc + j]));
  const got = new Set();
  for (let t = 0; t < kk; t++) {
    const { corpusId, score } = hits[t];
    assert.ok(Number.isInteger(corpusId) && corpusId >= 0 && corpusId < nc, `${label}: id in range`);
    assert.not.ok(got.has(corpusId), `${label}: no duplicate ids`);
    got.add(corpusId);
    const err = Math.abs(score - rowScores[corpusId]);
    assert.ok(err <= bound[row * nc + corpusId], `${label}: score of ${corpusId} off by ${err}`);
    assert.ok(rowScores[corpusId] >= kth - tol, `${label}: ${corpusId} is not in the top ${kk}`);
    if (t > 0) {
      const p = hits[t - 1];
      assert.ok(p.score > score || (p.score === score && p.corpusId < corpusId), `${label}: sorted at ${t}`);
    }
  }
  for (let j = 0; j < nc; j++) {
    if (rowScores[j] > kth + tol) assert.ok(got.has(j), `${label}: missed ${j}`);
  }
  // Exact set when the cut is clear of rounding.
  if (kk < nc && rowScores[order[kk - 1]] - rowScores[order[kk]] > 2 * tol) {
    assert.equal([...got].sort((x, y) => x - y), order.slice(0, kk).sort((x, y) => x - y), `${label}: exact set`);
  }
}

// ---- similarity matrix --------------------------------------------------------------------------

test('similarity: cosine, dot, euclidean and manhattan matrices match float64 (dims 1, 3, 384, 768)', async () => {
  let seed = 10;
  for (const dim of [1, 3, 384, 768]) {
    for (const [na, nb] of [
      [1, 1],
      [17, 17],
      [17, 120],
    ]) {
      const a = randomEmb(na, dim, seed++);
      const b = randomEmb(nb, dim, seed++);
      for (const fn of ['cosine', 'dot', 'euclidean', 'manhattan']) {
        const got = await s.similarity(a, b, { scoreFunction: fn });
        const ref = refScores(a, b, fn);
        assert.instance(got, Float32Array);
        assert.is(got.length, na * nb);
        for (let i = 0; i < got.length; i++) {
          if (Math.abs(got[i] - ref.scores[i]) > ref.bound[i]) {
            assert.unreachable(`${fn} dim ${dim} ${na}x${nb}: entry ${i} ${got[i]} vs ${ref.scores[i]}`);
          }
        }
      }
    }
  }
  const a = randomEmb(5, 8, 1);
  const b = randomEmb(4, 8, 2);
  assert.equal(await s.cosSim(a, b), await s.similarity(a, b));
  assert.equal(await s.dotScore(a, b), await s.similarity(a, b, { fn: 'dot' }));
  assert.not.equal(await s.cosSim(a, b), await s.dotScore(a, b));
});

test('similarity: asynchronous (a Promise; the event loop runs while it computes)', async () => {
  const a = randomEmb(300, 64, 3);
  const p = s.similarity(a, a);
  assert.instance(p, Promise);
  let ticked = false;
  setImmediate(() => {
    ticked = true;
  });
  const m = await p;
  assert.ok(ticked, 'a setImmediate callback ran before the matrix resolved');
  assert.is(m.length, 300 * 300);
});

test('similarity: zero vectors score 0 under cosine; plain objects work', async () => {
  const a = { data: new Float32Array([0, 0, 0, 1, 2, 3]), count: 2, dim: 3 };
  const m = await s.similarity(a, a);
  assert.equal(Array.from(m.subarray(0, 3)), [0, 0, 0]);
  assert.is(m[2], 0);
  assert.ok(Math.abs(m[3] - 1) < 1e-6);
});

// ---- semanticSearch ---------------------------------------------------------------------------

test('semanticSearch: top-k sets and scores vs float64 (counts 1, 17, 5000)', async () => {
  let seed = 100;
  const shapes = [
    [1, 1, 1, 10],
    [17, 17, 3, 5],
    [17, 5000, 384, 10],
    [17, 5000, 768, 25],
    [5000, 17, 384, 3],
    [1, 5000, 3, 10],
    [17, 300, 1, 7],
  ];
  for (const [nq, nc, dim, k] of shapes) {
    const q = randomEmb(nq, dim, seed++);
    const c = randomEmb(nc, dim, seed++);
    for (const fn of ['cosine', 'dot']) {
      const res = await s.semanticSearch(q, c, { topK: k, fn });
      assert.is(res.length, nq);
      const ref = refScores(q, c, fn);
      for (let i = 0; i < nq; i++) checkHits(res[i], ref.scores, ref.bound, i, nc, k, `${fn} ${nq}x${nc} dim ${dim} row ${i}`);
    }
  }
});

test('semanticSearch: scoreFunction euclidean / manhattan are negative distances, nearest first', async () => {
  let seed = 500;
  for (const [nq, nc, dim, k] of [
    [1, 1, 1, 10],
    [17, 300, 384, 10],
    [5, 1000, 16, 7],
  ]) {
    const q = randomEmb(nq, dim, seed++);
    const c = randomEmb(nc, dim, seed++);
    for (const fn of ['euclidean', 'manhattan']) {
      const res = await s.semanticSearch(q, c, { topK: k, scoreFunction: fn });
      const ref = refScores(q, c, fn);
      for (let i = 0; i < nq; i++) checkHits(res[i], ref.scores, ref.bound, i, nc, k, `${fn} ${nq}x${nc} dim ${dim} row ${i}`);
      for (const hits of res) assert.ok(hits.every((h) => h.score <= 0), `${fn}: scores are negative distances`);
    }
  }
  // A corpus row searched for itself is at distance 0, the top hit.
  const c = randomEmb(50, 8, 7);
  const self = { data: c.data.slice(8 * 20, 8 * 21), count: 1, dim: 8 };
  for (const scoreFunction of ['euclidean', 'manhattan']) {
    const [hits] = await s.semanticSearch(self, c, { topK: 2, scoreFunction });
    assert.equal(hits[0], { corpusId: 20, score: 0 });
    assert.ok(hits[1].score < 0);
  }
  // On unit vectors |q - c|^2 = 2 - 2 cos: euclidean ranks exactly like cosine.
  const unit = randomEmb(400, 32, 8);
  const n = norms(unit);
  for (let i = 0; i < unit.count; i++) for (let k = 0; k < 32; k++) unit.data[i * 32 + k] /= n[i];
  const q = { data: unit.data.slice(0, 3 * 32), count: 3, dim: 32 };
  const byCos = await s.semanticSearch(q, unit, { topK: 20 });
  const byL2 = await s.semanticSearch(q, unit, { topK: 20, scoreFunction: 'euclidean' });
  assert.equal(byL2.map((h) => h.map((x) => x.corpusId)), byCos.map((h) => h.map((x) => x.corpusId)));
});

test('inputs are copied before the promise is returned: detaching or overwriting them mid-search is harmless', () => {
  // In a child process, so a crash (the use-after-free this guards against) fails this test
  // instead of killing the runner.
  const { spawnSync } = require('node:child_process');
  const path = require('node:path');
  const res = spawnSync(process.execPath, [path.join(__dirname, 'helpers', 'similarity-detach-child.js')], {
    encoding: 'utf8',
    timeout: 240000,
  });
  const out = `${res.stdout || ''}${res.stderr || ''}`;
  assert.is(res.signal, null, `child killed by ${res.signal}:\n${out}`);
  assert.is(res.status, 0, `child failed:\n${out}`);
  assert.match(res.stdout, /^all detach checks passed/m);
  process.stdout.write(out.split('\n').filter((l) => l.startsWith('main-thread')).map((l) => `  # ${l}\n`).join(''));
});

test('semanticSearch: default topK is 10 and scores are plain numbers', async () => {
  const q = randomEmb(2, 16, 5);
  const c = randomEmb(50, 16, 6);
  const res = await s.semanticSearch(q, c);
  assert.is(res[0].length, 10);
  assert.type(res[0][0].score, 'number');
  assert.equal(Object.keys(res[0][0]).sort(), ['corpusId', 'score']);
});

test('semanticSearch: topK larger than the corpus returns the whole corpus ranked', async () => {
  const q = randomEmb(3, 12, 7);
  const c = randomEmb(9, 12, 8);
  const res = await s.semanticSearch(q, c, { topK: 1000 });
  const ref = refScores(q, c, 'cosine');
  for (let i = 0; i < 3; i++) {
    assert.is(res[i].length, 9);
    checkHits(res[i], ref.scores, ref.bound, i, 9, 1000, `row ${i}`);
  }
});

test('semanticSearch: duplicate vectors tie exactly, lower corpusId first', async () => {
  const dim = 32;
  const base = randomEmb(1, dim, 9);
  const noise = randomEmb(40, dim, 10);
  const data = new Float32Array(40 * dim);
  const copies = [];
  for (let j = 0; j < 40; j++) {
    const src = j % 7 === 3 ? base.data : noise.data.subarray(j * dim, (j + 1) * dim);
    if (j % 7 === 3) copies.push(j);
    data.set(src, j * dim);
  }
  const corpus = new Embeddings(data, 40, dim);
  for (const fn of ['cosine', 'dot']) {
    const [hits] = await s.semanticSearch(base, corpus, { topK: 4, fn });
    assert.equal(
      hits.map((h) => h.corpusId),
      copies.slice(0, 4),
      fn,
    );
    assert.ok(hits.every((h) => h.score === hits[0].score), `${fn}: equal scores`);
  }
  // All-equal scores (zero query): ranking is by id.
  const zero = new Embeddings(new Float32Array(dim), 1, dim);
  const [z] = await s.semanticSearch(zero, corpus, { topK: 5 });
  assert.equal(
    z.map((h) => [h.corpusId, h.score]),
    [
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
    ],
  );
});

test('semanticSearch: empty corpus → empty arrays; no queries → []', async () => {
  const q = randomEmb(3, 4, 11);
  const empty = new Embeddings(new Float32Array(0), 0, 4);
  assert.equal(await s.semanticSearch(q, empty), [[], [], []]);
  assert.equal(await s.semanticSearch(empty, q), []);
});

test('semanticSearch: zero vectors in the corpus score 0', async () => {
  const q = { data: new Float32Array([1, 0, 0]), count: 1, dim: 3 };
  const c = { data: new Float32Array([0, 0, 0, -1, 0, 0, 0.5, 0.5, 0]), count: 3, dim: 3 };
  const [hits] = await s.semanticSearch(q, c, { topK: 3 });
  assert.equal(
    hits.map((h) => h.corpusId),
    [2, 0, 1],
  );
  assert.is(hits[1].score, 0);
  assert.ok(Math.abs(hits[2].score + 1) < 1e-6);
});

test('errors: dim mismatch, NaN / Infinity rows, bad topK, bad types', async () => {
  const q = randomEmb(20, 4, 12);
  const c = randomEmb(6, 4, 13);
  await rejects(s.semanticSearch(q, randomEmb(3, 5, 1)), RangeError, /queries dim 4 .*corpus dim 5/, 'dim mismatch');
  await rejects(s.similarity(q, randomEmb(3, 5, 1)), RangeError, /a dim 4 .*b dim 5/, 'matrix dim mismatch');

  const bad = new Float32Array(q.data);
  bad[17 * 4 + 1] = NaN;
  const err = await rejects(s.semanticSearch({ data: bad, count: 20, dim: 4 }, c), RangeError, /^queries row 17 contains NaN$/, 'NaN row');
  assert.is(err.code, 'ERR_OUT_OF_RANGE');
  const badC = new Float32Array(c.data);
  badC[3 * 4] = -Infinity;
  await rejects(s.semanticSearch(q, { data: badC, count: 6, dim: 4 }), RangeError, /^corpus row 3 contains Infinity$/, 'Inf row');
  await rejects(s.similarity(q, { data: badC, count: 6, dim: 4 }), RangeError, /b row 3 contains Infinity/, 'matrix Inf row');
  await rejects(s.paraphraseMining({ data: bad, count: 20, dim: 4 }), RangeError, /embeddings row 17 contains NaN/, 'paraphrase NaN');
  await rejects(s.communityDetection({ data: bad, count: 20, dim: 4 }, { batchSize: 3 }), RangeError, /embeddings row 17 contains NaN/, 'community NaN');

  for (const topK of [0, -1, 1.5, NaN, Infinity, 2 ** 53, 1e300]) {
    const e = await rejects(s.semanticSearch(q, c, { topK }), RangeError, /^topK must be a positive integer/, `topK ${topK}`);
    assert.not.match(e.message, /\bk\b/, 'the message names topK, not an internal k');
  }
  // The largest safe integer is a valid topK: the whole corpus, ranked.
  assert.is((await s.semanticSearch(q, c, { topK: 2 ** 53 - 1 }))[0].length, 6);
  assert.is((await s.paraphraseMining(q, { topK: 2 ** 53 - 1 })).length, (20 * 19) / 2);
  await rejects(s.semanticSearch(q, c, { topK: '3' }), TypeError, /topK/, 'topK string');
  await rejects(s.paraphraseMining(q, { topK: 0 }), RangeError, /topK/, 'paraphrase topK');
  await rejects(s.paraphraseMining(q, { maxPairs: 0 }), RangeError, /maxPairs/, 'maxPairs');
  await rejects(s.communityDetection(q, { minCommunitySize: 0 }), RangeError, /minCommunitySize/, 'minCommunitySize');
  await rejects(s.communityDetection(q, { threshold: NaN }), RangeError, /threshold/, 'threshold');
  await rejects(s.semanticSearch([[1, 2]], c), TypeError, /^queries: an array was passed; pass the Embeddings from encode/, 'array queries');
  await rejects(s.semanticSearch(q, null), TypeError, /^corpus: null was passed; pass the Embeddings/, 'null corpus');
  await rejects(s.semanticSearch(q, { data: new Float64Array(24), count: 6, dim: 4 }), TypeError, /corpus.data must be a Float32Array/, 'f64');
  await rejects(s.semanticSearch(q, { data: new Float32Array(23), count: 6, dim: 4 }), RangeError, /corpus.data has 23 values/, 'length');
  await rejects(s.semanticSearch(q, c, { fn: 'l2' }), RangeError, /fn must be/, 'fn');
  await rejects(s.semanticSearch(q, c, { scoreFunction: 'l2' }), RangeError, /^scoreFunction must be 'cosine', 'dot', 'euclidean' or 'manhattan'/, 'scoreFunction');
  await rejects(s.semanticSearch(q, c, { scoreFunction: 'dot', fn: 'cosine' }), TypeError, /scoreFunction or fn/, 'both names');
  await rejects(s.semanticSearch(q, c, { device: 'tpu' }), RangeError, /device must be/, 'device');
  await rejects(s.similarity(q, 'x'), TypeError, /^b: string was passed; pass the Embeddings/, 'matrix b string');
});

// Where CUDA is compiled and a device is present, device 'cuda' is compared with the CPU in
// test/gpu/similarity.test.js; here only the machine without one (the addon must load: a load
// failure is a failure, not a machine without CUDA).
const cudaUsable = s.similarityInfo().cudaMaxK > 0 && cudaDevices().length > 0;
testUnless(
  cudaUsable && 'a CUDA device is present: test/gpu/similarity.test.js checks device "cuda" against the CPU',
  'device cuda without a usable CUDA device rejects with ERR_NO_CUDA; auto falls back to the CPU',
  async () => {
    const q = randomEmb(2, 8, 14);
    assert.type(s.similarityInfo().kernel, 'string');
    const err = await rejects(s.semanticSearch(q, q, { device: 'cuda' }), Error, /CUDA/, 'no cuda');
    assert.is(err.code, 'ERR_NO_CUDA');
    const res = await s.semanticSearch(q, q, { device: 'auto', topK: 1 });
    assert.equal(
      res.map((r) => r[0].corpusId),
      [0, 1],
    );
  },
);

// ---- paraphraseMining -----------------------------------------------------------------------------

// sentence-transformers' paraphrase_mining_embeddings in float64 (its priority queue emulated:
// directed candidates, drop those <= the running minimum after max_pairs, dedupe keeping the
// first popped, sort by score descending — stable over the ascending (score, i, j) pop order).
function refParaphrase(e, { topK = 100, maxPairs = 500000, corpusChunkSize = 100000, fn = 'cosine' } = {}) {
  const n = e.count;
  const k = topK + 1;
  const ref = refScores(e, e, fn).scores;
  const heap = []; // kept as a sorted array (ascending) — inputs are small
  let minScore = -1;
  let added = 0;
  const cmp = (x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  for (let c0 = 0; c0 < n; c0 += corpusChunkSize) {
    const c1 = Math.min(n, c0 + corpusChunkSize);
    for (let i = 0; i < n; i++) {
      const cand = [];
      for (let j = c0; j < c1; j++) cand.push(j);
      cand.sort((x, y) => ref[i * n + y] - ref[i * n + x] || x - y);
      for (const j of cand.slice(0, Math.min(k, c1 - c0))) {
        const sc = ref[i * n + j];
        if (i !== j && sc > minScore) {
          heap.push([sc, i, j]);
          heap.sort(cmp);
          added++;
          if (added >= maxPairs) minScore = heap.shift()[0];
        }
      }
    }
  }
  const seen = new Set();
  const out = [];
  for (const [sc, i, j] of heap) {
    const a = Math.min(i, j);
    const b = Math.max(i, j);
    if (a !== b && !seen.has(`${a},${b}`)) {
      seen.add(`${a},${b}`);
      out.push({ score: sc, i: a, j: b });
    }
  }
  out.sort((x, y) => y.score - x.score); // stable
  return out;
}

function assertPairs(got, want, label) {
  assert.is(got.length, want.length, `${label}: pair count`);
  for (let t = 0; t < want.length; t++) {
    assert.is(`${got[t].i},${got[t].j}`, `${want[t].i},${want[t].j}`, `${label}: pair ${t}`);
    assert.ok(Math.abs(got[t].score - want[t].score) < 1e-5, `${label}: score ${t}`);
    assert.ok(got[t].i < got[t].j);
  }
}

test('paraphraseMining: matches sentence-transformers\' algorithm (float64) on small inputs', async () => {
  const e = randomEmb(60, 16, 20);
  assertPairs(await s.paraphraseMining(e, { topK: 5 }), refParaphrase(e, { topK: 5 }), 'topK 5');
  assertPairs(await s.paraphraseMining(e, null, { topK: 3, fn: 'dot' }), refParaphrase(e, { topK: 3, fn: 'dot' }), 'dot');
  assertPairs(await s.paraphraseMining(e, { topK: 4, corpusChunkSize: 25 }), refParaphrase(e, { topK: 4, corpusChunkSize: 25 }), 'chunks');
  assertPairs(await s.paraphraseMining(e, { topK: 100 }), refParaphrase(e, { topK: 100 }), 'topK > n: all pairs');
  assert.is((await s.paraphraseMining(e, { topK: 100 })).length, (60 * 59) / 2);
  // maxPairs: the best unique pairs.
  const all = refParaphrase(e, { topK: 5 });
  assertPairs(await s.paraphraseMining(e, { topK: 5, maxPairs: 10 }), all.slice(0, 10), 'maxPairs');
  assert.equal(await s.paraphraseMining(randomEmb(1, 4, 1)), []);
});

test('paraphraseMining: with an encoder, encodes the sentences first', async () => {
  const e = randomEmb(30, 8, 21);
  const sentences = Array.from({ length: 30 }, (_, i) => `sentence ${i}`);
  const seen = [];
  const encoder = {
    async encode(texts) {
      seen.push(texts);
      const data = new Float32Array(texts.length * 8);
      texts.forEach((t, i) => data.set(e.row(Number(t.split(' ')[1])), i * 8));
      return new Embeddings(data, texts.length, 8);
    },
  };
  const got = await s.paraphraseMining(encoder, sentences, { topK: 3 });
  assert.equal(seen, [sentences]);
  assertPairs(got, refParaphrase(e, { topK: 3 }), 'encoder');
  await rejects(s.paraphraseMining(encoder, 'not an array'), TypeError, /sentences/, 'sentences type');
});

test('paraphraseMining: duplicate sentences pair with score 1, each pair once', async () => {
  const base = randomEmb(5, 8, 22);
  const data = new Float32Array(10 * 8);
  for (let i = 0; i < 10; i++) data.set(base.row(i % 5), i * 8);
  const pairs = await s.paraphraseMining(new Embeddings(data, 10, 8), { topK: 2 });
  const top = pairs
    .slice(0, 5)
    .map((p) => `${p.i},${p.j}`)
    .sort();
  assert.equal(top, ['0,5', '1,6', '2,7', '3,8', '4,9']);
  assert.ok(pairs.slice(0, 5).every((p) => Math.abs(p.score - 1) < 1e-6));
  const keys = pairs.map((p) => `${p.i},${p.j}`);
  assert.is(new Set(keys).size, keys.length);
});

// ---- communityDetection ---------------------------------------------------------------------------

// sentence-transformers' community_detection in float64 (its CPU branch).
function refCommunities(e, { threshold = 0.75, minCommunitySize = 10 } = {}) {
  const n = e.count;
  if (n === 0) return [];
  const ref = refScores(e, e, 'cosine').scores;
  const minSize = Math.min(minCommunitySize, n);
  const extracted = [];
  for (let i = 0; i < n; i++) {
    const row = [];
    for (let j = 0; j < n; j++) if (ref[i * n + j] >= threshold) row.push(j);
    if (row.length >= minSize) {
      row.sort((x, y) => ref[i * n + y] - ref[i * n + x] || x - y);
      extracted.push(row);
    }
  }
  extracted.sort((a, b) => b.length - a.length);
  const taken = new Set();
  const unique = [];
  for (const c of extracted) {
    const rest = c.filter((x) => !taken.has(x));
    if (rest.length >= minSize) {
      rest.forEach((x) => taken.add(x));
      unique.push(rest);
    }
  }
  unique.sort((a, b) => b.length - a.length);
  return unique;
}

function clustered(n, dim, clusters, spread, seed) {
  const centers = randomEmb(clusters, dim, seed);
  const noise = randomEmb(n, dim, seed + 1);
  const r = rng(seed + 2);
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * clusters);
    for (let k = 0; k < dim; k++) data[i * dim + k] = centers.data[c * dim + k] + spread * noise.data[i * dim + k];
  }
  return new Embeddings(data, n, dim);
}

test('communityDetection: matches sentence-transformers\' algorithm (float64)', async () => {
  const e = clustered(300, 32, 6, 0.35, 30);
  for (const opts of [
    { threshold: 0.8, minCommunitySize: 10 },
    { threshold: 0.8, minCommunitySize: 10, batchSize: 7 },
    { threshold: 0.9, minCommunitySize: 3 },
    { threshold: 0.6, minCommunitySize: 40 },
    {},
  ]) {
    const got = await s.communityDetection(e, opts);
    const want = refCommunities(e, opts);
    assert.equal(got, want, JSON.stringify(opts));
  }
  const got = await s.communityDetection(e, { threshold: 0.8, minCommunitySize: 10 });
  assert.ok(got.length >= 3, 'found the clusters');
  const flat = got.flat();
  assert.is(new Set(flat).size, flat.length, 'non-overlapping');
  for (let t = 1; t < got.length; t++) assert.ok(got[t - 1].length >= got[t].length, 'largest first');
});

test('communityDetection: small and empty inputs', async () => {
  assert.equal(await s.communityDetection(new Embeddings(new Float32Array(0), 0, 4)), []);
  // minCommunitySize is capped at the number of embeddings, like sentence-transformers.
  const e = { data: new Float32Array([1, 0, 0.99, 0.01, 0.98, 0.02]), count: 3, dim: 2 };
  assert.equal(await s.communityDetection(e), [[0, 1, 2]]);
  assert.equal(await s.communityDetection(e, { threshold: 0.99999 }), []);
});

test.run();
