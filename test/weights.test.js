'use strict';
// Model folders: the fixture folders (both layouts), BERT config and weight validation,
// Pooling / Dense / Normalize modules, max_seq_length rules, and the error messages.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const w = require('../dist/weights');

const FIX = path.join(__dirname, 'fixtures');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-weights-'));
let seq = 0;

async function rejectsWith(promiseOrFn, ...needles) {
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (err) {
    assert.is(err.name, 'SbertError', err.stack);
    assert.is(err.code, 'ERR_BAD_MODEL');
    for (const n of needles) {
      if (n instanceof RegExp) assert.match(err.message, n);
      else assert.ok(err.message.includes(n), `"${err.message}" should mention "${n}"`);
    }
    return err;
  }
  assert.unreachable('expected an ERR_BAD_MODEL rejection');
}

// ---- generated folders ------------------------------------------------------------------------

const SMALL = {
  architectures: ['BertModel'],
  model_type: 'bert',
  vocab_size: 512, // the synthetic vocabulary of the headdim64-f32 tokenizer copied below
  hidden_size: 8,
  num_attention_heads: 2,
  num_hidden_layers: 1,
  intermediate_size: 16,
  max_position_embeddings: 32,
  type_vocab_size: 2,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
};

function fill(n, seed) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(seed * 7.3 + i * 0.37) * 0.5;
  return a;
}

/** BERT tensors for a config.json object, with naming variants and defects. */
function bertWeights(cfgJson, opts = {}) {
  const cfg = w.parseBertConfig(cfgJson, 'config.json');
  const out = {};
  let k = 0;
  for (const [name, shape] of w.expectedEncoderTensors(cfg)) {
    if (opts.omit === name) continue;
    let n = name;
    if (opts.gammaBeta) n = n.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    if (opts.prefix) n = opts.prefix + n;
    const sh = opts.wrongShape === name ? [shape[0] + 1, ...shape.slice(1)] : shape;
    const count = sh.reduce((a, b) => a * b, 1);
    const dtype = opts.intDtype === name ? 'I32' : opts.dtype || 'F32';
    let data = fill(count, k++);
    if (dtype === 'F16') data = Uint16Array.from(data, (x) => w.numberToF16Bits(x));
    else if (dtype === 'I32') data = new Int32Array(count);
    out[n] = { dtype, shape: sh, data };
  }
  if (opts.extras) {
    out['pooler.dense.weight'] = { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) };
    out['cls.predictions.bias'] = { dtype: 'F32', shape: [3], data: new Float32Array(3) };
    out['embeddings.position_ids'] = { dtype: 'I64', shape: [1, 4], data: new BigInt64Array(4) };
  }
  return out;
}

/**
 * Writes a model folder. `files` maps relative paths to: an object/array (JSON), a Buffer,
 * or null (skip). Defaults: config.json SMALL, model.safetensors, tokenizer files.
 */
function makeFolder(files = {}, { weights = {}, tokenizer = true } = {}) {
  const dir = path.join(TMP, `m${++seq}`);
  fs.mkdirSync(dir, { recursive: true });
  const all = {
    'config.json': SMALL,
    // A sentence-transformers folder unless the test says otherwise ('modules.json': null).
    'modules.json': [CLASSIC.transformer, CLASSIC.pooling],
    '1_Pooling/config.json': files['modules.json'] === undefined ? legacyPooling(SMALL.hidden_size) : undefined,
    ...files,
  };
  if (!('model.safetensors' in files)) all['model.safetensors'] = w.writeSafetensors(bertWeights(files['config.json'] || SMALL, weights));
  for (const [rel, content] of Object.entries(all)) {
    if (content === null || content === undefined) continue;
    const f = path.join(dir, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, Buffer.isBuffer(content) ? content : typeof content === 'string' ? content : JSON.stringify(content));
  }
  if (tokenizer) {
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
      if (!(f in files)) fs.copyFileSync(path.join(FIX, 'headdim64-f32', f), path.join(dir, f));
    }
  }
  return dir;
}

const CLASSIC = {
  transformer: { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
  pooling: { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  dense: { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' },
  normalize: { idx: 3, name: '3', path: '3_Normalize', type: 'sentence_transformers.models.Normalize' },
};

function legacyPooling(dim, on = ['mean']) {
  const cfg = { word_embedding_dimension: dim };
  for (const [key, mode] of [
    ['pooling_mode_cls_token', 'cls'], ['pooling_mode_mean_tokens', 'mean'], ['pooling_mode_max_tokens', 'max'],
    ['pooling_mode_mean_sqrt_len_tokens', 'mean_sqrt_len_tokens'], ['pooling_mode_weightedmean_tokens', 'weightedmean'],
    ['pooling_mode_lasttoken', 'lasttoken'],
  ]) cfg[key] = on.includes(mode);
  return cfg;
}

function denseWeights(out, inn, bias = true, dtype = 'F32') {
  const t = { 'linear.weight': { dtype: 'F32', shape: [out, inn], data: fill(out * inn, 99) } };
  if (bias) t['linear.bias'] = { dtype: 'F32', shape: [out], data: fill(out, 98) };
  if (dtype === 'BF16') {
    t['linear.weight'] = { dtype: 'BF16', shape: [out, inn], data: new Uint16Array(out * inn).fill(0x3f80) };
  }
  return w.writeSafetensors(t);
}

// ---- the fixture folders ----------------------------------------------------------------------

test('tiny (F32, ST 6 layout): Transformer + mean Pooling + Normalize, max_seq_length 256', async () => {
  const m = await w.loadModelFolder(path.join(FIX, 'tiny'));
  assert.is(m.dir, path.join(FIX, 'tiny'));
  assert.is(m.layout, 'sentence-transformers');
  assert.equal(m.config, {
    family: 'bert', modelType: 'bert',
    vocabSize: 30522, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64,
    maxPositionEmbeddings: 512, typeVocabSize: 2, layerNormEps: 1e-12, hiddenAct: 'gelu', padTokenId: 0,
    positionEmbeddingType: 'absolute', hiddenDropout: 0.1, attentionDropout: 0.1,
    positionIds: 'from_zero', paddingIdx: 0, relativeAttentionBuckets: 0, relativeAttentionMaxDistance: 0,
    sinusoidalPositions: false, maxSequenceLength: 512,
  });
  assert.equal(m.modules.map((x) => x.type), ['transformer', 'pooling', 'normalize']);
  assert.equal(m.modules[0], { type: 'transformer', path: '', maxSeqLength: 256, doLowerCase: false });
  assert.equal(m.modules[1], { type: 'pooling', path: '1_Pooling', wordEmbeddingDimension: 32, modes: ['mean'], includePrompt: true, outputDimension: 32 });
  assert.equal(m.modules[2], { type: 'normalize', path: '2_Normalize' });
  assert.is(m.maxSeqLength, 256);
  assert.is(m.doLowerCase, false);
  assert.is(m.outputDimension, 32);
  assert.equal(m.notices, []);
  assert.is(typeof m.tokenizer.encode, 'function');
  assert.is(m.tokenizer.modelMaxLength, 256);
  assert.is(m.weights.tensors.size, 5 + 16 * 2);
  assert.is(m.weights.memoryBytes, fs.statSync(path.join(FIX, 'tiny', 'model.safetensors')).size);
  const we = m.weights.tensors.get('embeddings.word_embeddings.weight');
  assert.equal(we.shape, [30522, 32]);
  assert.is(we.dtype, 'F32');
  assert.equal(m.weights.tensors.get('encoder.layer.1.intermediate.dense.weight').shape, [64, 32]);
  assert.equal(m.weights.tensors.get('encoder.layer.1.output.dense.weight').shape, [32, 64]);
  for (const v of m.weights.tensors.values()) assert.is(v.dtype, 'F32');
  assert.is(w.toFloat32(m.weights.tensors.get('embeddings.LayerNorm.weight')).length, 32);
});

test('headdim32-f16 (F16): cls pooling, 384 hidden / 12 heads, max_seq_length 64', async () => {
  const m = await w.loadModelFolder(path.join(FIX, 'headdim32-f16'));
  assert.is(m.config.hiddenSize, 384);
  assert.is(m.config.numAttentionHeads, 12);
  assert.is(m.config.intermediateSize, 1536);
  assert.is(m.config.maxPositionEmbeddings, 128);
  assert.is(m.config.vocabSize, 512);
  assert.equal(m.modules.map((x) => x.type), ['transformer', 'pooling']);
  assert.is(m.modules[0].maxSeqLength, 64);
  assert.equal(m.modules[1].modes, ['cls']);
  assert.is(m.modules[1].outputDimension, 384);
  assert.is(m.maxSeqLength, 64);
  assert.is(m.outputDimension, 384);
  for (const v of m.weights.tensors.values()) assert.is(v.dtype, 'F16');
  const q = m.weights.tensors.get('encoder.layer.0.attention.self.query.weight');
  assert.equal(q.shape, [384, 384]);
  assert.is(q.bytes.byteLength, 384 * 384 * 2);
  const f = w.toFloat32(q);
  assert.ok(f.every(Number.isFinite));
  assert.is(f[0], w.f16ToNumber(q.bytes[0] | (q.bytes[1] << 8)));
});

test('headdim64-f32 (F32): max pooling, max_seq_length 64', async () => {
  const m = await w.loadModelFolder(path.join(FIX, 'headdim64-f32'));
  assert.is(m.config.hiddenSize / m.config.numAttentionHeads, 64);
  assert.equal(m.modules[1].modes, ['max']);
  assert.is(m.modules[1].wordEmbeddingDimension, 256);
  assert.is(m.maxSeqLength, 64);
  assert.is(m.outputDimension, 256);
});

test('classic all-MiniLM-L6-v2 layout: configs parse; loading fails on the missing weights', async () => {
  const dir = path.join(FIX, 'classic-layout-all-MiniLM-L6-v2');
  const cfg = await w.loadBertConfig(dir);
  assert.is(cfg.hiddenSize, 384);
  assert.is(cfg.numHiddenLayers, 6);
  const mc = await w.loadModulesConfig(dir, cfg);
  assert.is(mc.layout, 'sentence-transformers');
  assert.equal(mc.modules, [
    { type: 'transformer', path: '', maxSeqLength: 256, doLowerCase: false },
    { type: 'pooling', path: '1_Pooling', wordEmbeddingDimension: 384, modes: ['mean'], includePrompt: true, outputDimension: 384 },
  ]);
  // 256 from sentence_bert_config.json wins over tokenizer_config.json's 512.
  assert.is(mc.maxSeqLength, 256);
  assert.is(mc.maxSeqLengthSource, 'sentence_bert_config');
  assert.is(mc.outputDimension, 384);
  assert.is(mc.transformerDir, dir);
  // Without a config argument it reads config.json itself.
  assert.equal((await w.loadModulesConfig(dir)).config, cfg);
  await rejectsWith(w.loadModelFolder(dir), path.join(dir, 'model.safetensors'), 'missing');
});

test('the ST 6 fixtures take max_seq_length from tokenizer_config.json', async () => {
  for (const [name, len] of [['tiny', 256], ['headdim32-f16', 64], ['headdim64-f32', 64]]) {
    const mc = await w.loadModulesConfig(path.join(FIX, name));
    assert.is(mc.maxSeqLength, len, name);
    assert.is(mc.maxSeqLengthSource, 'tokenizer', name);
  }
});

// ---- generated folders: modules ---------------------------------------------------------------

test('Dense + Normalize (classic type names, legacy cls+mean pooling)', async () => {
  const dir = makeFolder({
    'modules.json': [CLASSIC.transformer, CLASSIC.pooling, CLASSIC.dense, CLASSIC.normalize],
    'sentence_bert_config.json': { max_seq_length: 20, do_lower_case: true },
    '1_Pooling/config.json': legacyPooling(8, ['cls', 'mean']),
    '2_Dense/config.json': { in_features: 16, out_features: 4, bias: true, activation_function: 'torch.nn.modules.activation.Tanh' },
    '2_Dense/model.safetensors': denseWeights(4, 16),
  });
  const m = await w.loadModelFolder(dir);
  assert.equal(m.modules.map((x) => x.type), ['transformer', 'pooling', 'dense', 'normalize']);
  assert.equal(m.modules[0], { type: 'transformer', path: '', maxSeqLength: 20, doLowerCase: true });
  assert.equal(m.modules[1].modes, ['cls', 'mean']);
  assert.is(m.modules[1].outputDimension, 16);
  const d = m.modules[2];
  assert.is(d.inFeatures, 16);
  assert.is(d.outFeatures, 4);
  assert.is(d.activation, 'tanh');
  assert.equal(d.weight.shape, [4, 16]);
  assert.equal(d.bias.shape, [4]);
  assert.equal(Array.from(w.toFloat32(d.weight)), Array.from(fill(64, 99)));
  assert.is(m.outputDimension, 4);
  assert.is(m.doLowerCase, true);
  assert.is(m.maxSeqLength, 20);
  const denseBytes = fs.statSync(path.join(dir, '2_Dense/model.safetensors')).size;
  assert.is(m.weights.memoryBytes, fs.statSync(path.join(dir, 'model.safetensors')).size + denseBytes);
});

test('Dense activations, bias-less Dense, chained Dense dimensions', async () => {
  const acts = {
    'torch.nn.modules.linear.Identity': 'identity', 'torch.nn.modules.activation.ReLU': 'relu',
    'torch.nn.modules.activation.GELU': 'gelu', 'torch.nn.modules.activation.Sigmoid': 'sigmoid',
    'torch.nn.Tanh': 'tanh',
  };
  for (const [fn, act] of Object.entries(acts)) assert.is(w.parseDenseActivation(fn, 'c.json'), act);
  assert.is(w.parseDenseActivation(undefined, 'c.json'), 'tanh', 'Dense defaults to Tanh');
  assert.is(w.parseDenseActivation(null, 'c.json'), 'identity');
  assert.throws(() => w.parseDenseActivation('torch.nn.modules.activation.Softmax', 'c.json'), (e) => e.code === 'ERR_BAD_MODEL' && e.message.includes('"torch.nn.modules.activation.Softmax"'));
  // SiLU is refused by the loader, the one place that decides what the engine runs.
  assert.throws(() => w.parseDenseActivation('torch.nn.modules.activation.SiLU', 'c.json'), (e) => e.code === 'ERR_BAD_MODEL' && e.message.includes('SiLU'));
  assert.throws(() => w.parseDenseActivation('mypkg.Swish', 'c.json'), (e) => e.code === 'ERR_BAD_MODEL' && e.message.includes('mypkg.Swish'));

  const dense2 = { idx: 3, name: '3', path: '3_Dense', type: 'sentence_transformers.base.modules.dense.Dense' };
  const dir = makeFolder({
    'modules.json': [CLASSIC.transformer, CLASSIC.pooling, CLASSIC.dense, dense2],
    '1_Pooling/config.json': { embedding_dimension: 8, pooling_mode: 'mean' },
    '2_Dense/config.json': { in_features: 8, out_features: 6, bias: false, activation_function: 'torch.nn.modules.activation.ReLU' },
    '2_Dense/model.safetensors': denseWeights(6, 8, false, 'BF16'),
    '3_Dense/config.json': { in_features: 6, out_features: 3, activation_function: 'torch.nn.modules.linear.Identity' },
    '3_Dense/model.safetensors': denseWeights(3, 6),
  });
  const m = await w.loadModelFolder(dir);
  assert.is(m.modules[2].activation, 'relu');
  assert.is(m.modules[2].bias, undefined);
  assert.is(m.modules[2].weight.dtype, 'BF16');
  assert.is(m.modules[3].activation, 'identity');
  assert.ok(m.modules[3].bias);
  assert.is(m.outputDimension, 3);

  const bad = (over) => makeFolder({
    'modules.json': [CLASSIC.transformer, CLASSIC.pooling, CLASSIC.dense],
    '1_Pooling/config.json': legacyPooling(8),
    '2_Dense/config.json': { in_features: 8, out_features: 4, activation_function: 'torch.nn.modules.activation.Tanh' },
    '2_Dense/model.safetensors': denseWeights(4, 8),
    ...over,
  });
  await rejectsWith(w.loadModulesConfig(bad({ '2_Dense/config.json': { in_features: 9, out_features: 4 } })), 'in_features 9', 'previous module');
  await rejectsWith(w.loadModulesConfig(bad({ '2_Dense/config.json': { in_features: 8, out_features: 4, activation_function: 'torch.nn.modules.activation.Hardswish' } })), 'Hardswish');
  await rejectsWith(w.loadModulesConfig(bad({ '2_Dense/config.json': { in_features: 8 } })), '"out_features" must be a positive integer');
  await rejectsWith(w.loadModulesConfig(bad({ '2_Dense/config.json': { in_features: 8, out_features: 4, use_residual: true } })), 'use_residual');
  await rejectsWith(w.loadModelFolder(bad({ '2_Dense/model.safetensors': denseWeights(4, 8, false) })), 'missing tensor linear.bias');
  await rejectsWith(w.loadModelFolder(bad({ '2_Dense/model.safetensors': denseWeights(5, 8) })), 'linear.weight has shape [5, 8], expected [4, 8]');
  await rejectsWith(
    w.loadModelFolder(bad({ '2_Dense/model.safetensors': null, '2_Dense/pytorch_model.bin': Buffer.from('PK') })),
    path.join('2_Dense', 'pytorch_model.bin'), 'not a torch.save file', // issue 15: .bin files are read (test/torch-pickle.test.js)
  );
  await rejectsWith(w.loadModelFolder(bad({ '2_Dense/model.safetensors': null })), 'missing: no model weights');
  // Dense on token embeddings (before Pooling) is not supported.
  await rejectsWith(w.loadModulesConfig(bad({ 'modules.json': [CLASSIC.transformer, CLASSIC.dense, CLASSIC.pooling] })), 'before Pooling');
});

test('Pooling: both config forms, concatenation order, include_prompt, dimension checks', async () => {
  const f = 'p.json';
  assert.equal(w.parsePoolingModes(legacyPooling(8, ['lasttoken', 'mean', 'cls', 'weightedmean', 'max', 'mean_sqrt_len_tokens']), f),
    ['cls', 'max', 'mean', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken']);
  assert.equal(w.parsePoolingModes(legacyPooling(8, []), f), ['mean'], 'nothing enabled → mean');
  assert.equal(w.parsePoolingModes({ pooling_mode_cls_token: true }, f), ['cls']);
  assert.equal(w.parsePoolingModes({ pooling_mode: 'MAX' }, f), ['max']);
  assert.equal(w.parsePoolingModes({ pooling_mode: ['mean', 'cls'] }, f), ['mean', 'cls'], 'list order kept');
  assert.equal(w.parsePoolingModes({ pooling_mode: 'cls', pooling_mode_mean_tokens: true }, f), ['cls'], 'pooling_mode wins');
  assert.throws(() => w.parsePoolingModes({ pooling_mode: 'sum' }, f), (e) => e.code === 'ERR_BAD_MODEL' && e.message.includes('"sum"'));
  assert.throws(() => w.parsePoolingModes({ pooling_mode: [] }, f), (e) => e.code === 'ERR_BAD_MODEL');
  assert.throws(() => w.parsePoolingModes({ pooling_mode_mean_tokens: 'yes' }, f), (e) => e.code === 'ERR_BAD_MODEL');

  const folder = (pool, mods = [CLASSIC.transformer, CLASSIC.pooling]) => makeFolder({ 'modules.json': mods, '1_Pooling/config.json': pool });
  let mc = await w.loadModulesConfig(folder({ embedding_dimension: 8, pooling_mode: ['mean', 'max'], include_prompt: false }));
  assert.equal(mc.modules[1], { type: 'pooling', path: '1_Pooling', wordEmbeddingDimension: 8, modes: ['mean', 'max'], includePrompt: false, outputDimension: 16 });
  assert.is(mc.outputDimension, 16);
  mc = await w.loadModulesConfig(folder(legacyPooling(8, ['cls', 'max', 'mean', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken'])));
  assert.is(mc.modules[1].outputDimension, 48);
  await rejectsWith(w.loadModulesConfig(folder(legacyPooling(384))), 'pooling dimension 384 does not match the transformer hidden_size 8');
  await rejectsWith(w.loadModulesConfig(folder({ pooling_mode: 'mean' })), 'missing "word_embedding_dimension"');
  await rejectsWith(w.loadModulesConfig(folder({ embedding_dimension: 8, include_prompt: 'no' })), 'include_prompt');
  await rejectsWith(w.loadModulesConfig(makeFolder({ 'modules.json': [CLASSIC.transformer, CLASSIC.pooling], '1_Pooling/.keep': '' })),
    path.join('1_Pooling', 'config.json'), 'missing the Pooling config.json');
  await rejectsWith(w.loadModulesConfig(makeFolder({ 'modules.json': [CLASSIC.transformer, CLASSIC.pooling] })), path.join('1_Pooling', 'config.json'), 'missing');
  await rejectsWith(w.loadModulesConfig(folder(legacyPooling(8), [CLASSIC.transformer])), 'no Pooling module');
  await rejectsWith(w.loadModulesConfig(folder(legacyPooling(8), [CLASSIC.transformer, CLASSIC.normalize, CLASSIC.pooling])), 'Normalize module before Pooling');
});

test('modules.json: type names of both layouts, unknown types, bad paths', async () => {
  for (const t of ['sentence_transformers.models.Transformer', 'sentence_transformers.base.modules.transformer.Transformer']) assert.is(w.moduleKind(t), 'transformer');
  for (const t of ['sentence_transformers.models.Pooling', 'sentence_transformers.sentence_transformer.modules.pooling.Pooling']) assert.is(w.moduleKind(t), 'pooling');
  for (const t of ['sentence_transformers.models.Dense', 'sentence_transformers.base.modules.dense.Dense']) assert.is(w.moduleKind(t), 'dense');
  for (const t of ['sentence_transformers.models.Normalize', 'sentence_transformers.base.modules.normalize.Normalize']) assert.is(w.moduleKind(t), 'normalize');
  assert.is(w.moduleKind('sentence_transformers.models.LSTM'), undefined);
  assert.is(w.moduleKind('mypkg.Transformer'), undefined);

  const mk = (mods, extra = {}) => makeFolder({ 'modules.json': mods, '1_Pooling/config.json': legacyPooling(8), ...extra });
  await rejectsWith(w.loadModulesConfig(mk([CLASSIC.transformer, CLASSIC.pooling, { idx: 2, name: '2', path: '2_LSTM', type: 'sentence_transformers.models.LSTM' }], { '2_LSTM/config.json': {} })),
    'modules.json', 'unsupported module type "sentence_transformers.models.LSTM"');
  await rejectsWith(w.loadModulesConfig(mk([CLASSIC.pooling, CLASSIC.transformer])), 'module 0 must be the Transformer');
  await rejectsWith(w.loadModulesConfig(mk([CLASSIC.transformer, { ...CLASSIC.pooling, path: '../elsewhere' }])), 'outside the model folder');
  await rejectsWith(w.loadModulesConfig(mk([CLASSIC.transformer, { ...CLASSIC.pooling, path: '9_Missing' }])), path.join('9_Missing', 'config.json'), 'missing the Pooling config.json');
  // Normalize saves no files; its folder may be absent (git keeps no empty folders).
  assert.is((await w.loadModulesConfig(mk([CLASSIC.transformer, CLASSIC.pooling, CLASSIC.normalize]))).modules[2].type, 'normalize');
  await rejectsWith(w.loadModulesConfig(mk({ modules: [] })), 'expected a JSON array');
  await rejectsWith(w.loadModulesConfig(mk([CLASSIC.transformer, CLASSIC.pooling], { 'modules.json': '[{"type": ' })), 'modules.json', 'invalid JSON');
  // Dropout is the identity at inference: skipped with a notice.
  const mc = await w.loadModulesConfig(mk([CLASSIC.transformer, CLASSIC.pooling, { idx: 2, name: '2', path: '', type: 'sentence_transformers.models.Dropout' }]));
  assert.equal(mc.modules.map((x) => x.type), ['transformer', 'pooling']);
  assert.is(mc.notices.length, 1);
  // The Transformer may live in a subfolder (very old layouts: 0_BERT).
  const sub = makeFolder({
    'modules.json': [{ idx: 0, name: '0', path: '0_BERT', type: 'sentence_transformers.models.BERT' }, CLASSIC.pooling],
    '1_Pooling/config.json': legacyPooling(8),
    'config.json': null,
    'model.safetensors': null,
    '0_BERT/config.json': SMALL,
    '0_BERT/model.safetensors': w.writeSafetensors(bertWeights(SMALL)),
    '0_BERT/sentence_bert_config.json': { max_seq_length: 24 },
  });
  const ms = await w.loadModulesConfig(sub);
  assert.is(ms.transformerDir, path.join(sub, '0_BERT'));
  assert.is(ms.modules[0].path, '0_BERT');
  assert.is(ms.maxSeqLength, 24);
});

test('max_seq_length rules (sentence-transformers semantics, capped at max_position_embeddings)', async () => {
  const mods = { 'modules.json': [CLASSIC.transformer, CLASSIC.pooling], '1_Pooling/config.json': legacyPooling(8) };
  const tc = (mml) => ({ do_lower_case: true, ...(mml === undefined ? {} : { model_max_length: mml }) });
  const get = async (files) => w.loadModulesConfig(makeFolder({ ...mods, ...files }));
  // sentence_bert_config.json max_seq_length wins over the tokenizer's model_max_length.
  let mc = await get({ 'sentence_bert_config.json': { max_seq_length: 20 }, 'tokenizer_config.json': tc(16) });
  assert.is(mc.maxSeqLength, 20);
  // ...but positions must fit.
  mc = await get({ 'sentence_bert_config.json': { max_seq_length: 1000 }, 'tokenizer_config.json': tc(16) });
  assert.is(mc.maxSeqLength, 32);
  assert.ok(mc.notices.some((n) => n.includes('max_position_embeddings 32')));
  // ST 6: no max_seq_length → tokenizer model_max_length, capped at max_position_embeddings.
  mc = await get({ 'sentence_bert_config.json': { transformer_task: 'feature-extraction' }, 'tokenizer_config.json': tc(16) });
  assert.is(mc.maxSeqLength, 16);
  assert.is(mc.maxSeqLengthSource, 'tokenizer');
  mc = await get({ 'tokenizer_config.json': tc(512) });
  assert.is(mc.maxSeqLength, 32);
  // HF's "no limit" sentinel, and no model_max_length at all.
  mc = await get({ 'tokenizer_config.json': '{"model_max_length": 1000000000000000019884624838656}' });
  assert.is(mc.maxSeqLength, 32);
  mc = await get({ 'tokenizer_config.json': tc(undefined) });
  assert.is(mc.maxSeqLength, 32);
  assert.is(mc.maxSeqLengthSource, 'max_position_embeddings');
  // The caller may supply the tokenizer's value when tokenizer_config.json has none.
  mc = await w.loadModulesConfig(makeFolder({ ...mods, 'tokenizer_config.json': tc(undefined) }), undefined, { tokenizerModelMaxLength: 12 });
  assert.is(mc.maxSeqLength, 12);
  // processor_kwargs (ST 6) / tokenizer_args (ST <= 5) model_max_length.
  mc = await get({ 'sentence_bert_config.json': { processor_kwargs: { model_max_length: 10 } }, 'tokenizer_config.json': tc(16) });
  assert.is(mc.maxSeqLength, 10);
  mc = await get({ 'sentence_bert_config.json': { tokenizer_args: { model_max_length: 11 } }, 'tokenizer_config.json': tc(16) });
  assert.is(mc.maxSeqLength, 11);
  await rejectsWith(get({ 'sentence_bert_config.json': { max_seq_length: 0 } }), '"max_seq_length" must be a positive integer');
  await rejectsWith(get({ 'sentence_bert_config.json': { do_lower_case: 'yes' } }), 'do_lower_case');
  await rejectsWith(get({ 'sentence_bert_config.json': { transformer_task: 'fill-mask' } }), 'transformer_task "fill-mask"');
  await rejectsWith(get({ 'tokenizer_config.json': tc('long') }), 'model_max_length');
});

test('plain Hugging Face folder (no modules.json): Transformer + mean pooling, with a notice', async () => {
  const warnings = [];
  const onWarning = (wn) => warnings.push(wn);
  process.on('warning', onWarning);
  try {
    const dir = makeFolder({ 'modules.json': null, 'sentence_bert_config.json': { max_seq_length: 5 } });
    const m = await w.loadModelFolder(dir);
    assert.is(m.layout, 'plain');
    assert.equal(m.modules, [
      { type: 'transformer', path: '', maxSeqLength: 32, doLowerCase: false },
      { type: 'pooling', path: '', wordEmbeddingDimension: 8, modes: ['mean'], includePrompt: true, outputDimension: 8 },
    ]);
    assert.is(m.notices.length, 1);
    assert.match(m.notices[0], /no modules\.json/);
    assert.match(m.notices[0], /mean pooling/);
    await w.loadModelFolder(dir);
    await new Promise((r) => setImmediate(r));
    const ours = warnings.filter((x) => x.code === 'SBERT_NO_MODULES_JSON');
    assert.is(ours.length, 1, 'warned once');
  } finally {
    process.off('warning', onWarning);
  }
});

// ---- generated folders: weights and config ----------------------------------------------------

test('BERT weights: prefixes, gamma/beta, ignored heads, F16; missing and misshapen tensors', async () => {
  const load = (weights, files = {}) => w.loadModelFolder(makeFolder(files, { weights }));
  let m = await load({ prefix: 'bert.', gammaBeta: true, extras: true });
  assert.equal([...m.weights.tensors.keys()], [...w.expectedEncoderTensors(m.config).keys()]);
  assert.is(m.weights.tensors.get('encoder.layer.0.output.LayerNorm.weight').name, 'encoder.layer.0.output.LayerNorm.weight');
  m = await load({ prefix: 'model.', dtype: 'F16' });
  assert.is(m.weights.tensors.get('embeddings.word_embeddings.weight').dtype, 'F16');
  assert.is(w.canonicalTensorName('bert.encoder.layer.3.output.LayerNorm.beta'), 'encoder.layer.3.output.LayerNorm.bias');

  const wf = (dir) => path.join(dir, 'model.safetensors');
  await rejectsWith(load({ omit: 'encoder.layer.0.attention.self.key.bias' }), 'missing tensor encoder.layer.0.attention.self.key.bias (shape [8])');
  await rejectsWith(load({ wrongShape: 'encoder.layer.0.intermediate.dense.weight' }),
    'tensor "encoder.layer.0.intermediate.dense.weight" has shape [17, 8], expected [16, 8]');
  await rejectsWith(load({ intDtype: 'embeddings.LayerNorm.bias' }), 'dtype I32', 'F32, F16 or BF16');
  await rejectsWith(load({ prefix: 'encoder_model.' }), 'no bert encoder tensors found at all');
  // More layers in config.json than in the file.
  await rejectsWith(w.loadModelFolder(makeFolder({ 'config.json': { ...SMALL, num_hidden_layers: 2 }, 'model.safetensors': w.writeSafetensors(bertWeights(SMALL)) })),
    'missing tensor encoder.layer.1.', 'config.json says 2 layers');
  // The same tensor under two spellings.
  const dup = bertWeights(SMALL);
  dup['bert.embeddings.LayerNorm.weight'] = dup['embeddings.LayerNorm.weight'];
  const dupDir = makeFolder({ 'model.safetensors': w.writeSafetensors(dup) });
  await rejectsWith(w.loadModelFolder(dupDir), wf(dupDir), 'both name embeddings.LayerNorm.weight');
  // A corrupt weights file is reported with its path.
  const corrupt = makeFolder({ 'model.safetensors': Buffer.from([1, 2, 3]) });
  await rejectsWith(w.loadModelFolder(corrupt), wf(corrupt), 'not a safetensors file');
});

test('weights in shards (model.safetensors.index.json)', async () => {
  const all = Object.entries(bertWeights(SMALL));
  const half = Math.floor(all.length / 2);
  const index = { metadata: { total_size: 0 }, weight_map: {} };
  all.forEach(([n], i) => { index.weight_map[n] = i < half ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors'; });
  const dir = makeFolder({
    'model.safetensors': null,
    'model.safetensors.index.json': index,
    'model-00001-of-00002.safetensors': w.writeSafetensors(Object.fromEntries(all.slice(0, half))),
    'model-00002-of-00002.safetensors': w.writeSafetensors(Object.fromEntries(all.slice(half))),
  });
  const m = await w.loadModelFolder(dir);
  assert.is(m.weights.tensors.size, 5 + 16);
  assert.is(m.weights.memoryBytes,
    fs.statSync(path.join(dir, 'model-00001-of-00002.safetensors')).size + fs.statSync(path.join(dir, 'model-00002-of-00002.safetensors')).size);
  await rejectsWith(w.loadModelFolder(makeFolder({ 'model.safetensors': null, 'model.safetensors.index.json': { weight_map: { a: '../x.safetensors' } } })), 'must be a file name in this folder');
});

test('pytorch_model.bin only: a damaged one is refused naming it; other formats: how to convert', async () => {
  // issue 15: pytorch_model.bin is read by the restricted unpickler (test/torch-pickle.test.js).
  const dir = makeFolder({ 'model.safetensors': null, 'pytorch_model.bin': Buffer.from('not really a pickle') });
  const err = await rejectsWith(w.loadModelFolder(dir), path.join(dir, 'pytorch_model.bin'), 'not a torch.save file');
  assert.ok(!err.message.includes('undefined'));
  const tf = makeFolder({ 'model.safetensors': null, 'tf_model.h5': Buffer.from('x') });
  await rejectsWith(w.loadModelFolder(tf), 'only tf_model.h5 is present');
});

test('config.json validation', async () => {
  const parse = (over) => w.parseBertConfig({ ...SMALL, ...over }, '/m/config.json');
  const bad = (over, ...needles) => {
    assert.throws(() => parse(over), (e) => e.code === 'ERR_BAD_MODEL' && e.message.startsWith('/m/config.json: ') && needles.every((n) => e.message.includes(n)), JSON.stringify(over));
  };
  bad({ model_type: 'gpt2' }, 'model_type "gpt2" is not supported', 'bert, roberta, xlm-roberta, camembert, mpnet, distilbert');
  bad({ model_type: 'deberta-v2' }, '"deberta-v2"');
  bad({ model_type: undefined, architectures: ['DistilBertModel'] }, 'DistilBertModel', 'give a model_type');
  assert.is(parse({ model_type: 'xlm-roberta' }).family, 'roberta');
  assert.is(parse({ model_type: 'camembert' }).positionIds, 'after_padding');
  assert.is(parse({ model_type: undefined, architectures: ['BertForMaskedLM'] }).hiddenSize, 8);
  bad({ hidden_act: 'gelu_new' }, 'hidden_act "gelu_new"', 'erf');
  bad({ hidden_act: 'relu' }, 'hidden_act "relu"');
  bad({ hidden_act: 'gelu_pytorch_tanh' }, '"gelu_pytorch_tanh"');
  assert.is(parse({ hidden_act: 'gelu_python' }).hiddenAct, 'gelu');
  bad({ num_attention_heads: 3 }, 'hidden_size 8 is not divisible by num_attention_heads 3');
  bad({ hidden_size: 0 }, '"hidden_size" must be an integer in [1, 1048576], got 0');
  // Broken numbers are refused before anything is built from them.
  bad({ num_hidden_layers: 1e9 }, '"num_hidden_layers" must be an integer in [0, 1024]');
  bad({ max_position_embeddings: 1 }, '"max_position_embeddings"');
  bad({ layer_norm_eps: 1e39 }, 'layer_norm_eps');
  bad({ hidden_dropout_prob: 1 }, 'hidden_dropout_prob');
  bad({ num_hidden_layers: 1.5 }, '"num_hidden_layers"');
  bad({ vocab_size: '512' }, '"vocab_size"');
  bad({ layer_norm_eps: -1 }, 'layer_norm_eps');
  bad({ position_embedding_type: 'relative_key' }, '"relative_key"', 'absolute');
  bad({ is_decoder: true }, 'is_decoder');
  bad({ pad_token_id: -1 }, 'pad_token_id');
  assert.is(parse({ pad_token_id: null }).padTokenId, undefined);
  assert.is(parse({ layer_norm_eps: 1e-5 }).layerNormEps, 1e-5);
  // Absent keys take transformers' BertConfig defaults.
  assert.equal(w.parseBertConfig({ model_type: 'bert' }, 'c'), {
    family: 'bert', modelType: 'bert',
    vocabSize: 30522, hiddenSize: 768, numHiddenLayers: 12, numAttentionHeads: 12, intermediateSize: 3072,
    maxPositionEmbeddings: 512, typeVocabSize: 2, layerNormEps: 1e-12, hiddenAct: 'gelu', padTokenId: 0,
    positionEmbeddingType: 'absolute', hiddenDropout: 0.1, attentionDropout: 0.1,
    positionIds: 'from_zero', paddingIdx: 0, relativeAttentionBuckets: 0, relativeAttentionMaxDistance: 0,
    sinusoidalPositions: false, maxSequenceLength: 512,
  });
  assert.throws(() => w.parseBertConfig([], 'c'), (e) => e.code === 'ERR_BAD_MODEL');
  // Through a folder: the error names config.json and the model_type.
  const dir = makeFolder({ 'config.json': { ...SMALL, model_type: 'gpt2' }, 'model.safetensors': w.writeSafetensors(bertWeights(SMALL)) });
  await rejectsWith(w.loadModelFolder(dir), path.join(dir, 'config.json'), '"gpt2"');
  const noCfg = makeFolder({ 'config.json': null, 'model.safetensors': w.writeSafetensors(bertWeights(SMALL)) });
  await rejectsWith(w.loadModelFolder(noCfg), path.join(noCfg, 'config.json'), 'missing config.json');
  const badJson = makeFolder({ 'config.json': '{"model_type": "bert",', 'model.safetensors': w.writeSafetensors(bertWeights(SMALL)) });
  await rejectsWith(w.loadModelFolder(badJson), 'invalid JSON');
});

test('model folder path errors', async () => {
  await rejectsWith(w.loadModelFolder(path.join(TMP, 'does-not-exist')), 'does-not-exist', 'model folder not found');
  const file = path.join(TMP, 'a-file');
  fs.writeFileSync(file, 'x');
  await rejectsWith(w.loadModelFolder(file), 'a-file', 'not a directory');
  try {
    await w.loadModelFolder('');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TypeError);
  }
});

test.after(() => fs.rmSync(TMP, { recursive: true, force: true }));

test.run();
