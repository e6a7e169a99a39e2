// The sentence-transformers folder writer (lib/train/save.ts), without the native trainer: a
// folder saved from a model's own weights must reload through lib/weights with the same
// tensors, keep the source layout file for file (sentence-transformers 6 and classic, Dense
// included), encode exactly as the source does, and never leave a half-written folder.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SentenceEncoder, loadModelFolder } = require('../dist');
const w = require('../dist/weights');
const { saveModelFolder } = require('../dist/train');
const { FIXTURES } = require('./helpers/reference');

const TINY = path.join(FIXTURES, 'tiny');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-train-save-'));
const sentences = ['A man is eating food.', 'A woman is playing violin.', 'Two dogs run.'];

/** The parameters a trainer would hand out for `folder`: canonical BERT names and dense.{j}.*. */
function parametersOf(folder) {
  const params = [];
  for (const [name, view] of folder.weights.tensors) params.push({ name, shape: view.shape, data: Float32Array.from(w.toFloat32(view)) });
  let j = 0;
  for (const m of folder.modules) {
    if (m.type !== 'dense') continue;
    params.push({ name: `dense.${j}.linear.weight`, shape: m.weight.shape, data: Float32Array.from(w.toFloat32(m.weight)) });
    if (m.bias) params.push({ name: `dense.${j}.linear.bias`, shape: m.bias.shape, data: Float32Array.from(w.toFloat32(m.bias)) });
    j++;
  }
  return params;
}

function listFiles(dir, base = dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, base));
    else out.push(path.relative(base, p));
  }
  return out.sort();
}

/** A classic-layout folder (sentence_transformers.models.*) with a Dense (tanh) and Normalize. */
function classicWithDense() {
  const dir = path.join(tmp, 'classic-src');
  fs.mkdirSync(path.join(dir, '1_Pooling'), { recursive: true });
  fs.mkdirSync(path.join(dir, '2_Dense'), { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(TINY, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'modules.json'), JSON.stringify([
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' },
    { idx: 3, name: '3', path: '3_Normalize', type: 'sentence_transformers.models.Normalize' },
  ]));
  fs.writeFileSync(path.join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 64, do_lower_case: false }));
  fs.writeFileSync(path.join(dir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 32, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true, pooling_mode_max_tokens: false, pooling_mode_mean_sqrt_len_tokens: false }));
  fs.writeFileSync(path.join(dir, '2_Dense', 'config.json'), JSON.stringify({ in_features: 32, out_features: 24, bias: true, activation_function: 'torch.nn.modules.activation.Tanh' }));
  const weight = new Float32Array(24 * 32).map((_, i) => Math.sin(i) * 0.2);
  const bias = new Float32Array(24).map((_, i) => Math.cos(i) * 0.1);
  fs.writeFileSync(path.join(dir, '2_Dense', 'model.safetensors'), w.writeSafetensors({
    'linear.weight': { dtype: 'F32', shape: [24, 32], data: weight },
    'linear.bias': { dtype: 'F32', shape: [24], data: bias },
  }));
  return dir;
}

async function encodeWith(dir) {
  const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
  try {
    return await enc.encode(sentences);
  } finally {
    enc.dispose();
  }
}

async function checkRoundTrip(src, name) {
  const folder = await loadModelFolder(src);
  const params = parametersOf(folder);
  const out = path.join(tmp, name);
  const written = await saveModelFolder(folder, params, out);
  assert.is(written, path.resolve(out));
  // Same files as the source's model files (the writer drops no config), plus the model card
  // README.md sentence-transformers writes too (checked in test/first-contact.test.js).
  const source = listFiles(src).filter((f) => !/reference/.test(f) && f !== 'README.md');
  assert.equal(listFiles(out), ['README.md', ...source.filter((f) => !f.endsWith('Normalize/config.json') || fs.existsSync(path.join(out, f)))].sort());
  assert.match(fs.readFileSync(path.join(out, 'README.md'), 'utf8'), /^---\ntags:\n- sentence-transformers\n/);
  for (const f of listFiles(out)) {
    if (f.endsWith('.safetensors') || f === 'README.md') continue;
    const a = fs.readFileSync(path.join(src, f), 'utf8');
    const b = fs.readFileSync(path.join(out, f), 'utf8');
    if (f.endsWith('.json')) assert.equal(JSON.parse(b), JSON.parse(a), f);
    else assert.is(b, a, f);
  }
  // Reloads through lib/weights with every tensor bit-identical; the pooler is kept.
  const again = await loadModelFolder(out);
  const reloaded = new Map(parametersOf(again).map((p) => [p.name, p]));
  for (const p of params) {
    const q = reloaded.get(p.name);
    assert.ok(q, `${p.name} missing after reload`);
    assert.equal(q.shape, p.shape, p.name);
    assert.ok(Buffer.from(q.data.buffer, q.data.byteOffset, q.data.byteLength).equals(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength)), p.name);
  }
  const st = w.parseSafetensors(fs.readFileSync(path.join(out, 'model.safetensors')), 'saved');
  assert.ok(st.tensors.has('pooler.dense.weight') && st.tensors.get('pooler.dense.weight').dtype === 'F32');
  // And it encodes exactly as the source folder does.
  const [e0, e1] = [await encodeWith(src), await encodeWith(out)];
  assert.equal(Array.from(e1.data), Array.from(e0.data));
  return { folder, out };
}

test('sentence-transformers 6 layout (tiny): same files, same tensors, same embeddings', async () => {
  await checkRoundTrip(TINY, 'tiny-saved');
});

test('classic layout with Dense + Normalize: Dense weights saved in 2_Dense, reload equal', async () => {
  const { out } = await checkRoundTrip(classicWithDense(), 'classic-saved');
  const dense = w.parseSafetensors(fs.readFileSync(path.join(out, '2_Dense', 'model.safetensors')), 'dense');
  assert.equal([...dense.tensors.keys()].sort(), ['linear.bias', 'linear.weight']);
});

test('plain Hugging Face folder gets modules.json, sentence_bert_config and mean Pooling', async () => {
  const src = path.join(tmp, 'plain-src');
  fs.mkdirSync(src);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(TINY, f), path.join(src, f));
  const folder = await loadModelFolder(src);
  const out = await saveModelFolder(folder, parametersOf(folder), path.join(tmp, 'plain-saved'));
  const modules = JSON.parse(fs.readFileSync(path.join(out, 'modules.json'), 'utf8'));
  assert.equal(modules.map((m) => m.type), ['sentence_transformers.models.Transformer', 'sentence_transformers.models.Pooling']);
  const again = await loadModelFolder(out);
  assert.is(again.layout, 'sentence-transformers');
  assert.equal(again.modules.find((m) => m.type === 'pooling').modes, ['mean']);
  assert.is(again.maxSeqLength, folder.maxSeqLength);
  const [e0, e1] = [await encodeWith(src), await encodeWith(out)];
  assert.equal(Array.from(e1.data), Array.from(e0.data));
});

test('saveDtype fp16 / bf16: stored in that dtype, values rounded to nearest, config dtype updated', async () => {
  const folder = await loadModelFolder(TINY);
  const params = parametersOf(folder);
  for (const [dtype, tag, torchName, ulp] of [['fp16', 'F16', 'float16', 2 ** -10], ['bf16', 'BF16', 'bfloat16', 2 ** -7]]) {
    const out = await saveModelFolder(folder, params, path.join(tmp, `tiny-${dtype}`), dtype);
    const st = w.parseSafetensors(fs.readFileSync(path.join(out, 'model.safetensors')), dtype);
    for (const p of params) {
      const v = st.tensors.get(p.name);
      assert.is(v.dtype, tag, p.name);
      const back = w.toFloat32(v);
      for (let i = 0; i < p.data.length; i++) {
        const x = p.data[i];
        // Round to nearest: within half a unit in the last place (relative), or tiny absolute for subnormals.
        assert.ok(Math.abs(back[i] - x) <= Math.max(Math.abs(x) * ulp * 0.5 * 1.0001, 2 ** -24), `${dtype} ${p.name}[${i}] ${x} → ${back[i]}`);
      }
    }
    assert.is(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).dtype, torchName);
  }
});

test('the output folder: an existing non-empty folder is refused, nothing half-written stays', async () => {
  const folder = await loadModelFolder(TINY);
  const params = parametersOf(folder);
  const busy = path.join(tmp, 'busy');
  fs.mkdirSync(busy);
  fs.writeFileSync(path.join(busy, 'keep.txt'), 'x');
  await saveModelFolder(folder, params, busy).then(
    () => assert.unreachable('saved into a non-empty folder'),
    (err) => assert.is(err.code, 'ERR_BAD_DATA'),
  );
  assert.equal(fs.readdirSync(busy), ['keep.txt']);
  // A failure while writing (a tensor whose bytes do not match its shape) leaves no folder and no temp.
  const broken = [...params, { name: 'bad', shape: [3], data: new Float32Array(2) }];
  const dest = path.join(tmp, 'broken');
  await saveModelFolder(folder, broken, dest).then(() => assert.unreachable('wrote a bad tensor'), (err) => assert.instance(err, RangeError));
  assert.not.ok(fs.existsSync(dest));
  assert.equal(fs.readdirSync(tmp).filter((f) => f.includes('.partial-')), []);
  // An empty existing folder is fine.
  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
  await saveModelFolder(folder, params, empty);
  assert.ok(fs.existsSync(path.join(empty, 'model.safetensors')));
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
