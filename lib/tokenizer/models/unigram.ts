/**
 * Unigram (sentencepiece): the best-scoring segmentation of a pre-token into vocabulary pieces
 * (Viterbi), as HF's Unigram::encode_optimized does it, tie for tie:
 * - positions advance character by character; every piece that starts there is a candidate
 *   for the position where it ends; a candidate replaces the best one so far only when its
 *   score is strictly higher (so the earliest start wins a tie);
 * - a character no single-character piece covers gets an unk candidate scored
 *   min(score) - 10;
 * - consecutive unk pieces are fused into one, which is then looked up as a string (it may be
 *   a vocabulary piece after all), else spelled as <0xXX> byte pieces (byte_fallback, when all
 *   exist), else unk_id.
 * Scores are summed in the same order in float64, so ties and near-ties resolve the same way.
 */
import { SbertError } from '../../errors';
import { utf8Bytes } from '../bytes';
import { IdBuffer, IdsCache } from '../ids';
import type { ModelSpec } from '../spec';
import { HASH_MUL, StrTable } from '../strtable';
import type { Model } from './model';

type UnigramSpec = Extract<ModelSpec, { type: 'Unigram' }>;

/** HF's K_UNK_PENALTY. */
const UNK_PENALTY = 10;

/** The Unigram model of a spec. */
export class UnigramModel implements Model {
  private readonly table: StrTable;
  private readonly scores: Float64Array;
  private readonly unkScore: number;
  private readonly cache = new IdsCache();
  private units = new Uint16Array(256);
  private best = new Float64Array(257);
  private from = new Int32Array(257);
  private ids = new Int32Array(257);

  constructor(
    private readonly spec: UnigramSpec,
    private readonly source: string,
  ) {
    const { pieces, scores } = spec;
    this.table = new StrTable(pieces.length);
    let min = Infinity;
    for (let i = 0; i < pieces.length; i++) {
      this.table.setString(pieces[i], i); // a repeated piece: the last id wins, as in HF
      if (scores[i] < min) min = scores[i];
    }
    this.scores = scores;
    this.unkScore = min - UNK_PENALTY;
  }

  tokenToId(token: string): number {
    return this.table.getString(token);
  }

  forEachToken(fn: (token: string, id: number) => void): void {
    const p = this.spec.pieces;
    for (let i = 0; i < p.length; i++) fn(p[i], i);
  }

  tokenize(piece: string, out: IdBuffer): void {
    let ids = this.cache.get(piece);
    if (ids === undefined) {
      ids = this.encode(piece);
      this.cache.set(piece, ids);
    }
    out.pushAll(ids);
  }

  private missingUnk(): never {
    throw new SbertError('ERR_BAD_INPUT', `${this.source}: the text holds a character the Unigram vocabulary cannot cover and the model has no unk_id`);
  }

  private encode(piece: string): Int32Array {
    const n = piece.length;
    if (this.units.length < n) {
      this.units = new Uint16Array(n * 2);
      this.best = new Float64Array(n * 2 + 1);
      this.from = new Int32Array(n * 2 + 1);
      this.ids = new Int32Array(n * 2 + 1);
    }
    const u = this.units;
    for (let i = 0; i < n; i++) u[i] = piece.charCodeAt(i);
    const best = this.best;
    const from = this.from;
    const ids = this.ids;
    from.fill(-1, 0, n + 1);
    best[0] = 0;
    const table = this.table;
    const vals = table.vals;
    const maxLen = table.maxKeyLen;
    const scores = this.scores;
    const unkId = this.spec.unkId;
    for (let s = 0; s < n; ) {
      const c = u[s];
      const width = c >= 0xd800 && c <= 0xdbff && s + 1 < n ? 2 : 1;
      const base = best[s];
      let single = false;
      let h = 0;
      const lim = Math.min(maxLen, n - s);
      for (let l = 1; l <= lim; l++) {
        h = (Math.imul(h, HASH_MUL) + u[s + l - 1]) | 0;
        const slot = table.get(u, s, l, h);
        if (slot < 0) continue;
        const id = vals[slot];
        const cand = scores[id] + base;
        const e = s + l;
        if (from[e] < 0 || cand > best[e]) {
          best[e] = cand;
          from[e] = s;
          ids[e] = id;
        }
        if (l === width) single = true;
      }
      if (!single) {
        const e = s + width;
        const cand = this.unkScore + base;
        if (from[e] < 0 || cand > best[e]) {
          if (unkId < 0) this.missingUnk();
          best[e] = cand;
          from[e] = s;
          ids[e] = unkId;
        }
      }
      s += width;
    }
    // back from the end: pieces in reverse, consecutive unk pieces fused
    const rev: number[] = [];
    let e = n;
    while (e > 0) {
      const s = from[e];
      if (ids[e] === unkId) {
        let a = s;
        while (a > 0 && ids[a] === unkId) a = from[a];
        this.pushFused(piece.slice(a, e), rev);
        e = a;
      } else {
        rev.push(ids[e]);
        e = s;
      }
    }
    const res = new Int32Array(rev.length);
    for (let k = 0; k < rev.length; k++) res[k] = rev[rev.length - 1 - k];
    return res;
  }

  /** Ids of a fused unk run, pushed in reverse order (as the backtrack collects them). */
  private pushFused(text: string, rev: number[]): void {
    const id = this.table.getString(text);
    if (id >= 0) {
      rev.push(id);
      return;
    }
    if (this.spec.byteFallback) {
      const bytes = utf8Bytes(text);
      const byteIds: number[] = [];
      for (const b of bytes) {
        const bid = this.table.getString(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
        if (bid < 0) break;
        byteIds.push(bid);
      }
      if (byteIds.length === bytes.length) {
        for (let k = byteIds.length - 1; k >= 0; k--) rev.push(byteIds[k]);
        return;
      }
    }
    if (this.spec.unkId < 0) this.missingUnk();
    rev.push(this.spec.unkId);
  }
}
