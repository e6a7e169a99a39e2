// AbortSignal on EngineBatcher.submit and SentenceEncoder.encode: a batch still waiting in the
// queue when its signal fires never reaches the engine (the engine's calls are recorded), the
// other callers' batches are unaffected, the batch already in a native call runs to its end,
// and the promise rejects with the signal's reason. Also the per-batch wait / run times.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const path = require('node:path');
const { EngineBatcher } = require('../dist/batcher');
const { SentenceEncoder } = require('../dist');
const { FIXTURES } = require('./helpers/reference');
const { spyOnEngines } = require('./helpers/engine-spy');

const DIM = 2;

/** An engine whose calls finish only when the test says so; records the ids of each call. */
function heldEngine() {
  const calls = [];
  return {
    calls,
    encode({ ids, cuSeqlens }) {
      const n = cuSeqlens.length - 1;
      return new Promise((resolve) => {
        calls.push({
          ids: Array.from(ids),
          finish: () => {
            const sentence = new Float32Array(n * DIM);
            for (let i = 0; i < n; i++) sentence.set([ids[cuSeqlens[i]], calls.length], i * DIM);
            resolve({ sentence });
          },
        });
      });
    },
  };
}

function one(id) {
  return { ids: Int32Array.of(id), cuSeqlens: Int32Array.of(0, 1), count: 1 };
}

const SENT = { sentence: true, tokens: false, normalize: false };

test('batcher: an aborted batch that still waits leaves the queue and never reaches the engine', async () => {
  const engine = heldEngine();
  const b = new EngineBatcher(engine, DIM, 4);
  const running = b.submit(one(1), SENT, 100);
  const ac = new AbortController();
  const dropped = b.submit(one(2), SENT, 100, ac.signal);
  const kept = b.submit(one(3), SENT, 100);
  assert.is(engine.calls.length, 1, 'the first batch runs, the others wait');
  ac.abort();
  const err = await dropped.catch((e) => e);
  assert.is(err.name, 'AbortError');
  engine.calls[0].finish();
  assert.equal(Array.from((await running).sentence), [1, 1]);
  await new Promise((r) => setImmediate(r));
  assert.is(engine.calls.length, 2);
  assert.equal(engine.calls[1].ids, [3], 'the aborted batch was not merged into the next call');
  engine.calls[1].finish();
  const r = await kept;
  assert.equal(Array.from(r.sentence), [3, 2]);
  assert.ok(r.waitMs >= 0 && r.runMs >= 0, 'wait and run times are reported');
});

test('batcher: abort after the batch reached the engine changes nothing; an aborted signal rejects at once', async () => {
  const engine = heldEngine();
  const b = new EngineBatcher(engine, DIM, 4);
  const ac = new AbortController();
  const running = b.submit(one(5), SENT, 100, ac.signal);
  ac.abort();
  engine.calls[0].finish();
  assert.equal(Array.from((await running).sentence), [5, 1], 'a batch in a native call runs to its end');
  const reason = new Error('gone');
  const late = await b.submit(one(6), SENT, 100, AbortSignal.abort(reason)).catch((e) => e);
  assert.is(late, reason);
  assert.is(engine.calls.length, 1);
});

test('encode({ signal }): batches not yet run are dropped; the call rejects with the reason', async () => {
  const spy = spyOnEngines();
  const enc = await SentenceEncoder.load(path.join(FIXTURES, 'tiny'), { device: 'cpu' });
  spy.restore();
  try {
    const texts = Array.from({ length: 40 }, (_, i) => `sentence ${i} with several words in it`);
    const ac = new AbortController();
    // Budget of ~one sentence per native call: 40 calls; abort after the first finished.
    let progress = 0;
    const call = enc.encode(texts, {
      batchTokens: 12,
      signal: ac.signal,
      onProgress: (done) => {
        progress = done;
        if (done === 1) ac.abort();
      },
    });
    const err = await call.catch((e) => e);
    assert.is(err.name, 'AbortError');
    assert.is(progress, 1);
    const perSentence = enc.tokenizer.encode(texts[0]).ids.length;
    assert.is(spy.tokens, perSentence, 'only the batch that finished before the abort reached the engine');
    // The encoder still works, exactly.
    const again = await enc.encode(texts.slice(0, 3));
    const direct = await enc.encode(texts.slice(0, 3), { batchTokens: 4096 });
    assert.equal(Array.from(again.data), Array.from(direct.data));
    assert.is(await enc.encode('x', { signal: AbortSignal.abort() }).catch((e) => e.name), 'AbortError');
    assert.is(await enc.encode('x', { signal: 'no' }).catch((e) => e.constructor.name), 'TypeError');
  } finally {
    enc.dispose();
  }
});

test.run();
