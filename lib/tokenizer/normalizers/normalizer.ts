/**
 * What every normalizer module provides: the normalized string, and where that leaves the
 * original text's first character (see `lead` in composed.ts; only Metaspace's
 * prepend_scheme "first" asks).
 */
export interface Normalizer {
  /** The normalized form of a well-formed string. */
  normalize(s: string): string;
  /**
   * How many leading code units of `after` (= normalize(before)) HF aligns with the start of
   * the original text, given that `lead` leading code units of `before` were.
   */
  lead(before: string, lead: number, after: string): number;
}

/** The lead of a normalizer that maps characters independently (most of them). */
export function charwiseLead(n: Normalizer, before: string, lead: number): number {
  return lead > 0 ? n.normalize(before.slice(0, lead)).length : 0;
}
