/**
 * Encoder weights: maps the tensors of a model file onto the family's canonical names (the
 * base model's names, as transformers saves them: `embeddings.word_embeddings.weight`,
 * `encoder.layer.0.attention.attn.q.weight` for MPNet, `transformer.layer.0.ffn.lin1.weight`
 * for DistilBERT, …) and checks every shape against the config.
 *
 * Accepted spellings: with or without the family's wrapper prefixes (`bert.`, `roberta.`,
 * `mpnet.`, `distilbert.`, `model.`, `auto_model.`; task models and exports), and the TF-era
 * LayerNorm `gamma`/`beta`. Ignored: poolers, MLM/NSP/classification heads, `position_ids`
 * buffers and anything else that is not part of the encoder. Linear weights keep the PyTorch
 * layout `[out_features, in_features]`.
 */
import { badModel } from '../errors';
import type { EncoderConfig } from './config';
import { expectedTensors, FAMILIES, sinusoidalPositionTable, type ExpectedTensor } from './families';
import { FLOAT_DTYPES, type SafetensorsFile, type TensorView, type WeightTensor } from './safetensors';

/** The family's canonical tensor names and shapes for this config, in load order. */
export function expectedEncoderTensors(config: EncoderConfig): Map<string, number[]> {
  return new Map([...expectedWithRoles(config)].map(([name, e]) => [name, e.shape]));
}

/** The same with each tensor's optimizer role (lib/weights/plan.ts). */
export function expectedWithRoles(config: EncoderConfig): Map<string, ExpectedTensor> {
  return expectedTensors(config, FAMILIES[config.family].tensorNames(config));
}

/** Canonical spelling of a tensor name (the family's wrapper prefixes stripped, gamma/beta renamed). */
export function canonicalTensorName(name: string, family: EncoderConfig['family'] = 'bert'): string {
  const prefixes = FAMILIES[family].prefixes;
  let n = name;
  for (let again = true; again;) {
    again = false;
    for (const p of prefixes) {
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
 * buffer, file sources still name their file). A DistilBERT with sinusoidal positions whose
 * file lacks the position table gets transformers' sinusoids.
 */
export function encoderTensors<T extends WeightTensor>(st: SafetensorsFile<T>, config: EncoderConfig, file: string): Map<string, T | TensorView> {
  const expected = expectedEncoderTensors(config);
  const found = new Map<string, T | TensorView>();
  const source = new Map<string, string>();
  for (const [name, view] of st.tensors) {
    const canon = canonicalTensorName(name, config.family);
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
  const position = FAMILIES[config.family].tensorNames(config).embeddings.position;
  if (config.sinusoidalPositions && !found.has(position)) {
    const table = sinusoidalPositionTable(config.maxPositionEmbeddings, config.hiddenSize);
    found.set(position, { name: position, dtype: 'F32', shape: [config.maxPositionEmbeddings, config.hiddenSize], bytes: new Uint8Array(table.buffer) });
  }
  const missing = [...expected.keys()].filter((k) => !found.has(k));
  if (missing.length > 0) {
    let msg = `missing tensor ${missing[0]} (shape ${shapeStr(expected.get(missing[0])!)})`;
    if (missing.length > 1) msg += ` and ${missing.length - 1} more`;
    if (found.size === 0) {
      const sample = [...st.tensors.keys()].slice(0, 3).map((n) => JSON.stringify(n)).join(', ');
      msg += `; no ${config.modelType} encoder tensors found at all (the file has ${st.tensors.size} tensors${sample ? `, e.g. ${sample}` : ''})`;
    } else if (/\.layer\.(\d+)\./.test(missing[0])) {
      msg += ` (config.json says ${config.numHiddenLayers} layers)`;
    }
    throw badModel(file, msg);
  }
  // Re-order to the canonical order so consumers can iterate deterministically.
  const ordered = new Map<string, T | TensorView>();
  for (const k of expected.keys()) ordered.set(k, found.get(k)!);
  return ordered;
}
