// quantizeEmbeddings (lib/quantize.ts) against (1) values numpy computes with sentence-
// transformers' quantize_embeddings arithmetic (test/fixtures/quantize/, made by
// tools/reference/make_quantize_fixture.py with Debian's python3) and (2) a plain, independent
// implementation written below; hammingSearch against a brute-force popcount, on the best path
// of this CPU and, in child processes, on the popcnt and portable paths.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { quantizeEmbeddings, hammingSearch, hammingInfo } = require('../dist/quantize');
const { rng } = require('./helpers/random');
const { rejects } = require('./helpers/rejects');

const fixture = require('./fixtures/quantize/quantize.json');

function rows(list) {
  const dim = list[0].length;
  return { data: Float32Array.from(list.flat()), count: list.length, dim };
}

function randomRows(count, dim, seed, scale = 1) {
  const r = rng(seed);
  const data = new Float32Array(count * dim);
  for (let i = 0; i < data.length; i++) data[i] = (r() - 0.5) * scale;
  return { data, count, dim };
}

// ---- a plain reference implementation -------------------------------------------------------

const f32 = (x) => new Float32Array([x])[0];

// numpy's float32 → (u)int8 cast on x86: truncate to a 32-bit integer (NaN, ±Infinity and values
// beyond ±2^31 give 0x80000000), keep the low byte.
function castByte(v, signed) {
  let t = Math.trunc(v);
  if (!Number.isFinite(t) || t >= 2 ** 31 || t < -(2 ** 31)) t = -(2 ** 31);
  const u = ((t % 256) + 256) % 256;
  return signed && u >= 128 ? u - 256 : u;
}

function plainQuantize(m, precision, { ranges, calibration } = {}) {
  const { data, count, dim } = m;
  const out = [];
  if (precision === 'binary' || precision === 'ubinary') {
    for (let i = 0; i < count; i++) {
      let bits = '';
      for (let d = 0; d < dim; d++) bits += data[i * dim + d] > 0 ? '1' : '0';
      while (bits.length % 8) bits += '0';
      for (let b = 0; b < bits.length; b += 8) {
        const u = parseInt(bits.slice(b, b + 8), 2);
        out.push(precision === 'ubinary' ? u : u - 128);
      }
    }
    return out;
  }
  let lo = [];
  let hi = [];
  if (ranges) {
    lo = Array.from(ranges[0], f32);
    hi = Array.from(ranges[1], f32);
  } else {
    const src = calibration || m;
    for (let d = 0; d < dim; d++) {
      const col = Array.from({ length: src.count }, (_, i) => src.data[i * dim + d]);
      lo.push(col.some(Number.isNaN) ? NaN : Math.min(...col));
      hi.push(col.some(Number.isNaN) ? NaN : Math.max(...col));
    }
  }
  for (let i = 0; i < count; i++) {
    for (let d = 0; d < dim; d++) {
      const step = f32(f32(hi[d] - lo[d]) / 255);
      let v = f32(f32(data[i * dim + d] - lo[d]) / step);
      if (precision === 'int8') v = f32(v - 128);
      out.push(castByte(v, precision === 'int8'));
    }
  }
  return out;
}

// ---- quantizeEmbeddings ---------------------------------------------------------------------

test('quantizeEmbeddings: the values numpy gives with sentence-transformers\' arithmetic (fixture)', () => {
  const emb = rows(fixture.embeddings);
  const calibration = rows(fixture.calibration);
  const ranges = fixture.ranges;
  const o = fixture.outputs;
  const cases = [
    ['uint8', {}, o.uint8, Uint8Array],
    ['int8', {}, o.int8, Int8Array],
    ['uint8', { calibration }, o.uint8Calibration, Uint8Array],
    ['int8', { calibration }, o.int8Calibration, Int8Array],
    ['uint8', { ranges }, o.uint8Ranges, Uint8Array],
    ['int8', { ranges }, o.int8Ranges, Int8Array],
    ['ubinary', {}, o.ubinary, Uint8Array],
    ['binary', {}, o.binary, Int8Array],
  ];
  for (const [precision, options, want, Type] of cases) {
    const q = quantizeEmbeddings(emb, precision, options);
    const label = `${precision} ${Object.keys(options).join(',') || 'own ranges'}`;
    assert.instance(q.data, Type, label);
    assert.is(q.precision, precision);
    assert.is(q.count, want.length);
    assert.is(q.dim, want[0].length, `${label}: values per row`);
    assert.equal(Array.from(q.data), want.flat(), label);
  }
  const one = rows(fixture.oneRow);
  assert.equal(Array.from(quantizeEmbeddings(one, 'ubinary').data), o.oneRowUbinary.flat(), 'one row, dim 13');
  assert.equal(Array.from(quantizeEmbeddings(one, 'binary').data), o.oneRowBinary.flat(), 'one row, dim 13 (binary)');
  // The fixture exercises the edges: values outside the calibration ranges wrap (numpy's cast),
  // and the constant dimension of the explicit ranges (step 0) gives 0.
  const inRange = (v) => v >= -128 && v <= 127;
  const wrapped = o.uint8Calibration.flat().some((v, t) => {
    const x = emb.data[t];
    const d = t % emb.dim;
    const col = fixture.calibration.map((r) => r[d]);
    return (x < Math.min(...col) && v > 128) || (x > Math.max(...col) && v < 128);
  });
  assert.ok(wrapped, 'some inputs fall outside the calibration ranges and wrap');
  assert.ok(o.int8Ranges.every((r) => r[2] === 0 && r.every(inRange)), 'step 0 dimension gives 0');
  const f = quantizeEmbeddings(emb, 'float32');
  assert.equal(f.data, emb.data);
  assert.is.not(f.data, emb.data, 'float32 is a copy');
});

test('quantizeEmbeddings: equals a plain implementation on random inputs (several shapes, NaN, zero rows)', () => {
  let seed = 1;
  for (const [count, dim] of [
    [1, 1],
    [1, 7],
    [5, 8],
    [33, 24],
    [100, 384],
    [3, 13],
  ]) {
    const m = randomRows(count, dim, seed++, 2);
    if (count * dim > 4) m.data[3] = 0; // exactly 0 → bit 0
    const calibration = randomRows(50, dim, seed++, 1.5);
    const lo = Array.from({ length: dim }, (_, d) => -0.7 + 0.01 * d);
    const hi = Array.from({ length: dim }, (_, d) => 0.8 - 0.02 * (d % 3));
    for (const precision of ['uint8', 'int8', 'binary', 'ubinary']) {
      for (const options of [{}, { calibration }, { ranges: [lo, hi] }]) {
        const got = Array.from(quantizeEmbeddings(m, precision, options).data);
        assert.equal(got, plainQuantize(m, precision, options), `${precision} ${count}x${dim} ${Object.keys(options)}`);
      }
    }
  }
  // A NaN propagates through numpy's min/max: its whole dimension becomes 0.
  const m = randomRows(4, 3, 99);
  m.data[4] = NaN;
  for (const precision of ['uint8', 'int8']) {
    const got = quantizeEmbeddings(m, precision);
    assert.equal(Array.from(got.data), plainQuantize(m, precision), `${precision} with NaN`);
    assert.equal([got.data[1], got.data[4], got.data[7], got.data[10]], [0, 0, 0, 0]);
  }
  const none = quantizeEmbeddings({ data: new Float32Array(0), count: 0, dim: 16 }, 'ubinary');
  assert.is(none.count, 0);
  assert.is(none.dim, 2);
});

test('quantizeEmbeddings: errors name the argument', async () => {
  const m = randomRows(4, 8, 5);
  await rejects(() => quantizeEmbeddings({ data: new Int8Array(32), count: 4, dim: 8 }, 'int8'), TypeError, /embeddings.data must be a Float32Array/, 'int input');
  await rejects(() => quantizeEmbeddings(m, 'int4'), RangeError, /precision must be one of/, 'precision');
  await rejects(() => quantizeEmbeddings(m, 'int8', { ranges: [[0], [1]] }), RangeError, /ranges\[0\] has 1 values/, 'ranges length');
  await rejects(() => quantizeEmbeddings(m, 'int8', { ranges: [1, 2, 3] }), TypeError, /ranges must be \[min, max\]/, 'ranges shape');
  await rejects(() => quantizeEmbeddings(m, 'int8', { calibration: randomRows(3, 4, 1) }), RangeError, /calibration dim 4/, 'calibration dim');
  await rejects(() => quantizeEmbeddings(m, 'int8', { calibration: randomRows(0, 8, 1) }), RangeError, /calibration has no rows/, 'empty calibration');
});

// ---- hammingSearch --------------------------------------------------------------------------

function bitsInByte(x) {
  let n = 0;
  for (let v = x & 0xff; v; v >>= 1) n += v & 1;
  return n;
}

function bruteForce(q, c, k) {
  const out = [];
  for (let i = 0; i < q.count; i++) {
    const all = [];
    for (let j = 0; j < c.count; j++) {
      let d = 0;
      for (let b = 0; b < q.dim; b++) d += bitsInByte(q.data[i * q.dim + b] ^ c.data[j * c.dim + b]);
      all.push({ corpusId: j, distance: d });
    }
    all.sort((x, y) => x.distance - y.distance || x.corpusId - y.corpusId);
    out.push(all.slice(0, Math.min(k, c.count)));
  }
  return out;
}

test('hammingSearch: exact against brute force, ties → lower index, binary and ubinary alike', async () => {
  let seed = 200;
  for (const [nq, nc, dim, k] of [
    [1, 1, 8, 10],
    [9, 300, 384, 10],
    [20, 2000, 1024, 25],
    [3, 50, 13, 100],
  ]) {
    const qf = randomRows(nq, dim, seed++);
    const cf = randomRows(nc, dim, seed++);
    // Every 5th corpus row repeats an earlier one: exact ties.
    for (let j = 5; j < nc; j += 5) cf.data.copyWithin(j * dim, (j - 3) * dim, (j - 2) * dim);
    const want = bruteForce(quantizeEmbeddings(qf, 'ubinary'), quantizeEmbeddings(cf, 'ubinary'), k);
    for (const precision of ['ubinary', 'binary']) {
      const got = await hammingSearch(quantizeEmbeddings(qf, precision), quantizeEmbeddings(cf, precision), { topK: k });
      assert.equal(got, want, `${precision} ${nq}x${nc} dim ${dim} k ${k}`);
    }
    // The distance is the number of dimensions whose signs differ.
    const hit = want[0][0];
    let differ = 0;
    for (let d = 0; d < dim; d++) differ += qf.data[d] > 0 !== cf.data[hit.corpusId * dim + d] > 0 ? 1 : 0;
    assert.is(hit.distance, differ, 'distance = sign disagreements');
  }
  const q = quantizeEmbeddings(randomRows(2, 16, 1), 'ubinary');
  assert.equal(await hammingSearch(q, { data: new Uint8Array(0), count: 0, dim: 2 }), [[], []]);
  assert.equal(await hammingSearch({ data: new Uint8Array(0), count: 0, dim: 2 }, q), []);
  assert.is((await hammingSearch(q, q))[0].length, 2, 'default topK 10, capped at the corpus');
});

test('hammingSearch: errors name the argument', async () => {
  const u = quantizeEmbeddings(randomRows(3, 16, 1), 'ubinary');
  const b = quantizeEmbeddings(randomRows(3, 16, 1), 'binary');
  await rejects(hammingSearch(u, b), TypeError, /must both be 'binary' \(Int8Array\) or both 'ubinary'/, 'mixed precisions');
  await rejects(hammingSearch(u, quantizeEmbeddings(randomRows(3, 16, 1), 'int8')), TypeError, /corpus must be 'binary' or 'ubinary'/, 'int8');
  await rejects(hammingSearch(u, quantizeEmbeddings(randomRows(3, 24, 1), 'ubinary')), RangeError, /2 bytes but corpus rows have 3/, 'row bytes');
  await rejects(hammingSearch(u, { data: new Float32Array(6), count: 3, dim: 2 }), TypeError, /corpus.data must be a Uint8Array or Int8Array/, 'float');
  await rejects(hammingSearch(u, { data: new Uint8Array(5), count: 3, dim: 2 }), RangeError, /corpus.data has 5 bytes/, 'length');
  for (const topK of [0, 1.5, 2 ** 53]) {
    const e = await rejects(hammingSearch(u, u, { topK }), RangeError, /^topK must be a positive integer/, `topK ${topK}`);
    assert.not.match(e.message, /\bk\b/);
  }
});

test('hammingSearch: the popcnt and portable paths give the same results (child processes)', () => {
  const script = `
    const { quantizeEmbeddings, hammingSearch, hammingInfo } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'quantize'))});
    const { rng } = require(${JSON.stringify(path.join(__dirname, 'helpers', 'random'))});
    const r = rng(7);
    const make = (n) => quantizeEmbeddings({ data: Float32Array.from({ length: n * 200 }, () => r() - 0.5), count: n, dim: 200 }, 'ubinary');
    const q = make(11), c = make(3000);
    hammingSearch(q, c, { topK: 12 }).then((res) => console.log(JSON.stringify({ kernel: hammingInfo().kernel, res, q: Array.from(q.data), c: Array.from(c.data) })));
  `;
  const kernels = [];
  for (const features of ['portable', 'avx2']) {
    const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, SBERT_CPU_FEATURES: features }, maxBuffer: 1 << 26 });
    assert.is(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout);
    kernels.push(out.kernel);
    const q = { data: Uint8Array.from(out.q), count: 11, dim: 25 };
    const c = { data: Uint8Array.from(out.c), count: 3000, dim: 25 };
    assert.equal(out.res, bruteForce(q, c, 12), `SBERT_CPU_FEATURES=${features} (${out.kernel})`);
  }
  assert.is(kernels[0], 'portable');
  assert.ok(['popcnt', 'portable'].includes(kernels[1]), kernels[1]);
  assert.ok(['avx512-vpopcntdq', 'popcnt', 'portable'].includes(hammingInfo().kernel));
});

test.run();
