/** BertPreTokenizer: split on whitespace (dropped) and isolate each punctuation character. */
import { F_PUNCT, F_SPLIT_WS, flagsOf } from '../unicode';
import type { PreTokenizer } from './pre-tokenizer';

/** BertPreTokenizer (the general path; BertPipeline fuses it with the normalizer and WordPiece). */
export class BertPreTokenizer implements PreTokenizer {
  run(input: string[], inLeads: number[] | null, output: string[], outLeads: number[] | null): void {
    for (let p = 0; p < input.length; p++) {
      const s = input[p];
      const lead = inLeads === null ? 0 : inLeads[p];
      const push = (a: number, b: number) => {
        output.push(s.slice(a, b));
        if (outLeads !== null) outLeads.push(Math.max(0, lead - a));
      };
      let start = -1;
      for (let i = 0; i < s.length; ) {
        const cp = s.codePointAt(i)!;
        const w = cp > 0xffff ? 2 : 1;
        const f = flagsOf(cp);
        if (f & F_SPLIT_WS) {
          if (start >= 0) push(start, i);
          start = -1;
        } else if (f & F_PUNCT) {
          if (start >= 0) push(start, i);
          push(i, i + w);
          start = -1;
        } else if (start < 0) start = i;
        i += w;
      }
      if (start >= 0) push(start, s.length);
    }
  }
}
