// Model families beyond BERT (issue 23): RoBERTa / XLM-R, MPNet and DistilBERT folders in
// Hugging Face layout with random weights (test/fixtures/families, made by
// tools/reference/make_family_fixtures.js) against plain-PyTorch forwards written from
// transformers' code, token ids against Hugging Face `tokenizers`; metamorphic checks that do not
// depend on that reading (an XLM-R folder is a BERT folder with its position rows shifted, MPNet
// with a zero bias table is the same body as BERT without it, DistilBERT is BERT with a zero
// token type row, a computed sinusoidal table equals transformers' stored one); and the configs
// the engine cannot run, refused at load naming the field or tensor.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SentenceEncoder, fit } = require('../dist');
const w = require('../dist/weights');
const { FIXTURES, cosine, maxAbs, maxAbsDiff } = require('./helpers/reference');

const FAMILY_FIXTURES = ['xlmr-tiny', 'xlmr-unigram-tiny', 'multilingual-minilm-tiny', 'mpnet-tiny', 'distilbert-tiny', 'distilbert-sinusoidal'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-families-'));

/** reference.safetensors of a family fixture: tokens [T, H], sentence [n, H], cu_seqlens. */
function readFamilyReference(name) {
  const dir = path.join(FIXTURES, 'families', name);
  const st = w.parseSafetensors(fs.readFileSync(path.join(dir, 'reference.safetensors')), 'reference.safetensors');
  const get = (k) => st.tensors.get(k);
  return {
    meta: JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')),
    tokens: w.toFloat32(get('tokens')),
    sentence: w.toFloat32(get('sentence')),
    cu: w.toInt32(get('cu_seqlens')),
  };
}

/** A copy of a fixture folder with config.json edited and the weights replaced by `tensors`. */
function variant(name, { config, tensors, tokenizer } = {}) {
  const src = path.join(FIXTURES, 'families', name);
  const dir = fs.mkdtempSync(path.join(tmp, `${name}-`));
  fs.cpSync(src, dir, { recursive: true });
  if (config) fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config(JSON.parse(fs.readFileSync(path.join(src, 'config.json'), 'utf8')))));
  if (tensors) fs.writeFileSync(path.join(dir, 'model.safetensors'), w.writeSafetensors(tensors));
  if (tokenizer) fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer(JSON.parse(fs.readFileSync(path.join(src, 'tokenizer.json'), 'utf8')))));
  return dir;
}

/** The fixture's weights as { name: { dtype: 'F32', shape, data } }. */
function weightsOf(name) {
  const st = w.parseSafetensors(fs.readFileSync(path.join(FIXTURES, 'families', name, 'model.safetensors')), 'model.safetensors');
  const out = {};
  for (const [k, v] of st.tensors) out[k] = { dtype: 'F32', shape: v.shape, data: w.toFloat32(v) };
  return out;
}

async function encodeAll(dir, texts, options = {}) {
  const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
  try {
    return await enc.encode(texts, options);
  } finally {
    enc.dispose();
  }
}

for (const name of FAMILY_FIXTURES) {
  test(`${name}: token ids equal Hugging Face tokenizers; sentence and token embeddings match the plain-PyTorch reference`, async () => {
    const ref = readFamilyReference(name);
    const dir = path.join(FIXTURES, 'families', name);
    const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
    try {
      assert.is(enc.model.config.family, ref.meta.family);
      const texts = ref.meta.sentences;
      for (let i = 0; i < texts.length; i++) {
        const ids = Array.from(enc.tokenizer.encode(texts[i], { maxLength: enc.maxSeqLength }).ids);
        assert.equal(ids, ref.meta.ids[i], `ids of sentence ${i}`);
      }
      const H = enc.hiddenSize;
      const sent = await enc.encode(texts);
      let worst = 1;
      for (let i = 0; i < texts.length; i++) worst = Math.min(worst, cosine(sent.row(i), ref.sentence.subarray(i * H, (i + 1) * H)));
      assert.ok(worst >= 0.99999, `${name}: min cosine to the reference ${worst}`);
      const tokens = await enc.encode(texts, { outputValue: 'token_embeddings' });
      let tokWorst = 1, errAbs = 0;
      for (let i = 0; i < texts.length; i++) {
        const want = ref.tokens.subarray(ref.cu[i] * H, ref.cu[i + 1] * H);
        assert.is(tokens[i].count, ref.cu[i + 1] - ref.cu[i], `tokens of sentence ${i}`);
        errAbs = Math.max(errAbs, maxAbsDiff(tokens[i].data, want));
        for (let t = 0; t < tokens[i].count; t++) tokWorst = Math.min(tokWorst, cosine(tokens[i].row(t), want.subarray(t * H, (t + 1) * H)));
      }
      assert.ok(tokWorst >= 0.99999, `${name}: min token cosine ${tokWorst}`);
      assert.ok(errAbs <= 1e-4 * maxAbs(ref.tokens), `${name}: last_hidden_state max abs err ${errAbs} (max |ref| ${maxAbs(ref.tokens)})`);
    } finally {
      enc.dispose();
    }
  });
}

test('XLM-R = BERT with the position rows shifted by padding_idx + 1 (inputs without <pad>)', async () => {
  const x = weightsOf('xlmr-tiny');
  const cfg = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'families', 'xlmr-tiny', 'config.json'), 'utf8'));
  const H = cfg.hidden_size, P = cfg.max_position_embeddings, shift = cfg.pad_token_id + 1;
  const bert = { ...x };
  const pos = x['embeddings.position_embeddings.weight'].data;
  bert['embeddings.position_embeddings.weight'] = { dtype: 'F32', shape: [P - shift, H], data: pos.slice(shift * H) };
  const dir = variant('xlmr-tiny', {
    tensors: bert,
    config: (c) => ({ ...c, model_type: 'bert', architectures: ['BertModel'], max_position_embeddings: P - shift }),
  });
  const texts = readFamilyReference('xlmr-tiny').meta.sentences.filter((s) => !s.includes('<pad>'));
  const a = await encodeAll(path.join(FIXTURES, 'families', 'xlmr-tiny'), texts);
  const b = await encodeAll(dir, texts);
  assert.ok(maxAbsDiff(a.data, b.data) <= 1e-6, `max diff ${maxAbsDiff(a.data, b.data)}`);
});

test('MPNet with a zero relative bias = the same body as a BERT (names mapped, positions shifted, a zero token type row)', async () => {
  const m = weightsOf('mpnet-tiny');
  const cfg = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'families', 'mpnet-tiny', 'config.json'), 'utf8'));
  const H = cfg.hidden_size, P = cfg.max_position_embeddings;
  const zeroBias = { ...m, 'encoder.relative_attention_bias.weight': { dtype: 'F32', shape: [32, cfg.num_attention_heads], data: new Float32Array(32 * cfg.num_attention_heads) } };
  const mpnetDir = variant('mpnet-tiny', { tensors: zeroBias });
  const rename = { 'attention.attn.q': 'attention.self.query', 'attention.attn.k': 'attention.self.key', 'attention.attn.v': 'attention.self.value', 'attention.attn.o': 'attention.output.dense', 'attention.LayerNorm': 'attention.output.LayerNorm' };
  const bert = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === 'encoder.relative_attention_bias.weight') continue;
    let n = k;
    for (const [from, to] of Object.entries(rename)) n = n.replace(`.${from}.`, `.${to}.`);
    bert[n] = v;
  }
  bert['embeddings.position_embeddings.weight'] = { dtype: 'F32', shape: [P - 2, H], data: m['embeddings.position_embeddings.weight'].data.slice(2 * H) };
  bert['embeddings.token_type_embeddings.weight'] = { dtype: 'F32', shape: [1, H], data: new Float32Array(H) };
  const bertDir = variant('mpnet-tiny', {
    tensors: bert,
    config: (c) => ({ ...c, model_type: 'bert', architectures: ['BertModel'], max_position_embeddings: P - 2, type_vocab_size: 1 }),
  });
  const texts = readFamilyReference('mpnet-tiny').meta.sentences.filter((s) => !s.includes('<pad>'));
  const a = await encodeAll(mpnetDir, texts);
  const b = await encodeAll(bertDir, texts);
  assert.ok(maxAbsDiff(a.data, b.data) <= 1e-6, `max diff ${maxAbsDiff(a.data, b.data)}`);
  // The real (non-zero) table changes the embeddings: the bias is applied.
  const c = await encodeAll(path.join(FIXTURES, 'families', 'mpnet-tiny'), texts);
  assert.ok(maxAbsDiff(a.data, c.data) > 1e-2, 'the relative bias changes the embeddings');
});

test('DistilBERT = BERT with a zero token type row (names mapped, LayerNorm eps 1e-12)', async () => {
  const d = weightsOf('distilbert-tiny');
  const cfg = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'families', 'distilbert-tiny', 'config.json'), 'utf8'));
  const H = cfg.dim;
  const rename = [['transformer.layer.', 'encoder.layer.'], ['.attention.q_lin.', '.attention.self.query.'], ['.attention.k_lin.', '.attention.self.key.'],
    ['.attention.v_lin.', '.attention.self.value.'], ['.attention.out_lin.', '.attention.output.dense.'], ['.sa_layer_norm.', '.attention.output.LayerNorm.'],
    ['.ffn.lin1.', '.intermediate.dense.'], ['.ffn.lin2.', '.output.dense.'], ['.output_layer_norm.', '.output.LayerNorm.']];
  const bert = {};
  for (const [k, v] of Object.entries(d)) {
    let n = k;
    for (const [from, to] of rename) n = n.replace(from, to);
    bert[n] = v;
  }
  bert['embeddings.token_type_embeddings.weight'] = { dtype: 'F32', shape: [1, H], data: new Float32Array(H) };
  const dir = variant('distilbert-tiny', {
    tensors: bert,
    config: () => ({
      model_type: 'bert', vocab_size: cfg.vocab_size, hidden_size: H, num_hidden_layers: cfg.n_layers, num_attention_heads: cfg.n_heads,
      intermediate_size: cfg.hidden_dim, max_position_embeddings: cfg.max_position_embeddings, type_vocab_size: 1, layer_norm_eps: 1e-12, hidden_act: 'gelu',
    }),
  });
  const texts = readFamilyReference('distilbert-tiny').meta.sentences;
  const a = await encodeAll(path.join(FIXTURES, 'families', 'distilbert-tiny'), texts);
  const b = await encodeAll(dir, texts);
  assert.ok(maxAbsDiff(a.data, b.data) <= 1e-6, `max diff ${maxAbsDiff(a.data, b.data)}`);
});

test('DistilBERT sinusoidal positions: a file without the table gets transformers\' sinusoids (the stored ones, within fp32 rounding)', async () => {
  const d = weightsOf('distilbert-sinusoidal');
  const stored = d['embeddings.position_embeddings.weight'].data;
  const cfg = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'families', 'distilbert-sinusoidal', 'config.json'), 'utf8'));
  const computed = w.sinusoidalPositionTable(cfg.max_position_embeddings, cfg.dim);
  assert.ok(maxAbsDiff(computed, stored) <= 1e-6, `table diff ${maxAbsDiff(computed, stored)}`);
  const { ['embeddings.position_embeddings.weight']: _gone, ...rest } = d;
  const dir = variant('distilbert-sinusoidal', { tensors: rest });
  const texts = readFamilyReference('distilbert-sinusoidal').meta.sentences;
  const a = await encodeAll(path.join(FIXTURES, 'families', 'distilbert-sinusoidal'), texts);
  const b = await encodeAll(dir, texts);
  assert.ok(maxAbsDiff(a.data, b.data) <= 1e-5, `max diff ${maxAbsDiff(a.data, b.data)}`);
  // Without sinusoidal_pos_embds the table is required.
  const learned = variant('distilbert-sinusoidal', { tensors: rest, config: (c) => ({ ...c, sinusoidal_pos_embds: false }) });
  await SentenceEncoder.load(learned, { device: 'cpu' }).then(
    () => assert.unreachable('loaded without a position table'),
    (e) => assert.ok(e.code === 'ERR_BAD_MODEL' && /missing tensor embeddings\.position_embeddings\.weight/.test(e.message), e.message),
  );
});

test('family configs and weights the engine cannot run are ERR_BAD_MODEL at load, naming the field or tensor', async () => {
  const refuse = async (dir, ...needles) => {
    const e = await SentenceEncoder.load(dir, { device: 'cpu' }).then(() => undefined, (err) => err);
    assert.ok(e && e.code === 'ERR_BAD_MODEL', `expected ERR_BAD_MODEL, got ${e && e.message}`);
    for (const n of needles) assert.ok(e.message.includes(n), `"${e.message}" should mention ${n}`);
  };
  await refuse(variant('mpnet-tiny', { config: (c) => ({ ...c, relative_attention_num_buckets: 64 }) }), 'relative_attention_num_buckets', '64');
  await refuse(variant('xlmr-tiny', { config: (c) => ({ ...c, position_embedding_type: 'relative_key' }) }), 'position_embedding_type', 'relative_key');
  await refuse(variant('xlmr-tiny', { config: (c) => ({ ...c, pad_token_id: null }) }), 'pad_token_id');
  await refuse(variant('distilbert-tiny', { config: (c) => ({ ...c, activation: 'relu' }) }), 'activation', 'relu');
  await refuse(variant('distilbert-tiny', { config: (c) => ({ ...c, sinusoidal_pos_embds: 'yes' }) }), 'sinusoidal_pos_embds');
  await refuse(variant('distilbert-tiny', { config: (c) => ({ ...c, n_heads: 5 }) }), 'dim 32 is not divisible by n_heads 5');
  const m = weightsOf('mpnet-tiny');
  const { ['encoder.relative_attention_bias.weight']: _b, ...noBias } = m;
  await refuse(variant('mpnet-tiny', { tensors: noBias }), 'missing tensor encoder.relative_attention_bias.weight', '[32, 4]');
  await refuse(variant('mpnet-tiny', { tensors: { ...m, 'encoder.relative_attention_bias.weight': { dtype: 'F32', shape: [32, 3], data: new Float32Array(96) } } }),
    'encoder.relative_attention_bias.weight', 'expected [32, 4]');
  const x = weightsOf('xlmr-tiny');
  await refuse(variant('xlmr-tiny', { tensors: { ...x, 'encoder.layer.1.attention.self.key.weight': { dtype: 'F32', shape: [32, 31], data: new Float32Array(32 * 31) } } }),
    'encoder.layer.1.attention.self.key.weight', 'expected [32, 32]');
  // A prefixed checkpoint (RobertaForMaskedLM) loads: the family's prefixes are stripped.
  const prefixed = {};
  for (const [k, v] of Object.entries(x)) prefixed[`roberta.${k}`] = v;
  const a = await encodeAll(variant('xlmr-tiny', { tensors: prefixed }), ['a man is playing a guitar.']);
  const b = await encodeAll(path.join(FIXTURES, 'families', 'xlmr-tiny'), ['a man is playing a guitar.']);
  assert.equal(Array.from(a.data), Array.from(b.data));
  // Sequences are cut at the positions the family can number: max_seq_length 1000 in
  // sentence_bert_config → 128 (130 positions after padding index 1), with a notice.
  const long = variant('xlmr-tiny');
  fs.writeFileSync(path.join(long, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 1000, do_lower_case: false }));
  const enc = await SentenceEncoder.load(long, { device: 'cpu' });
  try {
    assert.is(enc.maxSeqLength, 128);
    assert.ok(enc.model.notices.some((n) => /exceeds the 128 positions/.test(n)), enc.model.notices.join('; '));
    const out = await enc.encode(['word '.repeat(500)], { outputValue: 'token_embeddings' });
    assert.is(out[0].count, 128);
  } finally {
    enc.dispose();
  }
});

for (const name of ['xlmr-tiny', 'distilbert-sinusoidal', 'distilbert-tiny']) {
  test(`${name}: fit trains it (MNRL, dropout on), saves a folder under the family's names that loads and encodes as trained; a sinusoidal table stays frozen`, async () => {
    const src = path.join(FIXTURES, 'families', name);
    const texts = readFamilyReference(name).meta.sentences.filter((t) => t.length > 0);
    const train = [];
    for (let i = 0; i + 1 < 16; i += 2) train.push({ texts: [texts[i], texts[i + 1]] });
    const outputDir = path.join(tmp, `${name}-trained`);
    const result = await fit(src, { loss: 'mnrl', train, batchSize: 4, epochs: 2, learningRate: 1e-3, outputDir, seed: 3 });
    assert.is(result.steps, 4);
    assert.ok([...result.losses].every(Number.isFinite));
    const saved = w.parseSafetensors(fs.readFileSync(path.join(outputDir, 'model.safetensors')), 'saved');
    const original = weightsOf(name);
    assert.equal([...saved.tensors.keys()].sort(), Object.keys(original).sort(), 'same tensor names as the source checkpoint');
    const pos = 'embeddings.position_embeddings.weight';
    const moved = maxAbsDiff(w.toFloat32(saved.tensors.get(pos)), original[pos].data);
    if (name === 'distilbert-sinusoidal') assert.is(moved, 0, 'the sinusoidal table is frozen');
    else assert.ok(moved > 0, 'learned positions are trained');
    const q = name.startsWith('distilbert') ? 'transformer.layer.0.attention.q_lin.weight' : 'encoder.layer.0.attention.self.query.weight';
    assert.ok(maxAbsDiff(w.toFloat32(saved.tensors.get(q)), original[q].data) > 1e-4, 'weights moved');
    const before = await encodeAll(src, texts.slice(0, 4));
    const after = await encodeAll(outputDir, texts.slice(0, 4));
    assert.ok(maxAbsDiff(before.data, after.data) > 1e-4, 'the saved folder encodes differently from the source');
  });
}

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
