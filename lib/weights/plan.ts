/**
 * The model plan handed to the native engine and trainer: built once from a validated model
 * folder, with the same structure as native/cpp/engine/model_plan.h (parameters listed once with
 * canonical names, roles, and either zero-copy views of in-memory bytes or a file + offset that
 * native code reads; layers and Dense modules refer to them by index). lib/weights is the one place that validates a folder; native code checks
 * only that this plan keeps its contract.
 */
import type { NativeModelSpec, NativeParam, NativeParamRole } from '../native';
import type { ModelFolder } from './folder';
import { expectedWithRoles } from './encoder-tensors';
import { FAMILIES } from './families';
import { isTensorSource, type WeightTensor } from './safetensors';

/** Builds the native spec of a loaded folder (no tensor bytes are copied). */
export function buildNativeSpec(folder: ModelFolder): NativeModelSpec {
  const c = folder.config;
  const roles = expectedWithRoles(c);
  const names = FAMILIES[c.family].tensorNames(c);
  const params: NativeParam[] = [];
  const add = (name: string, t: WeightTensor, role: NativeParamRole): number => {
    // A tensor in a file is read by native code itself (its range was validated with the header).
    const source = isTensorSource(t) ? { file: t.file, offset: t.offset } : { bytes: t.bytes };
    params.push({ name, shape: t.shape, dtype: t.dtype as NativeParam['dtype'], role, ...source });
    return params.length - 1;
  };
  // The encoder's tensors by the family's names, with the roles encoder-tensors assigns.
  const encoder = (name: string): number => add(name, folder.weights.tensors.get(name)!, roles.get(name)!.role);
  const e = names.embeddings;
  const embeddings: NativeModelSpec['embeddings'] = {
    word: encoder(e.word),
    position: encoder(e.position),
    tokenType: e.tokenType !== undefined ? encoder(e.tokenType) : -1,
    lnGamma: encoder(e.lnGamma),
    lnBeta: encoder(e.lnBeta),
    relativeBias: e.relativeBias !== undefined ? encoder(e.relativeBias) : -1,
  };
  const layers: NativeModelSpec['layers'] = names.layers.map((l) => ({
    query: encoder(l.query),
    queryBias: encoder(l.queryBias),
    key: encoder(l.key),
    keyBias: encoder(l.keyBias),
    value: encoder(l.value),
    valueBias: encoder(l.valueBias),
    attnOut: encoder(l.attnOut),
    attnOutBias: encoder(l.attnOutBias),
    attnLnGamma: encoder(l.attnLnGamma),
    attnLnBeta: encoder(l.attnLnBeta),
    ffnIn: encoder(l.ffnIn),
    ffnInBias: encoder(l.ffnInBias),
    ffnOut: encoder(l.ffnOut),
    ffnOutBias: encoder(l.ffnOutBias),
    ffnLnGamma: encoder(l.ffnLnGamma),
    ffnLnBeta: encoder(l.ffnLnBeta),
  }));
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
      positionIds: c.positionIds,
      paddingIdx: c.paddingIdx,
      relativeBuckets: c.relativeAttentionBuckets,
      relativeMaxDistance: c.relativeAttentionMaxDistance,
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
        weight: add(m.paramNames?.weight ?? `dense.${j}.linear.weight`, m.weight, 'weight'),
        bias: m.bias ? add(m.paramNames?.bias ?? `dense.${j}.linear.bias`, m.bias, 'bias') : -1,
        ...(m.dropoutBefore ? { dropoutBefore: m.dropoutBefore } : {}),
      });
    }
  }
  return spec;
}
