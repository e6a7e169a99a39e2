/**
 * Metaspace: spaces become the replacement character (▁), which is prepended to a piece
 * (prepend_scheme "always"; "first": only to the piece that starts the original text; "never"),
 * then the piece is cut before every replacement character (split: true).
 */
import type { PreTokenizer } from './pre-tokenizer';

/** Metaspace pre-tokenizer. */
export class MetaspacePreTokenizer implements PreTokenizer {
  constructor(
    private readonly replacement: string,
    private readonly prependScheme: 'always' | 'first' | 'never',
    private readonly split: boolean,
  ) {}

  run(input: string[], inLeads: number[] | null, output: string[], outLeads: number[] | null): void {
    const rep = this.replacement;
    for (let p = 0; p < input.length; p++) {
      let t = input[p];
      const lead = inLeads === null ? 0 : inLeads[p];
      if (this.split && rep !== ' ' && outLeads === null && t.indexOf(rep) < 0) {
        this.splitOnSpaces(t, lead, output);
        continue;
      }
      if (rep !== ' ' && t.indexOf(' ') >= 0) t = t.replaceAll(' ', rep);
      let shift = 0;
      if (!t.startsWith(rep) && (this.prependScheme === 'always' || (this.prependScheme === 'first' && lead > 0))) {
        t = rep + t;
        shift = rep.length;
      }
      if (!this.split) {
        output.push(t);
        if (outLeads !== null) outLeads.push(lead > 0 ? lead + shift : 0);
        continue;
      }
      // cut before every replacement character (MergedWithNext)
      let start = 0;
      let k = t.indexOf(rep, 1);
      while (k >= 0) {
        output.push(t.slice(start, k));
        if (outLeads !== null) outLeads.push(Math.max(0, lead + shift - start));
        start = k;
        k = t.indexOf(rep, k + rep.length);
      }
      output.push(start === 0 ? t : t.slice(start));
      if (outLeads !== null) outLeads.push(Math.max(0, lead + shift - start));
    }
  }

  /**
   * The same pieces, for a text holding no replacement character, without building the
   * replaced string: every space starts a piece (replacement + the text up to the next space).
   */
  private splitOnSpaces(t: string, lead: number, output: string[]): void {
    const rep = this.replacement;
    let sp = t.indexOf(' ');
    if (sp !== 0) {
      const prepend = this.prependScheme === 'always' || (this.prependScheme === 'first' && lead > 0);
      const first = sp < 0 ? t : t.slice(0, sp);
      output.push(prepend ? rep + first : first);
    }
    while (sp >= 0) {
      const next = t.indexOf(' ', sp + 1);
      output.push(rep + (next < 0 ? t.slice(sp + 1) : t.slice(sp + 1, next)));
      sp = next;
    }
  }
}
