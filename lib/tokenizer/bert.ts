/**
 * BERT tokenizer (BertNormalizer + BertPreTokenizer + WordPiece + template post-processing)
 * giving the ids Hugging Face `tokenizers` gives, on every input.
 *
 * How it is fast:
 * - ASCII runs are normalized, pre-tokenized and hashed in one pass over the string with
 *   char-code tables; only a "raw word" holding a non-ASCII code unit goes through the exact
 *   Unicode normalizer (unicode.ts), and is then scanned the same way.
 * - Words are never materialized as strings: the word's code units go into a scratch
 *   Uint16Array while its hash is computed, and vocabulary / cache lookups read that slice.
 * - A bounded cache maps words that are not single vocabulary entries to their WordPiece ids.
 * - Ids are written into one growable Int32Array; encodeBatch packs all texts into it.
 * - With maxLength, tokenization stops as soon as enough tokens exist.
 */
import { SbertError } from '../errors';
import { AddedMatcher, AddedTokenSpec } from './added';
import { StrTable, HASH_MUL, hashRange } from './strtable';
import {
  BMP_FLAGS,
  F_PUNCT,
  F_SPLIT_WS,
  F_REMOVED,
  F_CLEAN_WS,
  astralFlags,
  normalizeInto,
  normalizeString,
  starterCut,
  NormalizerOptions,
} from './unicode';

/** One element of a post-processing template. */
export type TemplatePiece =
  | { kind: 'special'; ids: number[]; tokens: string[]; typeId: number }
  | { kind: 'sequence'; seq: 0 | 1; typeId: number };

export interface PostProcessorSpec {
  single: TemplatePiece[];
  pair: TemplatePiece[];
}

export type DecoderSpec =
  | { type: 'WordPiece'; prefix: string; cleanup: boolean }
  | { type: 'none' }
  | { type: 'unsupported'; name: string };

/** Everything a tokenizer is made of; plain data, so it can be sent to worker threads. */
export interface TokenizerSpec {
  /** Model vocabulary: tokens[i] has id ids[i]. */
  vocab: { tokens: string[]; ids: number[] };
  unkToken: string;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
  /** null: no normalizer. */
  normalizer: NormalizerOptions | null;
  addedTokens: AddedTokenSpec[];
  /** null: no special tokens are added. */
  postProcessor: PostProcessorSpec | null;
  decoder: DecoderSpec;
  modelMaxLength?: number;
  /** Named in error messages. */
  source: string;
}

export interface Encoding {
  ids: Int32Array;
  typeIds: Int32Array;
}

export interface BatchEncoding extends Encoding {
  /** Length n + 1: sequence i is ids[cuSeqlens[i], cuSeqlens[i + 1]). */
  cuSeqlens: Int32Array;
}

/** Which end truncation cuts: 'right' keeps the first tokens (the default), 'left' the last; the special tokens stay either way. */
export type TruncationSide = 'left' | 'right';

export interface BatchOptions {
  /** Total length of each sequence including special tokens (truncation). */
  maxLength?: number;
  /** Which end `maxLength` cuts (HF `truncation_side`); default 'right'. */
  truncationSide?: TruncationSide;
  /** Index of texts[0] in the caller's list; error messages name texts[indexOffset + i]. */
  indexOffset?: number;
}

export interface EncodeOptions {
  /** Total length including special tokens (truncation, as sentence-transformers asks HF). */
  maxLength?: number;
  /** Which end `maxLength` cuts (HF `truncation_side`); default 'right'. */
  truncationSide?: TruncationSide;
  addSpecialTokens?: boolean;
}

// character classes of the ASCII fast path
const C_WORD = 0;
const C_SPACE = 1;
const C_PUNCT = 2;
const C_REMOVED = 3;

const CACHE_MAX_ENTRIES = 1 << 17;
/** Slow-path regions longer than this are normalized in pieces. */
const SLOW_CHUNK = 4096;
const CACHE_MAX_POOL = 1 << 21;

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

/** Largest token id HF can take (ids are u32 there); larger ones cannot name any token. */
const MAX_TOKEN_ID = 0xffffffff;

function checkIndexOffset(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new TypeError(`indexOffset must be a non-negative integer (got ${typeName(v) === 'number' ? v : typeName(v)})`);
  }
  return v;
}

function checkTruncationSide(v: unknown, argName: string): TruncationSide {
  if (v === undefined || v === 'right') return 'right';
  if (v === 'left') return 'left';
  throw new TypeError(`${argName} must be 'left' or 'right' (got ${typeof v === 'string' ? JSON.stringify(v) : typeName(v)})`);
}

function checkMaxLength(v: unknown, argName: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new TypeError(`${argName} must be a non-negative integer (got ${typeName(v) === 'number' ? v : typeName(v)})`);
  }
  return v;
}

/**
 * The BERT WordPiece tokenizer, identical to Hugging Face `tokenizers` (BertNormalizer,
 * BertPreTokenizer, WordPiece, Template/Bert post-processing, added tokens, truncation).
 * Create it with `loadTokenizer(dir)`; `encodeBatch` gives the packed form the engine takes.
 */
export class BertTokenizer {
  readonly spec: TokenizerSpec;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;
  readonly modelMaxLength: number | undefined;
  readonly vocabSize: number;

  private readonly idToTok: Array<string | undefined>;
  /** Added tokens by content (model tokens are looked up in `start`). */
  private readonly addedToId = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  /** Whole vocabulary (lookups at the start of a word), and continuation pieces without "##". */
  private readonly start: StrTable;
  private readonly cont: StrTable;
  /** word -> ids for words that are not one vocabulary token. */
  private cache: StrTable;
  private pool: Int32Array;
  private poolLen = 0;

  private readonly asciiClass = new Uint8Array(128);
  private readonly asciiMap = new Uint8Array(128);
  private readonly asciiPunctId = new Int32Array(128);
  private readonly maxChars: number;
  private readonly norm: NormalizerOptions;
  private readonly hasNormalizer: boolean;
  private readonly addedRaw: AddedMatcher | null;
  private readonly addedNorm: AddedMatcher | null;

  private readonly singleTpl: TemplatePiece[];
  private readonly pairTpl: TemplatePiece[];
  private readonly nAddedSingle: number;
  private readonly nAddedPair: number;
  private readonly prefixIds: Int32Array;
  private readonly suffixIds: Int32Array;
  private readonly singleTypesZero: boolean;

  // scratch
  private wbuf: Uint16Array = new Uint16Array(256);
  private nbuf: Uint16Array = new Uint16Array(1024);
  private wpTmp: Int32Array = new Int32Array(256);
  private wpHash: Int32Array = new Int32Array(256);
  /** HASH_MUL^l mod 2^32 for every key length l. */
  private readonly hashPow: Int32Array;
  private out: Int32Array = new Int32Array(4096);
  private n = 0;
  private limit = Infinity;
  /** Word carried from one chunk of a slow region to the next. */
  private pendLen = 0;
  private pendCps = 0;
  private pendHash = 0;
  /** While tokenize() runs: position in out -> text an added token matched. */
  private addedText: Map<number, string> | null = null;

  constructor(spec: TokenizerSpec) {
    this.spec = spec;
    // vocabulary
    const { tokens, ids } = spec.vocab;
    this.start = new StrTable(tokens.length);
    this.cont = new StrTable(tokens.length >> 1);
    const prefix = spec.continuingSubwordPrefix;
    let maxId = -1;
    for (let i = 0; i < ids.length; i++) if (ids[i] > maxId) maxId = ids[i];
    for (const t of spec.addedTokens) if (t.id > maxId) maxId = t.id;
    this.idToTok = maxId < 1 << 24 ? new Array(maxId + 1) : [];
    for (let i = 0; i < tokens.length; i++) {
      const tok = tokens[i];
      this.idToTok[ids[i]] = tok;
      this.start.setString(tok, ids[i]);
      if (tok.startsWith(prefix)) this.cont.setString(tok.slice(prefix.length), ids[i]);
    }
    for (const t of spec.addedTokens) {
      this.addedToId.set(t.content, t.id);
      // HF gives (and decodes) a normalized added token as its normalized content
      this.idToTok[t.id] = t.normalized && spec.normalizer ? normalizeString(t.content, spec.normalizer) : t.content;
      if (t.special) this.specialIds.add(t.id);
    }
    let size = 0;
    for (let i = 0; i < this.idToTok.length; i++) if (this.idToTok[i] !== undefined) size++;
    this.vocabSize = size;
    this.unkId = this.tokenToId(spec.unkToken) ?? -1;
    this.maxChars = spec.maxInputCharsPerWord;
    const maxKey = Math.max(this.start.maxKeyLen, this.cont.maxKeyLen) + 1;
    this.hashPow = new Int32Array(maxKey + 1);
    this.hashPow[0] = 1;
    for (let l = 1; l <= maxKey; l++) this.hashPow[l] = Math.imul(this.hashPow[l - 1], HASH_MUL);
    this.cache = new StrTable(4096);
    this.pool = new Int32Array(4096);

    // normalizer
    this.hasNormalizer = spec.normalizer !== null;
    this.norm = spec.normalizer ?? { cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false };

    // ASCII tables
    for (let c = 0; c < 128; c++) {
      const f = BMP_FLAGS[c];
      let cls = C_WORD;
      if (this.norm.cleanText && f & F_REMOVED) cls = C_REMOVED;
      else if (this.norm.cleanText && f & F_CLEAN_WS) cls = C_SPACE;
      else if (f & F_SPLIT_WS) cls = C_SPACE;
      else if (f & F_PUNCT) cls = C_PUNCT;
      this.asciiClass[c] = cls;
      this.asciiMap[c] = this.norm.lowercase && c >= 65 && c <= 90 ? c + 32 : c;
    }
    for (let c = 0; c < 128; c++) {
      if (this.asciiClass[c] !== C_PUNCT) continue;
      const id = this.start.getString(String.fromCharCode(c));
      this.asciiPunctId[c] = id >= 0 ? id : this.unkId;
    }

    // added tokens
    const raw = spec.addedTokens.filter((t) => !t.normalized);
    const normd = spec.addedTokens.filter((t) => t.normalized);
    this.addedRaw = raw.length ? new AddedMatcher(raw, raw.map((t) => t.content)) : null;
    this.addedNorm = normd.length
      ? new AddedMatcher(
          normd,
          normd.map((t) => (this.hasNormalizer ? normalizeString(t.content, this.norm) : t.content)),
        )
      : null;
    if (this.addedRaw?.empty) this.addedRaw = null;
    if (this.addedNorm?.empty) this.addedNorm = null;

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
    const countAdded = (tpl: TemplatePiece[]) =>
      tpl.reduce((s, p) => s + (p.kind === 'special' ? p.ids.length : 0), 0);
    this.nAddedSingle = countAdded(this.singleTpl);
    this.nAddedPair = countAdded(this.pairTpl);
    const seqAt = this.singleTpl.findIndex((p) => p.kind === 'sequence');
    const flatIds = (tpl: TemplatePiece[]) =>
      Int32Array.from(tpl.flatMap((p) => (p.kind === 'special' ? p.ids : [])));
    this.prefixIds = flatIds(this.singleTpl.slice(0, seqAt));
    this.suffixIds = flatIds(this.singleTpl.slice(seqAt + 1));
    this.singleTypesZero = this.singleTpl.every((p) => p.typeId === 0);

    this.clsId = this.findSpecial(['[CLS]', '<s>'], 0);
    this.sepId = this.findSpecial(['[SEP]', '</s>'], -1);
    this.padId = this.tokenToId('[PAD]') ?? this.tokenToId('<pad>') ?? 0;
    this.modelMaxLength = spec.modelMaxLength;
  }

  /** The first / last special id of the single template, else a well-known token. */
  private findSpecial(names: string[], which: 0 | -1): number {
    const specials = this.singleTpl.filter((p) => p.kind === 'special') as Array<{ ids: number[] }>;
    if (specials.length) {
      const p = which === 0 ? specials[0] : specials[specials.length - 1];
      if (p.ids.length) return which === 0 ? p.ids[0] : p.ids[p.ids.length - 1];
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
    const id = this.start.getString(token);
    return id < 0 ? undefined : id;
  }

  /** The token string of an id, or undefined when the id is not in the vocabulary. */
  idToToken(id: number): string | undefined {
    return this.idToTok[id];
  }

  /**
   * Whether `id` is a special token (transformers' `all_special_ids`): an added token marked
   * special, or the [CLS], [SEP], [PAD] or [UNK] token.
   */
  isSpecialId(id: number): boolean {
    return id >= 0 && (this.specialIds.has(id) || id === this.clsId || id === this.sepId || id === this.padId || id === this.unkId);
  }

  /** How many special tokens the post-processor adds to a single text (or a pair). */
  numSpecialTokens(pair = false): number {
    return pair ? this.nAddedPair : this.nAddedSingle;
  }

  /**
   * Token ids (with [CLS]/[SEP] unless `addSpecialTokens: false`) and token type ids of one
   * text; `maxLength` truncates as HF does (special tokens included in the count).
   * @throws TypeError when `text` is not a string
   */
  encode(text: string, options?: EncodeOptions): Encoding {
    if (typeof text !== 'string') throw new TypeError(`text is not a string (got ${typeName(text)})`);
    const opts = checkOptions(options);
    const maxLength = checkMaxLength(opts.maxLength, 'maxLength');
    const side = checkTruncationSide(opts.truncationSide, 'truncationSide');
    const addSpecial = checkBoolean(opts.addSpecialTokens, 'addSpecialTokens') !== false;
    const nAdded = addSpecial ? this.nAddedSingle : 0;
    if (addSpecial && this.singleTypesZero) {
      // [prefix] tokens [suffix] straight into place
      const pre = this.prefixIds;
      const suf = this.suffixIds;
      this.n = 0;
      this.reserve(pre.length);
      this.out.set(pre, 0);
      this.n = pre.length;
      this.tokenizeTruncated(text, maxLength, nAdded, side);
      this.reserve(suf.length);
      this.out.set(suf, this.n);
      this.n += suf.length;
      const ids = this.out.slice(0, this.n);
      if (this.out.length > 1 << 16) this.shrinkScratch();
      return { ids, typeIds: new Int32Array(ids.length) };
    }
    this.n = 0;
    this.tokenizeTruncated(text, maxLength, nAdded, side);
    const seq = this.out.slice(0, this.n);
    this.shrinkScratch();
    if (!addSpecial) return { ids: seq, typeIds: new Int32Array(seq.length) };
    return this.applyTemplate(this.singleTpl, seq, null);
  }

  /**
   * `[CLS] a [SEP] b [SEP]` with token type ids 0/1; `maxLength` truncates longest-first.
   * @throws TypeError when `a` or `b` is not a string
   */
  encodePair(a: string, b: string, options?: { maxLength?: number }): Encoding {
    if (typeof a !== 'string') throw new TypeError(`a is not a string (got ${typeName(a)})`);
    if (typeof b !== 'string') throw new TypeError(`b is not a string (got ${typeName(b)})`);
    const maxLength = checkMaxLength(checkOptions(options).maxLength, 'maxLength');
    // HF (tokenizers 0.23) stops tokenizing each side after the word that reaches
    // max_length tokens, then truncates with max_length - added (no truncation at all when
    // that is negative: usize wrap-around there).
    const soft = maxLength ?? Infinity;
    const budget = maxLength === undefined || maxLength < this.nAddedPair ? Infinity : maxLength - this.nAddedPair;
    this.n = 0;
    this.tokenizeText(a, soft, true);
    let ea = this.out.slice(0, this.n);
    this.n = 0;
    this.tokenizeText(b, soft, true);
    let eb = this.out.slice(0, this.n);
    this.shrinkScratch();
    if (budget !== Infinity && ea.length + eb.length > budget) {
      // HF truncate_encodings, LongestFirst, with the special tokens already taken off
      let n1 = ea.length;
      let n2 = eb.length;
      if (budget === 0) {
        n1 = n2 = 0;
      } else {
        const swap = n1 > n2;
        if (swap) [n1, n2] = [n2, n1];
        n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
        if (n1 + n2 > budget) {
          n1 = Math.floor(budget / 2);
          n2 = n1 + (budget % 2);
        }
        if (swap) [n1, n2] = [n2, n1];
      }
      ea = ea.subarray(0, Math.min(n1, ea.length));
      eb = eb.subarray(0, Math.min(n2, eb.length));
    }
    return this.applyTemplate(this.pairTpl, ea, eb);
  }

  /**
   * Encode many texts into one packed array (no padding): sequence i is
   * ids[cuSeqlens[i], cuSeqlens[i + 1]). `indexOffset` is where texts[0] sits in the caller's
   * own list, so that a bad element is named by its index there (texts[indexOffset + i]).
   */
  encodeBatch(texts: string[], options?: BatchOptions): BatchEncoding {
    if (!Array.isArray(texts)) throw new TypeError(`texts is not an array (got ${typeName(texts)})`);
    const opts = checkOptions(options);
    const maxLength = checkMaxLength(opts.maxLength, 'maxLength');
    const side = checkTruncationSide(opts.truncationSide, 'truncationSide');
    const offset = checkIndexOffset(opts.indexOffset);
    const count = texts.length;
    for (let i = 0; i < count; i++) {
      const t = texts[i];
      if (typeof t !== 'string') throw new TypeError(`texts[${offset + i}] is not a string (got ${typeName(t)})`);
    }
    const cu = new Int32Array(count + 1);
    const pre = this.prefixIds;
    const suf = this.suffixIds;
    this.n = 0;
    for (let i = 0; i < count; i++) {
      this.reserve(pre.length);
      this.out.set(pre, this.n);
      this.n += pre.length;
      this.tokenizeTruncated(texts[i], maxLength, this.nAddedSingle, side);
      this.reserve(suf.length);
      this.out.set(suf, this.n);
      this.n += suf.length;
      cu[i + 1] = this.n;
    }
    const ids = this.out.slice(0, this.n);
    let typeIds: Int32Array;
    if (this.singleTypesZero) {
      typeIds = new Int32Array(this.n);
    } else {
      typeIds = new Int32Array(this.n);
      for (let i = 0; i < count; i++) {
        const one = this.applyTemplate(this.singleTpl, ids.subarray(cu[i] + pre.length, cu[i + 1] - suf.length), null);
        typeIds.set(one.typeIds, cu[i]);
      }
    }
    this.shrinkScratch();
    return { ids, typeIds, cuSeqlens: cu };
  }

  /**
   * Token strings of the text, without the template's special tokens. As in HF's
   * Encoding.tokens, an added token found in the text is given as the text it matched
   * (with the whitespace lstrip / rstrip took).
   */
  tokenize(text: string): string[] {
    if (typeof text !== 'string') throw new TypeError(`text is not a string (got ${typeName(text)})`);
    this.n = 0;
    const added = (this.addedText = new Map());
    try {
      this.tokenizeText(text, Infinity);
    } finally {
      this.addedText = null;
    }
    const toks: string[] = new Array(this.n);
    for (let i = 0; i < this.n; i++) toks[i] = added.get(i) ?? this.idToTok[this.out[i]] ?? this.spec.unkToken;
    this.shrinkScratch();
    return toks;
  }

  /**
   * HF decode: ids -> tokens, then the WordPiece decoder. `ids` is an array or a typed array
   * of integer ids in [0, 2^32) (HF's u32); ids in that range that name no token are skipped,
   * as HF skips them.
   * @throws TypeError when `ids` is not an array / typed array or an element is not an integer
   * @throws RangeError when an element is outside [0, 2^32)
   */
  decode(ids: ArrayLike<number>, options?: { skipSpecialTokens?: boolean }): string {
    // Only real arrays: an array-like object can claim any length (Infinity would never end).
    if (!Array.isArray(ids) && !(ArrayBuffer.isView(ids) && !(ids instanceof DataView))) {
      throw new TypeError(`ids must be an array or a typed array of token ids (got ${typeName(ids)})`);
    }
    const skip = checkBoolean(checkOptions(options).skipSpecialTokens, 'skipSpecialTokens') === true;
    const dec = this.spec.decoder;
    if (dec.type === 'unsupported') {
      throw new SbertError(
        'ERR_UNSUPPORTED_TOKENIZER',
        `${this.spec.source}: decoder type "${dec.name}" is not supported (supported: WordPiece)`,
      );
    }
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
    if (dec.type === 'none') return tokens.join(' ');
    let s = '';
    for (let i = 0; i < tokens.length; i++) {
      let t = tokens[i];
      if (i !== 0) t = t.startsWith(dec.prefix) ? t.slice(dec.prefix.length) : ' ' + t;
      if (dec.cleanup) t = cleanup(t);
      s += t;
    }
    return s;
  }

  // ---------------------------------------------------------------- internals

  /**
   * Tokenize one text (appending at n) so that, with nAdded special tokens around it, the
   * total is at most maxLength, as HF truncation does. When maxLength < nAdded HF does not
   * truncate at all (usize wrap-around in max_length - added) but still stops after the first
   * word that reaches maxLength tokens: reproduced as is. Left truncation (HF's
   * TruncationDirection::Left) keeps the last maxLength - nAdded tokens of the whole text, so
   * the text is tokenized to its end; with maxLength < nAdded it does not truncate.
   */
  private tokenizeTruncated(text: string, maxLength: number | undefined, nAdded: number, side: TruncationSide = 'right'): void {
    if (maxLength === undefined) {
      this.tokenizeText(text, Infinity);
    } else if (side === 'left') {
      const start = this.n;
      this.tokenizeText(text, Infinity);
      const keep = maxLength - nAdded;
      if (keep >= 0 && this.n - start > keep) {
        this.out.copyWithin(start, this.n - keep, this.n);
        this.n = start + keep;
      }
    } else if (maxLength >= nAdded) {
      const end = this.n + maxLength - nAdded;
      this.tokenizeText(text, end);
      if (this.n > end) this.n = end;
    } else {
      this.tokenizeText(text, this.n + maxLength, true);
    }
  }

  private applyTemplate(tpl: TemplatePiece[], a: Int32Array, b: Int32Array | null): Encoding {
    let len = 0;
    for (const p of tpl) len += p.kind === 'special' ? p.ids.length : p.seq === 0 ? a.length : b ? b.length : 0;
    const ids = new Int32Array(len);
    const typeIds = new Int32Array(len);
    let k = 0;
    for (const p of tpl) {
      if (p.kind === 'special') {
        for (const id of p.ids) {
          typeIds[k] = p.typeId;
          ids[k++] = id;
        }
      } else {
        const s = p.seq === 0 ? a : b;
        if (!s) continue;
        ids.set(s, k);
        if (p.typeId !== 0) typeIds.fill(p.typeId, k, k + s.length);
        k += s.length;
      }
    }
    return { ids, typeIds };
  }

  private reserve(extra: number): void {
    if (this.n + extra <= this.out.length) return;
    let cap = this.out.length * 2;
    while (cap < this.n + extra) cap *= 2;
    const o = new Int32Array(cap);
    o.set(this.out.subarray(0, this.n));
    this.out = o;
  }

  private shrinkScratch(): void {
    if (this.out.length > 1 << 22) this.out = new Int32Array(4096);
    if (this.nbuf.length > 1 << 20) this.nbuf = new Uint16Array(1024);
  }

  private push(id: number): void {
    if (this.n === this.out.length) this.reserve(1);
    this.out[this.n++] = id;
  }

  /**
   * Append the ids of text (no template) to out. Tokenization stops after the first word
   * (pre-tokenizer split) that brings n to `limit` or more. `soft` is HF's own early stop
   * under truncation: only model words can stop it, added tokens never do, and the caller
   * does not cut to the limit. Otherwise (hard) an added token can stop it too and the
   * caller cuts n to the limit: same ids as tokenizing everything and truncating.
   */
  private tokenizeText(text: string, limit: number, soft = false): void {
    this.limit = limit;
    this.pendLen = this.pendCps = this.pendHash = 0;
    if (!soft && this.n >= limit) return;
    const added = this.addedRaw;
    if (added === null || !added.mayMatch(text, 0, text.length)) {
      this.segment(text, 0, text.length);
      return;
    }
    added.forEachSplit(text, 0, text.length, (start, end, id) => {
      if (id < 0) return this.segment(text, start, end);
      if (this.addedText) this.addedText.set(this.n, text.slice(start, end));
      this.push(id);
      return !soft && this.n >= limit;
    });
  }

  /** A piece of raw text between added tokens; true when the limit stopped it. */
  private segment(text: string, from: number, to: number): boolean {
    if (this.addedNorm) return this.segmentWithNormalizedTokens(text, from, to);
    return this.scanRaw(text, from, to);
  }

  private segmentWithNormalizedTokens(text: string, from: number, to: number): boolean {
    const normed = normalizeString(text.slice(from, to), this.norm);
    let stopped = false;
    this.addedNorm!.forEachSplit(normed, 0, normed.length, (start, end, id) => {
      if (id >= 0) {
        if (this.addedText) this.addedText.set(this.n, normed.slice(start, end));
        this.push(id);
        return false;
      }
      let nb = this.nbuf;
      const len = end - start;
      if (nb.length < len) nb = this.nbuf = new Uint16Array(len * 2);
      for (let i = 0; i < len; i++) nb[i] = normed.charCodeAt(start + i);
      stopped = this.scanNormalized(nb, 0, len);
      return stopped;
    });
    return stopped;
  }

  /**
   * Fast path over raw text: ASCII is normalized on the fly (lowercase, control characters
   * removed, whitespace and punctuation split). A raw word holding a non-ASCII code unit is
   * handed, from its start to the next ASCII space or punctuation, to the exact normalizer.
   * Such a cut is safe: ASCII space and punctuation are starters that no normalization step
   * merges with their neighbours, and they end words in the pre-tokenizer.
   */
  private scanRaw(text: string, from: number, to: number): boolean {
    const cls = this.asciiClass;
    const map = this.asciiMap;
    const limit = this.limit;
    let wbuf = this.wbuf;
    let wcap = wbuf.length;
    let wlen = 0;
    let h = 0;
    let wordStart = from;
    let i = from;
    while (i < to) {
      const c = text.charCodeAt(i);
      if (c < 128) {
        const k = cls[c];
        if (k === C_WORD) {
          const m = map[c];
          if (wlen < wcap) wbuf[wlen] = m;
          else if (wlen < this.maxChars + 1) {
            wbuf = this.growWord(wlen + 1);
            wcap = wbuf.length;
            wbuf[wlen] = m;
          }
          wlen++;
          h = (Math.imul(h, HASH_MUL) + m) | 0;
        } else if (k !== C_REMOVED) {
          if (wlen > 0) {
            this.emitWord(wlen, h, wlen);
            wlen = 0;
            h = 0;
            if (this.n >= limit) return true;
          }
          if (k === C_PUNCT) {
            const pid = this.asciiPunctId[c];
            this.push(pid >= 0 ? pid : this.unk());
            if (this.n >= limit) return true;
          }
          wordStart = i + 1;
        }
        i++;
      } else {
        let q = i + 1;
        while (q < to) {
          const d = text.charCodeAt(q);
          if (d < 128 && (cls[d] === C_SPACE || cls[d] === C_PUNCT)) break;
          q++;
        }
        if (this.slowRegion(text, wordStart, q)) return true;
        wbuf = this.wbuf;
        wcap = wbuf.length;
        wlen = 0;
        h = 0;
        i = q;
        wordStart = q;
      }
    }
    if (wlen > 0) {
      this.emitWord(wlen, h, wlen);
      return this.n >= limit;
    }
    return false;
  }

  private growWord(need: number): Uint16Array {
    let n = this.wbuf.length * 2;
    while (n < need) n *= 2;
    const b = new Uint16Array(n);
    b.set(this.wbuf);
    this.wbuf = b;
    return b;
  }

  /** Exact normalization of raw text[from, to), then pre-tokenization + WordPiece. */
  private slowRegion(text: string, from: number, to: number): boolean {
    if (!this.hasNormalizer) {
      // no normalizer: the text is scanned as it is (lone surrogates read as U+FFFD)
      const len = to - from;
      if (this.nbuf.length < len) this.nbuf = new Uint16Array(len * 2);
      const nb = this.nbuf;
      for (let i = 0; i < len; i++) nb[i] = text.charCodeAt(from + i);
      fixSurrogates(nb, len);
      return this.scanNormalized(nb, 0, len);
    }
    // long regions (CJK text without ASCII spaces, ...) go in chunks so that memory stays
    // small and maxLength can stop early
    // (a cut only has to be safe for canonical reordering: a word cut in two carries over)
    while (from < to) {
      const end = to - from > SLOW_CHUNK ? starterCut(text, from + SLOW_CHUNK, to) : to;
      const r = normalizeInto(text, from, end, this.norm, this.nbuf);
      this.nbuf = r.out;
      if (this.scanNormalized(r.out, 0, r.len, end === to)) return true;
      from = end;
    }
    return false;
  }

  /** Pre-tokenize + WordPiece over already normalized UTF-16 (well-formed) text. */
  private scanNormalized(nb: Uint16Array, from: number, to: number, last = true): boolean {
    const cls = this.asciiClass;
    const map = this.asciiMap;
    const limit = this.limit;
    let wbuf = this.wbuf;
    // a word may continue from the previous chunk of the same region
    let wlen = this.pendLen;
    let cps = this.pendCps;
    let h = this.pendHash;
    this.pendLen = this.pendCps = this.pendHash = 0;
    let i = from;
    const wmax = 2 * this.maxChars + 2;
    while (i < to) {
      const c = nb[i];
      let kind: number;
      let units = 1;
      if (c < 128) {
        kind = cls[c];
      } else {
        let f: number;
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
          f = astralFlags(((c - 0xd800) << 10) + (nb[i + 1] - 0xdc00) + 0x10000);
          units = 2;
        } else {
          f = BMP_FLAGS[c];
        }
        kind = f & F_SPLIT_WS ? C_SPACE : f & F_PUNCT ? C_PUNCT : C_WORD;
      }
      if (kind === C_WORD) {
        for (let u = 0; u < units; u++) {
          const m = c < 128 ? map[c] : nb[i + u];
          if (wlen < wmax) {
            if (wlen >= wbuf.length) wbuf = this.growWord(wlen + 1);
            wbuf[wlen] = m;
          }
          wlen++;
          h = (Math.imul(h, HASH_MUL) + m) | 0;
        }
        cps++;
      } else if (kind !== C_REMOVED) {
        if (wlen > 0) {
          this.emitWord(wlen, h, cps);
          wbuf = this.wbuf;
          wlen = cps = h = 0;
          if (this.n >= limit) return true;
        }
        if (kind === C_PUNCT) {
          if (c < 128) {
            const pid = this.asciiPunctId[c];
            this.push(pid >= 0 ? pid : this.unk());
          } else {
            wbuf[0] = c;
            if (units === 2) wbuf[1] = nb[i + 1];
            this.emitWord(units, hashRange(wbuf, 0, units), 1);
            wbuf = this.wbuf;
          }
          if (this.n >= limit) return true;
        }
      }
      i += units;
    }
    if (wlen > 0) {
      if (!last) {
        this.pendLen = wlen;
        this.pendCps = cps;
        this.pendHash = h;
        return false;
      }
      this.emitWord(wlen, h, cps);
      return this.n >= limit;
    }
    return false;
  }

  /** WordPiece ids of the word in wbuf[0, len) (hash h, cps code points), appended to out. */
  private emitWord(len: number, h: number, cps: number): void {
    if (cps > this.maxChars) {
      this.push(this.unk());
      return;
    }
    let slot = this.start.get(this.wbuf, 0, len, h);
    if (slot >= 0) {
      this.push(this.start.vals[slot]);
      return;
    }
    slot = this.cache.get(this.wbuf, 0, len, h);
    if (slot >= 0) {
      const v = this.cache.vals[slot];
      if (v >= 0) {
        this.push(v);
      } else {
        const off = -v - 1;
        const cnt = this.pool[off];
        this.reserve(cnt);
        this.out.set(this.pool.subarray(off + 1, off + 1 + cnt), this.n);
        this.n += cnt;
      }
      return;
    }
    const cnt = this.wordpiece(len);
    const tmp = this.wpTmp;
    // remember it
    if (this.cache.size >= CACHE_MAX_ENTRIES || this.poolLen + cnt + 1 > CACHE_MAX_POOL) {
      this.cache = new StrTable(4096);
      this.pool = new Int32Array(4096);
      this.poolLen = 0;
    }
    if (cnt === 1) {
      this.cache.set(this.wbuf, 0, len, h, tmp[0]);
    } else {
      if (this.poolLen + cnt + 1 > this.pool.length) {
        let cap = this.pool.length * 2;
        while (cap < this.poolLen + cnt + 1) cap *= 2;
        const p = new Int32Array(cap);
        p.set(this.pool.subarray(0, this.poolLen));
        this.pool = p;
      }
      const off = this.poolLen;
      this.pool[off] = cnt;
      this.pool.set(tmp.subarray(0, cnt), off + 1);
      this.poolLen += cnt + 1;
      this.cache.set(this.wbuf, 0, len, h, -off - 1);
    }
    this.reserve(cnt);
    this.out.set(tmp.subarray(0, cnt), this.n);
    this.n += cnt;
  }

  private unk(): number {
    if (this.unkId < 0) {
      throw new SbertError('ERR_BAD_MODEL', `${this.spec.source}: unk token "${this.spec.unkToken}" is not in the vocabulary`);
    }
    return this.unkId;
  }

  /** Greedy longest-match-first WordPiece of wbuf[0, len) into wpTmp; returns the count. */
  private wordpiece(len: number): number {
    const w = this.wbuf;
    if (this.wpTmp.length < len + 1) {
      this.wpTmp = new Int32Array(len * 2 + 2);
      this.wpHash = new Int32Array(len * 2 + 2);
    }
    const tmp = this.wpTmp;
    // prefix hashes: hash(w[s, s + l)) = H[s + l] - H[s] * MUL^l, so each candidate is O(1)
    const H = this.wpHash;
    const pow = this.hashPow;
    H[0] = 0;
    for (let i = 0; i < len; i++) H[i + 1] = (Math.imul(H[i], HASH_MUL) + w[i]) | 0;
    let s = 0;
    let cnt = 0;
    while (s < len) {
      const table = s === 0 ? this.start : this.cont;
      let l = Math.min(len - s, table.maxKeyLen);
      let id = -1;
      for (; l > 0; l--) {
        const last = w[s + l - 1];
        if (last >= 0xd800 && last <= 0xdbff && s + l < len) continue; // never split a surrogate pair
        const slot = table.get(w, s, l, (H[s + l] - Math.imul(H[s], pow[l])) | 0);
        if (slot >= 0) {
          id = table.vals[slot];
          break;
        }
      }
      if (id < 0) {
        tmp[0] = this.unk();
        return 1;
      }
      tmp[cnt++] = id;
      s += l;
    }
    return cnt;
  }
}

/** HF's WordPiece decoder cleanup (applied token by token, as HF does). */
function cleanup(s: string): string {
  if (s.indexOf(' ') < 0) return s;
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

function fixSurrogates(nb: Uint16Array, len: number): void {
  for (let i = 0; i < len; i++) {
    const c = nb[i];
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < len && nb[i + 1] >= 0xdc00 && nb[i + 1] <= 0xdfff) {
      i++;
      continue;
    }
    nb[i] = 0xfffd;
  }
}
