'use strict';
// pytorch_model.bin through the restricted unpickler: files written by real torch (1.13, see
// tools/reference/make_pickle_fixtures.py) compared with the values torch itself read back, a model folder
// with .bin weights against the same weights as safetensors, and malicious pickles refused.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const w = require('../dist/weights');
const { parseTorchCheckpoint, readTorchCheckpoint } = require('../dist/weights/torch-pickle');
const { SentenceEncoder } = require('../dist');
const { zip } = require('./helpers/zip-writer');

const FIX = path.join(__dirname, 'fixtures');
const PKL = path.join(FIX, 'pickle');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-pickle-'));
const MARKER = '/tmp/sbert-native-pickle-pwned'; // what the malicious fixtures' command would create

function refused(fn, ...needles) {
  try {
    fn();
  } catch (err) {
    assert.is(err.name, 'SbertError', err.stack);
    assert.is(err.code, 'ERR_BAD_MODEL');
    for (const n of needles) assert.ok(err.message.includes(n), `"${err.message}" should mention "${n}"`);
    return err;
  }
  return assert.unreachable('expected ERR_BAD_MODEL');
}

/** The tensor's elements as JS numbers, decoded by dtype. */
function elements(view) {
  const dv = new DataView(view.bytes.buffer, view.bytes.byteOffset, view.bytes.byteLength);
  switch (view.dtype) {
    case 'F32': case 'F16': case 'BF16': return Array.from(w.toFloat32(view));
    case 'F64': return Array.from({ length: view.bytes.byteLength / 8 }, (_, i) => dv.getFloat64(i * 8, true));
    case 'I64': return Array.from({ length: view.bytes.byteLength / 8 }, (_, i) => Number(dv.getBigInt64(i * 8, true)));
    default: return Array.from(w.toInt32(view));
  }
}

/** The entries of a torch zip file (via our zip reader) as a name → Buffer object. */
function unzip(file) {
  const { readZipEntries } = require('../dist/weights/zip');
  const out = {};
  for (const [name, e] of readZipEntries(fs.readFileSync(file), file)) out[name] = Buffer.from(e.data());
  return out;
}

// ---- files written by torch -------------------------------------------------------------------

test('every dtype, views, a scalar, an empty tensor and a Parameter read as torch reads them', async () => {
  const expected = JSON.parse(fs.readFileSync(path.join(PKL, 'dtypes.json'), 'utf8'));
  const st = await readTorchCheckpoint(path.join(PKL, 'dtypes.bin'));
  assert.equal([...st.tensors.keys()], Object.keys(expected));
  for (const [name, e] of Object.entries(expected)) {
    const v = st.tensors.get(name);
    assert.is(v.dtype, e.dtype, name);
    assert.equal(v.shape, e.shape, name);
    assert.equal(elements(v), e.values, name);
  }
  assert.is(st.metadata.serialization, 'zip');
});

test('a contiguous tensor is a view of the file buffer; a transposed one is copied row-major', () => {
  const buf = fs.readFileSync(path.join(PKL, 'dtypes.bin'));
  const st = parseTorchCheckpoint(buf, 'dtypes.bin');
  assert.is(st.tensors.get('f32').bytes.buffer, buf.buffer);
  assert.is.not(st.tensors.get('transposed').bytes.buffer, buf.buffer);
  // transposed = arange(24).reshape(4, 6).t(): row i holds i, i+6, i+12, i+18.
  assert.equal(elements(st.tensors.get('transposed')).slice(0, 8), [0, 6, 12, 18, 1, 7, 13, 19]);
});

for (const [label, dir] of [['zip', 'dense'], ['legacy (pre-1.6)', 'dense-legacy']]) {
  test(`Dense state dict in the ${label} format equals torch's values (OrderedDict _metadata via BUILD)`, async () => {
    const expected = JSON.parse(fs.readFileSync(path.join(PKL, 'dense', 'expected.json'), 'utf8'));
    const st = await readTorchCheckpoint(path.join(PKL, dir, 'pytorch_model.bin'));
    assert.equal([...st.tensors.keys()].sort(), Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected)) {
      assert.equal(st.tensors.get(name).shape, e.shape);
      assert.equal(elements(st.tensors.get(name)), e.values, name);
    }
  });
}

test('tiny encoder saved by torch as F16 with bert. prefix and tied decoder: torch\'s rounding of the safetensors weights', async () => {
  const ref = await w.readSafetensors(path.join(FIX, 'tiny', 'model.safetensors'));
  const st = await readTorchCheckpoint(path.join(PKL, 'tiny-f16', 'pytorch_model.bin'));
  let compared = 0;
  for (const [name, view] of ref.tensors) {
    if (name.startsWith('pooler.')) continue;
    const got = st.tensors.get('bert.' + name);
    assert.ok(got, name);
    assert.is(got.dtype, 'F16');
    assert.equal(got.shape, view.shape);
    const bits = new Uint16Array(got.bytes.buffer.slice(got.bytes.byteOffset, got.bytes.byteOffset + got.bytes.byteLength));
    const want = w.toFloat32(view);
    for (let i = 0; i < want.length; i++) {
      if (bits[i] !== w.numberToF16Bits(want[i])) assert.unreachable(`${name}[${i}]: ${bits[i]} vs ${w.numberToF16Bits(want[i])}`);
    }
    compared++;
  }
  assert.is(compared, 37);
  const words = st.tensors.get('bert.embeddings.word_embeddings.weight');
  const decoder = st.tensors.get('cls.predictions.decoder.weight');
  assert.is(decoder.bytes.byteOffset, words.bytes.byteOffset, 'tied weights share one storage');
  assert.equal(elements(st.tensors.get('bert.embeddings.position_ids')).slice(0, 3), [0, 1, 2]);
});

// ---- a model folder with .bin weights -----------------------------------------------------------

function f16Safetensors(st, prefix = '') {
  const out = {};
  for (const [name, view] of st.tensors) {
    const f = w.toFloat32(view);
    const bits = new Uint16Array(f.length);
    for (let i = 0; i < f.length; i++) bits[i] = w.numberToF16Bits(f[i]);
    out[prefix + name] = { dtype: 'F16', shape: view.shape, data: bits };
  }
  return w.writeSafetensors(out);
}

/** tiny's configs and tokenizer + a 32 → 16 Dense module; weights as given. */
function tinyWithDense(dir, files) {
  fs.mkdirSync(path.join(dir, '1_Pooling'), { recursive: true });
  fs.mkdirSync(path.join(dir, '2_Dense'), { recursive: true });
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'sentence_bert_config.json', '1_Pooling/config.json']) {
    fs.copyFileSync(path.join(FIX, 'tiny', f), path.join(dir, f));
  }
  fs.copyFileSync(path.join(PKL, 'dense', 'config.json'), path.join(dir, '2_Dense', 'config.json'));
  const modules = JSON.parse(fs.readFileSync(path.join(FIX, 'tiny', 'modules.json'), 'utf8')).slice(0, 2);
  modules.push({ idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' });
  fs.writeFileSync(path.join(dir, 'modules.json'), JSON.stringify(modules));
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

test('a folder with only pytorch_model.bin (Transformer and Dense) encodes exactly like the same weights as safetensors', async () => {
  const binDir = tinyWithDense(path.join(TMP, 'bin'), {
    'pytorch_model.bin': fs.readFileSync(path.join(PKL, 'tiny-f16', 'pytorch_model.bin')),
    '2_Dense/pytorch_model.bin': fs.readFileSync(path.join(PKL, 'dense-legacy', 'pytorch_model.bin')),
  });
  // The reference folder is built without the pickle reader: F16 rounding of tiny's safetensors
  // and the Dense values torch printed.
  const expected = JSON.parse(fs.readFileSync(path.join(PKL, 'dense', 'expected.json'), 'utf8'));
  const dense = {};
  for (const [k, e] of Object.entries(expected)) dense[k] = { dtype: 'F32', shape: e.shape, data: Float32Array.from(e.values) };
  const safeDir = tinyWithDense(path.join(TMP, 'safe'), {
    'model.safetensors': f16Safetensors(await w.readSafetensors(path.join(FIX, 'tiny', 'model.safetensors'))),
    '2_Dense/model.safetensors': w.writeSafetensors(dense),
  });

  const folder = await w.loadModelFolder(binDir);
  assert.is(folder.outputDimension, 16);
  assert.is(folder.modules[2].type, 'dense');
  assert.equal(Array.from(w.toFloat32(folder.modules[2].bias)), expected['linear.bias'].values);

  const sentences = ['A man is eating food.', 'Someone plays the violin.', ''];
  const embed = async (dir) => {
    const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
    try {
      return await enc.encode(sentences);
    } finally {
      enc.dispose();
    }
  };
  const a = await embed(binDir);
  const b = await embed(safeDir);
  assert.is(a.dim, 16);
  assert.equal(Array.from(a.data), Array.from(b.data));
  assert.ok(a.data.some((x) => x !== 0));
});

test('a damaged pytorch_model.bin in a model folder is refused naming the file', async () => {
  const dir = tinyWithDense(path.join(TMP, 'damaged'), {
    'model.safetensors': fs.readFileSync(path.join(FIX, 'tiny', 'model.safetensors')),
    '2_Dense/pytorch_model.bin': fs.readFileSync(path.join(PKL, 'dense', 'pytorch_model.bin')).subarray(0, 1000),
  });
  try {
    await w.loadModelFolder(dir);
    assert.unreachable('should refuse');
  } catch (err) {
    assert.is(err.code, 'ERR_BAD_MODEL');
    assert.ok(err.message.startsWith(path.join(dir, '2_Dense', 'pytorch_model.bin') + ':'), err.message);
  }
});

// ---- refused --------------------------------------------------------------------------------------

test('malicious pickles made by Python are refused and run nothing', () => {
  fs.rmSync(MARKER, { force: true });
  const files = fs.readdirSync(path.join(PKL, 'evil'));
  assert.ok(files.length >= 9);
  for (const f of files) {
    const err = refused(() => parseTorchCheckpoint(fs.readFileSync(path.join(PKL, 'evil', f)), f), f, 'refused');
    assert.not.match(err.message, /undefined/);
  }
  refused(() => parseTorchCheckpoint(fs.readFileSync(path.join(PKL, 'evil', 'os-system.pkl')), 'x'), 'posix.system');
  refused(() => parseTorchCheckpoint(fs.readFileSync(path.join(PKL, 'evil', 'inst.pkl')), 'x'), 'INST');
  refused(() => parseTorchCheckpoint(fs.readFileSync(path.join(PKL, 'evil', 'evil-storage-type.pkl')), 'x'), 'os.system');
  assert.not.ok(fs.existsSync(MARKER), 'the payload ran');
});

const pickle = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const unicode = (s) => pickle('X', Buffer.from(Uint32Array.of(s.length).buffer), s);

test('opcodes and calls outside a state dict are refused, even on allowed names', () => {
  const od = 'ccollections\nOrderedDict\n';
  refused(() => parseTorchCheckpoint(pickle('\x80\x02(', od, 'o.'), 'obj'), 'OBJ'); // OBJ on an allowed class
  refused(() => parseTorchCheckpoint(pickle('\x80\x02', od, ')\x81.'), 'newobj'), 'NEWOBJ');
  refused(() => parseTorchCheckpoint(pickle('\x80\x02\x82\x01.'), 'ext1'), 'EXT1');
  refused(() => parseTorchCheckpoint(pickle('\x80\x02', unicode('a'), ')R.'), 'reduce'), 'REDUCE calls "a"');
  refused(() => parseTorchCheckpoint(pickle('\x80\x02', unicode('a'), '}b.'), 'build'), 'BUILD on "a"');
  refused(() => parseTorchCheckpoint(pickle('\x80\x02', od, '(K\x01tR.'), 'args'), 'OrderedDict called with 1 arguments');
  refused(() => parseTorchCheckpoint(zip({ 'a/data.pkl': pickle('\x80\x02', od, ')R.') }), 'empty'), 'holds no tensors');
  refused(() => parseTorchCheckpoint(pickle('\x80\x02', od, ')R.'), 'nomagic'), 'legacy magic number');
  refused(() => parseTorchCheckpoint(pickle('\x80\x02h\x05.'), 'memo'), 'memo slot 5');
  refused(() => parseTorchCheckpoint(pickle('\x80\x02', od, ')R(K\x01'), 'trunc'), 'truncated');
  refused(() => parseTorchCheckpoint(Buffer.from('hello world, not a checkpoint'), 'text'), 'not a torch.save file');
});

test('zip checkpoints: storages are bounds-checked, truncation and missing entries are reported, deflate is read', () => {
  const entries = unzip(path.join(PKL, 'dense', 'pytorch_model.bin'));
  const pkl = entries['pytorch_model/data.pkl'];
  const good = parseTorchCheckpoint(zip(entries), 'restored');
  assert.equal(good.tensors.get('linear.weight').shape, [16, 32]);
  // linear.weight's size (16, 32) → (16, 33): needs 528 elements of a 512-element storage.
  const at = pkl.indexOf(Buffer.from('K\x10K\x20\x86', 'latin1'));
  assert.ok(at > 0);
  const grown = Buffer.from(pkl);
  grown[at + 3] = 33;
  refused(() => parseTorchCheckpoint(zip({ ...entries, 'pytorch_model/data.pkl': grown }), 'oob'), 'past the 512 elements of storage 0');
  const missing = { ...entries };
  delete missing['pytorch_model/data/1'];
  refused(() => parseTorchCheckpoint(zip(missing), 'missing'), 'storage 1 is missing');
  const file = fs.readFileSync(path.join(PKL, 'dense', 'pytorch_model.bin'));
  refused(() => parseTorchCheckpoint(file.subarray(0, file.length - 30), 'cut'), 'end-of-central-directory');
  const deflated = parseTorchCheckpoint(zip(entries, { deflate: true }), 'deflated');
  assert.equal(elements(deflated.tensors.get('linear.bias')), elements(good.tensors.get('linear.bias')));
  refused(() => parseTorchCheckpoint(zip({ 'a/version': '3' }), 'nopkl'), 'data.pkl');
});

test('legacy checkpoints: a storage cut short is reported', () => {
  const file = fs.readFileSync(path.join(PKL, 'dense-legacy', 'pytorch_model.bin'));
  refused(() => parseTorchCheckpoint(file.subarray(0, file.length - 4), 'legacy'), 'runs past the end of the file');
});

test.after(() => fs.rmSync(TMP, { recursive: true, force: true }));

test.run();
