/**
 * The normalizers that are one string function each: BertNormalizer, the Unicode normal
 * forms, Lowercase, Prepend (the text is well-formed UTF-16 here; see composed.ts).
 */
import { NormalizationForm, normalizeForm } from '../normalization';
import { NormalizerOptions, lowercaseString, normalizeString } from '../unicode';
import { Normalizer, charwiseLead } from './normalizer';

/** BertNormalizer (clean_text, handle_chinese_chars, strip_accents, lowercase). */
export class BertNormalizer implements Normalizer {
  constructor(private readonly options: NormalizerOptions) {}
  normalize(s: string): string {
    return normalizeString(s, this.options);
  }
  lead(before: string, lead: number): number {
    return charwiseLead(this, before, lead);
  }
}

/** NFC, NFD, NFKC or NFKD. */
export class UnicodeNormalizer implements Normalizer {
  constructor(private readonly form: NormalizationForm) {}
  normalize(s: string): string {
    return normalizeForm(s, this.form);
  }
  lead(before: string, lead: number): number {
    return charwiseLead(this, before, lead);
  }
}

/** Lowercase (Rust char::to_lowercase per character). */
export class LowercaseNormalizer implements Normalizer {
  normalize(s: string): string {
    return lowercaseString(s);
  }
  lead(before: string, lead: number): number {
    return charwiseLead(this, before, lead);
  }
}

/** Prepend: `prepend` before a non-empty text. */
export class PrependNormalizer implements Normalizer {
  constructor(private readonly prepend: string) {}
  normalize(s: string): string {
    return s.length === 0 ? s : this.prepend + s;
  }
  lead(before: string, lead: number): number {
    // the prepended characters share the alignment of the first character
    return before.length === 0 || lead === 0 ? 0 : lead + this.prepend.length;
  }
}
