/**
 * Extended grapheme cluster boundaries (Unicode UAX #29), which HF's Precompiled normalizer
 * walks (`str::graphemes(true)` of the unicode-segmentation crate): a cluster shorter than 6
 * UTF-8 bytes is looked up whole in the charsmap.
 *
 * Rules GB3–GB13 are implemented; GB9c (Indic conjuncts) is not: it only joins clusters of at
 * least two 3-byte characters, which the normalizer treats character by character whether
 * they are joined or not, so it cannot change a result. The properties come from the JS
 * engine's Unicode data (Grapheme_Extend, Extended_Pictographic, general categories).
 */

const OTHER = 0;
const CR = 1;
const LF = 2;
const CONTROL = 3;
const EXTEND = 4;
const ZWJ = 5;
const RI = 6;
const PREPEND = 7;
const SPACING_MARK = 8;
const L = 9;
const V = 10;
const T = 11;
const LV = 12;
const LVT = 13;
/** Flag added to the class of Extended_Pictographic code points. */
const PICT = 16;

const RE_EXTEND = /^[\p{Grapheme_Extend}\p{Emoji_Modifier}]$/u;
const RE_CONTROL = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]$/u;
const RE_MC = /^\p{Mc}$/u;
const RE_PICT = /^\p{Extended_Pictographic}$/u;
const PREPEND_CPS = new Set([
  0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x6dd, 0x70f, 0x890, 0x891, 0x8e2, 0xd4e, 0x110bd, 0x110cd, 0x111c2,
  0x111c3, 0x1193f, 0x11941, 0x11a3a, 0x11a84, 0x11a85, 0x11a86, 0x11a87, 0x11a88, 0x11a89, 0x11d46, 0x113d1,
]);
/** Spacing marks UAX #29 leaves out of SpacingMark. */
const NOT_SPACING = new Set([
  0x102b, 0x102c, 0x1038, 0x1062, 0x1063, 0x1064, 0x1067, 0x1068, 0x1069, 0x106a, 0x106b, 0x106c, 0x106d, 0x1083,
  0x1087, 0x1088, 0x1089, 0x108a, 0x108b, 0x108c, 0x108f, 0x109a, 0x109b, 0x109c, 0x1a61, 0x1a63, 0x1a64, 0xaa7b,
  0xaa7d, 0x11720, 0x11721,
]);

function classify(cp: number): number {
  if (cp === 0x0d) return CR;
  if (cp === 0x0a) return LF;
  if (cp === 0x200d) return ZWJ;
  if (cp >= 0x1f1e6 && cp <= 0x1f1ff) return RI;
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0xa960 && cp <= 0xa97c)) return L;
  if ((cp >= 0x1160 && cp <= 0x11a7) || (cp >= 0xd7b0 && cp <= 0xd7c6)) return V;
  if ((cp >= 0x11a8 && cp <= 0x11ff) || (cp >= 0xd7cb && cp <= 0xd7fb)) return T;
  if (cp >= 0xac00 && cp <= 0xd7a3) return (cp - 0xac00) % 28 === 0 ? LV : LVT;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return CONTROL;
  if (cp < 0x7f) return OTHER;
  const ch = String.fromCodePoint(cp);
  const pict = RE_PICT.test(ch) ? PICT : 0;
  if (RE_EXTEND.test(ch)) return EXTEND | pict;
  if (PREPEND_CPS.has(cp)) return PREPEND;
  if (RE_CONTROL.test(ch)) return CONTROL;
  if ((RE_MC.test(ch) || cp === 0xe33 || cp === 0xeb3) && !NOT_SPACING.has(cp)) return SPACING_MARK;
  return OTHER | pict;
}

let bmp: Uint8Array | null = null;
const astral = new Map<number, number>();

function classOf(cp: number): number {
  if (cp < 0x10000) {
    if (bmp === null) {
      bmp = new Uint8Array(0x10000);
      for (let c = 0; c < 0x10000; c++) bmp[c] = c >= 0xd800 && c <= 0xdfff ? CONTROL : classify(c);
    }
    return bmp[cp];
  }
  let k = astral.get(cp);
  if (k === undefined) {
    k = classify(cp);
    if (astral.size < 1 << 16) astral.set(cp, k);
  }
  return k;
}

function cpAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
  }
  return c;
}

/** End (exclusive, in code units) of the grapheme cluster of s that starts at i (< s.length). */
export function graphemeEnd(s: string, i: number): number {
  let cp = cpAt(s, i);
  let prev = classOf(cp);
  let j = i + (cp > 0xffff ? 2 : 1);
  // GB11: in "ExtPict Extend*" (then ZWJ) — GB12/13: regional indicators seen in a row
  let pictRun = (prev & PICT) !== 0;
  let riCount = (prev & 15) === RI ? 1 : 0;
  while (j < s.length) {
    cp = cpAt(s, j);
    const cur = classOf(cp);
    const p = prev & 15;
    const c = cur & 15;
    let join: boolean;
    if (p === CR && c === LF) join = true; // GB3
    else if (p === CONTROL || p === CR || p === LF) join = false; // GB4
    else if (c === CONTROL || c === CR || c === LF) join = false; // GB5
    else if (p === L && (c === L || c === V || c === LV || c === LVT)) join = true; // GB6
    else if ((p === LV || p === V) && (c === V || c === T)) join = true; // GB7
    else if ((p === LVT || p === T) && c === T) join = true; // GB8
    else if (c === EXTEND || c === ZWJ) join = true; // GB9
    else if (c === SPACING_MARK) join = true; // GB9a
    else if (p === PREPEND) join = true; // GB9b
    else if (p === ZWJ && pictRun && (cur & PICT) !== 0) join = true; // GB11
    else if (p === RI && c === RI) join = riCount % 2 === 1; // GB12, GB13
    else join = false;
    if (!join) break;
    // GB11 state: ExtPict Extend* ZWJ
    if ((cur & PICT) !== 0) pictRun = true;
    else if (!((c === EXTEND || c === ZWJ) && pictRun && p !== ZWJ)) pictRun = false;
    riCount = c === RI ? riCount + 1 : 0;
    prev = cur;
    j += cp > 0xffff ? 2 : 1;
  }
  return j;
}
