// EngineBatcher (lib/batcher.ts): concurrent batches are merged into shared native calls, each
// caller gets exactly its own rows, incompatible or over-budget batches are not merged, and a
// failed call rejects every caller in it. Uses a fake engine that records its calls.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const { EngineBatcher } = require('../dist/batcher');

const DIM = 3;
const HIDDEN = 2;

/** Sentence row i of a call = [first id of the sequence, its length, call number]. */
function fakeEngine({ fail = false } = {}) {
  const calls = [];
  return {
    calls,
    encode({ ids, cuSeqlens, ...options }) {
      calls.push({ ids: Array.from(ids), cuSeqlens: Array.from(cuSeqlens), options });
      const n = cuSeqlens.length - 1;
      const callNo = calls.length;
      return new Promise((resolve, reject) =>
        setTimeout(() => {
          if (fail) return reject(Object.assign(new Error('boom'), { code: 'ERR_CUDA' }));
          const sentence = new Float32Array(n * DIM);
          for (let i = 0; i < n; i++) sentence.set([ids[cuSeqlens[i]], cuSeqlens[i + 1] - cuSeqlens[i], callNo], i * DIM);
          const tokens = new Float32Array(ids.length * HIDDEN);
          for (let t = 0; t < ids.length; t++) tokens.set([ids[t], -ids[t]], t * HIDDEN);
          resolve({ sentence: options.sentence ? sentence : undefined, tokens: options.tokens ? tokens : undefined });
        }, 5),
      );
    },
  };
}

/** A packed batch of sequences whose ids are `start, start+1, …` with the given lengths. */
function batch(start, lengths) {
  const cu = [0];
  const ids = [];
  let next = start;
  for (const len of lengths) {
    for (let i = 0; i < len; i++) ids.push(next++);
    cu.push(ids.length);
  }
  return { ids: Int32Array.from(ids), cuSeqlens: Int32Array.from(cu), count: lengths.length };
}

const SENT = { sentence: true, tokens: false, normalize: 'model' };

test('the first batch goes alone; batches arriving meanwhile share the next call', async () => {
  const engine = fakeEngine();
  const b = new EngineBatcher(engine, DIM, HIDDEN);
  const inputs = [batch(100, [2]), batch(200, [3, 1]), batch(300, [4]), batch(400, [1, 1, 1])];
  const results = await Promise.all(inputs.map((x) => b.submit(x, SENT, 1000)));
  assert.is(engine.calls.length, 2);
  assert.equal(engine.calls[0].cuSeqlens, [0, 2]);
  assert.equal(engine.calls[1].cuSeqlens, [0, 3, 4, 8, 9, 10, 11]);
  // Each caller sees its own rows, in its own order.
  assert.equal(Array.from(results[1].sentence), [200, 3, 2, 203, 1, 2]);
  assert.equal(Array.from(results[2].sentence), [300, 4, 2]);
  assert.equal(Array.from(results[3].sentence), [400, 1, 2, 401, 1, 2, 402, 1, 2]);
});

test('token embeddings are split by token offsets', async () => {
  const engine = fakeEngine();
  const b = new EngineBatcher(engine, DIM, HIDDEN);
  const opts = { sentence: false, tokens: true, normalize: 'model' };
  const [, r1, r2] = await Promise.all([b.submit(batch(1, [1]), opts, 100), b.submit(batch(10, [2]), opts, 100), b.submit(batch(20, [3]), opts, 100)]);
  assert.equal(Array.from(r1.tokens), [10, -10, 11, -11]);
  assert.equal(Array.from(r2.tokens), [20, -20, 21, -21, 22, -22]);
});

test('different options and the token budget keep batches apart', async () => {
  const engine = fakeEngine();
  const b = new EngineBatcher(engine, DIM, HIDDEN);
  const norm = { ...SENT, normalize: 'force' };
  await Promise.all([
    b.submit(batch(1, [1]), SENT, 10),
    b.submit(batch(10, [4]), SENT, 10),
    b.submit(batch(20, [4]), norm, 10), // other options: its own call
    b.submit(batch(30, [4]), SENT, 10),
    b.submit(batch(40, [4]), SENT, 10), // 4 + 4 + 4 > 10: next call
  ]);
  const shapes = engine.calls.map((c) => [c.options.normalize, c.cuSeqlens.length - 1]);
  assert.equal(shapes, [['model', 1], ['model', 2], ['force', 1], ['model', 1]]);
  for (const c of engine.calls) assert.ok(c.ids.length <= 10);
});

test('a merged call stays within the budget of every batch in it, not only the first', async () => {
  const engine = fakeEngine();
  const b = new EngineBatcher(engine, DIM, HIDDEN);
  const budgets = [100, 100, 5, 100, 6, 100];
  const inputs = [batch(1, [1]), batch(10, [3]), batch(20, [2]), batch(30, [2]), batch(40, [2]), batch(50, [3])];
  const results = await Promise.all(inputs.map((x, i) => b.submit(x, SENT, budgets[i])));
  // Call 1: the first batch alone. Call 2 starts at 10 (budget 100): 20 (budget 5) joins (3 + 2
  // = 5 ≤ 5), then every later batch would push the call past 5 tokens. Call 3 starts at 30:
  // 40 (budget 6) joins (4 ≤ 6), 50 would make 7 > 6.
  assert.equal(engine.calls.map((c) => c.ids[0]), [1, 10, 30, 50]);
  for (const c of engine.calls) {
    const members = inputs.map((x, i) => ({ first: x.ids[0], budget: budgets[i] })).filter((m) => c.ids.includes(m.first));
    for (const m of members) assert.ok(c.ids.length <= m.budget, `call with ${c.ids.length} tokens carries a batch of budget ${m.budget}`);
  }
  assert.equal(Array.from(results[4].sentence), [40, 2, 3]);
});

test('a failed call rejects every caller in it, and later calls still run', async () => {
  const engine = fakeEngine({ fail: true });
  const b = new EngineBatcher(engine, DIM, HIDDEN);
  const settled = await Promise.allSettled([b.submit(batch(1, [1]), SENT, 100), b.submit(batch(2, [1]), SENT, 100), b.submit(batch(3, [1]), SENT, 100)]);
  for (const s of settled) {
    assert.is(s.status, 'rejected');
    assert.is(s.reason.code, 'ERR_CUDA');
  }
  assert.is(engine.calls.length, 2);
});

test.run();
