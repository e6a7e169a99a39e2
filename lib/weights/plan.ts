/**
 * The model plan handed to the native engine and trainer: built once from a validated model
 * folder, with the same structure as native/cpp/engine/model_plan.h (parameters listed once with
 * canonical names, roles, and either zero-copy views of in-memory bytes or a file + offset that
 * native code reads; layers and Dense modules refer to them by index). lib/weights is the one place that validates a folder; native code checks
 * only that this plan keeps its contract.
 */
import type { NativeModelSpec, NativeParam, NativeParamRole } from '../native';
import type { ModelFolder } from './folder';
import { isTensorSource, type WeightTensor } from './safetensors';

/** The optimizer role of a canonical BERT tensor name (no weight decay on biases and LayerNorm). */
function roleOf(name: string): NativeParamRole {
  if (name.includes('LayerNorm.')) return name.endsWith('.weight') ? 'layernorm_weight' : 'layernorm_bias';
  if (name.endsWith('.bias')) return 'bias';
  return name.startsWith('embeddings.') ? 'embedding' : 'weight';
}

/** Builds the native spec of a loaded folder (no tensor bytes are copied). */
export function buildNativeSpec(folder: ModelFolder): NativeModelSpec {
  const c = folder.config;
  const params: NativeParam[] = [];
  const add = (name: string, t: WeightTensor): number => {
    // A tensor in a file is read by native code itself (its range was validated with the header).
    const source = isTensorSource(t) ? { file: t.file, offset: t.offset } : { bytes: t.bytes };
    params.push({ name, shape: t.shape, dtype: t.dtype as NativeParam['dtype'], role: roleOf(name), ...source });
    return params.length - 1;
  };
  const bert = (name: string): number => add(name, folder.weights.tensors.get(name)!);
  const embeddings = {
    word: bert('embeddings.word_embeddings.weight'),
    position: bert('embeddings.position_embeddings.weight'),
    tokenType: bert('embeddings.token_type_embeddings.weight'),
    lnGamma: bert('embeddings.LayerNorm.weight'),
    lnBeta: bert('embeddings.LayerNorm.bias'),
  };
  const layers: NativeModelSpec['layers'] = [];
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `encoder.layer.${i}.`;
    layers.push({
      query: bert(`${p}attention.self.query.weight`),
      queryBias: bert(`${p}attention.self.query.bias`),
      key: bert(`${p}attention.self.key.weight`),
      keyBias: bert(`${p}attention.self.key.bias`),
      value: bert(`${p}attention.self.value.weight`),
      valueBias: bert(`${p}attention.self.value.bias`),
      attnOut: bert(`${p}attention.output.dense.weight`),
      attnOutBias: bert(`${p}attention.output.dense.bias`),
      attnLnGamma: bert(`${p}attention.output.LayerNorm.weight`),
      attnLnBeta: bert(`${p}attention.output.LayerNorm.bias`),
      ffnIn: bert(`${p}intermediate.dense.weight`),
      ffnInBias: bert(`${p}intermediate.dense.bias`),
      ffnOut: bert(`${p}output.dense.weight`),
      ffnOutBias: bert(`${p}output.dense.bias`),
      ffnLnGamma: bert(`${p}output.LayerNorm.weight`),
      ffnLnBeta: bert(`${p}output.LayerNorm.bias`),
    });
  }
  const spec: NativeModelSpec = {
    shape: {
      vocabSize: c.vocabSize,
      hiddenSize: c.hiddenSize,
      numLayers: c.numHiddenLayers,
      numHeads: c.numAttentionHeads,
      intermediateSize: c.intermediateSize,
      maxPositions: c.maxPositionEmbeddings,
      typeVocabSize: c.typeVocabSize,
      layerNormEps: c.layerNormEps,
      hiddenDropout: c.hiddenDropout,
      attentionDropout: c.attentionDropout,
    },
    params,
    embeddings,
    layers,
    pooling: [],
    dense: [],
    normalize: false,
    sentenceDim: folder.outputDimension,
  };
  // The loader has checked the chain's order (Transformer → Pooling → Dense* → Normalize).
  for (const m of folder.modules) {
    if (m.type === 'pooling') spec.pooling = [...m.modes];
    else if (m.type === 'normalize') spec.normalize = true;
    else if (m.type === 'dense') {
      const j = spec.dense.length;
      spec.dense.push({
        inFeatures: m.inFeatures,
        outFeatures: m.outFeatures,
        activation: m.activation,
        weight: add(`dense.${j}.linear.weight`, m.weight),
        bias: m.bias ? add(`dense.${j}.linear.bias`, m.bias) : -1,
      });
    }
  }
  return spec;
}
