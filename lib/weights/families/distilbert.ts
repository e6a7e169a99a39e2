/**
 * DistilBERT (`model_type` "distilbert"): BERT's post-LayerNorm layers under other names
 * (`transformer.layer.{i}.attention.q_lin…out_lin`, `sa_layer_norm`, `ffn.lin1/lin2`,
 * `output_layer_norm`), other config keys (dim, n_layers, n_heads, hidden_dim, activation,
 * dropout, attention_dropout), no token type embeddings, LayerNorm eps fixed at 1e-12 (as
 * transformers hard-codes it). With `sinusoidal_pos_embds` the position table is transformers'
 * fixed sinusoids: read from the file when it is there (as transformers loads it), computed
 * when it is not, and never trained (requires_grad False in transformers).
 *
 * Defaults are transformers' DistilBertConfig: vocab_size 30522, max_position_embeddings 512,
 * sinusoidal_pos_embds false, n_layers 6, n_heads 12, dim 768, hidden_dim 3072, dropout 0.1,
 * attention_dropout 0.1, activation "gelu", pad_token_id 0.
 */
import type { EncoderConfig } from '../config';
import { ConfigReader } from '../config-reader';
import { bertEmbeddingNames, layerTensorNames, type EncoderFamilyDefinition, type LayerModulePaths } from './layout';

const DEFAULTS = {
  vocab_size: 30522,
  max_position_embeddings: 512,
  sinusoidal_pos_embds: false,
  n_layers: 6,
  n_heads: 12,
  dim: 768,
  hidden_dim: 3072,
  dropout: 0.1,
  attention_dropout: 0.1,
  activation: 'gelu',
  pad_token_id: 0,
};

/** DistilBERT's layer modules (under transformer.layer.N). */
const DISTILBERT_LAYER: LayerModulePaths = {
  query: 'attention.q_lin', key: 'attention.k_lin', value: 'attention.v_lin', attnOut: 'attention.out_lin',
  attnLn: 'sa_layer_norm', ffnIn: 'ffn.lin1', ffnOut: 'ffn.lin2', ffnLn: 'output_layer_norm',
};

function parseConfig(json: Record<string, unknown>, file: string, modelType: string): EncoderConfig {
  const r = new ConfigReader(json, file, DEFAULTS);
  r.encoderOnly();
  const dims = r.dims({ vocab: 'vocab_size', hidden: 'dim', layers: 'n_layers', heads: 'n_heads', intermediate: 'hidden_dim', positions: 'max_position_embeddings' });
  const sinusoidal = r.value('sinusoidal_pos_embds');
  if (typeof sinusoidal !== 'boolean') throw r.fail(`"sinusoidal_pos_embds" must be true or false, got ${JSON.stringify(sinusoidal)}`);
  const padTokenId = r.padTokenId();
  const cfg: EncoderConfig = {
    family: 'distilbert',
    modelType,
    ...dims,
    typeVocabSize: 0,
    layerNormEps: 1e-12,
    hiddenAct: r.gelu('activation'),
    positionEmbeddingType: 'absolute',
    hiddenDropout: r.probability('dropout'),
    attentionDropout: r.probability('attention_dropout'),
    positionIds: 'from_zero',
    paddingIdx: 0,
    relativeAttentionBuckets: 0,
    relativeAttentionMaxDistance: 0,
    sinusoidalPositions: sinusoidal,
    maxSequenceLength: dims.maxPositionEmbeddings,
  };
  if (padTokenId !== undefined) cfg.padTokenId = padTokenId;
  return cfg;
}

/**
 * transformers' create_sinusoidal_embeddings: row pos, column j = sin (j even) or cos (j odd)
 * of pos / 10000^(2·⌊j/2⌋ / dim), computed in float64 and rounded to float32.
 */
export function sinusoidalPositionTable(positions: number, dim: number): Float32Array {
  const out = new Float32Array(positions * dim);
  for (let pos = 0; pos < positions; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / Math.pow(10000, (2 * Math.floor(j / 2)) / dim);
      out[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return out;
}

export const DISTILBERT: EncoderFamilyDefinition = {
  modelTypes: ['distilbert'],
  prefixes: ['distilbert.', 'model.', 'auto_model.'],
  // DistilBertForSequenceClassification: pre_classifier → ReLU → dropout → classifier.
  classificationHead: {
    basePrefix: 'distilbert.',
    dense: { weight: 'pre_classifier.weight', bias: 'pre_classifier.bias' },
    activation: 'relu',
    out: { weight: 'classifier.weight', bias: 'classifier.bias' },
    // seq_classif_dropout, 0.2 by default (DistilBertConfig).
    headDropout: (r) => ({ beforeDense: 0, beforeOut: r.json.seq_classif_dropout === undefined || r.json.seq_classif_dropout === null ? 0.2 : r.probability('seq_classif_dropout') }),
  },
  parseConfig,
  tensorNames: (config) => ({
    embeddings: bertEmbeddingNames(false),
    layers: Array.from({ length: config.numHiddenLayers }, (_, i) => layerTensorNames('transformer.layer.', i, DISTILBERT_LAYER)),
  }),
};
