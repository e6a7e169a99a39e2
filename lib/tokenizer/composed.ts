/**
 * The general text pipeline, component by component as Hugging Face `tokenizers` runs them:
 *   1. added tokens that are not normalized are found in the raw text (added.ts);
 *   2. each piece between them is normalized (normalizers/), then split on the normalized
 *      added tokens; empty pieces are dropped;
 *   3. the pre-tokenizer splits each piece into pre-tokens (pre-tokenizers/);
 *   4. the model turns each pre-token into ids (models/), until the limit is reached.
 * The text is first made well-formed (a lone surrogate becomes U+FFFD, as in Node's UTF-8).
 *
 * `lead` (only tracked when Metaspace's prepend_scheme is "first"): how many leading code
 * units of a piece HF aligns with offset 0 of the original text; "first" prepends only to a
 * piece whose lead is positive.
 */
import { AddedMatcher } from './added';
import { wellFormed } from './charclass';
import { Model, buildModel } from './models';
import { Normalizer, buildNormalizer } from './normalizers';
import { PreTokenizer, buildPreTokenizer } from './pre-tokenizers';
import { TextPipeline } from './pipeline';
import type { PreTokenizerSpec, TokenizerSpec } from './spec';

function usesFirstScheme(p: PreTokenizerSpec | null): boolean {
  if (p === null) return false;
  if (p.type === 'Metaspace') return p.prependScheme === 'first';
  if (p.type === 'Sequence') return p.pretokenizers.some(usesFirstScheme);
  return false;
}

/** The general text pipeline of a spec (any components). */
export class ComposedPipeline extends TextPipeline {
  private readonly normalizer: Normalizer | null;
  private readonly preTokenizer: PreTokenizer | null;
  private readonly model: Model;
  private readonly trackLeads: boolean;
  private readonly addedRaw: AddedMatcher | null;
  private readonly addedNorm: AddedMatcher | null;
  private limit = Infinity;
  private soft = false;
  private readonly pieces: string[] = [];
  private readonly leads: number[] = [];

  constructor(spec: TokenizerSpec) {
    super();
    this.normalizer = spec.normalizer === null ? null : buildNormalizer(spec.normalizer);
    this.preTokenizer = spec.preTokenizer === null ? null : buildPreTokenizer(spec.preTokenizer);
    this.model = buildModel(spec.model, spec.source);
    this.trackLeads = usesFirstScheme(spec.preTokenizer);
    const raw = spec.addedTokens.filter((t) => !t.normalized);
    const normd = spec.addedTokens.filter((t) => t.normalized);
    const n = this.normalizer;
    const rawM = raw.length ? new AddedMatcher(raw, raw.map((t) => t.content)) : null;
    const normM = normd.length ? new AddedMatcher(normd, normd.map((t) => (n ? n.normalize(wellFormed(t.content)) : t.content))) : null;
    this.addedRaw = rawM === null || rawM.empty ? null : rawM;
    this.addedNorm = normM === null || normM.empty ? null : normM;
  }

  /** The normalized form of an added token's content (how HF stores a normalized one). */
  normalizeContent(s: string): string {
    return this.normalizer ? this.normalizer.normalize(wellFormed(s)) : s;
  }

  modelTokenToId(token: string): number {
    return this.model.tokenToId(token);
  }

  forEachModelToken(fn: (token: string, id: number) => void): void {
    this.model.forEachToken(fn);
  }

  tokenizeText(text: string, limit: number, soft: boolean): void {
    this.limit = limit;
    this.soft = soft;
    if (!soft && this.n >= limit) return;
    text = wellFormed(text);
    const added = this.addedRaw;
    if (added === null || !added.mayMatch(text, 0, text.length)) {
      this.segment(text, 0, text.length);
      return;
    }
    added.forEachSplit(text, 0, text.length, (start, end, id) => {
      if (id < 0) return this.segment(text, start, end);
      this.addedToken(id, text.slice(start, end));
      return !soft && this.n >= limit;
    });
  }

  private addedToken(id: number, matched: string): void {
    if (this.logging) this.markSplit(true);
    if (this.addedText) this.addedText.set(this.n, matched);
    this.push(id);
  }

  /** A piece of raw text between added tokens; true when the limit stopped it. */
  private segment(text: string, from: number, to: number): boolean {
    const seg = from === 0 && to === text.length ? text : text.slice(from, to);
    const norm = this.normalizer === null ? seg : this.normalizer.normalize(seg);
    if (norm.length === 0) return false;
    let lead = 0;
    if (this.trackLeads && from === 0) {
      const first = seg.codePointAt(0)! > 0xffff ? 2 : 1;
      lead = this.normalizer === null ? first : this.normalizer.lead(seg, first, norm);
    }
    const added = this.addedNorm;
    if (added === null || !added.mayMatch(norm, 0, norm.length)) return this.words(norm, lead);
    let stopped = false;
    added.forEachSplit(norm, 0, norm.length, (start, end, id) => {
      if (id >= 0) {
        this.addedToken(id, norm.slice(start, end));
        return false;
      }
      stopped = this.words(norm.slice(start, end), Math.max(0, lead - start));
      return stopped;
    });
    return stopped;
  }

  /** Pre-tokenize a normalized piece and run the model on each pre-token. */
  private words(s: string, lead: number): boolean {
    const model = this.model;
    const limit = this.limit;
    if (this.preTokenizer === null) {
      if (this.logging) this.markSplit(false);
      model.tokenize(s, this);
      return this.n >= limit;
    }
    const pieces = this.pieces;
    const leads = this.trackLeads ? this.leads : null;
    pieces.length = 0;
    if (leads !== null) leads.length = 0;
    this.preTokenizer.run([s], leads === null ? null : [lead], pieces, leads);
    for (let i = 0; i < pieces.length; i++) {
      if (this.logging) this.markSplit(false);
      model.tokenize(pieces[i], this);
      if (this.n >= limit) return true;
    }
    return false;
  }
}
