/**
 * BERT's text pipeline (BertNormalizer + BertPreTokenizer + WordPiece, with added tokens) fused
 * into one pass, giving the ids Hugging Face `tokenizers` gives, on every input. Used for every
 * tokenizer.json / vocab.txt made of exactly these components; anything else runs through
 * ComposedPipeline.
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
import { AddedMatcher } from './added';
import { TextPipeline } from './pipeline';
import type { ModelSpec, NormalizerSpec, PreTokenizerSpec, TokenizerSpec } from './spec';
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

// character classes of the ASCII fast path
const C_WORD = 0;
const C_SPACE = 1;
const C_PUNCT = 2;
const C_REMOVED = 3;

const CACHE_MAX_ENTRIES = 1 << 17;
/** Slow-path regions longer than this are normalized in pieces. */
const SLOW_CHUNK = 4096;
const CACHE_MAX_POOL = 1 << 21;

/** The BertNormalizer options of a normalizer spec BERT's fused path can run, else undefined. */
function bertNormalizerOptions(n: NormalizerSpec | null): NormalizerOptions | null | undefined {
  if (n === null) return null;
  if (n.type === 'BertNormalizer') return n.options;
  if (n.type === 'Sequence' && n.normalizers.length === 0) return null;
  if (n.type === 'Sequence' && n.normalizers.length === 1) return bertNormalizerOptions(n.normalizers[0]);
  return undefined;
}

function isBertPreTokenizer(p: PreTokenizerSpec | null): boolean {
  if (p === null) return false;
  if (p.type === 'BertPreTokenizer') return true;
  return p.type === 'Sequence' && p.pretokenizers.length === 1 && isBertPreTokenizer(p.pretokenizers[0]);
}

type WordPieceSpec = Extract<ModelSpec, { type: 'WordPiece' }>;

/** The fused BERT text pipeline (BertNormalizer / none, BertPreTokenizer, WordPiece). */
export class BertPipeline extends TextPipeline {
  /** Whether the fused path runs this spec: WordPiece, BertNormalizer or none, BertPreTokenizer. */
  static accepts(spec: TokenizerSpec): boolean {
    return spec.model.type === 'WordPiece' && bertNormalizerOptions(spec.normalizer) !== undefined && isBertPreTokenizer(spec.preTokenizer);
  }

  private readonly model: WordPieceSpec;
  private readonly source: string;
  readonly unkId: number;
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

  // scratch
  private wbuf: Uint16Array = new Uint16Array(256);
  private nbuf: Uint16Array = new Uint16Array(1024);
  private wpTmp: Int32Array = new Int32Array(256);
  private wpHash: Int32Array = new Int32Array(256);
  /** HASH_MUL^l mod 2^32 for every key length l. */
  private readonly hashPow: Int32Array;
  private limit = Infinity;
  /** Word carried from one chunk of a slow region to the next. */
  private pendLen = 0;
  private pendCps = 0;
  private pendHash = 0;

  constructor(spec: TokenizerSpec) {
    super();
    if (!BertPipeline.accepts(spec)) throw new Error('BertPipeline: not a BERT WordPiece spec');
    const model = spec.model as WordPieceSpec;
    this.model = model;
    this.source = spec.source;
    const normOptions = bertNormalizerOptions(spec.normalizer)!;
    // vocabulary
    const { tokens, ids } = model.vocab;
    this.start = new StrTable(tokens.length);
    this.cont = new StrTable(tokens.length >> 1);
    const prefix = model.continuingSubwordPrefix;
    for (let i = 0; i < tokens.length; i++) {
      const tok = tokens[i];
      this.start.setString(tok, ids[i]);
      if (tok.startsWith(prefix)) this.cont.setString(tok.slice(prefix.length), ids[i]);
    }
    this.unkId = this.start.getString(model.unkToken);
    this.maxChars = model.maxInputCharsPerWord;
    const maxKey = Math.max(this.start.maxKeyLen, this.cont.maxKeyLen) + 1;
    this.hashPow = new Int32Array(maxKey + 1);
    this.hashPow[0] = 1;
    for (let l = 1; l <= maxKey; l++) this.hashPow[l] = Math.imul(this.hashPow[l - 1], HASH_MUL);
    this.cache = new StrTable(4096);
    this.pool = new Int32Array(4096);

    // normalizer
    this.hasNormalizer = normOptions !== null;
    this.norm = normOptions ?? { cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false };

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
    const rawM = raw.length ? new AddedMatcher(raw, raw.map((t) => t.content)) : null;
    const normM = normd.length
      ? new AddedMatcher(
          normd,
          normd.map((t) => this.normalizeContent(t.content)),
        )
      : null;
    this.addedRaw = rawM === null || rawM.empty ? null : rawM;
    this.addedNorm = normM === null || normM.empty ? null : normM;
  }

  /** The normalized form of an added token's content (how HF stores a normalized one). */
  normalizeContent(s: string): string {
    return this.hasNormalizer ? normalizeString(s, this.norm) : s;
  }

  modelTokenToId(token: string): number {
    return this.start.getString(token);
  }

  forEachModelToken(fn: (token: string, id: number) => void): void {
    const { tokens, ids } = this.model.vocab;
    for (let i = 0; i < tokens.length; i++) fn(tokens[i], ids[i]);
  }

  /**
   * Append the ids of text (no template) to out. Tokenization stops after the first word
   * (pre-tokenizer split) that brings n to `limit` or more. `soft` is HF's own early stop
   * under truncation: only model words can stop it, added tokens never do, and the caller
   * does not cut to the limit. Otherwise (hard) an added token can stop it too and the
   * caller cuts n to the limit: same ids as tokenizing everything and truncating.
   */
  tokenizeText(text: string, limit: number, soft: boolean): void {
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
      if (this.logging) this.markSplit(true);
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
        if (this.logging) this.markSplit(true);
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
            if (this.logging) this.markSplit(false);
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
            if (this.logging) this.markSplit(false);
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
    if (this.logging) this.markSplit(false);
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
      throw new SbertError('ERR_BAD_MODEL', `${this.source}: unk token "${this.model.unkToken}" is not in the vocabulary`);
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
