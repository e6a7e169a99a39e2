/**
 * Reading one config.json's fields with a family's defaults (./families use it): every
 * problem is ERR_BAD_MODEL naming the file and the key.
 */
import { badModel } from '../errors';
import { kindOf, type JsonObject } from './util';

/**
 * Bounds that keep a broken config from building anything huge before the weights prove it
 * wrong (the weights must match these numbers exactly; see encoderTensors).
 */
const MAX_DIM = 1 << 20;
const MAX_LAYERS = 1024;

/** hidden_act values that are exactly GELU(x) = x·Φ(x) with the erf form. */
const EXACT_GELU = new Set(['gelu', 'gelu_python']);
const TANH_GELU = new Set(['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'gelu_accurate', 'quick_gelu', 'gelu_10']);

/** Reads the fields of one config.json with the family's defaults; errors name the file and key. */
export class ConfigReader {
  constructor(
    readonly json: JsonObject,
    readonly file: string,
    private readonly defaults: Readonly<Record<string, number | string | boolean | null>>,
  ) {}

  /** An ERR_BAD_MODEL about this file. */
  fail(message: string): Error {
    return badModel(this.file, message);
  }

  /** The key's value, or its default when absent or null. */
  value(key: string): unknown {
    const v = this.json[key];
    return v === undefined || v === null ? this.defaults[key] : v;
  }

  int(key: string, min = 1, max = MAX_DIM): number {
    const v = this.value(key);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      throw badModel(this.file, `"${key}" must be an integer in [${min}, ${max}], got ${typeof v === 'number' ? v : kindOf(v)}`);
    }
    return v;
  }

  /** The usual sizes, under the family's key names. */
  dims(keys: { vocab: string; hidden: string; layers: string; heads: string; intermediate: string; positions: string }) {
    const d = {
      vocabSize: this.int(keys.vocab, 1, 1 << 24),
      hiddenSize: this.int(keys.hidden),
      numHiddenLayers: this.int(keys.layers, 0, MAX_LAYERS),
      numAttentionHeads: this.int(keys.heads),
      intermediateSize: this.int(keys.intermediate),
      maxPositionEmbeddings: this.int(keys.positions, 2),
    };
    if (d.hiddenSize % d.numAttentionHeads !== 0) {
      throw badModel(this.file, `${keys.hidden} ${d.hiddenSize} is not divisible by ${keys.heads} ${d.numAttentionHeads}`);
    }
    return d;
  }

  layerNormEps(key = 'layer_norm_eps'): number {
    const e = this.value(key);
    // fp32 arithmetic: an eps that is not a normal positive fp32 below 1 is a broken config.
    if (typeof e !== 'number' || !Number.isFinite(e) || e < 1.2e-38 || e >= 1) {
      throw badModel(this.file, `"${key}" must be a number in [1.2e-38, 1), got ${typeof e === 'number' ? e : kindOf(e)}`);
    }
    return e;
  }

  /** The activation must be the exact erf GELU. */
  gelu(key: string): 'gelu' {
    const act = this.value(key);
    if (typeof act !== 'string' || !EXACT_GELU.has(act)) {
      const hint = typeof act === 'string' && TANH_GELU.has(act)
        ? ' (a tanh/sigmoid approximation of GELU; only the exact erf form "gelu" is implemented)'
        : ' (only "gelu", the exact erf form, is implemented)';
      throw badModel(this.file, `${key} ${typeof act === 'string' ? JSON.stringify(act) : kindOf(act)} is not supported${hint}`);
    }
    return 'gelu';
  }

  /** A dropout probability in [0, 1). */
  probability(key: string): number {
    const v = this.value(key);
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw badModel(this.file, `"${key}" must be a number in [0, 1), got ${kindOf(v)}`);
    return v;
  }

  /** pad_token_id: a non-negative integer, or undefined when the file says null. */
  padTokenId(): number | undefined {
    if (this.json.pad_token_id === null) return undefined;
    const p = this.value('pad_token_id');
    if (p === undefined) return undefined;
    if (typeof p !== 'number' || !Number.isSafeInteger(p) || p < 0) {
      throw badModel(this.file, `"pad_token_id" must be a non-negative integer or null, got ${kindOf(p)}`);
    }
    return p;
  }

  /** Only absolute position embeddings are computed. */
  absolutePositions(): 'absolute' {
    const pet = this.value('position_embedding_type') ?? 'absolute';
    if (pet !== 'absolute') {
      throw badModel(this.file, `position_embedding_type ${typeof pet === 'string' ? JSON.stringify(pet) : kindOf(pet)} is not supported (only "absolute")`);
    }
    return 'absolute';
  }

  /** An encoder: no decoder, no cross-attention, no chunking we would have to honour. */
  encoderOnly(): void {
    if (this.json.is_decoder === true) throw badModel(this.file, '"is_decoder": true (a causal decoder) is not supported; only the bidirectional encoder is');
    if (this.json.add_cross_attention === true) throw badModel(this.file, '"add_cross_attention": true is not supported');
    const c = this.json.chunk_size_feed_forward;
    if (c !== undefined && c !== null && c !== 0 && !(typeof c === 'number' && Number.isSafeInteger(c) && c > 0)) {
      throw badModel(this.file, `"chunk_size_feed_forward" must be a non-negative integer, got ${kindOf(c)}`);
    }
  }
}

