/**
 * MPNet (`model_type` "mpnet"): BERT's post-LayerNorm layers under other names
 * (`attention.attn.q/k/v/o`, `attention.LayerNorm`), no token type embeddings, positions
 * numbered after padding index 1 (transformers' MPNetEmbeddings hard-codes padding_idx = 1),
 * and one relative attention bias table [32, heads] shared by every layer
 * (`encoder.relative_attention_bias.weight`; transformers' compute_position_bias always uses
 * 32 buckets and a max distance of 128, so a config with another relative_attention_num_buckets
 * is refused rather than computed differently from the reference).
 *
 * Defaults are transformers' MPNetConfig: vocab_size 30527, hidden_size 768, num_hidden_layers
 * 12, num_attention_heads 12, intermediate_size 3072, hidden_act "gelu",
 * max_position_embeddings 512, layer_norm_eps 1e-12, relative_attention_num_buckets 32,
 * pad_token_id 1, dropouts 0.1.
 */
import type { EncoderConfig } from '../config';
import { ConfigReader } from '../config-reader';
import { ROBERTA_HEAD } from './bert';
import { BERT_LAYER, bertEmbeddingNames, layerTensorNames, type EncoderFamilyDefinition, type LayerModulePaths } from './layout';

const DEFAULTS = {
  vocab_size: 30527,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  layer_norm_eps: 1e-12,
  relative_attention_num_buckets: 32,
  pad_token_id: 1,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
};

/** What transformers' MPNetEncoder computes with, whatever the config says. */
const PADDING_IDX = 1;
const BUCKETS = 32;
const MAX_DISTANCE = 128;

/** MPNet's attention modules (attention.attn.*), BERT's feed-forward ones. */
const MPNET_LAYER: LayerModulePaths = {
  ...BERT_LAYER,
  query: 'attention.attn.q', key: 'attention.attn.k', value: 'attention.attn.v', attnOut: 'attention.attn.o', attnLn: 'attention.LayerNorm',
};

function parseConfig(json: Record<string, unknown>, file: string, modelType: string): EncoderConfig {
  const r = new ConfigReader(json, file, DEFAULTS);
  r.encoderOnly();
  const dims = r.dims({
    vocab: 'vocab_size', hidden: 'hidden_size', layers: 'num_hidden_layers', heads: 'num_attention_heads',
    intermediate: 'intermediate_size', positions: 'max_position_embeddings',
  });
  const buckets = r.int('relative_attention_num_buckets');
  if (buckets !== BUCKETS) {
    throw r.fail(`"relative_attention_num_buckets" ${buckets} is not supported: transformers' MPNet computes its relative position buckets with ${BUCKETS} (max distance ${MAX_DISTANCE}) whatever the config says`);
  }
  if (dims.maxPositionEmbeddings < PADDING_IDX + 2) throw r.fail(`"max_position_embeddings" must be at least ${PADDING_IDX + 2}`);
  const padTokenId = r.padTokenId();
  const cfg: EncoderConfig = {
    family: 'mpnet',
    modelType,
    ...dims,
    typeVocabSize: 0,
    layerNormEps: r.layerNormEps(),
    hiddenAct: r.gelu('hidden_act'),
    positionEmbeddingType: 'absolute',
    hiddenDropout: r.probability('hidden_dropout_prob'),
    attentionDropout: r.probability('attention_probs_dropout_prob'),
    positionIds: 'after_padding',
    paddingIdx: PADDING_IDX,
    relativeAttentionBuckets: BUCKETS,
    relativeAttentionMaxDistance: MAX_DISTANCE,
    sinusoidalPositions: false,
    maxSequenceLength: dims.maxPositionEmbeddings - PADDING_IDX - 1,
  };
  if (padTokenId !== undefined) cfg.padTokenId = padTokenId;
  return cfg;
}

export const MPNET: EncoderFamilyDefinition = {
  modelTypes: ['mpnet'],
  prefixes: ['mpnet.', 'model.', 'auto_model.'],
  // MPNetClassificationHead: classifier.dense → tanh → classifier.out_proj.
  // MPNetClassificationHead: RoBERTa's head, its dropout always hidden_dropout_prob.
  classificationHead: {
    ...ROBERTA_HEAD,
    basePrefix: 'mpnet.',
    headDropout: (_r, config) => ({ beforeDense: config.hiddenDropout, beforeOut: config.hiddenDropout }),
  },
  parseConfig,
  tensorNames: (config) => ({
    embeddings: { ...bertEmbeddingNames(false), relativeBias: 'encoder.relative_attention_bias.weight' },
    layers: Array.from({ length: config.numHiddenLayers }, (_, i) => layerTensorNames('encoder.layer.', i, MPNET_LAYER)),
  }),
};
