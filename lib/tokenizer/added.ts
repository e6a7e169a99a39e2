/**
 * Added tokens (tokenizer.json `added_tokens`): found in the text before the model sees it,
 * the way HF's AddedVocabulary does it: leftmost-longest matching (aho-corasick
 * MatchKind::LeftmostLongest) of the non-normalized tokens on the raw text, then of the
 * normalized tokens on each normalized remaining piece; `single_word` discards a match that
 * touches a word character (regex \w) on either side, `lstrip` / `rstrip` swallow the
 * whitespace (regex \s) before / after it.
 */
import { BMP_FLAGS, F_SPLIT_WS, flagsOf } from './unicode';

export interface AddedTokenSpec {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A piece of the input: an added token (id >= 0) or text to tokenize (id = -1). */
export interface Split {
  start: number;
  end: number;
  id: number;
}

// Rust regex \w: Alphabetic, M, Nd, Pc, Join_Control. Only used around single_word tokens.
const WORD_RE = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;

function isWhitespace(cp: number): boolean {
  return cp < 65536 ? (BMP_FLAGS[cp] & F_SPLIT_WS) !== 0 : (flagsOf(cp) & F_SPLIT_WS) !== 0;
}

function cpBefore(s: string, i: number): number {
  const c = s.charCodeAt(i - 1);
  if (c >= 0xdc00 && c <= 0xdfff && i >= 2) {
    const h = s.charCodeAt(i - 2);
    if (h >= 0xd800 && h <= 0xdbff) return ((h - 0xd800) << 10) + (c - 0xdc00) + 0x10000;
  }
  return c;
}

function cpWidth(cp: number): number {
  return cp > 0xffff ? 2 : 1;
}

export class AddedMatcher {
  /** Trie over UTF-16 code units: children[node] maps unit -> node; term[node] = token index. */
  private children: Map<number, number>[] = [new Map()];
  private term: number[] = [-1];
  private first = new Uint8Array(65536);
  private tokens: AddedTokenSpec[];
  private patterns: string[];
  /** The one code unit every pattern starts with, if there is just one (indexOf fast path). */
  private firstChar: string | null = null;

  /** patterns[i] is what is matched for tokens[i] (normalized content for normalized ones). */
  constructor(tokens: AddedTokenSpec[], patterns: string[]) {
    this.tokens = tokens;
    this.patterns = patterns;
    for (let t = 0; t < patterns.length; t++) {
      const p = patterns[t];
      if (p.length === 0) continue;
      let node = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        let next = this.children[node].get(c);
        if (next === undefined) {
          next = this.children.length;
          this.children.push(new Map());
          this.term.push(-1);
          this.children[node].set(c, next);
        }
        node = next;
      }
      // aho-corasick keeps the first pattern given for duplicates
      if (this.term[node] < 0) this.term[node] = t;
      this.first[p.charCodeAt(0)] = 1;
    }
    const firsts = new Set(patterns.filter((p) => p.length > 0).map((p) => p[0]));
    if (firsts.size === 1) this.firstChar = [...firsts][0];
  }

  get empty(): boolean {
    return this.children[0].size === 0;
  }

  /** Next index >= i (< to) whose code unit starts some pattern, or -1. */
  private candidate(s: string, i: number, to: number): number {
    if (this.firstChar !== null) {
      const k = s.indexOf(this.firstChar, i);
      return k < 0 || k >= to ? -1 : k;
    }
    const first = this.first;
    for (; i < to; i++) if (first[s.charCodeAt(i)]) return i;
    return -1;
  }

  /** True when s[from, to) has a code unit that starts some pattern (cheap pre-check). */
  mayMatch(s: string, from: number, to: number): boolean {
    return this.candidate(s, from, to) >= 0;
  }

  /**
   * HF AddedVocabulary::find_matches on s[from, to) (offsets absolute), streamed: calls
   * emit(start, end, id) for each piece in order, id = -1 for text between tokens; stops
   * when emit returns true. The matches are aho-corasick's leftmost-longest, non-overlapping
   * ones; single_word, lstrip and rstrip are applied as HF applies them.
   */
  forEachSplit(s: string, from: number, to: number, emit: (start: number, end: number, id: number) => boolean): void {
    let i = this.candidate(s, from, to);
    let startOffset = from;
    while (i >= 0) {
      // longest pattern starting at i
      let node = 0;
      let t = -1;
      let mEnd = -1;
      for (let j = i; j < to; j++) {
        const next = this.children[node].get(s.charCodeAt(j));
        if (next === undefined) break;
        node = next;
        if (this.term[node] >= 0) {
          t = this.term[node];
          mEnd = j + 1;
        }
      }
      if (t < 0) {
        i = this.candidate(s, i + 1, to);
        continue;
      }
      const mStart = i;
      i = this.candidate(s, mEnd, to);
      let start = mStart;
      let stop = mEnd;
      const tok = this.tokens[t];
      if (tok.singleWord) {
        const startSpace = start === from || !WORD_RE.test(String.fromCodePoint(cpBefore(s, start)));
        const stopSpace = stop === to || !WORD_RE.test(String.fromCodePoint(s.codePointAt(stop)!));
        if (!startSpace || !stopSpace) continue;
      }
      if (tok.lstrip) {
        let ns = start;
        while (ns > from) {
          const cp = cpBefore(s, ns);
          if (!isWhitespace(cp)) break;
          ns -= cpWidth(cp);
        }
        start = Math.max(ns, startOffset);
      }
      if (tok.rstrip) {
        while (stop < to) {
          const cp = s.codePointAt(stop)!;
          if (!isWhitespace(cp)) break;
          stop += cpWidth(cp);
        }
      }
      if (startOffset < start && emit(startOffset, start, -1)) return;
      if (emit(start, stop, tok.id)) return;
      startOffset = stop;
    }
    if (startOffset < to) emit(startOffset, to, -1);
  }

  /** The pieces of forEachSplit as a list. */
  split(s: string, from: number, to: number): Split[] {
    const out: Split[] = [];
    this.forEachSplit(s, from, to, (start, end, id) => {
      out.push({ start, end, id });
      return false;
    });
    return out;
  }
}
