/**
 * `config.json` → validated EncoderConfig, for every model family the engine runs (one
 * post-LayerNorm Transformer encoder with per-family embeddings): BERT (`model_type` "bert"),
 * RoBERTa / XLM-R / CamemBERT ("roberta", "xlm-roberta", "camembert"), MPNet ("mpnet") and
 * DistilBERT ("distilbert"). Each family's keys, defaults and tensor names live in
 * ./families/<family>.ts; this module dispatches on model_type and holds the field readers they
 * share.
 *
 * Keys that are absent take the defaults of the family's transformers config class (the
 * reference loads them that way too). Keys that are present must be valid. Only what our engine
 * computes exactly is accepted: an encoder (not a decoder) with absolute position embeddings
 * and the exact erf GELU; anything else is ERR_BAD_MODEL naming the field.
 */
import * as path from 'path';
import { badModel } from '../errors';
import { isObject, kindOf, readJson } from './util';
import { FAMILIES, familyOfModelType, SUPPORTED_MODEL_TYPES } from './families';

export { ConfigReader } from './config-reader';

/** The model families the engine runs (see ./families). */
export type ModelFamily = 'bert' | 'roberta' | 'mpnet' | 'distilbert';

export interface EncoderConfig {
  family: ModelFamily;
  /** config.json's model_type ('bert', 'xlm-roberta', 'camembert', …). */
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  /** Rows of the token type table; 0 when the family has none (MPNet, DistilBERT). */
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
  /**
   * How positions are numbered: 'from_zero' (BERT, DistilBERT) or 'after_padding' (RoBERTa
   * family, MPNet: the paddingIdx + 1-based count of non-padding tokens, as transformers'
   * create_position_ids_from_input_ids).
   */
  positionIds: 'from_zero' | 'after_padding';
  /** The padding index the 'after_padding' rule counts from (RoBERTa: pad_token_id; MPNet: 1). */
  paddingIdx: number;
  /** MPNet's relative attention bias: buckets (0: none) and the largest distance told apart. */
  relativeAttentionBuckets: number;
  relativeAttentionMaxDistance: number;
  /** DistilBERT's `sinusoidal_pos_embds`: a fixed position table, never trained. */
  sinusoidalPositions: boolean;
  /** The longest sequence the position embeddings can number. */
  maxSequenceLength: number;
}

/** The BERT-only name this type had; every family's config is an EncoderConfig. */
export type BertConfig = EncoderConfig;

/** Validates a parsed config.json object of any supported family (`file` is named in errors). */
export function parseEncoderConfig(json: unknown, file: string): EncoderConfig {
  if (!isObject(json)) throw badModel(file, `expected a JSON object, got ${kindOf(json)}`);
  const modelType = json.model_type;
  let type: string;
  if (modelType === undefined || modelType === null) {
    // Very old configs lack model_type; accept them only when the architectures say BERT.
    const archs = Array.isArray(json.architectures) ? json.architectures.filter((a): a is string => typeof a === 'string') : [];
    if (archs.length === 0 || !archs.every((a) => /^Bert[A-Z]\w*$/.test(a))) {
      throw badModel(file, `no "model_type" and architectures ${JSON.stringify(json.architectures ?? null)} are not BERT: give a model_type (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
    }
    type = 'bert';
  } else if (typeof modelType !== 'string' || familyOfModelType(modelType) === undefined) {
    throw badModel(file, `model_type ${JSON.stringify(modelType)} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  } else {
    type = modelType;
  }
  const family = familyOfModelType(type)!;
  return FAMILIES[family].parseConfig(json, file, type);
}

/** The BERT-only name of parseEncoderConfig (it reads every family now). */
export const parseBertConfig = parseEncoderConfig;

/** Reads `dir/config.json` (or a config.json path) and validates it. */
export async function loadEncoderConfig(dirOrFile: string): Promise<EncoderConfig> {
  const file = dirOrFile.endsWith('.json') ? dirOrFile : path.join(dirOrFile, 'config.json');
  const json = await readJson(file, 'missing config.json (the Hugging Face model configuration)');
  return parseEncoderConfig(json, file);
}

/** The BERT-only name of loadEncoderConfig. */
export const loadBertConfig = loadEncoderConfig;
