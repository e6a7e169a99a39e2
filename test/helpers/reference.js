// Shared by the end-to-end tests: reading the reference fixtures (outputs of Hugging Face
// transformers + sentence-transformers on the same weights) and comparing vectors.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { rng } = require('./random');

const FIXTURES = path.join(__dirname, '..', 'fixtures');

/** The reference tensors of a fixture folder as { name: { shape, data } } (F32 / I32 only). */
function readReference(name) {
  const buf = fs.readFileSync(path.join(FIXTURES, name, `${name}-reference.safetensors`));
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  const base = 8 + headerLen;
  const out = {};
  for (const [key, t] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const [a, b] = t.data_offsets;
    const bytes = buf.subarray(base + a, base + b);
    const copy = new Uint8Array(bytes); // aligned copy
    const data = t.dtype === 'F32' ? new Float32Array(copy.buffer) : t.dtype === 'I32' ? new Int32Array(copy.buffer) : null;
    if (!data) throw new Error(`unexpected dtype ${t.dtype}`);
    out[key] = { shape: t.shape, data };
  }
  const meta = JSON.parse(fs.readFileSync(path.join(FIXTURES, name, `${name}-reference.json`), 'utf8'));
  return { tensors: out, sentences: meta.sentences, meta };
}

/** Number of real (unmasked) tokens of reference row i. */
function realLength(ref, i) {
  const mask = ref.tensors.attention_mask;
  const L = mask.shape[1];
  let n = 0;
  for (let t = 0; t < L; t++) n += mask.data[i * L + t];
  return n;
}

function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

function maxAbs(a) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * A copy of a fixture model folder with a different module chain after the Transformer: the
 * weights and tokenizer files are symlinked, modules.json and the Pooling config are written.
 * `pooling` is a list of sentence-transformers pooling modes; `normalize` adds a Normalize module.
 */
function variantFolder(name, { pooling, normalize = false }) {
  const src = path.join(FIXTURES, name);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sbert-${name}-`));
  for (const f of fs.readdirSync(src)) {
    const p = path.join(src, f);
    if (fs.statSync(p).isFile() && f !== 'modules.json') fs.symlinkSync(p, path.join(dir, f));
  }
  fs.mkdirSync(path.join(dir, '1_Pooling'));
  const hidden = JSON.parse(fs.readFileSync(path.join(src, 'config.json'), 'utf8')).hidden_size;
  const cfg = { word_embedding_dimension: hidden };
  for (const m of ['cls_token', 'mean_tokens', 'max_tokens', 'mean_sqrt_len_tokens', 'weightedmean_tokens', 'lasttoken']) {
    cfg[`pooling_mode_${m}`] = false;
  }
  const key = { cls: 'cls_token', mean: 'mean_tokens', max: 'max_tokens', mean_sqrt_len_tokens: 'mean_sqrt_len_tokens', weightedmean: 'weightedmean_tokens', lasttoken: 'lasttoken' };
  for (const m of pooling) cfg[`pooling_mode_${key[m]}`] = true;
  fs.writeFileSync(path.join(dir, '1_Pooling', 'config.json'), JSON.stringify(cfg));
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (normalize) {
    fs.mkdirSync(path.join(dir, '2_Normalize'));
    modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
  }
  fs.writeFileSync(path.join(dir, 'modules.json'), JSON.stringify(modules));
  return dir;
}

module.exports = { FIXTURES, readReference, realLength, cosine, maxAbs, maxAbsDiff, variantFolder, rng };
