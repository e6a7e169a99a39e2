// The bundled model (models/default-en): it loads by default, its embeddings equal a plain
// PyTorch forward of the shipped weights (test/fixtures/default-en, written by
// tools/reference/make_default_model_reference.py: the check that does not go through our own
// evaluator), it gives sensible similarities, its published scores are what the evaluator
// computes, and the corpus it was distilled on holds no sentence of any evaluation set.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { SentenceEncoder, defaultModelDir, DEFAULT_MODEL_NAME } = require('../dist');
const { evaluateStsTask } = require('../dist/eval');
const { evaluationKeys, sentenceKey } = require('../tools/default-model/corpus');
const { readReference, cosine } = require('./helpers/reference');

const root = path.join(__dirname, '..');
const modelDir = path.join(root, 'models', 'default-en');
const record = JSON.parse(fs.readFileSync(path.join(modelDir, 'training-record.json'), 'utf8'));
const scores = JSON.parse(fs.readFileSync(path.join(modelDir, 'scores.json'), 'utf8'));

function dirSize(dir) {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirSize(p) : fs.statSync(p).size;
  }
  return total;
}

test('the distillation corpus is the one recorded and holds no evaluation sentence', () => {
  const text = zlib.gunzipSync(fs.readFileSync(path.join(root, 'tools', 'default-model', 'corpus-default-en.txt.gz'))).toString('utf8');
  assert.is(crypto.createHash('sha256').update(text).digest('hex').slice(0, 16), record.corpus.usedHash, 'corpus file = the corpus in training-record.json');
  const sentences = text.split('\n').slice(0, -1);
  assert.is(sentences.length, record.corpus.usedSentences);
  const keys = evaluationKeys();
  assert.ok(keys.size > 20000, `${keys.size} evaluation sentences`);
  // the key catches the same sentence with other case, spacing and punctuation
  assert.ok(keys.has(sentenceKey('a  MAN is eating food')), 'STSb "A man is eating food." is an evaluation sentence');
  const leaked = sentences.filter((s) => keys.has(sentenceKey(s)));
  assert.equal(leaked.slice(0, 5), [], `${leaked.length} evaluation sentences in the corpus`);
  assert.is(new Set(sentences.map(sentenceKey)).size, sentences.length, 'no duplicates');
});

test('SentenceEncoder.load() and load("default") give the bundled model; it fits the package budget', async () => {
  assert.is(defaultModelDir(), modelDir);
  assert.is(DEFAULT_MODEL_NAME, 'default');
  assert.ok(dirSize(modelDir) <= 25 * 2 ** 20, `${dirSize(modelDir)} bytes`);
  const a = await SentenceEncoder.load({ device: 'cpu' });
  const b = await SentenceEncoder.load('default', { device: 'cpu' });
  try {
    assert.is(a.model.dir, modelDir);
    assert.is(b.model.dir, modelDir);
    assert.is(a.dimension, 512);
    const [ea, eb] = [await a.encode(['A man is eating food.']), await b.encode(['A man is eating food.'])];
    assert.equal(Array.from(ea.data), Array.from(eb.data));
    let norm = 0;
    for (const v of ea.data) norm += v * v;
    assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-5, `unit length, got ${Math.sqrt(norm)}`);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('the shipped weights give the embeddings of a plain PyTorch forward (42 sentences, cosine ≥ 0.99999 each)', async () => {
  const ref = readReference('default-en');
  // The fixture was made from these exact files: a retrained model needs a new fixture.
  for (const [file, hash] of Object.entries(ref.meta.weights)) {
    const now = crypto.createHash('sha256').update(fs.readFileSync(path.join(modelDir, file))).digest('hex');
    assert.is(now, hash, `${file} changed since test/fixtures/default-en was written: rerun tools/reference/make_default_model_reference.py`);
  }
  const { shape, data } = ref.tensors.sentence_embedding;
  assert.equal(shape, [ref.sentences.length, 512]);
  const enc = await SentenceEncoder.load({ device: 'cpu' });
  try {
    const ids = ref.sentences.map((s) => Array.from(enc.tokenizer.encode(s, { maxLength: ref.meta.maxSeqLength }).ids));
    assert.equal(ids, ref.meta.ids, 'our tokenizer gives the ids the reference ran on');
    assert.is(Math.max(...ids.map((x) => x.length)), 128, 'one sentence is truncated at max_seq_length');
    const emb = await enc.encode(ref.sentences);
    let worst = 1, worstAt = -1;
    for (let i = 0; i < ref.sentences.length; i++) {
      const c = cosine(emb.row(i), data.subarray(i * 512, (i + 1) * 512));
      if (!(c >= worst)) [worst, worstAt] = [c, i];
    }
    assert.ok(worst >= 0.99999, `min cosine ${worst} at sentence ${worstAt}: ${JSON.stringify(ref.sentences[worstAt])}`);
  } finally {
    enc.dispose();
  }
});

test('sensible similarities: food with bread, guitar with violin', async () => {
  const enc = await SentenceEncoder.load({ device: 'cpu' });
  try {
    const s = ['A man is eating food.', 'A man is eating a piece of bread.', 'The girl is carrying a baby.', 'A man is riding a horse.', 'A woman is playing violin.', 'A man is playing a guitar.'];
    const emb = await enc.encode(s);
    const sim = (i, j) => {
      let d = 0;
      for (let k = 0; k < emb.dim; k++) d += emb.row(i)[k] * emb.row(j)[k];
      return d;
    };
    const closest = (i) => [...s.keys()].filter((j) => j !== i).sort((x, y) => sim(i, y) - sim(i, x))[0];
    assert.is(closest(0), 1, 'food → bread');
    assert.is(closest(5), 4, 'guitar → violin');
  } finally {
    enc.dispose();
  }
});

test('the published STSb-test and STSb-dev scores are what the evaluator computes', async () => {
  const enc = await SentenceEncoder.load({ device: 'cpu' });
  try {
    for (const [task, key] of [['stsb-test', 'STSb'], ['stsb-dev', 'STSb-dev']]) {
      const r = await evaluateStsTask(enc, task);
      assert.ok(Math.abs(r.headline.spearman * 100 - scores.student[key]) < 0.05, `${task}: computed ${r.headline.spearman * 100}, published ${scores.student[key]}`);
    }
  } finally {
    enc.dispose();
  }
});

test.run();
