/**
 * WordPiece (greedy longest-match-first): a word longer than max_input_chars_per_word code
 * points, or one that cannot be covered by vocabulary pieces, is the unk token. Used for
 * WordPiece tokenizers whose normalizer / pre-tokenizer are not BERT's own (those take the
 * fused path in bert.ts).
 */
import { SbertError } from '../../errors';
import { IdBuffer, IdsCache } from '../ids';
import type { ModelSpec } from '../spec';
import { HASH_MUL, StrTable } from '../strtable';
import type { Model } from './model';

type WordPieceSpec = Extract<ModelSpec, { type: 'WordPiece' }>;

/** The WordPiece model of a spec (general path). */
export class WordPieceModel implements Model {
  private readonly start: StrTable;
  private readonly cont: StrTable;
  private readonly unkId: number;
  private readonly cache = new IdsCache();
  private units = new Uint16Array(256);
  private tmp = new Int32Array(64);

  constructor(
    private readonly spec: WordPieceSpec,
    private readonly source: string,
  ) {
    const { tokens, ids } = spec.vocab;
    this.start = new StrTable(tokens.length);
    this.cont = new StrTable(tokens.length >> 1);
    for (let i = 0; i < tokens.length; i++) {
      this.start.setString(tokens[i], ids[i]);
      if (tokens[i].startsWith(spec.continuingSubwordPrefix)) this.cont.setString(tokens[i].slice(spec.continuingSubwordPrefix.length), ids[i]);
    }
    this.unkId = this.start.getString(spec.unkToken);
  }

  tokenToId(token: string): number {
    return this.start.getString(token);
  }

  forEachToken(fn: (token: string, id: number) => void): void {
    const { tokens, ids } = this.spec.vocab;
    for (let i = 0; i < tokens.length; i++) fn(tokens[i], ids[i]);
  }

  private unk(): number {
    if (this.unkId < 0) throw new SbertError('ERR_BAD_MODEL', `${this.source}: unk token "${this.spec.unkToken}" is not in the vocabulary`);
    return this.unkId;
  }

  tokenize(piece: string, out: IdBuffer): void {
    const hit = this.cache.get(piece);
    if (hit !== undefined) {
      out.pushAll(hit);
      return;
    }
    const ids = this.wordpiece(piece);
    this.cache.set(piece, ids);
    out.pushAll(ids);
  }

  private wordpiece(piece: string): Int32Array {
    const len = piece.length;
    let chars = 0;
    for (let i = 0; i < len; i++) {
      const c = piece.charCodeAt(i);
      if (!(c >= 0xdc00 && c <= 0xdfff)) chars++;
    }
    if (chars > this.spec.maxInputCharsPerWord) return Int32Array.of(this.unk());
    if (this.units.length < len) this.units = new Uint16Array(len * 2);
    if (this.tmp.length < len) this.tmp = new Int32Array(len * 2);
    const w = this.units;
    for (let i = 0; i < len; i++) w[i] = piece.charCodeAt(i);
    let s = 0;
    let cnt = 0;
    while (s < len) {
      const table = s === 0 ? this.start : this.cont;
      let id = -1;
      let l = Math.min(len - s, table.maxKeyLen);
      for (; l > 0; l--) {
        const last = w[s + l - 1];
        if (last >= 0xd800 && last <= 0xdbff && s + l < len) continue; // never split a surrogate pair
        let h = 0;
        for (let k = s; k < s + l; k++) h = (Math.imul(h, HASH_MUL) + w[k]) | 0;
        const slot = table.get(w, s, l, h);
        if (slot >= 0) {
          id = table.vals[slot];
          break;
        }
      }
      if (id < 0) return Int32Array.of(this.unk());
      this.tmp[cnt++] = id;
      s += l;
    }
    return this.tmp.slice(0, cnt);
  }
}
