/**
 * What every family shares: the tensor roles of the one encoder (embeddings, per-layer
 * attention and FFN, LayerNorms) under each family's own names, the shapes a config implies
 * for them, and the interface a family module implements.
 */
import type { EncoderConfig } from '../config';
import type { ConfigReader } from '../config-reader';

/** One layer's tensors, by role (the native model plan's LayerPlan). */
export interface LayerTensorNames {
  query: string; queryBias: string; key: string; keyBias: string; value: string; valueBias: string;
  attnOut: string; attnOutBias: string; attnLnGamma: string; attnLnBeta: string;
  ffnIn: string; ffnInBias: string; ffnOut: string; ffnOutBias: string; ffnLnGamma: string; ffnLnBeta: string;
}

/** Every tensor of the encoder, by role, under the family's canonical names (as saved). */
export interface EncoderTensorNames {
  embeddings: {
    word: string;
    position: string;
    /** Absent when the family has no token type embeddings. */
    tokenType?: string;
    lnGamma: string;
    lnBeta: string;
    /** MPNet's relative attention bias table [buckets, heads]. */
    relativeBias?: string;
  };
  layers: LayerTensorNames[];
}

/** The optimizer role of a tensor (the native plan's ParamRole). */
export type TensorRole = 'embedding' | 'weight' | 'bias' | 'layernorm_weight' | 'layernorm_bias' | 'frozen';

export interface ExpectedTensor {
  shape: number[];
  role: TensorRole;
}

/**
 * The family's sequence-classification head (transformers' …ForSequenceClassification), as
 * a cross-encoder runs it on the first token: out(act(dense(h_0))). Names are the checkpoint's
 * (`classifier.…` is not under the base model's prefix; BERT's pooler is).
 */
export interface ClassificationHead {
  /** The task model's prefix for the base model's tensors when it saves them ('bert.'). */
  basePrefix: string;
  dense: { weight: string; bias: string };
  activation: 'tanh' | 'relu';
  out: { weight: string; bias: string };
  /**
   * The head's dropout probabilities in training, before `dense` and before `out`, as the
   * family's transformers head reads them from config.json (inference has none).
   */
  headDropout(r: ConfigReader, config: EncoderConfig): { beforeDense: number; beforeOut: number };
}

/** A model family: its config.json keys and defaults, and its tensor names. */
export interface EncoderFamilyDefinition {
  /** config.json model_type values of the family. */
  modelTypes: readonly string[];
  /**
   * Prefixes a checkpoint may put before the base model's names (task models and wrappers,
   * e.g. 'roberta.' in RobertaForMaskedLM); stripped when reading.
   */
  prefixes: readonly string[];
  parseConfig(json: Record<string, unknown>, file: string, modelType: string): EncoderConfig;
  tensorNames(config: EncoderConfig): EncoderTensorNames;
  classificationHead: ClassificationHead;
}

/** The modules of one layer, by their path inside the layer (each has `.weight` and `.bias`). */
export interface LayerModulePaths {
  query: string;
  key: string;
  value: string;
  attnOut: string;
  attnLn: string;
  ffnIn: string;
  ffnOut: string;
  ffnLn: string;
}

/** Layer `i`'s tensor names from the family's layer prefix and module paths. */
export function layerTensorNames(prefix: string, i: number, m: LayerModulePaths): LayerTensorNames {
  const p = `${prefix}${i}.`;
  const w = (path: string): string => `${p}${path}.weight`;
  const b = (path: string): string => `${p}${path}.bias`;
  return {
    query: w(m.query), queryBias: b(m.query),
    key: w(m.key), keyBias: b(m.key),
    value: w(m.value), valueBias: b(m.value),
    attnOut: w(m.attnOut), attnOutBias: b(m.attnOut),
    attnLnGamma: w(m.attnLn), attnLnBeta: b(m.attnLn),
    ffnIn: w(m.ffnIn), ffnInBias: b(m.ffnIn),
    ffnOut: w(m.ffnOut), ffnOutBias: b(m.ffnOut),
    ffnLnGamma: w(m.ffnLn), ffnLnBeta: b(m.ffnLn),
  };
}

/** BERT's layer modules, which RoBERTa and friends share; MPNet keeps its feed-forward ones. */
export const BERT_LAYER: LayerModulePaths = {
  query: 'attention.self.query', key: 'attention.self.key', value: 'attention.self.value',
  attnOut: 'attention.output.dense', attnLn: 'attention.output.LayerNorm',
  ffnIn: 'intermediate.dense', ffnOut: 'output.dense', ffnLn: 'output.LayerNorm',
};

/** BERT's layer names, which RoBERTa and friends share. */
export function bertLayerNames(i: number, prefix = 'encoder.layer.'): LayerTensorNames {
  return layerTensorNames(prefix, i, BERT_LAYER);
}

/** BERT's embedding names (word, position, LayerNorm; token types when `withTypes`). */
export function bertEmbeddingNames(withTypes: boolean): EncoderTensorNames['embeddings'] {
  return {
    word: 'embeddings.word_embeddings.weight',
    position: 'embeddings.position_embeddings.weight',
    ...(withTypes ? { tokenType: 'embeddings.token_type_embeddings.weight' } : {}),
    lnGamma: 'embeddings.LayerNorm.weight',
    lnBeta: 'embeddings.LayerNorm.bias',
  };
}

/**
 * Every tensor the encoder needs, in load order, with the shape the config implies and its
 * optimizer role (weight decay on weights and embedding tables only, as sentence-transformers'
 * fit: not on biases — the relative bias table included, whose name says bias — nor on
 * LayerNorm parameters; a sinusoidal position table is frozen).
 */
export function expectedTensors(config: EncoderConfig, names: EncoderTensorNames): Map<string, ExpectedTensor> {
  const h = config.hiddenSize;
  const f = config.intermediateSize;
  const m = new Map<string, ExpectedTensor>();
  const e = names.embeddings;
  m.set(e.word, { shape: [config.vocabSize, h], role: 'embedding' });
  m.set(e.position, { shape: [config.maxPositionEmbeddings, h], role: config.sinusoidalPositions ? 'frozen' : 'embedding' });
  if (e.tokenType !== undefined) m.set(e.tokenType, { shape: [config.typeVocabSize, h], role: 'embedding' });
  m.set(e.lnGamma, { shape: [h], role: 'layernorm_weight' });
  m.set(e.lnBeta, { shape: [h], role: 'layernorm_bias' });
  for (const l of names.layers) {
    for (const w of [l.query, l.key, l.value, l.attnOut]) m.set(w, { shape: [h, h], role: 'weight' });
    for (const b of [l.queryBias, l.keyBias, l.valueBias, l.attnOutBias]) m.set(b, { shape: [h], role: 'bias' });
    m.set(l.attnLnGamma, { shape: [h], role: 'layernorm_weight' });
    m.set(l.attnLnBeta, { shape: [h], role: 'layernorm_bias' });
    m.set(l.ffnIn, { shape: [f, h], role: 'weight' });
    m.set(l.ffnInBias, { shape: [f], role: 'bias' });
    m.set(l.ffnOut, { shape: [h, f], role: 'weight' });
    m.set(l.ffnOutBias, { shape: [h], role: 'bias' });
    m.set(l.ffnLnGamma, { shape: [h], role: 'layernorm_weight' });
    m.set(l.ffnLnBeta, { shape: [h], role: 'layernorm_bias' });
  }
  if (e.relativeBias !== undefined) {
    m.set(e.relativeBias, { shape: [config.relativeAttentionBuckets, config.numAttentionHeads], role: 'bias' });
  }
  return m;
}
