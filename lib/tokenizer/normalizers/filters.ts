/**
 * Normalizers that drop or map single characters: Strip, StripAccents, Nmt. HF realigns the
 * text on what is left, so a dropped first character moves the start (see `lead`).
 */
import { CharClass } from '../charclass';
import { COMBINING_MARK } from '../unicode-classes';
import { BMP_FLAGS, F_SPLIT_WS } from '../unicode';
import { Normalizer } from './normalizer';

/** Rust char::is_whitespace (no astral code point is whitespace). */
export function isRustWhitespace(c: number): boolean {
  return c < 0x10000 && (BMP_FLAGS[c] & F_SPLIT_WS) !== 0;
}

/** Strip: whitespace off the left and/or right end. */
export class StripNormalizer implements Normalizer {
  constructor(
    private readonly left: boolean,
    private readonly right: boolean,
  ) {}

  normalize(s: string): string {
    let a = 0;
    let b = s.length;
    if (this.left) while (a < b && isRustWhitespace(s.charCodeAt(a))) a++;
    if (this.right) while (b > a && isRustWhitespace(s.charCodeAt(b - 1))) b--;
    return a === 0 && b === s.length ? s : s.slice(a, b);
  }

  lead(before: string, lead: number): number {
    let a = 0;
    if (this.left) while (a < before.length && isRustWhitespace(before.charCodeAt(a))) a++;
    return Math.max(0, lead - a);
  }
}

/** Characters a filter drops, and what the first kept one does to `lead`. */
abstract class FilterNormalizer implements Normalizer {
  protected abstract drop(cp: number): boolean;
  protected map(cp: number): number {
    return cp;
  }

  normalize(s: string): string {
    let out = '';
    let last = 0;
    for (let i = 0; i < s.length; i++) {
      let cp = s.charCodeAt(i);
      let units = 1;
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
        cp = ((cp - 0xd800) << 10) + (s.charCodeAt(i + 1) - 0xdc00) + 0x10000;
        units = 2;
      }
      if (this.drop(cp)) {
        out += s.slice(last, i);
        last = i + units;
      } else {
        const m = this.map(cp);
        if (m !== cp) {
          out += s.slice(last, i) + String.fromCodePoint(m);
          last = i + units;
        }
      }
      i += units - 1;
    }
    return last === 0 ? s : out + s.slice(last);
  }

  lead(before: string, lead: number): number {
    // dropped leading characters are skipped by the alignment (HF filter's removed_start)
    let i = 0;
    while (i < before.length) {
      const cp = before.codePointAt(i)!;
      if (!this.drop(cp)) break;
      i += cp > 0xffff ? 2 : 1;
    }
    return lead > i ? lead - i : 0;
  }
}

let marks: CharClass | null = null;

/** StripAccents: drops combining marks (the reference's is_combining_mark). */
export class StripAccentsNormalizer extends FilterNormalizer {
  private readonly marks = (marks ??= new CharClass(COMBINING_MARK));
  protected drop(cp: number): boolean {
    return cp >= 0x300 && this.marks.has(cp);
  }
}

/** Nmt: sentencepiece's nmt filter (control characters) and whitespace mapping. */
export class NmtNormalizer extends FilterNormalizer {
  protected drop(c: number): boolean {
    return (c >= 0x01 && c <= 0x08) || c === 0x0b || (c >= 0x0e && c <= 0x1f) || c === 0x7f || c === 0x8f || c === 0x9f;
  }
  protected override map(c: number): number {
    switch (c) {
      case 0x09:
      case 0x0a:
      case 0x0c:
      case 0x0d:
      case 0x1680:
      case 0x200b:
      case 0x200c:
      case 0x200d:
      case 0x200e:
      case 0x200f:
      case 0x2028:
      case 0x2029:
      case 0x2581:
      case 0xfeff:
      case 0xfffd:
        return 0x20;
      default:
        return c;
    }
  }
}
