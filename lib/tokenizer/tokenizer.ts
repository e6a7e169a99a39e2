/**
 * The tokenizer: one type for every family (WordPiece, Unigram, BPE), giving the ids Hugging
 * Face `tokenizers` gives, on every input. The text pipeline (added tokens, normalizer,
 * pre-tokenizer, model) is a strategy chosen from the spec: BERT's fused fast path
 * (bert.ts) or the general component chain (composed.ts). This class owns what all families
 * share: truncation (HF's, right or left, longest-first for pairs), post-processing templates,
 * packing for the engine (no padding, cuSeqlens), decoding, vocabulary lookups.
 */
import { BertPipeline } from './bert';
import { ComposedPipeline } from './composed';
import { Decoder } from './decoders';
import type { TextPipeline } from './pipeline';
import type { TemplatePiece, TokenizerSpec } from './spec';

export interface Encoding {
  ids: Int32Array;
  typeIds: Int32Array;
}

export interface BatchEncoding extends Encoding {
  /** Length n + 1: sequence i is ids[cuSeqlens[i], cuSeqlens[i + 1]). */
  cuSeqlens: Int32Array;
}

/** Which end truncation removes tokens from (HF truncation_direction). */
export type TruncationSide = 'right' | 'left';

export interface EncodeOptions {
  /** Total length including special tokens (truncation, as sentence-transformers asks HF). */
  maxLength?: number;
  addSpecialTokens?: boolean;
  /** 'right' (default) keeps the start of the text; 'left' keeps its end (special tokens stay). */
  truncationSide?: TruncationSide;
}

export interface BatchOptions {
  /** Total length of each sequence including special tokens (truncation). */
  maxLength?: number;
  /** Index of texts[0] in the caller's list; error messages name texts[indexOffset + i]. */
  indexOffset?: number;
  /** 'right' (default) keeps the start of each text; 'left' keeps its end. */
  truncationSide?: TruncationSide;
}

export interface PairOptions {
  /** Total length of each pair including special tokens (longest-first truncation). */
  maxLength?: number;
  /** 'right' (default) keeps the start of each text; 'left' keeps its end. */
  truncationSide?: TruncationSide;
}

export interface PairBatchOptions extends PairOptions {
  /** Index of pairs[0] in the caller's list; error messages name pairs[indexOffset + i]. */
  indexOffset?: number;
}

/** The model family of a tokenizer. */
export type TokenizerFamily = 'WordPiece' | 'Unigram' | 'BPE';

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** The options argument of a public method: undefined means {}; anything else must be an object. */
function checkOptions<T extends object>(opts: T | undefined, argName = 'options'): Partial<T> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`${argName} must be an object (got ${typeName(opts)})`);
  }
  return opts;
}

function checkBoolean(v: unknown, argName: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new TypeError(`${argName} must be a boolean (got ${typeName(v)})`);
  return v;
}

function checkSide(v: unknown): TruncationSide {
  if (v === undefined) return 'right';
  if (v !== 'right' && v !== 'left') throw new TypeError(`truncationSide must be 'right' or 'left' (got ${typeof v === 'string' ? JSON.stringify(v) : typeName(v)})`);
  return v;
}

/** Largest token id HF can take (ids are u32 there); larger ones cannot name any token. */
const MAX_TOKEN_ID = 0xffffffff;

function checkIndexOffset(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new TypeError(`indexOffset must be a non-negative integer (got ${typeName(v) === 'number' ? v : typeName(v)})`);
  }
  return v;
}

function checkMaxLength(v: unknown, argName: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new TypeError(`${argName} must be a non-negative integer (got ${typeName(v) === 'number' ? v : typeName(v)})`);
  }
  return v;
}

/** HF truncate_encodings, LongestFirst, with the special tokens already taken off: kept lengths. */
function longestFirst(n1: number, n2: number, budget: number): [number, number] {
  if (budget === Infinity || n1 + n2 <= budget) return [n1, n2];
  if (budget === 0) return [0, 0];
  const swap = n1 > n2;
  if (swap) [n1, n2] = [n2, n1];
  n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  return swap ? [n2, n1] : [n1, n2];
}

/** A growable pair of id / type id arrays (the packed result of encodePairBatch). */
class PackedIds {
  ids = new Int32Array(4096);
  typeIds = new Int32Array(4096);
  n = 0;
  reserve(extra: number): void {
    if (this.n + extra <= this.ids.length) return;
    let cap = this.ids.length * 2;
    while (cap < this.n + extra) cap *= 2;
    const a = new Int32Array(cap);
    a.set(this.ids.subarray(0, this.n));
    const b = new Int32Array(cap);
    b.set(this.typeIds.subarray(0, this.n));
    this.ids = a;
    this.typeIds = b;
  }
}

/**
 * A tokenizer identical to Hugging Face `tokenizers` for WordPiece (BERT, MPNet, …), Unigram
 * (XLM-R, sentencepiece) and byte-level BPE (RoBERTa, GPT-2) tokenizer.json files. Create it
 * with `loadTokenizer(dir)`; `encodeBatch` gives the packed form the engine takes.
 */
export class Tokenizer {
  /** Plain data: `new Tokenizer(spec)` makes the same tokenizer again (e.g. in a worker thread). */
  readonly spec: TokenizerSpec;
  /** First special token of the single template ([CLS], <s>), else a well-known one, else -1. */
  readonly clsId: number;
  /** Last special token of the single template ([SEP], </s>), else a well-known one, else -1. */
  readonly sepId: number;
  /** [PAD] / <pad>, else 0. */
  readonly padId: number;
  /** The unknown token's id, or -1 when the model has none. */
  readonly unkId: number;
  /** tokenizer_config.json model_max_length (or the loader's override), when meaningful. */
  readonly modelMaxLength: number | undefined;
  /** Number of token ids in use (model vocabulary plus added tokens). */
  readonly vocabSize: number;
  /** The largest id the tokenizer can give (model vocabulary, added and template tokens). */
  readonly maxTokenId: number;

  private readonly p: TextPipeline;
  private readonly decoder: Decoder;
  private readonly idToTok: Array<string | undefined>;
  /** Added tokens by content (model tokens are looked up in the pipeline). */
  private readonly addedToId = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  private readonly singleTpl: TemplatePiece[];
  private readonly pairTpl: TemplatePiece[];
  private readonly nAddedSingle: number;
  private readonly nAddedPair: number;
  private readonly prefixIds: Int32Array;
  private readonly suffixIds: Int32Array;
  private readonly singleTypesZero: boolean;

  constructor(spec: TokenizerSpec) {
    this.spec = spec;
    const p = BertPipeline.accepts(spec) ? new BertPipeline(spec) : new ComposedPipeline(spec);
    this.p = p;
    this.decoder = new Decoder(spec.decoder, spec.source);

    // id -> token: model vocabulary, then added tokens
    let maxId = -1;
    p.forEachModelToken((_, id) => {
      if (id > maxId) maxId = id;
    });
    for (const t of spec.addedTokens) if (t.id > maxId) maxId = t.id;
    this.idToTok = maxId < 1 << 24 ? new Array(maxId + 1) : [];
    p.forEachModelToken((tok, id) => {
      this.idToTok[id] = tok;
    });
    for (const t of spec.addedTokens) {
      this.addedToId.set(t.content, t.id);
      // HF gives (and decodes) a normalized added token as its normalized content
      this.idToTok[t.id] = t.normalized ? p.normalizeContent(t.content) : t.content;
      if (t.special) this.specialIds.add(t.id);
    }
    let size = 0;
    for (let i = 0; i < this.idToTok.length; i++) if (this.idToTok[i] !== undefined) size++;
    this.vocabSize = size;
    let maxTemplateId = -1;
    for (const x of [...(spec.postProcessor?.single ?? []), ...(spec.postProcessor?.pair ?? [])]) {
      if (x.kind === 'special') for (const id of x.ids) if (id > maxTemplateId) maxTemplateId = id;
    }
    this.maxTokenId = Math.max(maxId, maxTemplateId);
    const m = spec.model;
    this.unkId =
      m.type === 'Unigram' ? m.unkId : m.type === 'WordPiece' ? (this.tokenToId(m.unkToken) ?? -1) : m.unkToken === null ? -1 : (this.tokenToId(m.unkToken) ?? -1);

    // post-processing
    const pp = spec.postProcessor ?? {
      single: [{ kind: 'sequence', seq: 0, typeId: 0 }],
      pair: [
        { kind: 'sequence', seq: 0, typeId: 0 },
        { kind: 'sequence', seq: 1, typeId: 1 },
      ],
    };
    this.singleTpl = pp.single;
    this.pairTpl = pp.pair;
    const countAdded = (tpl: TemplatePiece[]) => tpl.reduce((s, x) => s + (x.kind === 'special' ? x.ids.length : 0), 0);
    this.nAddedSingle = countAdded(this.singleTpl);
    this.nAddedPair = countAdded(this.pairTpl);
    const seqAt = this.singleTpl.findIndex((x) => x.kind === 'sequence');
    const flatIds = (tpl: TemplatePiece[]) => Int32Array.from(tpl.flatMap((x) => (x.kind === 'special' ? x.ids : [])));
    this.prefixIds = flatIds(this.singleTpl.slice(0, seqAt));
    this.suffixIds = flatIds(this.singleTpl.slice(seqAt + 1));
    this.singleTypesZero = this.singleTpl.every((x) => x.typeId === 0);

    this.clsId = this.findSpecial(['[CLS]', '<s>'], 0);
    this.sepId = this.findSpecial(['[SEP]', '</s>'], -1);
    this.padId = this.tokenToId('[PAD]') ?? this.tokenToId('<pad>') ?? 0;
    this.modelMaxLength = spec.modelMaxLength;
  }

  /** The model family: 'WordPiece', 'Unigram' or 'BPE'. */
  get family(): TokenizerFamily {
    return this.spec.model.type;
  }

  /** The first / last special id of the single template, else a well-known token. */
  private findSpecial(names: string[], which: 0 | -1): number {
    const specials = this.singleTpl.filter((x) => x.kind === 'special') as Array<{ ids: number[] }>;
    if (specials.length) {
      const s = which === 0 ? specials[0] : specials[specials.length - 1];
      if (s.ids.length) return which === 0 ? s.ids[0] : s.ids[s.ids.length - 1];
    }
    for (const n of names) {
      const id = this.tokenToId(n);
      if (id !== undefined) return id;
    }
    return -1;
  }

  // ---------------------------------------------------------------- public API

  /** The id of a vocabulary or added token, or undefined. */
  tokenToId(token: string): number | undefined {
    const added = this.addedToId.get(token);
    if (added !== undefined) return added;
    const id = this.p.modelTokenToId(token);
    return id < 0 ? undefined : id;
  }

  /** The token string of an id, or undefined when the id is not in the vocabulary. */
  idToToken(id: number): string | undefined {
    return this.idToTok[id];
  }

  /**
   * Whether `id` is a special token (transformers' `all_special_ids`): an added token marked
   * special, or the cls, sep, pad or unk token.
   */
  isSpecialId(id: number): boolean {
    return id >= 0 && (this.specialIds.has(id) || id === this.clsId || id === this.sepId || id === this.padId || id === this.unkId);
  }

  /** How many special tokens the post-processor adds to a single text (or a pair). */
  numSpecialTokens(pair = false): number {
    return pair ? this.nAddedPair : this.nAddedSingle;
  }

  /**
   * Token ids (with the template's special tokens unless `addSpecialTokens: false`) and token
   * type ids of one text; `maxLength` truncates as HF does (special tokens included in the
   * count), from the end (`truncationSide: 'right'`, default) or the start ('left').
   * @throws TypeError when `text` is not a string or an option is malformed
   */
  encode(text: string, options?: EncodeOptions): Encoding {
    if (typeof text !== 'string') throw new TypeError(`text is not a string (got ${typeName(text)})`);
    const opts = checkOptions(options);
    const maxLength = checkMaxLength(opts.maxLength, 'maxLength');
    const addSpecial = checkBoolean(opts.addSpecialTokens, 'addSpecialTokens') !== false;
    const side = checkSide(opts.truncationSide);
    const p = this.p;
    const nAdded = addSpecial ? this.nAddedSingle : 0;
    if (addSpecial && this.singleTypesZero) {
      // [prefix] tokens [suffix] straight into place
      const pre = this.prefixIds;
      const suf = this.suffixIds;
      p.n = 0;
      p.pushAll(pre);
      this.sequence(text, maxLength, nAdded, side);
      p.pushAll(suf);
      const ids = p.out.slice(0, p.n);
      p.shrink();
      return { ids, typeIds: new Int32Array(ids.length) };
    }
    p.n = 0;
    this.sequence(text, maxLength, nAdded, side);
    const seq = p.out.slice(0, p.n);
    p.shrink();
    if (!addSpecial) return { ids: seq, typeIds: new Int32Array(seq.length) };
    return this.applyTemplate(this.singleTpl, seq, null);
  }

  /**
   * A pair with the pair template (`[CLS] a [SEP] b [SEP]`, type ids 0/1; `<s> a </s></s> b </s>`);
   * `maxLength` truncates longest-first, as HF does.
   * @throws TypeError when `a` or `b` is not a string or an option is malformed
   */
  encodePair(a: string, b: string, options?: PairOptions): Encoding {
    if (typeof a !== 'string') throw new TypeError(`a is not a string (got ${typeName(a)})`);
    if (typeof b !== 'string') throw new TypeError(`b is not a string (got ${typeName(b)})`);
    const opts = checkOptions(options);
    const maxLength = checkMaxLength(opts.maxLength, 'maxLength');
    const side = checkSide(opts.truncationSide);
    const [ea, eb] = this.pairIds(a, b, maxLength, side);
    return this.applyTemplate(this.pairTpl, ea, eb);
  }

  /**
   * Encode many texts into one packed array (no padding): sequence i is
   * ids[cuSeqlens[i], cuSeqlens[i + 1]). `indexOffset` is where texts[0] sits in the caller's
   * own list, so that a bad element is named by its index there (texts[indexOffset + i]).
   * @throws TypeError when `texts` is not an array of strings or an option is malformed
   */
  encodeBatch(texts: string[], options?: BatchOptions): BatchEncoding {
    if (!Array.isArray(texts)) throw new TypeError(`texts is not an array (got ${typeName(texts)})`);
    const opts = checkOptions(options);
    const maxLength = checkMaxLength(opts.maxLength, 'maxLength');
    const offset = checkIndexOffset(opts.indexOffset);
    const side = checkSide(opts.truncationSide);
    const count = texts.length;
    for (let i = 0; i < count; i++) {
      const t = texts[i];
      if (typeof t !== 'string') throw new TypeError(`texts[${offset + i}] is not a string (got ${typeName(t)})`);
    }
    const cu = new Int32Array(count + 1);
    const pre = this.prefixIds;
    const suf = this.suffixIds;
    const p = this.p;
    p.n = 0;
    for (let i = 0; i < count; i++) {
      p.pushAll(pre);
      this.sequence(texts[i], maxLength, this.nAddedSingle, side);
      p.pushAll(suf);
      cu[i + 1] = p.n;
    }
    const ids = p.out.slice(0, p.n);
    const typeIds = new Int32Array(p.n);
    if (!this.singleTypesZero) {
      for (let i = 0; i < count; i++) {
        const one = this.applyTemplate(this.singleTpl, ids.subarray(cu[i] + pre.length, cu[i + 1] - suf.length), null);
        typeIds.set(one.typeIds, cu[i]);
      }
    }
    p.shrink();
    return { ids, typeIds, cuSeqlens: cu };
  }

  /**
   * Encode many pairs (cross-encoder inputs) into one packed array, each with the pair template
   * and its type ids, truncated longest-first to `maxLength` as HF does.
   * @throws TypeError when `pairs` is not an array of [string, string] or an option is malformed
   */
  encodePairBatch(pairs: Array<[string, string]>, options?: PairBatchOptions): BatchEncoding {
    if (!Array.isArray(pairs)) throw new TypeError(`pairs is not an array (got ${typeName(pairs)})`);
    const opts = checkOptions(options);
    const maxLength = checkMaxLength(opts.maxLength, 'maxLength');
    const offset = checkIndexOffset(opts.indexOffset);
    const side = checkSide(opts.truncationSide);
    for (let i = 0; i < pairs.length; i++) {
      const pr = pairs[i] as unknown;
      if (!Array.isArray(pr) || pr.length !== 2) {
        throw new TypeError(`pairs[${offset + i}] is not a [string, string] pair (got ${Array.isArray(pr) ? `an array of ${pr.length}` : typeName(pr)})`);
      }
      for (const k of [0, 1]) {
        if (typeof pr[k] !== 'string') throw new TypeError(`pairs[${offset + i}][${k}] is not a string (got ${typeName(pr[k])})`);
      }
    }
    const out = new PackedIds();
    const cu = new Int32Array(pairs.length + 1);
    for (let i = 0; i < pairs.length; i++) {
      const [ea, eb] = this.pairIds(pairs[i][0], pairs[i][1], maxLength, side);
      this.writeTemplate(this.pairTpl, ea, eb, out);
      cu[i + 1] = out.n;
    }
    this.p.shrink();
    return { ids: out.ids.slice(0, out.n), typeIds: out.typeIds.slice(0, out.n), cuSeqlens: cu };
  }

  /**
   * Token strings of the text, without the template's special tokens. As in HF's
   * Encoding.tokens, an added token found in the text is given as the text it matched
   * (with the whitespace lstrip / rstrip took); other tokens as their vocabulary strings.
   * @throws TypeError when `text` is not a string
   */
  tokenize(text: string): string[] {
    if (typeof text !== 'string') throw new TypeError(`text is not a string (got ${typeName(text)})`);
    const p = this.p;
    p.n = 0;
    const added = (p.addedText = new Map());
    try {
      p.tokenizeText(text, Infinity, false);
    } finally {
      p.addedText = null;
    }
    const unk = this.unkId >= 0 ? this.idToTok[this.unkId] : undefined;
    const toks: string[] = new Array(p.n);
    for (let i = 0; i < p.n; i++) toks[i] = added.get(i) ?? this.idToTok[p.out[i]] ?? unk ?? '';
    p.shrink();
    return toks;
  }

  /**
   * HF decode: ids -> tokens, then the tokenizer.json decoder (WordPiece, Metaspace, ByteLevel,
   * …; none: tokens joined by spaces). `ids` is an array or a typed array of integer ids in
   * [0, 2^32) (HF's u32); ids in that range that name no token are skipped, as HF skips them.
   * @throws TypeError when `ids` is not an array / typed array or an element is not an integer
   * @throws RangeError when an element is outside [0, 2^32)
   * @throws SbertError ERR_UNSUPPORTED_TOKENIZER when the file's decoder is not implemented
   */
  decode(ids: ArrayLike<number>, options?: { skipSpecialTokens?: boolean }): string {
    // Only real arrays: an array-like object can claim any length (Infinity would never end).
    if (!Array.isArray(ids) && !(ArrayBuffer.isView(ids) && !(ids instanceof DataView))) {
      throw new TypeError(`ids must be an array or a typed array of token ids (got ${typeName(ids)})`);
    }
    const skip = checkBoolean(checkOptions(options).skipSpecialTokens, 'skipSpecialTokens') === true;
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id: unknown = ids[i];
      if (typeof id !== 'number' || !Number.isInteger(id)) {
        throw new TypeError(`ids[${i}] is not an integer token id (got ${typeof id === 'number' ? id : typeName(id)})`);
      }
      if (id < 0 || id > MAX_TOKEN_ID) throw new RangeError(`ids[${i}] is outside the token id range [0, 2^32) (got ${id})`);
      const tok = this.idToTok[id];
      if (tok === undefined) continue;
      if (skip && this.specialIds.has(id)) continue;
      tokens.push(tok);
    }
    return this.decoder.decode(tokens);
  }

  // ---------------------------------------------------------------- internals

  /**
   * The ids of one sequence as HF gives them under truncation, appended at p.n: its early stop
   * (tokenize_with_limit: pre-tokens are tokenized until maxLength ids exist, from the end for
   * 'left'), then truncation to maxLength - nAdded on that side. When maxLength < nAdded HF
   * does not truncate at all (usize wrap-around in max_length - added) but still stops early:
   * reproduced as is. nAdded = Infinity: the early stop alone (pairs truncate afterwards).
   */
  private sequence(text: string, maxLength: number | undefined, nAdded: number, side: TruncationSide): void {
    const p = this.p;
    if (maxLength === undefined) {
      p.tokenizeText(text, Infinity, false);
      return;
    }
    if (side === 'right') {
      if (maxLength >= nAdded) {
        const end = p.n + maxLength - nAdded;
        p.tokenizeText(text, end, false);
        if (p.n > end) p.n = end;
      } else {
        p.tokenizeText(text, p.n + maxLength, true);
      }
      return;
    }
    // left: tokenize everything, then keep what HF's backwards early stop keeps
    const base = p.n;
    let from: number;
    p.startSplitLog();
    try {
      p.tokenizeText(text, Infinity, true);
      const count = p.splitCount;
      let first = count;
      let total = 0;
      for (let k = count - 1; k >= 0; k--) {
        const end = k + 1 < count ? p.splitStart(k + 1) : p.n;
        total += end - p.splitStart(k);
        first = k;
        if (!p.splitIsAdded(k) && total >= maxLength) break;
      }
      from = first < count ? p.splitStart(first) : p.n;
    } finally {
      p.stopSplitLog();
    }
    if (maxLength >= nAdded) from = Math.max(from, p.n - (maxLength - nAdded));
    if (from > base) {
      p.out.copyWithin(base, from, p.n);
      p.n = base + (p.n - from);
    }
  }

  /** Ids of both sides of a pair, truncated as HF does (LongestFirst on the chosen side). */
  private pairIds(a: string, b: string, maxLength: number | undefined, side: TruncationSide): [Int32Array, Int32Array] {
    const p = this.p;
    p.n = 0;
    this.sequence(a, maxLength, Infinity, side);
    const ea = p.out.slice(0, p.n);
    p.n = 0;
    this.sequence(b, maxLength, Infinity, side);
    const eb = p.out.slice(0, p.n);
    // max_length - added wraps around (no truncation) when the template alone is longer
    const budget = maxLength === undefined || maxLength < this.nAddedPair ? Infinity : maxLength - this.nAddedPair;
    const [n1, n2] = longestFirst(ea.length, eb.length, budget);
    const keep = (e: Int32Array, k: number) => (k >= e.length ? e : side === 'right' ? e.subarray(0, k) : e.subarray(e.length - k));
    return [keep(ea, n1), keep(eb, n2)];
  }

  private applyTemplate(tpl: TemplatePiece[], a: Int32Array, b: Int32Array | null): Encoding {
    const out = new PackedIds();
    this.writeTemplate(tpl, a, b, out);
    return { ids: out.ids.slice(0, out.n), typeIds: out.typeIds.slice(0, out.n) };
  }

  private writeTemplate(tpl: TemplatePiece[], a: Int32Array, b: Int32Array | null, out: PackedIds): void {
    let len = 0;
    for (const x of tpl) len += x.kind === 'special' ? x.ids.length : x.seq === 0 ? a.length : b ? b.length : 0;
    out.reserve(len);
    let k = out.n;
    const { ids, typeIds } = out;
    for (const x of tpl) {
      if (x.kind === 'special') {
        for (const id of x.ids) {
          typeIds[k] = x.typeId;
          ids[k++] = id;
        }
      } else {
        const s = x.seq === 0 ? a : b;
        if (!s) continue;
        ids.set(s, k);
        typeIds.fill(x.typeId, k, k + s.length);
        k += s.length;
      }
    }
    out.n = k;
  }
}

/**
 * The tokenizer of BERT-style models; the same type as Tokenizer (kept so that existing
 * imports keep working).
 */
export const BertTokenizer = Tokenizer;
export type BertTokenizer = Tokenizer;
