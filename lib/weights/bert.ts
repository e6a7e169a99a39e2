/**
 * BERT weights: maps the tensors of a model.safetensors onto the canonical transformers
 * BertModel names and checks every shape against the config.
 *
 * Accepted spellings: with or without a `bert.` / `model.` prefix (BertForMaskedLM,
 * BertForPreTraining and wrapper exports), and the TF-era LayerNorm `gamma`/`beta`. Ignored:
 * `pooler.*`, `cls.*` (MLM/NSP heads), `embeddings.position_ids`, task heads and anything else that
 * is not part of the encoder. Linear weights keep the PyTorch layout `[out_features, in_features]`.
 */
import { badModel } from '../errors';
import { BertConfig } from './config';
import { FLOAT_DTYPES, SafetensorsFile, WeightTensor } from './safetensors';

const PREFIXES = ['bert.', 'model.', 'auto_model.'];

/** The canonical tensor names and shapes a BertModel with this config has, in load order. */
export function expectedBertTensors(config: BertConfig): Map<string, number[]> {
  const h = config.hiddenSize;
  const f = config.intermediateSize;
  const m = new Map<string, number[]>();
  m.set('embeddings.word_embeddings.weight', [config.vocabSize, h]);
  m.set('embeddings.position_embeddings.weight', [config.maxPositionEmbeddings, h]);
  m.set('embeddings.token_type_embeddings.weight', [config.typeVocabSize, h]);
  m.set('embeddings.LayerNorm.weight', [h]);
  m.set('embeddings.LayerNorm.bias', [h]);
  for (let i = 0; i < config.numHiddenLayers; i++) {
    const p = `encoder.layer.${i}.`;
    for (const qkv of ['query', 'key', 'value']) {
      m.set(`${p}attention.self.${qkv}.weight`, [h, h]);
      m.set(`${p}attention.self.${qkv}.bias`, [h]);
    }
    m.set(`${p}attention.output.dense.weight`, [h, h]);
    m.set(`${p}attention.output.dense.bias`, [h]);
    m.set(`${p}attention.output.LayerNorm.weight`, [h]);
    m.set(`${p}attention.output.LayerNorm.bias`, [h]);
    m.set(`${p}intermediate.dense.weight`, [f, h]);
    m.set(`${p}intermediate.dense.bias`, [f]);
    m.set(`${p}output.dense.weight`, [h, f]);
    m.set(`${p}output.dense.bias`, [h]);
    m.set(`${p}output.LayerNorm.weight`, [h]);
    m.set(`${p}output.LayerNorm.bias`, [h]);
  }
  return m;
}

/** Canonical spelling of a tensor name (prefix stripped, gamma/beta renamed). */
export function canonicalBertName(name: string): string {
  let n = name;
  for (let again = true; again;) {
    again = false;
    for (const p of PREFIXES) {
      if (n.startsWith(p)) {
        n = n.slice(p.length);
        again = true;
      }
    }
  }
  if (n.endsWith('LayerNorm.gamma')) n = n.slice(0, -'gamma'.length) + 'weight';
  else if (n.endsWith('LayerNorm.beta')) n = n.slice(0, -'beta'.length) + 'bias';
  return n;
}

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * Picks the encoder tensors out of a safetensors file. Returns a Map keyed by canonical name
 * (the tensors' `name` is the canonical name too; in-memory bytes still point into the file
 * buffer, file sources still name their file).
 */
export function bertTensors<T extends WeightTensor>(st: SafetensorsFile<T>, config: BertConfig, file: string): Map<string, T> {
  const expected = expectedBertTensors(config);
  const found = new Map<string, T>();
  const source = new Map<string, string>();
  for (const [name, view] of st.tensors) {
    const canon = canonicalBertName(name);
    const shape = expected.get(canon);
    if (shape === undefined) continue; // pooler, heads, position_ids, extra layers: not used
    const prev = source.get(canon);
    if (prev !== undefined) {
      throw badModel(file, `tensors ${JSON.stringify(prev)} and ${JSON.stringify(name)} both name ${canon}`);
    }
    if (!FLOAT_DTYPES.has(view.dtype)) {
      throw badModel(file, `tensor ${JSON.stringify(name)} has dtype ${view.dtype}; weights must be F32, F16 or BF16`);
    }
    if (view.shape.length !== shape.length || view.shape.some((d, i) => d !== shape[i])) {
      throw badModel(file, `tensor ${JSON.stringify(name)} has shape ${shapeStr(view.shape)}, expected ${shapeStr(shape)} from config.json`);
    }
    source.set(canon, name);
    view.name = canon;
    found.set(canon, view);
  }
  const missing = [...expected.keys()].filter((k) => !found.has(k));
  if (missing.length > 0) {
    let msg = `missing tensor ${missing[0]} (shape ${shapeStr(expected.get(missing[0])!)})`;
    if (missing.length > 1) msg += ` and ${missing.length - 1} more`;
    if (found.size === 0) {
      const sample = [...st.tensors.keys()].slice(0, 3).map((n) => JSON.stringify(n)).join(', ');
      msg += `; no BERT encoder tensors found at all (the file has ${st.tensors.size} tensors${sample ? `, e.g. ${sample}` : ''})`;
    } else if (/^encoder\.layer\.(\d+)\./.test(missing[0])) {
      msg += ` (config.json says num_hidden_layers ${config.numHiddenLayers})`;
    }
    throw badModel(file, msg);
  }
  // Re-order to the canonical order so consumers can iterate deterministically.
  const ordered = new Map<string, T>();
  for (const k of expected.keys()) ordered.set(k, found.get(k)!);
  return ordered;
}
