// Child process of test/similarity.test.js: every search function must own what its native
// worker reads. Starts each search, then (before awaiting) detaches the input ArrayBuffers
// (structuredClone with transfer), frees them (gc) and fills fresh allocations with other values,
// or overwrites the inputs in place — and checks the results equal those of an undisturbed run.
// Before the fix the 200,000 x 384 case crashed (SIGSEGV reading the freed corpus).
// Prints "main-thread ..." timing lines (information, not assertions) and "all detach checks passed".
'use strict';
const assert = require('node:assert/strict');
const v8 = require('node:v8');
const vm = require('node:vm');
const { performance } = require('node:perf_hooks');
const s = require('../../dist/similarity');
const qz = require('../../dist/quantize');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

function randomRows(count, dim, seed) {
  const data = new Float32Array(count * dim);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = (x >>> 0) / 4294967296 - 0.5;
  }
  return { data, count, dim };
}

const copyOf = (m) => ({ ...m, data: m.data.slice() });

// Detach every input's buffer, let the collector free the memory, and reuse it for other values.
function detachAndReuse(inputs) {
  let moved = inputs.map((m) => structuredClone(m.data.buffer, { transfer: [m.data.buffer] }));
  const bytes = moved.reduce((sum, b) => sum + b.byteLength, 0);
  moved = null;
  gc();
  const filler = [];
  for (let left = bytes; left > 0; left -= 64 << 20) filler.push(new Float64Array(Math.min(left, 64 << 20) / 8).fill(-1e300));
  for (const m of inputs) assert.equal(m.data.length, 0, 'the buffer is detached');
  return filler.length;
}

function overwrite(inputs) {
  for (const m of inputs) m.data.fill(m.data instanceof Float32Array ? NaN : 0x55);
}

async function check(name, run, inputs, disturb) {
  const expected = await run(inputs.map(copyOf));
  const t0 = performance.now();
  const pending = run(inputs);
  const ms = performance.now() - t0;
  disturb(inputs);
  const got = await pending;
  assert.deepEqual(got, expected, `${name}: results changed`);
  return ms;
}

(async () => {
  // The case: a 200,000 x 384 corpus detached mid-search, then memory reallocated.
  const big = [randomRows(8, 384, 1), randomRows(200000, 384, 2)];
  const searchMs = await check('semanticSearch 200k x 384 (detach)', ([q, c]) => s.semanticSearch(q, c, { topK: 5 }), big, detachAndReuse);
  console.log(`main-thread semanticSearch(8 x 384, 200000 x 384) call returned in ${searchMs.toFixed(1)} ms (validation + copy of 307 MB)`);

  await check('semanticSearch euclidean (overwrite)', ([q, c]) => s.semanticSearch(q, c, { topK: 7, scoreFunction: 'euclidean' }),
    [randomRows(20, 64, 3), randomRows(20000, 64, 4)], overwrite);
  await check('similarity matrix (detach)', ([a, b]) => s.similarity(a, b), [randomRows(300, 64, 5), randomRows(700, 64, 6)], detachAndReuse);
  await check('paraphraseMining, several corpus chunks (detach)', ([e]) => s.paraphraseMining(e, { topK: 5, corpusChunkSize: 700 }),
    [randomRows(3000, 32, 7)], detachAndReuse);
  // Low-dimensional rows so that communities exist at threshold 0.75.
  await check('communityDetection, several batches (detach)', ([e]) => s.communityDetection(e, { batchSize: 400, minCommunitySize: 3 }),
    [randomRows(3000, 4, 8)], detachAndReuse);
  const packed = (seed, n) => qz.quantizeEmbeddings(randomRows(n, 256, seed), 'ubinary');
  await check('hammingSearch (detach)', ([q, c]) => qz.hammingSearch(q, c, { topK: 10 }), [packed(9, 50), packed(10, 30000)], detachAndReuse);
  await check('hammingSearch (overwrite)', ([q, c]) => qz.hammingSearch(q, c, { topK: 10 }), [packed(11, 50), packed(12, 30000)], overwrite);
  console.log('all detach checks passed');
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
