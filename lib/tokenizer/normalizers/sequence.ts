/** Normalizer Sequence: each normalizer in turn. */
import type { Normalizer } from './normalizer';

/** Normalizer Sequence. */
export class SequenceNormalizer implements Normalizer {
  constructor(private readonly parts: Normalizer[]) {}

  normalize(s: string): string {
    for (const p of this.parts) s = p.normalize(s);
    return s;
  }

  lead(before: string, lead: number): number {
    let s = before;
    for (const p of this.parts) {
      const next = p.normalize(s);
      lead = p.lead(s, lead, next);
      s = next;
    }
    return lead;
  }
}
