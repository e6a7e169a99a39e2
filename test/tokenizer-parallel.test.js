// encodeBatchParallel: the same packed result as encodeBatch, computed on worker threads.
const path = require('path');
const fs = require('fs');
const { test } = require('uvu');
const assert = require('uvu/assert');
const { loadTokenizer, encodeBatchParallel, TokenizerPool } = require('../dist/tokenizer');

const FIX = path.join(__dirname, 'fixtures', 'tokenizer');
const goldens = JSON.parse(require('node:zlib').gunzipSync(fs.readFileSync(path.join(FIX, 'tokenizer-goldens.json.gz'))).toString('utf8'));
const texts = goldens.cases.map((c) => c.text);

let tok;
test.before(async () => {
  tok = await loadTokenizer(FIX);
});

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

test('same result as encodeBatch, 2 and 3 threads, with and without maxLength', async () => {
  for (const threads of [2, 3]) {
    for (const maxLength of [undefined, 16]) {
      const want = tok.encodeBatch(texts, { maxLength });
      const got = await encodeBatchParallel(tok, texts, { threads, maxLength });
      assert.ok(same(got.ids, want.ids), `ids, ${threads} threads, maxLength ${maxLength}`);
      assert.ok(same(got.typeIds, want.typeIds));
      assert.ok(same(got.cuSeqlens, want.cuSeqlens));
    }
  }
});

test('goldens through the workers', async () => {
  const r = await encodeBatchParallel(tok, texts, { threads: 2 });
  let bad = 0;
  for (let i = 0; i < texts.length; i++) {
    if (!same(r.ids.subarray(r.cuSeqlens[i], r.cuSeqlens[i + 1]), goldens.cases[i].ids)) bad++;
  }
  assert.is(bad, 0);
});

test('small batches stay on the calling thread; empty batch', async () => {
  const r = await encodeBatchParallel(tok, ['hello world'], { threads: 2 });
  assert.equal(Array.from(r.ids), [101, 7592, 2088, 102]);
  const e = await encodeBatchParallel(tok, [], { threads: 2 });
  assert.equal(Array.from(e.cuSeqlens), [0]);
  // forcing the workers on a tiny batch
  const t = await encodeBatchParallel(tok, ['a', 'b', 'c'], { threads: 2, minBatch: 0 });
  assert.equal(Array.from(t.ids), [101, 1037, 102, 101, 1038, 102, 101, 1039, 102]);
  assert.equal(Array.from(t.cuSeqlens), [0, 3, 6, 9]);
});

test('bad input: TypeError naming the index, rejected before any worker runs', async () => {
  let err;
  try {
    await encodeBatchParallel(tok, [...texts.slice(0, 5000), 12], { threads: 2 });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof TypeError);
  assert.is(err.message, 'texts[5000] is not a string (got number)');
  err = undefined;
  try {
    await encodeBatchParallel(tok, texts, { threads: 2, maxLength: -3 });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof TypeError && /maxLength/.test(err.message));
});

test('a pool can be closed and used again', async () => {
  const pool = new TokenizerPool(tok);
  const a = await pool.encodeBatch(texts.slice(0, 4000), { threads: 2 });
  pool.close();
  const b = await pool.encodeBatch(texts.slice(0, 4000), { threads: 2 });
  pool.close();
  assert.ok(same(a.ids, b.ids));
});

test.run();
