/**
 * Unicode normalization forms (NFD, NFKD, NFC, NFKC) exactly as Hugging Face `tokenizers`
 * applies them (its unicode-normalization-alignments crate), from tables asked of the reference
 * (unicode-tables.ts: canonical decompositions and combining classes; unicode-classes.ts:
 * compatibility decompositions and the pairs it composes), not from String.prototype.normalize,
 * whose Unicode version is newer and differs on a few hundred code points.
 */
import { COMPOSE_PAIRS, NFKD_MAP } from './unicode-classes';
import { DECOMP, cccOf } from './unicode';

export type NormalizationForm = 'NFD' | 'NFKD' | 'NFC' | 'NFKC';

function parseMap(s: string): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const entry of s.split('|')) {
    const colon = entry.indexOf(':');
    m.set(parseInt(entry.slice(0, colon), 16), entry.slice(colon + 1).split(',').map((h) => parseInt(h, 16)));
  }
  return m;
}

let compat: Map<number, number[]> | null = null;
let pairs: Map<number, number> | null = null;

function compatMap(): Map<number, number[]> {
  return (compat ??= parseMap(NFKD_MAP));
}

function pairMap(): Map<number, number> {
  if (pairs === null) {
    pairs = new Map();
    for (const entry of COMPOSE_PAIRS.split('|')) {
      const [ab, c] = entry.split(':');
      const [a, b] = ab.split(',').map((h) => parseInt(h, 16));
      pairs.set(a * 0x110000 + b, parseInt(c, 16));
    }
  }
  return pairs;
}

const S_BASE = 0xac00;
const L_BASE = 0x1100;
const V_BASE = 0x1161;
const T_BASE = 0x11a7;
const L_COUNT = 19;
const V_COUNT = 21;
const T_COUNT = 28;
const N_COUNT = V_COUNT * T_COUNT;
const S_COUNT = L_COUNT * N_COUNT;

function composePair(a: number, b: number): number {
  if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT) {
    return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
  }
  if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT === 0 && b > T_BASE && b < T_BASE + T_COUNT) {
    return a + (b - T_BASE);
  }
  return pairMap().get(a * 0x110000 + b) ?? -1;
}

/** Code points of s decomposed (canonically, or with compatibility mappings) and reordered. */
function decompose(s: string, compatibility: boolean): number[] {
  const out: number[] = [];
  const cm = compatibility ? compatMap() : null;
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        i++;
      }
    }
    if (cp < 0xa0) {
      out.push(cp);
      continue;
    }
    if (cp >= S_BASE && cp < S_BASE + S_COUNT) {
      const k = cp - S_BASE;
      out.push(L_BASE + Math.floor(k / N_COUNT), V_BASE + Math.floor((k % N_COUNT) / T_COUNT));
      if (k % T_COUNT !== 0) out.push(T_BASE + (k % T_COUNT));
      continue;
    }
    const d = (cm !== null ? cm.get(cp) : undefined) ?? DECOMP.get(cp);
    if (d === undefined) out.push(cp);
    else for (const x of d) out.push(x);
  }
  // canonical ordering: stable sort of each run of non-starters by combining class
  for (let k = 0; k < out.length; ) {
    if (cccOf(out[k]) === 0) {
      k++;
      continue;
    }
    let e = k + 1;
    while (e < out.length && cccOf(out[e]) !== 0) e++;
    if (e - k > 1) {
      const run = out.slice(k, e).map((cp, j) => ({ cp, j, c: cccOf(cp) }));
      run.sort((x, y) => x.c - y.c || x.j - y.j);
      for (let j = 0; j < run.length; j++) out[k + j] = run[j].cp;
    }
    k = e;
  }
  return out;
}

/** Canonical composition of decomposed, ordered code points (in place; returns the new length). */
function compose(cps: number[]): number {
  let starter = -1;
  let lastClass = 0;
  let n = 0;
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i];
    const cc = cccOf(c);
    if (starter >= 0 && (n - 1 === starter || (lastClass !== 0 && lastClass < cc))) {
      const composite = composePair(cps[starter], c);
      if (composite >= 0) {
        cps[starter] = composite;
        continue;
      }
    }
    if (cc === 0) starter = n;
    lastClass = cc;
    cps[n++] = c;
  }
  return n;
}

function toString(cps: number[], n: number): string {
  let s = '';
  for (let i = 0; i < n; i += 4096) s += String.fromCodePoint(...cps.slice(i, Math.min(n, i + 4096)));
  return s;
}

/** Highest code unit of s. */
function maxUnit(s: string): number {
  let m = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > m) m = c;
  }
  return m;
}

/** `s` in normalization form `form`, as the reference computes it. */
export function normalizeForm(s: string, form: NormalizationForm): string {
  const m = maxUnit(s);
  // below these, every character is its own normal form and nothing composes
  if (m < 0xa0 || (form === 'NFD' && m < 0xc0) || (form === 'NFC' && m < 0x300)) return s;
  const cps = decompose(s, form === 'NFKD' || form === 'NFKC');
  const n = form === 'NFC' || form === 'NFKC' ? compose(cps) : cps.length;
  return toString(cps, n);
}
