#!/usr/bin/env node
'use strict';
/**
 * Writes an all-MiniLM-L6-v2-shaped sentence-transformers folder with RANDOM, seeded weights to
 * bench/.models/minilm-l6-random/ (or the folder given as the first argument):
 *
 *   node bench/make-minilm.js [OUT] [--shape minilm-l6|bert-base] [--cross-encoder]
 *
 * --shape bert-base: hidden 768, 12 layers, 12 heads, ffn 3072 (default out
 * bench/.models/bert-base-random). --cross-encoder: the same body as a Hugging Face
 * BertForSequenceClassification folder instead (bert.-prefixed names, pooler + a one-label
 * classifier, no sentence-transformers files; default out …-cross-encoder-random), the model of
 * the cross-encoder side of bench/paper-scenario.js. Same seed → the same body in both layouts.
 *
 *   config.json                 BertModel: vocab 30522, hidden 384, 6 layers, 12 heads, ffn 1536
 *   model.safetensors           F32, canonical transformers BertModel names (no pooler)
 *   modules.json                Transformer -> Pooling (mean) -> Normalize, like the real model
 *   sentence_bert_config.json   max_seq_length 256
 *   1_Pooling/config.json, 2_Normalize/config.json
 *   tokenizer.json, vocab.txt, tokenizer_config.json   the real bert-base-uncased tokenizer
 *
 * The ONNX export of the same weights (onnx/model.onnx, for the peers) is bench/export_onnx.py.
 *
 * Weight scale: linear weights ~ N(0, 0.05²) ≈ 1/sqrt(hidden), so attention scores and the FFN
 * are O(1) (with the 0.02 of a fresh init the encoder is nearly the identity and an agreement
 * check would test little). LayerNorm gamma ~ 1 + N(0, 0.1²), every bias/beta non-zero, so a
 * mixed-up tensor shows in the outputs. Deterministic: same seed -> same bytes.
 */
const fs = require('fs');
const path = require('path');

const SEED = 0x5be7;
const CONFIG = {
  architectures: ['BertModel'],
  attention_probs_dropout_prob: 0.1,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 384,
  initializer_range: 0.02,
  intermediate_size: 1536,
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: 'bert',
  num_attention_heads: 12,
  num_hidden_layers: 6,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
  type_vocab_size: 2,
  vocab_size: 30522,
};

// mulberry32 + Box-Muller: small, seeded, good enough for weights.
function rng(seed) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare = null;
  const normal = () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { uniform, normal };
}

function findTokenizerDir() {
  const cands = [
    path.join(__dirname, '..', 'test', 'fixtures', 'tokenizer'),
    path.join(__dirname, '..', '..', 'shared', 'fixtures', 'tokenizer'),
  ];
  for (const d of cands) {
    if (['tokenizer.json', 'vocab.txt', 'tokenizer_config.json'].every((f) => fs.existsSync(path.join(d, f)))) return d;
  }
  throw new Error(`bert-base-uncased tokenizer files not found in ${cands.join(' or ')}`);
}

function localWriteSafetensors(tensors, metadata) {
  // Fallback when dist/ is not built: same format as lib/weights writeSafetensors.
  const header = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const chunks = [];
  for (const [name, t] of tensors) {
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  return Buffer.concat([len, hb, ...chunks]);
}

const SHAPES = {
  'minilm-l6': { name: 'minilm-l6', config: CONFIG },
  'bert-base': { name: 'bert-base', config: { ...CONFIG, hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12 } },
};

function parseArgs(argv) {
  const a = { out: undefined, shape: SHAPES['minilm-l6'], crossEncoder: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--shape') {
      a.shape = SHAPES[argv[++i]];
      if (!a.shape) throw new Error(`--shape must be one of ${Object.keys(SHAPES).join(', ')}`);
    } else if (argv[i] === '--cross-encoder') a.crossEncoder = true;
    else if (argv[i].startsWith('--')) throw new Error(`unknown flag ${argv[i]}`);
    else a.out = argv[i];
  }
  return a;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const out = path.resolve(args.out || path.join(__dirname, '.models', `${args.shape.name}-${args.crossEncoder ? 'cross-encoder-' : ''}random`));
  const c = args.shape.config;
  const h = c.hidden_size;
  const f = c.intermediate_size;
  const { normal } = rng(SEED);
  const tensors = new Map();
  const add = (name, shape, gen) => {
    const n = shape.reduce((a, d) => a * d, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = gen();
    tensors.set(name, { dtype: 'F32', shape, data });
  };
  const w = (std) => () => std * normal();
  const gamma = () => 1 + 0.1 * normal();
  add('embeddings.word_embeddings.weight', [c.vocab_size, h], w(0.05));
  add('embeddings.position_embeddings.weight', [c.max_position_embeddings, h], w(0.05));
  add('embeddings.token_type_embeddings.weight', [c.type_vocab_size, h], w(0.05));
  add('embeddings.LayerNorm.weight', [h], gamma);
  add('embeddings.LayerNorm.bias', [h], w(0.05));
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `encoder.layer.${i}.`;
    for (const qkv of ['query', 'key', 'value']) {
      add(`${p}attention.self.${qkv}.weight`, [h, h], w(0.05));
      add(`${p}attention.self.${qkv}.bias`, [h], w(0.02));
    }
    add(`${p}attention.output.dense.weight`, [h, h], w(0.05));
    add(`${p}attention.output.dense.bias`, [h], w(0.02));
    add(`${p}attention.output.LayerNorm.weight`, [h], gamma);
    add(`${p}attention.output.LayerNorm.bias`, [h], w(0.05));
    add(`${p}intermediate.dense.weight`, [f, h], w(0.05));
    add(`${p}intermediate.dense.bias`, [f], w(0.02));
    add(`${p}output.dense.weight`, [h, f], w(0.05 / 2)); // fan-in 1536: keep the FFN output O(1)
    add(`${p}output.dense.bias`, [h], w(0.02));
    add(`${p}output.LayerNorm.weight`, [h], gamma);
    add(`${p}output.LayerNorm.bias`, [h], w(0.05));
  }
  if (args.crossEncoder) {
    // The sequence-classification head after the body: pooler (dense + tanh on [CLS]), classifier.
    add('pooler.dense.weight', [h, h], w(0.05));
    add('pooler.dense.bias', [h], w(0.02));
    const prefixed = new Map([...tensors].map(([name, t]) => [`bert.${name}`, t]));
    tensors.clear();
    for (const [name, t] of prefixed) tensors.set(name, t);
    add('classifier.weight', [1, h], w(0.05));
    add('classifier.bias', [1], w(0.02));
  }

  let writeSafetensors = localWriteSafetensors;
  try {
    const lib = require('../dist/weights');
    if (typeof lib.writeSafetensors === 'function') writeSafetensors = lib.writeSafetensors;
  } catch {
    /* dist/ not built: use the local writer */
  }
  const st = writeSafetensors(tensors, { format: 'pt', note: `random weights, seed ${SEED}, bench/make-minilm.js` });

  const json = (file, obj) => fs.writeFileSync(path.join(out, file), JSON.stringify(obj, null, 2) + '\n');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'model.safetensors'), st);
  const tok = findTokenizerDir();
  const copyTokenizer = () => {
    for (const file of ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json']) fs.copyFileSync(path.join(tok, file), path.join(out, file));
  };
  if (args.crossEncoder) {
    json('config.json', { ...c, architectures: ['BertForSequenceClassification'], id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 } });
    copyTokenizer();
    report(out, tensors, st, tok);
    return;
  }
  fs.mkdirSync(path.join(out, '1_Pooling'), { recursive: true });
  fs.mkdirSync(path.join(out, '2_Normalize'), { recursive: true });
  json('config.json', c);
  json('modules.json', [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
  ]);
  json('sentence_bert_config.json', { max_seq_length: 256, do_lower_case: false });
  json('config_sentence_transformers.json', { similarity_fn_name: 'cosine', prompts: {}, default_prompt_name: null });
  json('1_Pooling/config.json', {
    word_embedding_dimension: h,
    pooling_mode_cls_token: false,
    pooling_mode_mean_tokens: true,
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
  });
  json('2_Normalize/config.json', {});
  copyTokenizer();
  report(out, tensors, st, tok);
}

function report(out, tensors, st, tok) {
  let params = 0;
  for (const t of tensors.values()) params += t.data.length;
  console.log(`wrote ${out} (${tensors.size} tensors, ${(params / 1e6).toFixed(2)}M params, ${(st.length / 1e6).toFixed(1)} MB; tokenizer from ${tok})`);
}

main();
