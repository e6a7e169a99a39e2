#!/usr/bin/env node
'use strict';
/**
 * Engine throughput per model family (issue 23): tokens/s of each family relative to a BERT of
 * the same shape, on the same token ids, in the same run. The families differ only in their
 * embeddings (position numbering, token types, DistilBERT's sinusoids) and MPNet's relative
 * attention bias, so each should run within a few percent of BERT; the bar is 15%.
 *
 *   node bench/families.js [--shape minilm-l6|bert-base] [--n 2000] [--rounds 5] [--batch-tokens 8192]
 *
 * Models: random-weight folders of each family written to bench/.models/families-<shape>/ (the
 * tensor names and shapes from the loader's own expectedEncoderTensors, so every family gets
 * exactly the tensors it needs). Input: the first --n unique STSb sentences tokenized once with
 * BERT's tokenizer; every family encodes the same packed ids with encodeTokenIds (tokenization is
 * benchmarked per tokenizer in bench/tokenizer.js). Rounds are round-robin over the families, so
 * a slow phase of a shared machine hits all alike; tokens/s is the median over rounds and the
 * ratio is taken per round, then its median reported.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { stsSentences } = require('./stsb');

const SHAPES = {
  'minilm-l6': { hidden: 384, layers: 6, heads: 12, ffn: 1536 },
  'bert-base': { hidden: 768, layers: 12, heads: 12, ffn: 3072 },
};
const VOCAB = 30522;

function parseArgs(argv) {
  const a = { shape: 'minilm-l6', n: 2000, rounds: 5, batchTokens: 8192 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--shape') a.shape = value;
    else if (flag === '--n') a.n = Number(value);
    else if (flag === '--rounds') a.rounds = Number(value);
    else if (flag === '--batch-tokens') a.batchTokens = Number(value);
    else throw new Error(`unknown flag ${flag}`);
  }
  if (!SHAPES[a.shape]) throw new Error(`--shape must be one of ${Object.keys(SHAPES).join(', ')}`);
  return a;
}

/** config.json of each family at one shape, as transformers writes them. */
function configs(s) {
  const common = { vocab_size: VOCAB, hidden_size: s.hidden, num_hidden_layers: s.layers, num_attention_heads: s.heads, intermediate_size: s.ffn, hidden_act: 'gelu' };
  return {
    bert: { architectures: ['BertModel'], model_type: 'bert', ...common, max_position_embeddings: 512, type_vocab_size: 2, layer_norm_eps: 1e-12, pad_token_id: 0 },
    'xlm-roberta': { architectures: ['XLMRobertaModel'], model_type: 'xlm-roberta', ...common, max_position_embeddings: 514, type_vocab_size: 1, layer_norm_eps: 1e-5, pad_token_id: 1 },
    mpnet: { architectures: ['MPNetModel'], model_type: 'mpnet', ...common, max_position_embeddings: 514, relative_attention_num_buckets: 32, layer_norm_eps: 1e-5, pad_token_id: 1 },
    distilbert: { architectures: ['DistilBertModel'], model_type: 'distilbert', vocab_size: VOCAB, dim: s.hidden, n_layers: s.layers, n_heads: s.heads, hidden_dim: s.ffn, activation: 'gelu', max_position_embeddings: 512, sinusoidal_pos_embds: false, pad_token_id: 0 },
  };
}

/** mulberry32 uniform in [-1, 1). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** A random-weight sentence-transformers folder of `config`'s family (mean pooling). */
function writeFolder(dir, config, w) {
  if (fs.existsSync(path.join(dir, 'model.safetensors'))) return;
  fs.mkdirSync(path.join(dir, '1_Pooling'), { recursive: true });
  const parsed = w.parseEncoderConfig(config, 'config.json');
  const uniform = rng(23);
  const tensors = new Map();
  for (const [name, shape] of w.expectedEncoderTensors(parsed)) {
    const data = new Float32Array(shape.reduce((a, d) => a * d, 1));
    const ln = /LayerNorm|layer_norm/.test(name);
    const scale = ln && name.endsWith('.weight') ? 0 : shape.length === 2 ? 1 / Math.sqrt(shape[1]) : 0.05;
    for (let i = 0; i < data.length; i++) data[i] = (ln && name.endsWith('.weight') ? 1 : 0) + scale * uniform();
    tensors.set(name, { dtype: 'F32', shape, data });
  }
  fs.writeFileSync(path.join(dir, 'model.safetensors'), w.writeSafetensors(tensors));
  const json = (f, v) => fs.writeFileSync(path.join(dir, f), JSON.stringify(v, null, 2));
  json('config.json', config);
  json('modules.json', [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ]);
  json('sentence_bert_config.json', { max_seq_length: 256, do_lower_case: false });
  json('1_Pooling/config.json', { word_embedding_dimension: parsed.hiddenSize, pooling_mode_mean_tokens: true });
  const tok = path.join(__dirname, '..', 'test', 'fixtures', 'tokenizer');
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) fs.copyFileSync(path.join(tok, f), path.join(dir, f));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { SentenceEncoder } = require('../dist');
  const w = require('../dist/weights');
  const root = path.join(__dirname, '.models', `families-${args.shape}`);
  const cfgs = configs(SHAPES[args.shape]);
  const encoders = {};
  for (const [family, config] of Object.entries(cfgs)) {
    writeFolder(path.join(root, family), config, w);
    encoders[family] = await SentenceEncoder.load(path.join(root, family), { device: 'cpu', batchTokens: args.batchTokens });
  }
  const { sentences } = stsSentences(args.n);
  const packed = encoders.bert.tokenizer.encodeBatch(sentences, { maxLength: 256 });
  const batch = { ids: packed.ids, cuSeqlens: packed.cuSeqlens };
  const tokens = batch.ids.length;
  const flags = (/^flags\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8')) || [, ''])[1].split(' ');
  console.log(`${os.cpus()[0].model}, ${os.cpus().length} cores; ${['avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile'].filter((f) => flags.includes(f)).join(' ')}`);
  console.log(`shape ${args.shape}; ${sentences.length} sentences, ${tokens} tokens per pass; batchTokens ${args.batchTokens}; ${args.rounds} rounds`);

  for (const e of Object.values(encoders)) await e.encodeTokenIds(batch); // warm-up
  const rates = Object.fromEntries(Object.keys(encoders).map((f) => [f, []]));
  for (let r = 0; r < args.rounds; r++) {
    for (const [family, enc] of Object.entries(encoders)) {
      const t0 = process.hrtime.bigint();
      await enc.encodeTokenIds(batch);
      rates[family].push(tokens / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
  }
  console.log('\n| family | tokens/s (median) | ours/BERT (median of per-round ratios) | min ratio |');
  console.log('|---|---|---|---|');
  for (const family of Object.keys(encoders)) {
    const ratios = rates[family].map((v, i) => v / rates.bert[i]);
    console.log(`| ${family} | ${Math.round(median(rates[family]))} | ${median(ratios).toFixed(3)} | ${Math.min(...ratios).toFixed(3)} |`);
  }
  for (const e of Object.values(encoders)) e.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
