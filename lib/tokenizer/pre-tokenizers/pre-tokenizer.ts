/**
 * What every pre-tokenizer module provides. Pieces travel as parallel lists: the strings, and
 * (only when some component asks: Metaspace's prepend_scheme "first") each piece's `lead`, the
 * number of its leading code units that HF aligns with the start of the original text.
 */
import type { SplitBehavior } from '../spec';

export interface PreTokenizer {
  /**
   * Split (and transform) every piece of `input` into `output`, dropping empty pieces as HF's
   * PreTokenizedString::split does. `inLeads` / `outLeads` are both null or both lists.
   */
  run(input: string[], inLeads: number[] | null, output: string[], outLeads: number[] | null): void;
}

/**
 * HF NormalizedString::split: the pieces of s given [start, end, isMatch] triples covering it
 * (Pattern::find_matches) and the delimiter behavior, pushed (non-empty ones) to output.
 */
export function splitByMatches(
  s: string,
  lead: number,
  m: number[],
  behavior: SplitBehavior,
  output: string[],
  outLeads: number[] | null,
): void {
  const push = (a: number, b: number) => {
    if (b <= a) return;
    output.push(a === 0 && b === s.length ? s : s.slice(a, b));
    if (outLeads !== null) outLeads.push(Math.max(0, lead - a));
  };
  switch (behavior) {
    case 'Isolated':
      for (let k = 0; k < m.length; k += 3) push(m[k], m[k + 1]);
      return;
    case 'Removed':
      for (let k = 0; k < m.length; k += 3) if (!m[k + 2]) push(m[k], m[k + 1]);
      return;
    case 'Contiguous':
    case 'MergedWithPrevious': {
      // fold left: a piece extends the previous one (Contiguous: same kind as it; previous:
      // a match right after a non-match)
      let a = -1;
      let b = -1;
      let prevMatch = false;
      for (let k = 0; k < m.length; k += 3) {
        const isMatch = m[k + 2] === 1;
        const extend = behavior === 'Contiguous' ? isMatch === prevMatch : isMatch && !prevMatch;
        if (extend && a >= 0) {
          b = m[k + 1];
        } else {
          if (a >= 0) push(a, b);
          a = m[k];
          b = m[k + 1];
        }
        prevMatch = isMatch;
      }
      if (a >= 0) push(a, b);
      return;
    }
    case 'MergedWithNext': {
      // fold right: a match followed by a non-match starts it
      const starts: number[] = [];
      const ends: number[] = [];
      let prevMatch = false;
      for (let k = m.length - 3; k >= 0; k -= 3) {
        const isMatch = m[k + 2] === 1;
        if (isMatch && !prevMatch && starts.length > 0) starts[starts.length - 1] = m[k];
        else {
          starts.push(m[k]);
          ends.push(m[k + 1]);
        }
        prevMatch = isMatch;
      }
      for (let j = starts.length - 1; j >= 0; j--) push(starts[j], ends[j]);
      return;
    }
  }
}

/**
 * HF find_matches for a character predicate: each matching character is a match of its own,
 * the text between matches one non-match. Appends triples to m (cleared first).
 */
export function charMatches(s: string, pred: (cp: number) => boolean, m: number[]): number[] {
  m.length = 0;
  if (s.length === 0) {
    m.push(0, 0, 0);
    return m;
  }
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    let w = 1;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      cp = ((cp - 0xd800) << 10) + (s.charCodeAt(i + 1) - 0xdc00) + 0x10000;
      w = 2;
    }
    if (pred(cp)) {
      if (last < i) m.push(last, i, 0);
      m.push(i, i + w, 1);
      last = i + w;
    }
    i += w - 1;
  }
  if (last < s.length) m.push(last, s.length, 0);
  return m;
}

/** A pre-tokenizer made of a character predicate and a delimiter behavior. */
export class CharSplitPreTokenizer implements PreTokenizer {
  private readonly m: number[] = [];
  constructor(
    private readonly pred: (cp: number) => boolean,
    private readonly behavior: SplitBehavior,
  ) {}

  run(input: string[], inLeads: number[] | null, output: string[], outLeads: number[] | null): void {
    for (let i = 0; i < input.length; i++) {
      const s = input[i];
      splitByMatches(s, inLeads === null ? 0 : inLeads[i], charMatches(s, this.pred, this.m), this.behavior, output, outLeads);
    }
  }
}
