/** Replace: every match of a string or Oniguruma regex pattern becomes `content`. */
import { Pattern } from '../pattern';
import type { PatternSpec } from '../spec';
import type { Normalizer } from './normalizer';

/** Replace: HF NormalizedString::replace with a compiled pattern. */
export class ReplaceNormalizer implements Normalizer {
  private readonly pattern: Pattern;

  constructor(
    spec: PatternSpec,
    private readonly content: string,
  ) {
    this.pattern = new Pattern(spec);
  }

  normalize(s: string): string {
    return this.pattern.replace(s, this.content);
  }

  lead(before: string, lead: number): number {
    if (lead === 0) return 0;
    const m = this.pattern.matches(before);
    // only a match at the start moves it: inserted text is aligned with the start, a removed
    // start is skipped
    if (m.length >= 3 && m[0] === 0 && m[2] === 1) {
      const rest = Math.max(0, lead - m[1]);
      return this.content.length > 0 ? this.content.length + rest : rest;
    }
    return lead;
  }
}
