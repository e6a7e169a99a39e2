/**
 * WhitespaceSplit (split on Rust char::is_whitespace, dropped) and Whitespace (the regex
 * \w+|[^\w\s]+ of the regex crate: runs of word characters and runs of other non-space
 * characters; spaces dropped), with the reference's character tables.
 */
import { CharClass } from '../charclass';
import { REGEX_SPACE, REGEX_WORD } from '../unicode-classes';
import { isRustWhitespace } from '../normalizers/filters';
import type { PreTokenizer } from './pre-tokenizer';

function pushPiece(s: string, a: number, b: number, lead: number, output: string[], outLeads: number[] | null): void {
  output.push(a === 0 && b === s.length ? s : s.slice(a, b));
  if (outLeads !== null) outLeads.push(Math.max(0, lead - a));
}

/** WhitespaceSplit pre-tokenizer. */
export class WhitespaceSplitPreTokenizer implements PreTokenizer {
  run(input: string[], inLeads: number[] | null, output: string[], outLeads: number[] | null): void {
    for (let p = 0; p < input.length; p++) {
      const s = input[p];
      const lead = inLeads === null ? 0 : inLeads[p];
      let start = -1;
      for (let i = 0; i < s.length; i++) {
        if (isRustWhitespace(s.charCodeAt(i))) {
          if (start >= 0) pushPiece(s, start, i, lead, output, outLeads);
          start = -1;
        } else if (start < 0) start = i;
      }
      if (start >= 0) pushPiece(s, start, s.length, lead, output, outLeads);
    }
  }
}

let word: CharClass | null = null;
let space: CharClass | null = null;

/** Whitespace pre-tokenizer. */
export class WhitespacePreTokenizer implements PreTokenizer {
  private readonly word = (word ??= new CharClass(REGEX_WORD));
  private readonly space = (space ??= new CharClass(REGEX_SPACE));

  /** 0: space, 1: word, 2: other. */
  private kind(cp: number): number {
    if (this.word.has(cp)) return 1;
    return this.space.has(cp) ? 0 : 2;
  }

  run(input: string[], inLeads: number[] | null, output: string[], outLeads: number[] | null): void {
    for (let p = 0; p < input.length; p++) {
      const s = input[p];
      const lead = inLeads === null ? 0 : inLeads[p];
      let start = -1;
      let runKind = 0;
      for (let i = 0; i < s.length; ) {
        const cp = s.codePointAt(i)!;
        const k = this.kind(cp);
        if (k !== runKind) {
          if (start >= 0) pushPiece(s, start, i, lead, output, outLeads);
          start = k === 0 ? -1 : i;
          runKind = k;
        }
        i += cp > 0xffff ? 2 : 1;
      }
      if (start >= 0) pushPiece(s, start, s.length, lead, output, outLeads);
    }
  }
}
