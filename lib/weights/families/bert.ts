/**
 * BERT (`model_type` "bert") and the RoBERTa family ("roberta", "xlm-roberta", "camembert"):
 * the same config keys and tensor names. RoBERTa's differences: positions numbered after the
 * padding index (pad_token_id), usually a one-row token type table, other defaults.
 *
 * Defaults are transformers' BertConfig / RobertaConfig / XLMRobertaConfig / CamembertConfig
 * ones: vocab_size 30522 (RoBERTa 50265), hidden_size 768, num_hidden_layers 12,
 * num_attention_heads 12, intermediate_size 3072, hidden_act "gelu", max_position_embeddings
 * 512, type_vocab_size 2, layer_norm_eps 1e-12, pad_token_id 0 (RoBERTa family 1),
 * position_embedding_type "absolute", dropouts 0.1.
 */
import type { EncoderConfig } from '../config';
import { ConfigReader } from '../config-reader';
import { bertEmbeddingNames, bertLayerNames, type ClassificationHead, type EncoderFamilyDefinition } from './layout';

const BERT_DEFAULTS = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
};

const ROBERTA_DEFAULTS = { ...BERT_DEFAULTS, vocab_size: 50265, pad_token_id: 1 };

const BERT_KEYS = {
  vocab: 'vocab_size', hidden: 'hidden_size', layers: 'num_hidden_layers', heads: 'num_attention_heads',
  intermediate: 'intermediate_size', positions: 'max_position_embeddings',
};

/** The config of a BERT-keyed model, positions numbered from zero or after the padding index. */
function parseBertKeyed(json: Record<string, unknown>, file: string, modelType: string, roberta: boolean): EncoderConfig {
  const r = new ConfigReader(json, file, roberta ? ROBERTA_DEFAULTS : BERT_DEFAULTS);
  r.encoderOnly();
  const dims = r.dims(BERT_KEYS);
  const padTokenId = r.padTokenId();
  let paddingIdx = 0;
  if (roberta) {
    // transformers' RobertaEmbeddings: padding_idx = config.pad_token_id.
    if (padTokenId === undefined) throw r.fail('"pad_token_id" must be set: RoBERTa numbers positions after it');
    if (padTokenId + 2 > dims.maxPositionEmbeddings) {
      throw r.fail(`pad_token_id ${padTokenId} leaves no position (max_position_embeddings ${dims.maxPositionEmbeddings})`);
    }
    paddingIdx = padTokenId;
  }
  const cfg: EncoderConfig = {
    family: roberta ? 'roberta' : 'bert',
    modelType,
    ...dims,
    typeVocabSize: r.int('type_vocab_size'),
    layerNormEps: r.layerNormEps(),
    hiddenAct: r.gelu('hidden_act'),
    positionEmbeddingType: r.absolutePositions(),
    hiddenDropout: r.probability('hidden_dropout_prob'),
    attentionDropout: r.probability('attention_probs_dropout_prob'),
    positionIds: roberta ? 'after_padding' : 'from_zero',
    paddingIdx,
    relativeAttentionBuckets: 0,
    relativeAttentionMaxDistance: 0,
    sinusoidalPositions: false,
    maxSequenceLength: roberta ? dims.maxPositionEmbeddings - paddingIdx - 1 : dims.maxPositionEmbeddings,
  };
  if (padTokenId !== undefined) cfg.padTokenId = padTokenId;
  return cfg;
}

/** RobertaClassificationHead (XLM-R, CamemBERT too): classifier.dense → tanh → classifier.out_proj. */
/** transformers' `classifier_dropout`, or `hidden_dropout_prob` when it is absent or null. */
export function classifierDropout(r: ConfigReader, config: EncoderConfig): number {
  const v = r.json.classifier_dropout;
  return v === undefined || v === null ? config.hiddenDropout : r.probability('classifier_dropout');
}

// RobertaClassificationHead: dropout → dense → tanh → dropout → out_proj on the first token.
export const ROBERTA_HEAD: ClassificationHead = {
  basePrefix: 'roberta.',
  dense: { weight: 'classifier.dense.weight', bias: 'classifier.dense.bias' },
  activation: 'tanh',
  out: { weight: 'classifier.out_proj.weight', bias: 'classifier.out_proj.bias' },
  headDropout: (r, config) => {
    const p = classifierDropout(r, config);
    return { beforeDense: p, beforeOut: p };
  },
};

export const BERT: EncoderFamilyDefinition = {
  modelTypes: ['bert'],
  prefixes: ['bert.', 'model.', 'auto_model.'],
  // BertForSequenceClassification: the pooler (dense + tanh on [CLS]), dropout, the classifier.
  classificationHead: {
    basePrefix: 'bert.',
    dense: { weight: 'pooler.dense.weight', bias: 'pooler.dense.bias' },
    activation: 'tanh',
    out: { weight: 'classifier.weight', bias: 'classifier.bias' },
    headDropout: (r, config) => ({ beforeDense: 0, beforeOut: classifierDropout(r, config) }),
  },
  parseConfig: (json, file, modelType) => parseBertKeyed(json, file, modelType, false),
  tensorNames: (config) => ({
    embeddings: bertEmbeddingNames(true),
    layers: Array.from({ length: config.numHiddenLayers }, (_, i) => bertLayerNames(i)),
  }),
};

export const ROBERTA: EncoderFamilyDefinition = {
  modelTypes: ['roberta', 'xlm-roberta', 'camembert'],
  prefixes: ['roberta.', 'xlm_roberta.', 'camembert.', 'model.', 'auto_model.'],
  classificationHead: ROBERTA_HEAD,
  parseConfig: (json, file, modelType) => parseBertKeyed(json, file, modelType, true),
  tensorNames: (config) => ({
    embeddings: bertEmbeddingNames(true),
    layers: Array.from({ length: config.numHiddenLayers }, (_, i) => bertLayerNames(i)),
  }),
};
