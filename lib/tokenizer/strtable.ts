/**
 * Open-addressing hash table keyed by UTF-16 code unit sequences, looked up straight from a
 * slice of a Uint16Array: no substring is ever allocated on the hot path. The caller passes
 * the polynomial hash of the slice (computed incrementally while scanning a word, or with
 * hashRange); keys are verified unit by unit, so collisions only cost time.
 */

export const HASH_MUL = 0x01000193;

/** Hash of buf[s, s + len): h = h * HASH_MUL + unit (mod 2^32). */
export function hashRange(buf: Uint16Array, s: number, len: number): number {
  let h = 0;
  for (let i = s, e = s + len; i < e; i++) h = (Math.imul(h, HASH_MUL) + buf[i]) | 0;
  return h;
}

export function hashString(str: string): number {
  let h = 0;
  for (let i = 0; i < str.length; i++) h = (Math.imul(h, HASH_MUL) + str.charCodeAt(i)) | 0;
  return h;
}

let scratch: Uint16Array = new Uint16Array(256);

/** The code units of str in a shared scratch buffer (valid until the next call). */
function toUnits(str: string): Uint16Array {
  if (scratch.length < str.length) scratch = new Uint16Array(str.length * 2);
  for (let i = 0; i < str.length; i++) scratch[i] = str.charCodeAt(i);
  return scratch;
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class StrTable {
  size = 0;
  /** Longest key, in code units. */
  maxKeyLen = 0;
  /** Value of each slot (valid where offs[slot] >= 0). */
  vals: Int32Array;
  private mask: number;
  private hashes: Int32Array;
  private offs: Int32Array;
  private lens: Int32Array;
  private keys: Uint16Array;
  private keysLen = 0;

  constructor(expected = 512) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.offs = new Int32Array(cap).fill(-1);
    this.lens = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    this.keys = new Uint16Array(Math.max(64, expected * 8));
  }

  /** Slot holding buf[s, s + len) (whose hash is h), or -1. */
  get(buf: Uint16Array, s: number, len: number, h: number): number {
    const mask = this.mask;
    const offs = this.offs;
    const keys = this.keys;
    let slot = mix(h) & mask;
    for (;;) {
      const off = offs[slot];
      if (off < 0) return -1;
      if (this.hashes[slot] === h && this.lens[slot] === len) {
        let i = 0;
        while (i < len && keys[off + i] === buf[s + i]) i++;
        if (i === len) return slot;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Insert or overwrite. */
  set(buf: Uint16Array, s: number, len: number, h: number, val: number): void {
    const found = this.get(buf, s, len, h);
    if (found >= 0) {
      this.vals[found] = val;
      return;
    }
    if ((this.size + 1) * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
    if (this.keysLen + len > this.keys.length) {
      let n = this.keys.length * 2;
      while (n < this.keysLen + len) n *= 2;
      const k = new Uint16Array(n);
      k.set(this.keys.subarray(0, this.keysLen));
      this.keys = k;
    }
    const off = this.keysLen;
    this.keys.set(buf.subarray(s, s + len), off);
    this.keysLen += len;
    let slot = mix(h) & this.mask;
    while (this.offs[slot] >= 0) slot = (slot + 1) & this.mask;
    this.offs[slot] = off;
    this.hashes[slot] = h;
    this.lens[slot] = len;
    this.vals[slot] = val;
    this.size++;
    if (len > this.maxKeyLen) this.maxKeyLen = len;
  }

  setString(key: string, val: number): void {
    const buf = toUnits(key);
    this.set(buf, 0, key.length, hashRange(buf, 0, key.length), val);
  }

  getString(key: string): number {
    const buf = toUnits(key);
    const slot = this.get(buf, 0, key.length, hashRange(buf, 0, key.length));
    return slot < 0 ? -1 : this.vals[slot];
  }

  clear(): void {
    this.offs.fill(-1);
    this.size = 0;
    this.keysLen = 0;
    this.maxKeyLen = 0;
  }

  /** Bytes held by the arrays (for cache bounds). */
  get bytes(): number {
    return (this.mask + 1) * 16 + this.keys.length * 2;
  }

  private rehash(cap: number): void {
    const { hashes, offs, lens, vals } = this;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.offs = new Int32Array(cap).fill(-1);
    this.lens = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    for (let i = 0; i < offs.length; i++) {
      if (offs[i] < 0) continue;
      let slot = mix(hashes[i]) & this.mask;
      while (this.offs[slot] >= 0) slot = (slot + 1) & this.mask;
      this.offs[slot] = offs[i];
      this.hashes[slot] = hashes[i];
      this.lens[slot] = lens[i];
      this.vals[slot] = vals[i];
    }
  }
}
