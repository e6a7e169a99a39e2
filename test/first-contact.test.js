// Issue 27: what a newcomer meets first. Model names resolved before the network ('default'
// everywhere, typos refused with a suggestion, bare names as sentence-transformers resolves
// them, Hub errors that say both, offline errors that say how to fill the cache), errors that
// say what to pass (a row for embeddings, `new SentenceEncoder`, no GPU), similarity results
// with get/rows and one async convention, a settable maxSeqLength, and enc.save(dir).
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lib = require('../dist');
const { modelSource } = require('../dist/model-source');
const { rejects } = require('./helpers/rejects');
const { FIXTURES } = require('./helpers/reference');

const { SentenceEncoder } = lib;
const TINY = path.join(FIXTURES, 'tiny');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-first-'));
const emptyCache = path.join(tmp, 'hf-cache');
fs.mkdirSync(emptyCache);

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---- model names ------------------------------------------------------------------------------

test("model names: 'default', folders, Hub ids, and bare names as sentence-transformers resolves them (no request)", () => {
  assert.equal(modelSource(undefined), { kind: 'folder', dir: lib.defaultModelDir() });
  assert.equal(modelSource('default'), { kind: 'folder', dir: lib.defaultModelDir() });
  assert.equal(modelSource(TINY), { kind: 'folder', dir: TINY });
  assert.equal(modelSource('sentence-transformers/all-MiniLM-L6-v2'), { kind: 'hub', id: 'sentence-transformers/all-MiniLM-L6-v2', given: 'sentence-transformers/all-MiniLM-L6-v2' });
  // sentence-transformers: a bare name gets its organisation, except the Hub's legacy models
  assert.equal(modelSource('all-MiniLM-L6-v2'), { kind: 'hub', id: 'sentence-transformers/all-MiniLM-L6-v2', given: 'all-MiniLM-L6-v2' });
  assert.equal(modelSource('all-mpnet-base-v2').id, 'sentence-transformers/all-mpnet-base-v2');
  assert.equal(modelSource('bert-base-uncased'), { kind: 'hub', id: 'bert-base-uncased', given: 'bert-base-uncased' });
  assert.is(modelSource('Roberta-Base').id, 'Roberta-Base', 'the legacy list is matched case-insensitively, as in sentence-transformers');
});

test("model names: a typo of 'default' or of a local folder is refused with the suggestion before any request", () => {
  for (const typo of ['defualt', 'deafult', 'defaut', 'Default']) {
    assert.throws(() => modelSource(typo), (e) => e.code === 'ERR_BAD_MODEL' && e.message.startsWith(`no local folder '${typo}'; did you mean 'default'?`), typo);
  }
  const cwd = process.cwd();
  const dir = path.join(tmp, 'cwd');
  fs.mkdirSync(path.join(dir, 'my-model'), { recursive: true });
  process.chdir(dir);
  try {
    assert.throws(() => modelSource('my-modle'), (e) => /no local folder 'my-modle'; did you mean 'my-model'\?/.test(e.message));
    // two edits away is another model, not a typo: it goes to the Hub as sentence-transformers does
    assert.is(modelSource('my-model-v2').id, 'sentence-transformers/my-model-v2');
  } finally {
    process.chdir(cwd);
  }
});

test('model names: a path that does not exist names the folder, suggests a neighbour, never goes to the Hub', () => {
  assert.throws(() => modelSource('./all-MiniLM-L6-v2'), (e) =>
    e.code === 'ERR_BAD_MODEL' && e.message.includes(`no model folder at ${path.resolve('all-MiniLM-L6-v2')}`) &&
    e.message.includes("'sentence-transformers/all-MiniLM-L6-v2'") && e.message.includes("'default'"));
  fs.mkdirSync(path.join(tmp, 'models', 'minilm'), { recursive: true });
  assert.throws(() => modelSource(path.join(tmp, 'models', 'minlm')), (e) => e.message.includes(`did you mean ${path.join(tmp, 'models', 'minilm')}?`));
  assert.throws(() => modelSource('a/b/c'), (e) => e.code === 'ERR_BAD_MODEL' && /no model folder at/.test(e.message), 'more than one / is a path, as in sentence-transformers');
  assert.throws(() => modelSource(path.join(TINY, 'config.json')), (e) => e.code === 'ERR_BAD_MODEL' && /is a file; a model is a folder/.test(e.message));
});

test('SentenceEncoder.load: the same rules; a Hub failure says both what was looked for locally and what the Hub said; offline says how to fill the cache', async () => {
  await rejects(() => SentenceEncoder.load('defualt'), lib.SbertError, /no local folder 'defualt'; did you mean 'default'\?/, 'typo');
  const err = await rejects(
    () => SentenceEncoder.load('all-MiniLM-L6-v2', { device: 'cpu', offline: true, cacheDir: emptyCache }),
    lib.SbertError,
    /^no local folder 'all-MiniLM-L6-v2', and the Hugging Face Hub did not give sentence-transformers\/all-MiniLM-L6-v2/,
    'bare name offline',
  );
  assert.is(err.code, 'ERR_HUB_OFFLINE');
  assert.match(err.message, /npx sbert download sentence-transformers\/all-MiniLM-L6-v2/);
  // an unreachable Hub (nothing listens on this port): both facts, the code kept
  const net = await rejects(
    () => SentenceEncoder.load('org/missing-model', { device: 'cpu', cacheDir: emptyCache, endpoint: 'http://127.0.0.1:9', token: false }),
    lib.SbertError,
    /^no local folder 'org\/missing-model', and the Hugging Face Hub did not give org\/missing-model: .*cannot reach http:\/\/127\.0\.0\.1:9/,
    'unreachable',
  );
  assert.is(net.code, 'ERR_HUB');
});

// ---- errors that say what to do ---------------------------------------------------------------

test('new SentenceEncoder() is refused with a pointer to SentenceEncoder.load', () => {
  for (const args of [[], ['default'], [TINY, { device: 'cpu' }]]) {
    assert.throws(() => new SentenceEncoder(...args), (e) => e instanceof TypeError && /use `await SentenceEncoder\.load\(model\?, options\?\)`/.test(e.message));
  }
});

test("device 'cuda' without a usable GPU names the cause: no NVIDIA GPU/driver, or an addon without the CUDA engine", async () => {
  if (lib.cudaDevices().length > 0) {
    await rejects(() => SentenceEncoder.load(TINY, { device: 'cuda:99' }), lib.SbertError, /only \d+ CUDA device/, 'index past the devices');
    return;
  }
  const compiled = lib.buildInfo().cuda.compiled;
  const err = await rejects(
    () => SentenceEncoder.load(TINY, { device: 'cuda' }),
    lib.SbertError,
    compiled ? /^device 'cuda': no NVIDIA GPU\/driver found \(CUDA says: .*\) — use device: 'cpu'/ : /^device 'cuda': this addon was built without the CUDA engine/,
    'no GPU',
  );
  assert.is(err.code, 'ERR_NO_CUDA');
});

let enc;
test('search and similarity argument errors say what to pass', async () => {
  enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  const e = await enc.encode(['A man eats.', 'A horse runs.', 'Someone is eating.']);
  await rejects(() => lib.semanticSearch(e.row(0), e), TypeError,
    /^queries: a Float32Array was passed \(one row, such as e\.row\(0\)\?\); pass the Embeddings from encode, or \{ data: Float32Array, count, dim \}, or for one row \{ data: row, count: 1, dim: row\.length \}$/, 'row');
  await rejects(() => lib.semanticSearch(e, [[1, 2]]), TypeError, /^corpus: an array was passed; pass the Embeddings from encode/, 'number[][]');
  await rejects(() => lib.similarity(e, {}), TypeError, /^b: an object without data was passed; pass the Embeddings from encode/, 'empty object');
  await rejects(() => enc.similarity(e, undefined), TypeError, /^b: undefined was passed; pass the Embeddings/, 'undefined');
  // the fix the message gives works
  const row = e.row(0);
  const hits = await lib.semanticSearch({ data: row, count: 1, dim: row.length }, e, { topK: 1 });
  assert.is(hits[0][0].corpusId, 0);
});

// ---- similarity results -----------------------------------------------------------------------

test('similarity: a SimilarityMatrix — still the row-major Float32Array, with get(i, j), row(i), rows()', async () => {
  const a = await enc.encode(['A man eats.', 'A horse runs.']);
  const b = await enc.encode(['Someone is eating.', 'A horse gallops.', 'Music.']);
  const m = await enc.similarity(a, b);
  assert.instance(m, Float32Array);
  assert.instance(m, lib.SimilarityMatrix);
  assert.is(m.length, 6);
  assert.is(m.rowCount, 2);
  assert.is(m.columnCount, 3);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) assert.is(m.get(i, j), m[i * 3 + j]);
  assert.equal(Array.from(m.row(1)), Array.from(m.subarray(3, 6)));
  assert.equal(m.rows(), [Array.from(m.subarray(0, 3)), Array.from(m.subarray(3, 6))]);
  assert.throws(() => m.get(2, 0), RangeError);
  assert.throws(() => m.get(0, 3), RangeError);
  // derived arrays are plain Float32Arrays (no half-built matrices)
  assert.is(m.slice(0, 2).constructor, Float32Array);
  assert.is(m.map((x) => x).constructor, Float32Array);
  const plain = await lib.similarity(a, b, { scoreFunction: 'dot' });
  assert.instance(plain, lib.SimilarityMatrix);
  assert.equal(Array.from(await lib.cosSim(a, b)), Array.from(m), 'the encoder uses the model function (cosine)');
});

test('similarity helpers are all async: similarityPairwise returns a Promise; similarityPairwiseSync keeps the old synchronous form', async () => {
  const a = await enc.encode(['A man eats.', 'A horse runs.']);
  const b = await enc.encode(['Someone is eating.', 'A horse gallops.']);
  const pending = enc.similarityPairwise(a, b);
  assert.instance(pending, Promise);
  const scores = await pending;
  assert.equal(Array.from(scores), Array.from(enc.similarityPairwiseSync(a, b)));
  const full = await enc.similarity(a, b);
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(scores[i] - full.get(i, i)) < 1e-6, `pairwise ${i} = diagonal`);
  assert.equal(Array.from(await lib.similarityPairwise(a, b)), Array.from(scores), 'the package function agrees');
  // bad arguments reject (never a synchronous throw from a Promise-returning function)
  let threw = false;
  const p = enc.similarityPairwise(a, { data: new Float32Array(3), count: 1, dim: 3 }).catch((e) => e);
  threw = (await p) instanceof RangeError;
  assert.ok(threw, 'a shape mismatch rejects with a RangeError');
  for (const [name, call] of [
    ['similarity', () => lib.similarity(a, b)], ['semanticSearch', () => lib.semanticSearch(a, b)], ['paraphraseMining', () => lib.paraphraseMining(a)],
    ['communityDetection', () => lib.communityDetection(a)], ['similarityPairwise', () => lib.similarityPairwise(a, b)], ['enc.similarity', () => enc.similarity(a, b)],
  ]) {
    const r = call();
    assert.instance(r, Promise, name);
    await r;
  }
});

// ---- maxSeqLength -----------------------------------------------------------------------------

test('maxSeqLength is settable (validated against the position limit) and later encodes truncate there', async () => {
  const long = 'word '.repeat(100);
  const before = enc.maxSeqLength;
  assert.throws(() => { enc.maxSeqLength = 0; }, RangeError);
  assert.throws(() => { enc.maxSeqLength = 1.5; }, RangeError);
  assert.throws(() => { enc.maxSeqLength = '16'; }, (e) => e instanceof TypeError && /maxSeqLength must be a number \(got '16'\)/.test(e.message));
  const config = JSON.parse(fs.readFileSync(path.join(TINY, 'config.json'), 'utf8'));
  const limit = config.max_position_embeddings;
  assert.throws(() => { enc.maxSeqLength = limit + 1; }, (e) => e instanceof RangeError && e.message.includes(`from 1 to ${limit}`));
  assert.is(enc.maxSeqLength, before, 'a refused value changes nothing');
  enc.maxSeqLength = 8;
  assert.is(enc.maxSeqLength, 8);
  const tokens = await enc.encode([long], { outputValue: 'token_embeddings' });
  assert.is(tokens[0].count, 8, 'token embeddings of a long input: 8 rows');
  const cut = await enc.encode([long]);
  enc.maxSeqLength = limit;
  const full = await enc.encode([long]);
  assert.not.equal(Array.from(cut.data), Array.from(full.data), 'the cut changes the embedding');
  enc.maxSeqLength = before;
});

// ---- save -------------------------------------------------------------------------------------

/** What sentence-transformers needs to load a folder: modules.json with a folder per module, configs, tokenizer, weights. */
function assertStLayout(dir) {
  const modules = JSON.parse(fs.readFileSync(path.join(dir, 'modules.json'), 'utf8'));
  assert.ok(modules.length >= 2);
  assert.match(modules[0].type, /^sentence_transformers\.(models|base\.modules\.transformer)\.Transformer$/);
  for (const f of ['config.json', 'sentence_bert_config.json', 'tokenizer_config.json', 'README.md']) assert.ok(fs.existsSync(path.join(dir, f)), f);
  assert.ok(fs.existsSync(path.join(dir, 'tokenizer.json')) || fs.existsSync(path.join(dir, 'vocab.txt')), 'a tokenizer');
  const weights = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin'].filter((f) => fs.existsSync(path.join(dir, f)));
  assert.ok(weights.length > 0, 'Transformer weights');
  for (const m of modules.slice(1)) {
    if (/(Pooling|Dense)$/.test(m.type)) assert.ok(fs.existsSync(path.join(dir, m.path, 'config.json')), `${m.path}/config.json`);
    if (m.type.endsWith('Dense')) assert.ok(fs.existsSync(path.join(dir, m.path, 'model.safetensors')) || fs.existsSync(path.join(dir, m.path, 'pytorch_model.bin')), `${m.path} weights`);
  }
  const card = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
  assert.match(card, /^---\ntags:\n- sentence-transformers\n/);
  assert.match(card, /library_name: sentence-transformers/);
  assert.match(card, /SentenceTransformer\("path\/to\/this\/folder"\)/);
  return card;
}

/** tiny's configs and tokenizer with pytorch_model.bin weights, and a Dense module also in a .bin (as test/torch-pickle.test.js builds it). */
function tinyBinWithDense(dir) {
  const pkl = path.join(FIXTURES, 'pickle');
  fs.mkdirSync(path.join(dir, '1_Pooling'), { recursive: true });
  fs.mkdirSync(path.join(dir, '2_Dense'), { recursive: true });
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'sentence_bert_config.json', '1_Pooling/config.json']) fs.copyFileSync(path.join(TINY, f), path.join(dir, f));
  fs.copyFileSync(path.join(pkl, 'dense', 'config.json'), path.join(dir, '2_Dense', 'config.json'));
  fs.copyFileSync(path.join(pkl, 'tiny-f16', 'pytorch_model.bin'), path.join(dir, 'pytorch_model.bin'));
  fs.copyFileSync(path.join(pkl, 'dense-legacy', 'pytorch_model.bin'), path.join(dir, '2_Dense', 'pytorch_model.bin'));
  const modules = JSON.parse(fs.readFileSync(path.join(TINY, 'modules.json'), 'utf8')).slice(0, 2);
  modules.push({ idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' });
  fs.writeFileSync(path.join(dir, 'modules.json'), JSON.stringify(modules));
  return dir;
}

test('enc.save(dir): a complete sentence-transformers folder with a model card; it reloads to the same embeddings, maxSeqLength included', async () => {
  const texts = ['A man is eating food.', 'word '.repeat(80), ''];
  const bin = tinyBinWithDense(path.join(tmp, 'tiny-bin'));
  for (const [name, model] of [['default (sharded safetensors, Dense, Normalize)', undefined], ['tiny', TINY], ['pytorch_model.bin + Dense', bin]]) {
    const src = await SentenceEncoder.load(model, { device: 'cpu' });
    try {
      src.maxSeqLength = 24;
      const dir = path.join(tmp, `saved-${name.split(' ')[0]}`);
      assert.is(await src.save(dir), dir);
      const card = assertStLayout(dir);
      assert.match(card, /Maximum Sequence Length:\*\* 24 tokens/);
      assert.match(card, new RegExp(`Output Dimensionality:\\*\\* ${src.dimension} dimensions`));
      const back = await SentenceEncoder.load(dir, { device: 'cpu' });
      try {
        assert.is(back.maxSeqLength, 24, `${name}: max_seq_length saved`);
        assert.is(back.dimension, src.dimension);
        const x = await src.encode(texts);
        const y = await back.encode(texts);
        assert.equal(Array.from(y.data), Array.from(x.data), `${name}: same embeddings`);
      } finally {
        back.dispose();
      }
      await rejects(() => src.save(dir), RangeError, /exists and is not empty/, `${name}: not over a model`);
    } finally {
      src.dispose();
    }
  }
  const e = await SentenceEncoder.load(TINY, { device: 'cpu' });
  e.dispose();
  await rejects(() => e.save(path.join(tmp, 'disposed')), lib.SbertError, /disposed/, 'disposed');
});

// ---- 'default' everywhere ---------------------------------------------------------------------

test("fit('default', …) trains the bundled model, and the folder it writes has a model card with the training details", async () => {
  const outputDir = path.join(tmp, 'fit-default');
  const result = await lib.fit('default', {
    loss: 'cosine',
    train: [
      { texts: ['A man is eating.', 'A man eats food.'], label: 0.9 },
      { texts: ['A man is eating.', 'A plane takes off.'], label: 0.1 },
    ],
    batchSize: 2,
    outputDir,
    dropout: false,
  });
  assert.is(result.steps, 1);
  const card = assertStLayout(outputDir);
  assert.match(card, /fine-tuned by sbert-native/);
  assert.match(card, /## Training Details/);
  assert.match(card, /- \*\*Loss:\*\* cosine/);
  assert.match(card, /- \*\*Training examples:\*\* 2/);
  assert.match(card, /loss:cosine/);
  const tuned = await SentenceEncoder.load(outputDir, { device: 'cpu' });
  assert.is(tuned.dimension, 512);
  tuned.dispose();
  await rejects(() => lib.fit('defualt', { loss: 'cosine', train: [{ texts: ['a', 'b'], label: 1 }] }), lib.SbertError, /did you mean 'default'\?/, 'typo in fit');
});

test.after(() => enc?.dispose());

test.run();
