/**
 * Precompiled: sentencepiece's compiled normalization rules (`precompiled_charsmap`, e.g.
 * nmt_nfkc), applied the way HF's spm_precompiled crate does.
 *
 * The blob is a little-endian u32 byte count T, then T/4 u32 units of a double-array trie
 * (Darts) keyed by UTF-8 byte strings, then the replacement strings, each ended by NUL; a key's
 * value is the offset of its replacement. HF walks the text by extended grapheme cluster: a
 * cluster shorter than 6 UTF-8 bytes is looked up whole, and when some prefix of it is a key,
 * the whole cluster is replaced by the replacement of the *shortest* such prefix (the rest of
 * the cluster is dropped — reproduced, not fixed); otherwise each character is looked up alone.
 * A NUL byte ends a lookup.
 */
import { graphemeEnd } from '../grapheme';
import { Normalizer, charwiseLead } from './normalizer';

/** A parsed precompiled_charsmap: the Darts trie and its replacement strings. */
export class Charsmap {
  private readonly units: Uint32Array;
  private readonly normalized: Uint8Array;
  private readonly decoded = new Map<number, string>();
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  /** @throws Error when the blob is not a charsmap (the caller names the file) */
  constructor(blob: Uint8Array) {
    if (blob.length < 4) throw new Error('precompiled_charsmap is shorter than its header');
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = dv.getUint32(0, true);
    const count = Math.floor(trieBytes / 4);
    if (4 + count * 4 > blob.length) throw new Error('precompiled_charsmap trie is longer than the blob');
    if (count === 0) throw new Error('precompiled_charsmap has an empty trie');
    this.units = new Uint32Array(count);
    for (let i = 0; i < count; i++) this.units[i] = dv.getUint32(4 + 4 * i, true);
    this.normalized = blob.subarray(4 + count * 4);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(this.normalized);
    } catch {
      throw new Error('precompiled_charsmap replacement strings are not valid UTF-8');
    }
  }

  /**
   * Offset of the replacement of the shortest key that is a prefix of `bytes[0, len)`, or -1
   * (Darts common_prefix_search, first result).
   */
  lookup(bytes: Uint8Array, len: number): number {
    const a = this.units;
    let pos = 0;
    let unit = a[0];
    pos ^= offsetOf(unit);
    for (let i = 0; i < len; i++) {
      const c = bytes[i];
      if (c === 0) return -1;
      pos ^= c;
      if (pos >= a.length) return -1;
      unit = a[pos];
      if ((unit & 0x800000ff) >>> 0 !== c) return -1;
      pos ^= offsetOf(unit);
      if ((unit >>> 8) & 1) return pos < a.length ? a[pos] & 0x7fffffff : -1;
    }
    return -1;
  }

  /** The replacement string at `offset` (up to the next NUL). */
  replacement(offset: number): string {
    let s = this.decoded.get(offset);
    if (s === undefined) {
      let end = offset;
      while (end < this.normalized.length && this.normalized[end] !== 0) end++;
      s = this.decoder.decode(this.normalized.subarray(Math.min(offset, end), end));
      this.decoded.set(offset, s);
    }
    return s;
  }
}

function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}

/** UTF-8 of s[from, to) into buf; returns the byte count (buf holds at least 4 * (to - from)). */
function encodeUtf8(s: string, from: number, to: number, buf: Uint8Array): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) buf[n++] = c;
    else if (c < 0x800) {
      buf[n++] = 0xc0 | (c >> 6);
      buf[n++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      c = ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00) + 0x10000;
      buf[n++] = 0xf0 | (c >> 18);
      buf[n++] = 0x80 | ((c >> 12) & 63);
      buf[n++] = 0x80 | ((c >> 6) & 63);
      buf[n++] = 0x80 | (c & 63);
    } else {
      buf[n++] = 0xe0 | (c >> 12);
      buf[n++] = 0x80 | ((c >> 6) & 63);
      buf[n++] = 0x80 | (c & 63);
    }
  }
  return n;
}

/** Replacement of each BMP code unit alone: undefined = not looked up yet, null = none. */
type SingleCache = Array<string | null | undefined>;

/** Precompiled normalizer (see the module comment for the cluster rule). */
export class PrecompiledNormalizer implements Normalizer {
  private readonly map: Charsmap;
  private readonly single: SingleCache = new Array(0x10000);
  private readonly astral = new Map<number, string | null>();
  private readonly buf = new Uint8Array(64);

  constructor(charsmap: Uint8Array) {
    this.map = new Charsmap(charsmap);
  }

  /** The replacement of s[from, to) looked up as one key (its shortest key prefix), or null. */
  private transform(s: string, from: number, to: number): string | null {
    const len = encodeUtf8(s, from, to, this.buf);
    const off = this.map.lookup(this.buf, len);
    return off < 0 ? null : this.map.replacement(off);
  }

  /** The replacement of the character at s[i] (1 or 2 code units), or null. */
  private transformChar(s: string, i: number, units: number): string | null {
    if (units === 1) {
      const c = s.charCodeAt(i);
      let r = this.single[c];
      if (r === undefined) r = this.single[c] = this.transform(s, i, i + 1);
      return r;
    }
    const cp = s.codePointAt(i)!;
    let r = this.astral.get(cp);
    if (r === undefined) {
      r = this.transform(s, i, i + 2);
      if (this.astral.size < 1 << 16) this.astral.set(cp, r);
    }
    return r;
  }

  /** ASCII characters the charsmap leaves alone (CR excluded: CR LF is one cluster). */
  private asciiPlain: Uint8Array | null = null;

  private plainTable(): Uint8Array {
    if (this.asciiPlain === null) {
      const t = new Uint8Array(128);
      for (let c = 0; c < 128; c++) t[c] = c !== 13 && this.transformChar(String.fromCharCode(c), 0, 1) === null ? 1 : 0;
      this.asciiPlain = t;
    }
    return this.asciiPlain;
  }

  normalize(s: string): string {
    const plain = this.plainTable();
    let k = 0;
    while (k < s.length) {
      const c = s.charCodeAt(k);
      if (c >= 128 || plain[c] === 0) break;
      k++;
    }
    if (k === s.length) return s;
    let out = '';
    let last = 0;
    const n = s.length;
    let i = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      // a cluster is one ASCII character when the next unit is ASCII too (CR LF excepted)
      let j: number;
      if (c < 0x80 && (i + 1 === n || (s.charCodeAt(i + 1) < 0x80 && !(c === 13 && s.charCodeAt(i + 1) === 10)))) j = i + 1;
      else j = graphemeEnd(s, i);
      const units = j - i;
      const isOneChar = units === 1 || (units === 2 && c >= 0xd800 && c <= 0xdbff);
      if (isOneChar) {
        const r = this.transformChar(s, i, units);
        if (r !== null) {
          out += s.slice(last, i) + r;
          last = j;
        }
      } else {
        // bytes of the cluster: below 6 it is looked up whole
        let bytes = 0;
        for (let k = i; k < j && bytes < 6; k++) {
          const u = s.charCodeAt(k);
          bytes += u < 0x80 ? 1 : u < 0x800 ? 2 : u >= 0xd800 && u <= 0xdbff ? 4 : u >= 0xdc00 && u <= 0xdfff ? 0 : 3;
        }
        const whole = bytes < 6 ? this.transform(s, i, j) : null;
        if (whole !== null) {
          out += s.slice(last, i) + whole;
          last = j;
        } else {
          for (let k = i; k < j; ) {
            const u = s.charCodeAt(k);
            const w = u >= 0xd800 && u <= 0xdbff && k + 1 < j ? 2 : 1;
            const r = this.transformChar(s, k, w);
            if (r !== null) {
              out += s.slice(last, k) + r;
              last = k + w;
            }
            k += w;
          }
        }
      }
      i = j;
    }
    return last === 0 ? s : out + s.slice(last);
  }

  lead(before: string, lead: number, after: string): number {
    // HF does not record a replacement by nothing at the very start: the first character left
    // keeps the alignment of the one removed
    return lead > 0 ? Math.max(charwiseLead(this, before, lead), after.length > 0 ? 1 : 0) : 0;
  }
}
