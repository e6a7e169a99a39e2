/**
 * Sets of code points given as sorted [start, end] pairs (the generated tables of
 * unicode-classes.ts / unicode-tables.ts): a bitmap for the BMP, binary search above it.
 */
export class CharClass {
  private readonly bmp = new Uint8Array(8192);
  private readonly astral: Int32Array;

  constructor(ranges: readonly number[]) {
    const astral: number[] = [];
    for (let i = 0; i < ranges.length; i += 2) {
      const a = ranges[i];
      const b = ranges[i + 1];
      for (let c = a; c <= Math.min(b, 0xffff); c++) this.bmp[c >> 3] |= 1 << (c & 7);
      if (b > 0xffff) astral.push(Math.max(a, 0x10000), b);
    }
    this.astral = Int32Array.from(astral);
  }

  /** Whether code point cp is in the set. */
  has(cp: number): boolean {
    if (cp < 0x10000) return ((this.bmp[cp >> 3] >> (cp & 7)) & 1) !== 0;
    const r = this.astral;
    let lo = 0;
    let hi = (r.length >> 1) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cp < r[2 * mid]) hi = mid - 1;
      else if (cp > r[2 * mid + 1]) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * The text as Hugging Face `tokenizers` receives it from Node: a lone UTF-16 surrogate (which
 * UTF-8, and so a Rust string, cannot hold) becomes U+FFFD, as Node's UTF-8 encoding does.
 */
export function wellFormed(s: string): string {
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATE, '\ufffd') : s;
}
