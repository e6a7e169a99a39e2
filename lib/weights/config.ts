/**
 * BERT `config.json` → validated BertConfig.
 *
 * Keys that are absent take the defaults of transformers' BertConfig (the reference loads them
 * that way too): vocab_size 30522, hidden_size 768, num_hidden_layers 12, num_attention_heads 12,
 * intermediate_size 3072, hidden_act "gelu", max_position_embeddings 512, type_vocab_size 2,
 * layer_norm_eps 1e-12, pad_token_id 0, position_embedding_type "absolute". Keys that are present
 * must be valid. Only what our engine computes exactly is accepted: an encoder (not a decoder)
 * with absolute position embeddings and the exact erf GELU.
 */
import * as path from 'path';
import { badModel } from '../errors';
import { isObject, isPositiveInt, kindOf, readJson } from './util';

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  /** Always the exact erf GELU (`gelu`, or `gelu_python`, the same function). */
  hiddenAct: 'gelu';
  padTokenId?: number;
  positionEmbeddingType: 'absolute';
  /** hidden_dropout_prob (training only). */
  hiddenDropout: number;
  /** attention_probs_dropout_prob (training only). */
  attentionDropout: number;
}

/**
 * Bounds that keep a broken config from building anything huge before the weights prove it
 * wrong (the weights must match these numbers exactly; see bertTensors).
 */
const MAX_DIM = 1 << 20;
const MAX_LAYERS = 1024;

const DEFAULTS = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
} as const;

/** hidden_act values that are exactly GELU(x) = x·Φ(x) with the erf form. */
const EXACT_GELU = new Set(['gelu', 'gelu_python']);

const TANH_GELU = new Set(['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'gelu_accurate', 'quick_gelu', 'gelu_10']);

/** Validates a parsed config.json object (`file` is named in errors). */
export function parseBertConfig(json: unknown, file: string): BertConfig {
  if (!isObject(json)) throw badModel(file, `expected a JSON object, got ${kindOf(json)}`);
  const c = json;

  const modelType = c.model_type;
  const archs = Array.isArray(c.architectures) ? c.architectures.filter((a): a is string => typeof a === 'string') : [];
  if (modelType === undefined || modelType === null) {
    // Very old configs lack model_type; accept them only when the architectures say BERT.
    if (archs.length === 0 || !archs.every((a) => /^Bert[A-Z]\w*$/.test(a))) {
      throw badModel(file, `no "model_type" and architectures ${JSON.stringify(c.architectures ?? null)} are not BERT: sbert-native runs BERT encoders only (model_type "bert")`);
    }
  } else if (modelType !== 'bert') {
    throw badModel(file, `model_type ${JSON.stringify(modelType)} is not supported: sbert-native runs BERT encoders only (model_type "bert")`);
  }
  if (c.is_decoder === true) throw badModel(file, '"is_decoder": true (a causal BERT decoder) is not supported; only the bidirectional encoder is');
  if (c.add_cross_attention === true) throw badModel(file, '"add_cross_attention": true is not supported');

  const int = (key: keyof typeof DEFAULTS, min = 1, max = MAX_DIM): number => {
    const v = c[key];
    if (v === undefined || v === null) return DEFAULTS[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      throw badModel(file, `"${key}" must be an integer in [${min}, ${max}], got ${typeof v === 'number' ? v : kindOf(v)}`);
    }
    return v;
  };

  const vocabSize = int('vocab_size', 1, 1 << 24);
  const hiddenSize = int('hidden_size');
  const numHiddenLayers = int('num_hidden_layers', 0, MAX_LAYERS);
  const numAttentionHeads = int('num_attention_heads');
  const intermediateSize = int('intermediate_size');
  const maxPositionEmbeddings = int('max_position_embeddings', 2);
  const typeVocabSize = int('type_vocab_size');
  if (hiddenSize % numAttentionHeads !== 0) {
    throw badModel(file, `hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numAttentionHeads}`);
  }

  let layerNormEps: number = DEFAULTS.layer_norm_eps;
  if (c.layer_norm_eps !== undefined && c.layer_norm_eps !== null) {
    const e = c.layer_norm_eps;
    // fp32 arithmetic: an eps that is not a normal positive fp32 below 1 is a broken config.
    if (typeof e !== 'number' || !Number.isFinite(e) || e < 1.2e-38 || e >= 1) {
      throw badModel(file, `"layer_norm_eps" must be a number in [1.2e-38, 1), got ${typeof e === 'number' ? e : kindOf(e)}`);
    }
    layerNormEps = e;
  }

  const act = c.hidden_act ?? 'gelu';
  if (typeof act !== 'string' || !EXACT_GELU.has(act)) {
    const hint = typeof act === 'string' && TANH_GELU.has(act)
      ? ' (a tanh/sigmoid approximation of GELU; only the exact erf form "gelu" is implemented)'
      : ' (only "gelu", the exact erf form, is implemented)';
    throw badModel(file, `hidden_act ${typeof act === 'string' ? JSON.stringify(act) : kindOf(act)} is not supported${hint}`);
  }

  const pet = c.position_embedding_type ?? 'absolute';
  if (pet !== 'absolute') {
    throw badModel(file, `position_embedding_type ${typeof pet === 'string' ? JSON.stringify(pet) : kindOf(pet)} is not supported (only "absolute")`);
  }

  let padTokenId: number | undefined = DEFAULTS.pad_token_id;
  if (c.pad_token_id === null) padTokenId = undefined;
  else if (c.pad_token_id !== undefined) {
    const p = c.pad_token_id;
    if (typeof p !== 'number' || !Number.isSafeInteger(p) || p < 0) {
      throw badModel(file, `"pad_token_id" must be a non-negative integer or null, got ${kindOf(p)}`);
    }
    padTokenId = p;
  }

  if (c.chunk_size_feed_forward !== undefined && c.chunk_size_feed_forward !== 0 && !isPositiveInt(c.chunk_size_feed_forward)) {
    throw badModel(file, `"chunk_size_feed_forward" must be a non-negative integer, got ${kindOf(c.chunk_size_feed_forward)}`);
  }

  const prob = (key: string, fallback: number): number => {
    const v = c[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw badModel(file, `"${key}" must be a number in [0, 1), got ${kindOf(v)}`);
    return v;
  };
  const hiddenDropout = prob('hidden_dropout_prob', 0.1);
  const attentionDropout = prob('attention_probs_dropout_prob', 0.1);

  const cfg: BertConfig = {
    hiddenDropout,
    attentionDropout,
    vocabSize,
    hiddenSize,
    numHiddenLayers,
    numAttentionHeads,
    intermediateSize,
    maxPositionEmbeddings,
    typeVocabSize,
    layerNormEps,
    hiddenAct: 'gelu',
    positionEmbeddingType: 'absolute',
  };
  if (padTokenId !== undefined) cfg.padTokenId = padTokenId;
  return cfg;
}

/** Reads `dir/config.json` (or a config.json path) and validates it. */
export async function loadBertConfig(dirOrFile: string): Promise<BertConfig> {
  const file = dirOrFile.endsWith('.json') ? dirOrFile : path.join(dirOrFile, 'config.json');
  const json = await readJson(file, 'missing config.json (the Hugging Face model configuration)');
  return parseBertConfig(json, file);
}
