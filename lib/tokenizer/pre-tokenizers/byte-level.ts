/**
 * ByteLevel: a space before the piece (add_prefix_space, unless it starts with one), the
 * GPT-2 split (use_regex) — 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * as Oniguruma runs it, with its own character tables — then each piece's UTF-8 bytes as GPT-2
 * byte characters. The regex is a hand-written scanner: same pieces, no regex engine.
 */
import { byteLevelString } from '../bytes';
import { CharClass } from '../charclass';
import { ONIG_LETTER, ONIG_NUMBER, ONIG_SPACE } from '../unicode-classes';
import type { PreTokenizer } from './pre-tokenizer';

const SPACE = 1;
const LETTER = 2;
const NUMBER = 3;
const OTHER = 4;

let bmpClass: Uint8Array | null = null;
let astral: { L: CharClass; N: CharClass; S: CharClass } | null = null;

function classTable(): Uint8Array {
  if (bmpClass === null) {
    const L = new CharClass(ONIG_LETTER);
    const N = new CharClass(ONIG_NUMBER);
    const S = new CharClass(ONIG_SPACE);
    astral = { L, N, S };
    bmpClass = new Uint8Array(0x10000);
    for (let c = 0; c < 0x10000; c++) bmpClass[c] = S.has(c) ? SPACE : L.has(c) ? LETTER : N.has(c) ? NUMBER : OTHER;
  }
  return bmpClass;
}

function astralClass(cp: number): number {
  const t = astral!;
  return t.S.has(cp) ? SPACE : t.L.has(cp) ? LETTER : t.N.has(cp) ? NUMBER : OTHER;
}

/**
 * The GPT-2 regex pieces of s, as [start, end) pairs pushed to out (they cover s: every
 * character matches one alternative).
 */
export function gpt2Split(s: string, out: number[]): void {
  const table = classTable();
  const n = s.length;
  const classAt = (i: number): number => {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) return astralClass(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
    }
    return table[c];
  };
  const width = (i: number): number => {
    const c = s.charCodeAt(i);
    return c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
  };
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 39 && i + 1 < n) {
      // 's 't 're 've 'm 'll 'd
      const c1 = s.charCodeAt(i + 1);
      if (c1 === 115 || c1 === 116 || c1 === 109 || c1 === 100) {
        out.push(i, i + 2);
        i += 2;
        continue;
      }
      const c2 = i + 2 < n ? s.charCodeAt(i + 2) : 0;
      if ((c1 === 114 && c2 === 101) || (c1 === 118 && c2 === 101) || (c1 === 108 && c2 === 108)) {
        out.push(i, i + 3);
        i += 3;
        continue;
      }
    }
    let j = i;
    let k = classAt(i);
    if (c === 32 && i + 1 < n) {
      const next = classAt(i + 1);
      if (next !== SPACE) {
        j = i + 1; // " ?" takes the space
        k = next;
      }
    }
    if (k !== SPACE) {
      let e = j + width(j);
      while (e < n && classAt(e) === k) e += width(e);
      out.push(i, e);
      i = e;
      continue;
    }
    // \s+(?!\S) | \s+
    let e = i + width(i);
    while (e < n && classAt(e) === SPACE) e += width(e);
    if (e < n && e - i > 1) {
      // leave the last space for the word that follows (always one code unit: no astral space)
      e -= 1;
    }
    out.push(i, e);
    i = e;
  }
}

/** ByteLevel pre-tokenizer. */
export class ByteLevelPreTokenizer implements PreTokenizer {
  private readonly bounds: number[] = [];

  constructor(
    private readonly addPrefixSpace: boolean,
    private readonly useRegex: boolean,
  ) {}

  run(input: string[], inLeads: number[] | null, output: string[], outLeads: number[] | null): void {
    for (let p = 0; p < input.length; p++) {
      let s = input[p];
      let lead = inLeads === null ? 0 : inLeads[p];
      if (this.addPrefixSpace && s.charCodeAt(0) !== 32) {
        s = ' ' + s;
        if (lead > 0) lead += 1;
      }
      if (!this.useRegex) {
        output.push(byteLevelString(s));
        if (outLeads !== null) outLeads.push(lead);
        continue;
      }
      const b = this.bounds;
      b.length = 0;
      gpt2Split(s, b);
      for (let k = 0; k < b.length; k += 2) {
        output.push(byteLevelString(b[k] === 0 && b[k + 1] === s.length ? s : s.slice(b[k], b[k + 1])));
        if (outLeads !== null) outLeads.push(Math.max(0, lead - b[k]));
      }
    }
  }
}
