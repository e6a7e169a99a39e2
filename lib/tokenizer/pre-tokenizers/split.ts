/** Split: a string or Oniguruma regex pattern, a delimiter behavior, optionally inverted. */
import { Pattern } from '../pattern';
import type { PatternSpec, SplitBehavior } from '../spec';
import { PreTokenizer, splitByMatches } from './pre-tokenizer';

/** Split pre-tokenizer. */
export class SplitPreTokenizer implements PreTokenizer {
  private readonly pattern: Pattern;

  constructor(
    spec: PatternSpec,
    private readonly behavior: SplitBehavior,
    private readonly invert: boolean,
  ) {
    this.pattern = new Pattern(spec);
  }

  run(input: string[], inLeads: number[] | null, output: string[], outLeads: number[] | null): void {
    for (let i = 0; i < input.length; i++) {
      const s = input[i];
      const m = this.pattern.matches(s);
      if (this.invert) for (let k = 2; k < m.length; k += 3) m[k] = 1 - m[k];
      splitByMatches(s, inLeads === null ? 0 : inLeads[i], m, this.behavior, output, outLeads);
    }
  }
}
