/**
 * BPE, as HF's BPE::merge_word / Word::merge_all do it:
 * - each character (with continuing_subword_prefix after the first, end_of_word_suffix on the
 *   last) is looked up; unknown ones become <0xXX> byte pieces (byte_fallback, when all exist)
 *   or the unk token (consecutive ones fused when fuse_unk), or vanish when there is no unk
 *   token — in HF's order, which lets a pending unk follow the byte pieces after it;
 * - merges are applied lowest rank first, leftmost first among equals, from a priority queue
 *   whose stale entries are skipped exactly as HF skips them (the pair must still map to the
 *   entry's new id);
 * - ignore_merges: a pre-token that is itself a vocabulary token is that token.
 * Dropout is refused when loading (it is random).
 */
import { SbertError } from '../../errors';
import { utf8Bytes } from '../bytes';
import { IdBuffer, IdsCache } from '../ids';
import type { ModelSpec } from '../spec';
import { StrTable } from '../strtable';
import type { Model } from './model';

type BpeSpec = Extract<ModelSpec, { type: 'BPE' }>;

/** (a, b) -> (rank, new id), open addressing over Int32Arrays. */
class PairTable {
  private keysA: Int32Array;
  private keysB: Int32Array;
  private ranks: Int32Array;
  private news: Int32Array;
  private mask: number;

  constructor(expected: number) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.mask = cap - 1;
    this.keysA = new Int32Array(cap).fill(-1);
    this.keysB = new Int32Array(cap);
    this.ranks = new Int32Array(cap);
    this.news = new Int32Array(cap);
  }

  private slotOf(a: number, b: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca6b);
    h ^= h >>> 15;
    let slot = h & this.mask;
    while (this.keysA[slot] !== -1 && (this.keysA[slot] !== a || this.keysB[slot] !== b)) slot = (slot + 1) & this.mask;
    return slot;
  }

  /** Later sets of the same pair win (HF collects the merges into a HashMap). */
  set(a: number, b: number, rank: number, newId: number): void {
    const slot = this.slotOf(a, b);
    this.keysA[slot] = a;
    this.keysB[slot] = b;
    this.ranks[slot] = rank;
    this.news[slot] = newId;
  }

  /** Slot of (a, b), or -1. */
  find(a: number, b: number): number {
    const slot = this.slotOf(a, b);
    return this.keysA[slot] === -1 ? -1 : slot;
  }

  rank(slot: number): number {
    return this.ranks[slot];
  }

  newId(slot: number): number {
    return this.news[slot];
  }
}

/** Min-heap of merges ordered by (rank, pos). */
class MergeHeap {
  rank = new Int32Array(64);
  pos = new Int32Array(64);
  nid = new Int32Array(64);
  size = 0;

  private less(i: number, j: number): boolean {
    return this.rank[i] < this.rank[j] || (this.rank[i] === this.rank[j] && this.pos[i] < this.pos[j]);
  }

  private swap(i: number, j: number): void {
    let t = this.rank[i];
    this.rank[i] = this.rank[j];
    this.rank[j] = t;
    t = this.pos[i];
    this.pos[i] = this.pos[j];
    this.pos[j] = t;
    t = this.nid[i];
    this.nid[i] = this.nid[j];
    this.nid[j] = t;
  }

  push(rank: number, pos: number, nid: number): void {
    if (this.size === this.rank.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.rank = grow(this.rank);
      this.pos = grow(this.pos);
      this.nid = grow(this.nid);
    }
    let i = this.size++;
    this.rank[i] = rank;
    this.pos[i] = pos;
    this.nid[i] = nid;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Removes the top into slot `size` (read it there). */
  pop(): void {
    const last = --this.size;
    this.swap(0, last);
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (r < last && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}

/** The BPE model of a spec. */
export class BpeModel implements Model {
  private readonly vocab: StrTable;
  private readonly merges: PairTable;
  private readonly unkId: number;
  private readonly cache = new IdsCache();
  private readonly heap = new MergeHeap();
  /** Id of each single-code-unit token (no prefix / suffix), -1 when none: the usual first lookup. */
  private readonly charIds = new Int32Array(0x10000).fill(-1);
  private sym = new Int32Array(64);
  private prev = new Int32Array(64);
  private next = new Int32Array(64);
  private alive = new Uint8Array(64);

  /** @throws SbertError (ERR_BAD_MODEL) when a merge names a token the vocabulary lacks */
  constructor(
    private readonly spec: BpeSpec,
    private readonly source: string,
  ) {
    const { tokens, ids } = spec.vocab;
    this.vocab = new StrTable(tokens.length);
    for (let i = 0; i < tokens.length; i++) this.vocab.setString(tokens[i], ids[i]);
    const m = spec.merges;
    this.merges = new PairTable(m.length >> 1);
    const prefixLen = spec.continuingSubwordPrefix?.length ?? 0;
    for (let r = 0; r < m.length >> 1; r++) {
      const a = m[2 * r];
      const b = m[2 * r + 1];
      const ida = this.vocab.getString(a);
      const idb = this.vocab.getString(b);
      const joined = a + b.slice(prefixLen);
      const idn = this.vocab.getString(joined);
      for (const [tok, id] of [[a, ida], [b, idb], [joined, idn]] as const) {
        if (id < 0) throw new SbertError('ERR_BAD_MODEL', `${source}: model.merges[${r}] needs token ${JSON.stringify(tok)}, which is not in model.vocab`);
      }
      this.merges.set(ida, idb, r, idn);
    }
    this.unkId = spec.unkToken === null ? -1 : this.vocab.getString(spec.unkToken);
    for (let i = 0; i < tokens.length; i++) if (tokens[i].length === 1) this.charIds[tokens[i].charCodeAt(0)] = this.vocab.getString(tokens[i]);
  }

  tokenToId(token: string): number {
    return this.vocab.getString(token);
  }

  forEachToken(fn: (token: string, id: number) => void): void {
    const { tokens, ids } = this.spec.vocab;
    for (let i = 0; i < tokens.length; i++) fn(tokens[i], ids[i]);
  }

  tokenize(piece: string, out: IdBuffer): void {
    if (this.spec.ignoreMerges) {
      const id = this.vocab.getString(piece);
      if (id >= 0) {
        out.push(id);
        return;
      }
    }
    let ids = this.cache.get(piece);
    if (ids === undefined) {
      ids = this.word(piece);
      this.cache.set(piece, ids);
    }
    out.pushAll(ids);
  }

  private unk(): number {
    if (this.unkId < 0) {
      throw new SbertError('ERR_BAD_MODEL', `${this.source}: unk token ${JSON.stringify(this.spec.unkToken)} is not in the vocabulary`);
    }
    return this.unkId;
  }

  /** The symbols of a pre-token before merging, into sym[0, n); returns n. */
  private symbols(w: string): number {
    const { continuingSubwordPrefix: prefix, endOfWordSuffix: suffix, byteFallback, fuseUnk } = this.spec;
    if (this.sym.length < w.length * 4 + 4) {
      const cap = w.length * 8 + 8;
      this.sym = new Int32Array(cap);
      this.prev = new Int32Array(cap);
      this.next = new Int32Array(cap);
      this.alive = new Uint8Array(cap);
    }
    const sym = this.sym;
    let n = 0;
    let pending = false; // an unk not yet added
    for (let i = 0; i < w.length; ) {
      const c = w.charCodeAt(i);
      const width = c >= 0xd800 && c <= 0xdbff && i + 1 < w.length ? 2 : 1;
      const plain = width === 1 && (i === 0 || !prefix) && (i + 1 < w.length || !suffix);
      let s = width === 1 ? w[i] : w.slice(i, i + 2);
      if (i > 0 && prefix !== null) s = prefix + s;
      if (i + width === w.length && suffix !== null) s = s + suffix;
      i += width;
      const id = plain ? this.charIds[c] : this.vocab.getString(s);
      if (id >= 0) {
        if (pending) {
          sym[n++] = this.unkId;
          pending = false;
        }
        sym[n++] = id;
        continue;
      }
      if (byteFallback) {
        const bytes = utf8Bytes(s);
        let ok = true;
        const start = n;
        for (const b of bytes) {
          const bid = this.vocab.getString(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
          if (bid < 0) {
            ok = false;
            break;
          }
          sym[n++] = bid;
        }
        if (ok) continue; // a pending unk stays pending, as in HF
        n = start;
      }
      if (this.spec.unkToken !== null) {
        if (pending && !fuseUnk) sym[n++] = this.unk();
        else if (!pending) this.unk(); // HF looks the unk token up here (an error when missing)
        pending = true;
      }
    }
    if (pending) sym[n++] = this.unkId;
    return n;
  }

  private word(w: string): Int32Array {
    const n = this.symbols(w);
    const { sym, prev, next, alive, heap, merges } = this;
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
      alive[i] = 1;
    }
    heap.size = 0;
    for (let i = 0; i + 1 < n; i++) {
      const slot = merges.find(sym[i], sym[i + 1]);
      if (slot >= 0) heap.push(merges.rank(slot), i, merges.newId(slot));
    }
    while (heap.size > 0) {
      heap.pop();
      const top = heap.size;
      const pos = heap.pos[top];
      const nid = heap.nid[top];
      if (!alive[pos] || next[pos] === -1) continue;
      const right = next[pos];
      const slot = merges.find(sym[pos], sym[right]);
      if (slot < 0 || merges.newId(slot) !== nid) continue;
      sym[pos] = nid;
      const after = next[right];
      next[pos] = after;
      alive[right] = 0;
      if (after > -1) prev[after] = pos;
      const p = prev[pos];
      if (p >= 0) {
        const s2 = merges.find(sym[p], sym[pos]);
        if (s2 >= 0) heap.push(merges.rank(s2), p, merges.newId(s2));
      }
      if (after > -1) {
        const s3 = merges.find(sym[pos], sym[after]);
        if (s3 >= 0) heap.push(merges.rank(s3), pos, merges.newId(s3));
      }
    }
    let cnt = 0;
    for (let i = 0; i < n; i++) if (alive[i]) cnt++;
    const res = new Int32Array(cnt);
    for (let i = 0, k = 0; i < n; i++) if (alive[i]) res[k++] = sym[i];
    return res;
  }
}
