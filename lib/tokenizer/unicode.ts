/**
 * Character classes and the exact BertNormalizer of Hugging Face `tokenizers`.
 *
 * Everything here comes from tables generated from the reference implementation itself
 * (unicode-tables.ts), not from the JS engine's \p{..} classes: HF's Rust code uses older
 * Unicode tables (punctuation, nonspacing marks, format characters, NFD) than Node does, and
 * "identical ids" means identical on those code points too. The tables also make the result
 * independent of the Node/ICU version.
 *
 * Layout: one byte of flags per BMP code unit (64 KiB, built once at load), binary search over
 * range lists for astral code points, Maps for decompositions and lowercase mappings.
 */
import {
  REMOVED_RANGES,
  CLEAN_WHITESPACE,
  SPLIT_WHITESPACE,
  PUNCT_RANGES,
  CHINESE_RANGES,
  MN_RANGES,
  CCC,
  NFD_MAP,
  LOWER_MAP,
} from './unicode-tables';

export const F_REMOVED = 1; // dropped by clean_text
export const F_CLEAN_WS = 2; // becomes ' ' under clean_text
export const F_SPLIT_WS = 4; // whitespace for the pre-tokenizer (Rust char::is_whitespace)
export const F_PUNCT = 8; // isolated by the pre-tokenizer
export const F_CHINESE = 16; // CJK ideograph: spaces around it
export const F_MN = 32; // nonspacing mark: dropped by strip_accents
export const F_DECOMP = 64; // has a canonical decomposition
export const F_LOWER = 128; // lowercase changes it

/** Flags of every BMP code unit (surrogates have none). */
export const BMP_FLAGS = new Uint8Array(65536);

function markRanges(ranges: readonly number[], flag: number): void {
  for (let i = 0; i < ranges.length; i += 2) {
    const a = ranges[i];
    const b = Math.min(ranges[i + 1], 0xffff);
    for (let c = a; c <= b; c++) BMP_FLAGS[c] |= flag;
  }
}

function parseMap(s: string): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const entry of s.split('|')) {
    const colon = entry.indexOf(':');
    const cp = parseInt(entry.slice(0, colon), 16);
    m.set(cp, entry.slice(colon + 1).split(',').map((h) => parseInt(h, 16)));
  }
  return m;
}

export const DECOMP = parseMap(NFD_MAP);
export const LOWER = parseMap(LOWER_MAP);
/** Canonical combining class of non-starters (absent = 0). */
const CCC_MAP = new Map<number, number>();
const BMP_CCC = new Uint8Array(65536);
for (let i = 0; i < CCC.length; i += 2) {
  CCC_MAP.set(CCC[i], CCC[i + 1]);
  if (CCC[i] < 65536) BMP_CCC[CCC[i]] = CCC[i + 1];
}

markRanges(REMOVED_RANGES, F_REMOVED);
for (const c of CLEAN_WHITESPACE) if (c < 65536) BMP_FLAGS[c] |= F_CLEAN_WS;
for (const c of SPLIT_WHITESPACE) if (c < 65536) BMP_FLAGS[c] |= F_SPLIT_WS;
markRanges(PUNCT_RANGES, F_PUNCT);
markRanges(CHINESE_RANGES, F_CHINESE);
markRanges(MN_RANGES, F_MN);
for (const cp of DECOMP.keys()) if (cp < 65536) BMP_FLAGS[cp] |= F_DECOMP;
for (let c = 0xac00; c <= 0xd7a3; c++) BMP_FLAGS[c] |= F_DECOMP; // Hangul syllables
for (const cp of LOWER.keys()) if (cp < 65536) BMP_FLAGS[cp] |= F_LOWER;
for (let c = 0xd800; c <= 0xdfff; c++) BMP_FLAGS[c] = 0;

function inRanges(ranges: readonly number[], cp: number): boolean {
  let lo = 0;
  let hi = (ranges.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[2 * mid]) hi = mid - 1;
    else if (cp > ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Flags of any code point (astral ones looked up in the range lists). */
export function flagsOf(cp: number): number {
  if (cp < 65536) return BMP_FLAGS[cp];
  let f = 0;
  if (inRanges(REMOVED_RANGES, cp)) f |= F_REMOVED;
  if (CLEAN_WHITESPACE.includes(cp)) f |= F_CLEAN_WS;
  if (SPLIT_WHITESPACE.includes(cp)) f |= F_SPLIT_WS;
  if (inRanges(PUNCT_RANGES, cp)) f |= F_PUNCT;
  if (inRanges(CHINESE_RANGES, cp)) f |= F_CHINESE;
  if (inRanges(MN_RANGES, cp)) f |= F_MN;
  if (DECOMP.has(cp)) f |= F_DECOMP;
  if (LOWER.has(cp)) f |= F_LOWER;
  return f;
}

/** Flags of an astral code point, cached (astral text is rare but may be long). */
const astralCache = new Map<number, number>();
export function astralFlags(cp: number): number {
  let f = astralCache.get(cp);
  if (f === undefined) {
    f = flagsOf(cp);
    if (astralCache.size < 65536) astralCache.set(cp, f);
  }
  return f;
}

export function cccOf(cp: number): number {
  return cp < 65536 ? BMP_CCC[cp] : CCC_MAP.get(cp) ?? 0;
}

// BMP decompositions and lowercase mappings as flat typed arrays (the Maps keep astral ones)
const BMP_DECOMP_OFF = new Uint16Array(65536);
const BMP_DECOMP_LEN = new Uint8Array(65536);
const DECOMP_DATA: Int32Array = (() => {
  const data: number[] = [];
  for (const [cp, d] of DECOMP) {
    if (cp >= 65536) continue;
    BMP_DECOMP_OFF[cp] = data.length;
    BMP_DECOMP_LEN[cp] = d.length;
    data.push(...d);
  }
  if (data.length > 65535) throw new Error('decomposition table too large');
  return Int32Array.from(data);
})();
/** Single-code-point lowercase of BMP characters (0: none or several, see LOWER). */
const BMP_LOWER1 = new Int32Array(65536);
for (const [cp, m] of LOWER) if (cp < 65536 && m.length === 1) BMP_LOWER1[cp] = m[0];

export interface NormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
}

/** Growable code point buffers reused between calls. */
let cpBuf: Int32Array = new Int32Array(4096);
let cpBuf2: Int32Array = new Int32Array(64);

function grow(buf: Int32Array, need: number): Int32Array {
  let n = Math.max(16, buf.length);
  while (n < need) n *= 2;
  const b = new Int32Array(n);
  b.set(buf);
  return b;
}

let reorderNeeded = false;

/** Append the canonical decomposition of cp (or cp itself) to buf at n; returns the new n. */
function pushDecomposed(buf: Int32Array, n: number, cp: number, f: number): number {
  if (!(f & F_DECOMP)) {
    buf[n++] = cp;
    if (cp >= 0x300 && cccOf(cp) !== 0) reorderNeeded = true;
  } else if (cp < 0xac00) {
    const off = BMP_DECOMP_OFF[cp];
    const end = off + BMP_DECOMP_LEN[cp];
    for (let k = off; k < end; k++) {
      const d = DECOMP_DATA[k];
      buf[n++] = d;
      if (BMP_CCC[d] !== 0) reorderNeeded = true;
    }
  } else if (cp <= 0xd7a3) {
    const s = cp - 0xac00;
    buf[n++] = 0x1100 + ((s / 588) | 0);
    buf[n++] = 0x1161 + (((s % 588) / 28) | 0);
    if (s % 28 !== 0) buf[n++] = 0x11a7 + (s % 28);
  } else {
    const d = DECOMP.get(cp)!;
    for (let k = 0; k < d.length; k++) {
      buf[n++] = d[k];
      if (cccOf(d[k]) !== 0) reorderNeeded = true;
    }
  }
  return n;
}

/**
 * Exact BertNormalizer on text[from, to): clean_text, handle_chinese_chars, strip_accents
 * (NFD, then drop Mn), lowercase, in the order HF applies them. Writes UTF-16 into `out`
 * (replaced by a larger array when needed) and returns the array used and the length.
 *
 * Lone surrogates (which a Rust &str cannot hold) are read as U+FFFD, as Node's UTF-8
 * encoding does; clean_text then removes them.
 */
export function normalizeInto(
  text: string,
  from: number,
  to: number,
  opt: NormalizerOptions,
  out: Uint16Array,
): { out: Uint16Array; len: number } {
  // Pass 1: code points; clean_text; spaces around CJK; NFD decomposition.
  let buf = cpBuf;
  if (buf.length < to - from + 64) buf = cpBuf = grow(buf, to - from + 64);
  let n = 0;
  reorderNeeded = false;
  const clean = opt.cleanText;
  const chinese = opt.handleChineseChars;
  const strip = opt.stripAccents;
  for (let i = from; i < to; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const lo = i + 1 < to ? text.charCodeAt(i + 1) : 0;
      if (cp <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        i++;
      } else {
        cp = 0xfffd;
      }
    }
    let f = cp < 65536 ? BMP_FLAGS[cp] : astralFlags(cp);
    if (clean) {
      if (f & F_REMOVED) continue;
      if (f & F_CLEAN_WS) {
        cp = 0x20;
        f = BMP_FLAGS[0x20];
      }
    }
    if (n + 16 > buf.length) buf = cpBuf = grow(buf, n + 16 + ((to - i) >> 2));
    if (chinese && f & F_CHINESE) {
      buf[n++] = 0x20;
      n = strip ? pushDecomposed(buf, n, cp, f) : ((buf[n] = cp), n + 1);
      buf[n++] = 0x20;
    } else if (strip) {
      n = pushDecomposed(buf, n, cp, f);
    } else {
      buf[n++] = cp;
    }
  }
  if (reorderNeeded) canonicalOrder(buf, n);

  // Pass 2: drop Mn (strip_accents), lowercase, encode as UTF-16.
  const lower = opt.lowercase;
  let len = 0;
  for (let k = 0; k < n; k++) {
    if (len + 8 > out.length) out = growU16(out, len + 8 + 2 * (n - k));
    const cp = buf[k];
    if (cp < 128) {
      out[len++] = lower && cp >= 65 && cp <= 90 ? cp + 32 : cp;
      continue;
    }
    const f = cp < 65536 ? BMP_FLAGS[cp] : astralFlags(cp);
    if (strip && f & F_MN) continue;
    if (lower && f & F_LOWER) {
      const one = cp < 65536 ? BMP_LOWER1[cp] : 0;
      if (one !== 0) {
        len = putCp(out, len, one);
      } else {
        const m = LOWER.get(cp)!;
        for (let j = 0; j < m.length; j++) len = putCp(out, len, m[j]);
      }
    } else {
      len = putCp(out, len, cp);
    }
  }
  if (buf.length > 1 << 22) cpBuf = new Int32Array(4096); // don't keep huge buffers alive
  return { out, len };
}

function growU16(buf: Uint16Array, need: number): Uint16Array {
  let n = Math.max(16, buf.length);
  while (n < need) n *= 2;
  const b = new Uint16Array(n);
  b.set(buf);
  return b;
}

function putCp(out: Uint16Array, len: number, cp: number): number {
  if (cp < 65536) {
    out[len++] = cp;
  } else {
    const v = cp - 0x10000;
    out[len++] = 0xd800 + (v >> 10);
    out[len++] = 0xdc00 + (v & 0x3ff);
  }
  return len;
}

/** Canonical ordering: stable sort of each run of non-starters by combining class. */
function canonicalOrder(buf: Int32Array, n: number): void {
  let k = 0;
  while (k < n) {
    if (cccOf(buf[k]) === 0) {
      k++;
      continue;
    }
    let e = k + 1;
    while (e < n && cccOf(buf[e]) !== 0) e++;
    const runLen = e - k;
    if (runLen > 1) {
      if (runLen <= 32) {
        for (let i = k + 1; i < e; i++) {
          const v = buf[i];
          const cv = cccOf(v);
          let j = i - 1;
          while (j >= k && cccOf(buf[j]) > cv) {
            buf[j + 1] = buf[j];
            j--;
          }
          buf[j + 1] = v;
        }
      } else {
        // counting sort by class: linear even for megabytes of combining marks
        if (cpBuf2.length < runLen) cpBuf2 = new Int32Array(runLen);
        const counts = new Int32Array(257);
        for (let i = k; i < e; i++) counts[cccOf(buf[i]) + 1]++;
        for (let c = 1; c < 257; c++) counts[c] += counts[c - 1];
        for (let i = k; i < e; i++) cpBuf2[counts[cccOf(buf[i])]++] = buf[i];
        for (let i = 0; i < runLen; i++) buf[k + i] = cpBuf2[i];
      }
    }
    k = e;
  }
}

/**
 * First index j in [from, to) where text can be cut for normalization: text[j] is a starter
 * (combining class 0, and not a character whose decomposition starts with a non-starter, such
 * as U+0F73) and not the second half of a surrogate pair, so canonical reordering never
 * crosses j. Every other step of the normalizer works character by character. Returns `to`
 * when there is none.
 */
export function starterCut(text: string, from: number, to: number): number {
  for (let j = from; j < to; j++) {
    const c = text.charCodeAt(j);
    if (c >= 0xdc00 && c <= 0xdfff) continue;
    if (c >= 0xd800 && c <= 0xdbff) {
      // astral: a starter unless the reference gives it a combining class
      const lo = j + 1 < to ? text.charCodeAt(j + 1) : 0;
      if (lo >= 0xdc00 && lo <= 0xdfff && CCC_MAP.has(((c - 0xd800) << 10) + (lo - 0xdc00) + 0x10000)) continue;
      if (lo >= 0xdc00 && lo <= 0xdfff && startsNonzeroAstral(((c - 0xd800) << 10) + (lo - 0xdc00) + 0x10000)) continue;
      return j;
    }
    if (BMP_CCC[c] === 0 && !DECOMP_STARTS_NONZERO[c]) return j;
  }
  return to;
}

function startsNonzeroAstral(cp: number): boolean {
  const d = DECOMP.get(cp);
  return d !== undefined && cccOf(d[0]) !== 0;
}

/** Decompositions that begin with a non-starter (U+0344, U+0F73, ...): never cut before them. */
const DECOMP_STARTS_NONZERO = new Uint8Array(65536);
for (const [cp, d] of DECOMP) if (cp < 65536 && cccOf(d[0]) !== 0) DECOMP_STARTS_NONZERO[cp] = 1;

/** Normalize to a JS string (used for normalized added tokens and tests). */
export function normalizeString(text: string, opt: NormalizerOptions): string {
  const { out, len } = normalizeInto(text, 0, text.length, opt, new Uint16Array(text.length * 2 + 8));
  let s = '';
  for (let i = 0; i < len; i += 4096) {
    s += String.fromCharCode.apply(null, out.subarray(i, Math.min(len, i + 4096)) as unknown as number[]);
  }
  return s;
}

/**
 * HF's Lowercase normalizer (Rust char::to_lowercase, character by character, no final-sigma
 * context) on a well-formed string.
 */
export function lowercaseString(s: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) {
      if (c >= 65 && c <= 90) {
        out += s.slice(last, i) + String.fromCharCode(c + 32);
        last = i + 1;
      }
      continue;
    }
    let cp = c;
    let units = 1;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((c - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        units = 2;
      }
    }
    const f = cp < 65536 ? BMP_FLAGS[cp] : astralFlags(cp);
    if (f & F_LOWER) {
      const one = cp < 65536 ? BMP_LOWER1[cp] : 0;
      out += s.slice(last, i) + (one !== 0 ? String.fromCodePoint(one) : String.fromCodePoint(...LOWER.get(cp)!));
      last = i + units;
    }
    i += units - 1;
  }
  return last === 0 ? s : out + s.slice(last);
}
