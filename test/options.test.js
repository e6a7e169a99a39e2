// Issue 27, item 4: option objects are checked at run time in JavaScript — an unknown key is a
// TypeError naming it and the closest valid key, a value of the wrong type is a TypeError naming
// the key — for every public function that takes options, with one helper (lib/options.ts).
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const path = require('node:path');
const lib = require('../dist');
const { checkOptions, closestName, editDistance } = require('../dist/options');
const { rejects } = require('./helpers/rejects');
const { FIXTURES } = require('./helpers/reference');

const TINY = path.join(FIXTURES, 'tiny');

test('closestName: case and separator styles, aliases, near spellings; nothing for unrelated names', () => {
  const valid = ['topK', 'scoreFunction', 'queryChunkSize', 'device'];
  assert.is(closestName('top_k', valid), 'topK');
  assert.is(closestName('TOP-K', valid), 'topK');
  assert.is(closestName('score_function', valid), 'scoreFunction');
  assert.is(closestName('devcie', valid), 'device', 'transposition');
  assert.is(closestName('devic', valid), 'device', 'deletion');
  assert.is(closestName('batchSize', ['batchTokens']), undefined, 'too far without an alias');
  assert.is(closestName('batchSize', ['batchTokens'], { batchSize: 'batchTokens' }), 'batchTokens');
  assert.is(closestName('batch_size', ['batchTokens'], { batchSize: 'batchTokens' }), 'batchTokens', 'aliases match in any style');
  assert.is(closestName('colour', valid), undefined);
  assert.is(editDistance('abc', 'acb'), 1);
  assert.is(editDistance('', 'abc'), 3);
  assert.is(editDistance('kitten', 'sitting'), 3);
});

test('checkOptions: undefined/null → {}, non-objects and arrays refused, types named, lists give RangeError with a suggestion', () => {
  const spec = { flag: 'boolean', name: 'string', count: 'number', cb: 'function', mode: ['fast', 'slow'], signal: 'AbortSignal', anything: 'any' };
  assert.equal(checkOptions(undefined, spec, { fn: 'f' }), {});
  assert.equal(checkOptions(null, spec, { fn: 'f' }), {});
  assert.throws(() => checkOptions(5, spec, { fn: 'f' }), (e) => e instanceof TypeError && /options of f must be an object \(got 5\)/.test(e.message));
  assert.throws(() => checkOptions([], spec, { fn: 'f' }), (e) => e instanceof TypeError && /got an array/.test(e.message));
  assert.throws(() => checkOptions({ flag: 'yes' }, spec, { fn: 'f' }), (e) => e instanceof TypeError && e.message === "options.flag must be true or false (got 'yes')");
  assert.throws(() => checkOptions({ count: '3' }, spec, { fn: 'f' }), (e) => e instanceof TypeError && e.message === "options.count must be a number (got '3')");
  assert.throws(() => checkOptions({ cb: 1 }, spec, { fn: 'f' }), (e) => e instanceof TypeError && /options.cb must be a function/.test(e.message));
  assert.throws(() => checkOptions({ signal: {} }, spec, { fn: 'f' }), (e) => e instanceof TypeError && /options.signal must be an AbortSignal/.test(e.message));
  assert.throws(() => checkOptions({ mode: 'fats' }, spec, { fn: 'f' }), (e) => e instanceof RangeError && /must be one of 'fast', 'slow' \(got 'fats'\); did you mean 'fast'\?/.test(e.message));
  assert.throws(() => checkOptions({ mode: 1 }, spec, { fn: 'f' }), (e) => e instanceof TypeError);
  assert.throws(() => checkOptions({ zzz: 1 }, spec, { fn: 'f' }), (e) => e instanceof TypeError && /options.zzz is not an option of f \(its options: flag, name/.test(e.message));
  // undefined values are "not given"; every listed key with a right value passes
  const ok = { flag: true, name: 'x', count: 1, cb() {}, mode: 'slow', signal: new AbortController().signal, anything: [1], other: undefined };
  assert.throws(() => checkOptions(ok, spec, { fn: 'f' }), /options.other is not an option/, 'an unknown key is refused even when undefined');
  delete ok.other;
  assert.is(checkOptions(ok, spec, { fn: 'f' }), ok);
  assert.equal(checkOptions({ flag: undefined }, spec, { fn: 'f' }), { flag: undefined });
});

let enc;
test('SentenceEncoder.load / encode / encodeQuery / encodeDocument: unknown keys with the closest name, wrong types named', async () => {
  await rejects(() => lib.SentenceEncoder.load(TINY, { devcie: 'cpu' }), TypeError, /^options\.devcie is not an option of SentenceEncoder\.load; did you mean device\?$/, 'devcie');
  await rejects(() => lib.SentenceEncoder.load(TINY, { device: 0 }), TypeError, /options\.device must be a string \(got 0\)/, 'device type');
  await rejects(() => lib.SentenceEncoder.load(TINY, { cache_dir: '/tmp' }), TypeError, /did you mean cacheDir\?/, 'python name');
  await rejects(() => lib.SentenceEncoder.load(TINY, { offline: 'yes' }), TypeError, /options\.offline must be true or false/, 'offline');
  await rejects(() => lib.SentenceEncoder.load(TINY, { token: 1 }), TypeError, /options\.token must be a string or false/, 'token');
  enc = await lib.SentenceEncoder.load(TINY, { device: 'cpu', token: false });
  await rejects(() => enc.encode(['a'], { batchSize: 32 }), TypeError, /^options\.batchSize is not an option of encode; did you mean batchTokens\?$/, 'batchSize');
  await rejects(() => enc.encode(['a'], { batch_size: 32 }), TypeError, /did you mean batchTokens\?/, 'batch_size');
  await rejects(() => enc.encode(['a'], { normalize_embeddings: true }), TypeError, /did you mean normalize\?/, 'normalize_embeddings');
  await rejects(() => enc.encode(['a'], { normalize: 'yes' }), TypeError, /^options\.normalize must be true or false \(got 'yes'\)$/, 'normalize yes');
  await rejects(() => enc.encode(['a'], { onProgress: true }), TypeError, /options\.onProgress must be a function/, 'onProgress');
  await rejects(() => enc.encodeQuery(['a'], { outputValue: 'token_embeddings' }), TypeError, /options\.outputValue is not an option of encodeQuery/, 'encodeQuery');
  await rejects(() => enc.encodeDocument(['a'], { promtName: 'x' }), TypeError, /options\.promtName is not an option of encodeDocument; did you mean promptName\?/, 'encodeDocument');
  // the right options still work
  const e = await enc.encode(['a', 'b'], { normalize: true, batchTokens: 64 });
  assert.is(e.count, 2);
});

test('search, similarity and quantization: unknown keys with the closest name', async () => {
  const e = await enc.encode(['A man eats.', 'A horse runs.', 'A man is eating.']);
  await rejects(() => lib.semanticSearch(e, e, { top_k: 1 }), TypeError, /^options\.top_k is not an option of semanticSearch; did you mean topK\?$/, 'top_k');
  await rejects(() => lib.semanticSearch(e, e, { topk: 1 }), TypeError, /did you mean topK\?/, 'topk');
  await rejects(() => lib.paraphraseMining(e, { max_pairs: 2 }), TypeError, /options\.max_pairs is not an option of paraphraseMining; did you mean maxPairs\?/, 'paraphraseMining');
  await rejects(() => lib.communityDetection(e, { min_community_size: 1 }), TypeError, /did you mean minCommunitySize\?/, 'communityDetection');
  await rejects(() => lib.similarity(e, e, { score_function: 'dot' }), TypeError, /options\.score_function is not an option of similarity; did you mean scoreFunction\?/, 'similarity');
  await rejects(() => lib.similarityPairwise(e, e, { function: 'dot' }), TypeError, /not an option of similarityPairwise/, 'similarityPairwise');
  assert.throws(() => lib.quantizeEmbeddings(e, 'int8', { calibrate: e }), (err) => err instanceof TypeError && /did you mean calibration\?/.test(err.message));
  const bits = lib.quantizeEmbeddings(e, 'ubinary');
  await rejects(() => lib.hammingSearch(bits, bits, { k: 1 }), TypeError, /options\.k is not an option of hammingSearch/, 'hammingSearch');
  // top_k used to be ignored: 2 hits came back for topK 1. The right key still works.
  const hits = await lib.semanticSearch(e, e, { topK: 1 });
  assert.equal(hits.map((h) => h.length), [1, 1, 1]);
});

test('loadModelFolder, downloadModel and fit use the same helper and wording', async () => {
  await rejects(() => lib.loadModelFolder(TINY, { lazyweight: true }), TypeError, /options\.lazyweight is not an option of loadModelFolder; did you mean lazyWeights\?/, 'loadModelFolder');
  await rejects(() => lib.downloadModel('org/name', { cache_dir: '/tmp' }), TypeError, /options\.cache_dir is not an option of downloadModel; did you mean cacheDir\?/, 'downloadModel');
  const train = [{ texts: ['a', 'b'], label: 0.5 }];
  await rejects(() => lib.fit(TINY, { loss: 'cosine', train, learning_rate: 1e-3 }), TypeError, /^options\.learning_rate is not an option of fit; did you mean learningRate\?$/, 'learning_rate');
  await rejects(() => lib.fit(TINY, { loss: 'cosine', train, num_epochs: 1 }), TypeError, /did you mean epochs\?/, 'num_epochs (sentence-transformers)');
  await rejects(() => lib.fit(TINY, { loss: 'cosine', train, epoch: 1 }), TypeError, /did you mean epochs\?/, 'epoch');
});

test.after(() => enc?.dispose());

test.run();
