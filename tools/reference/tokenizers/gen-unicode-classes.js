#!/usr/bin/env node
// Writes lib/tokenizer/unicode-classes.ts: the character classes and normalization data the
// tokenizer components need, asked code point by code point of the reference itself (the npm
// `tokenizers` binding, HF's Rust library), because its Unicode tables (Oniguruma's \p{L} and
// \p{N}, the regex crate's \w, unicode-normalization-alignments' NFKD and composition, Rust's
// char::is_numeric) are older or newer than Node's, and "identical ids" means identical on
// every code point.
//
//   node tools/reference/tokenizers/gen-unicode-classes.js > lib/tokenizer/unicode-classes.ts
//
// Needs the devDependency `tokenizers`, a built dist/ (npm run build:ts) and /usr/bin/python3 (its unicodedata names the
// candidate canonical pairs; each one is kept only if the reference composes it).
'use strict';
const { execFileSync } = require('node:child_process');
const tk = require('tokenizers');

const MAX = 0x110000;
const isSurrogate = (cp) => cp >= 0xd800 && cp <= 0xdfff;

/** [start, end] inclusive pairs of the code points where pred holds. */
function ranges(pred) {
  const out = [];
  let start = -1;
  for (let cp = 0; cp <= MAX; cp++) {
    const yes = cp < MAX && !isSurrogate(cp) && pred(cp);
    if (yes && start < 0) start = cp;
    if (!yes && start >= 0 && !(isSurrogate(cp) && cp < 0xe000)) {
      out.push(start, cp - 1);
      start = -1;
    }
  }
  return out;
}

const byteLevel = tk.byteLevelPreTokenizer(false, true);
const digits = tk.digitsPreTokenizer(true);
const whitespace = tk.whitespacePreTokenizer();
const stripAccents = tk.stripAccentsNormalizer();
const nfd = tk.nfdNormalizer();
const nfkd = tk.nfkdNormalizer();
const nfc = tk.nfcNormalizer();
const lower = tk.lowercase();
const { LOWER_MAP } = require('../../../dist/tokenizer/unicode-tables');

const ch = (cp) => String.fromCodePoint(cp);
let ALL = '';
for (let cp = 0; cp < MAX; cp++) if (!isSurrogate(cp)) ALL += ch(cp);

/** The code points an Oniguruma regex (one character) matches, as HF's Split runs it. */
function onigMatches(regex) {
  const json = {
    version: '1.0',
    model: { type: 'WordPiece', vocab: { a: 0 }, unk_token: 'a', continuing_subword_prefix: '##', max_input_chars_per_word: 100 },
    pre_tokenizer: { type: 'Split', pattern: { Regex: regex }, behavior: 'Removed', invert: false },
  };
  const pre = tk.Tokenizer.fromString(JSON.stringify(json)).getPreTokenizer();
  const kept = new Set();
  for (const [s] of pre.preTokenizeString(ALL)) for (const c of s) kept.add(c.codePointAt(0));
  return (cp) => !kept.has(cp);
}
const onigL = onigMatches('\\p{L}');
const onigN = onigMatches('\\p{N}');
const onigSpace = onigMatches('\\s');
/** Properties a tokenizer.json regex may name, as Oniguruma defines them. */
const ONIG_PROPS = [
  ['word', '\\w'], ['digit', '\\d'], ['hex', '\\h'],
  ...'L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Co Cn'.split(' ').map((c) => [c, `\\p{${c}}`]),
  ...'Han Hiragana Katakana Hangul Latin Cyrillic Greek Arabic Hebrew Thai Devanagari Common Inherited'.split(' ').map((c) => [c, `\\p{${c}}`]),
];
// Digits(individual_digits) isolates char::is_numeric
const rustNumeric = (cp) => digits.preTokenizeString('a' + ch(cp)).length === 2;
// Whitespace: \w+|[^\w\s]+ (regex crate): x is \w when "a"+x is one piece
const regexWord = (cp) => {
  const p = whitespace.preTokenizeString('a' + ch(cp));
  return p.length === 1 && p[0][0] === 'a' + ch(cp);
};
const regexSpace = (cp) => {
  if (regexWord(cp)) return false;
  const p = whitespace.preTokenizeString('!' + ch(cp));
  return !(p.length === 1 && p[0][0] === '!' + ch(cp));
};
const stripped = new Set(Array.from(stripAccents.normalizeString(ALL), (c) => c.codePointAt(0)));
const combiningMark = (cp) => !stripped.has(cp);

const cps = (s) => Array.from(s, (c) => c.codePointAt(0));
const hex = (n) => n.toString(16);

// NFKD where it differs from NFD (the compatibility decompositions), full decomposition
const nfkdMap = [];
const lowerCheck = [];
for (let cp = 0; cp < MAX; cp++) {
  if (isSurrogate(cp)) continue;
  const s = ch(cp);
  const k = nfkd.normalizeString(s);
  if (k !== nfd.normalizeString(s)) nfkdMap.push(`${hex(cp)}:${cps(k).map(hex).join(',')}`);
  const l = lower.normalizeString(s);
  if (l !== s) lowerCheck.push(`${hex(cp)}:${cps(l).map(hex).join(',')}`);
}

// Canonical pairs: unicodedata's single-level decompositions, kept when the reference composes them
const py = `
import unicodedata, sys
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF: continue
    d = unicodedata.decomposition(chr(cp))
    if not d or d.startswith('<'): continue
    parts = d.split()
    if len(parts) == 2: print('%x %s %s' % (cp, parts[0], parts[1]))
`;
// The Lowercase normalizer must be the per-character map BertNormalizer uses (unicode-tables.ts)
if (lowerCheck.join('|') !== LOWER_MAP) throw new Error('Lowercase differs from unicode-tables.ts LOWER_MAP: regenerate that first');
const pairs = [];
for (const line of execFileSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8', maxBuffer: 1 << 26 }).trim().split('\n')) {
  const [c, a, b] = line.split(' ').map((h) => parseInt(h, 16));
  if (nfc.normalizeString(ch(a) + ch(b)) === ch(c)) pairs.push(`${hex(a)},${hex(b)}:${hex(c)}`);
}

const out = [];
out.push('/* eslint-disable */');
out.push('// GENERATED by tools/reference/tokenizers/gen-unicode-classes.js from the npm `tokenizers` binding');
out.push(`// ${require('tokenizers/package.json').version} (Hugging Face tokenizers). Do not edit.`);
const emit = (doc, name, data) => {
  out.push(`/** ${doc} */`);
  out.push(`export const ${name}: readonly number[] = [${data.map((x) => '0x' + hex(x)).join(',')}];`);
};
emit('[start, end] pairs: \\p{L} as Oniguruma sees it (GPT-2 / Split regexes).', 'ONIG_LETTER', ranges(onigL));
emit('[start, end] pairs: \\p{N} as Oniguruma sees it.', 'ONIG_NUMBER', ranges(onigN));
emit('[start, end] pairs: \\s as Oniguruma sees it.', 'ONIG_SPACE', ranges(onigSpace));
out.push('/** Oniguruma classes by name ([start, end] pairs), for the Replace / Split regex translation. */');
out.push('export const ONIG_PROPS: Readonly<Record<string, readonly number[]>> = {');
for (const [name, re] of ONIG_PROPS) out.push(`  ${JSON.stringify(name)}: [${ranges(onigMatches(re)).map((x) => '0x' + hex(x)).join(',')}],`);
out.push('};');
emit('[start, end] pairs: Rust char::is_numeric (Digits pre-tokenizer).', 'RUST_NUMERIC', ranges(rustNumeric));
emit('[start, end] pairs: \\w of the regex crate (Whitespace pre-tokenizer).', 'REGEX_WORD', ranges(regexWord));
emit('[start, end] pairs: \\s of the regex crate (Whitespace pre-tokenizer).', 'REGEX_SPACE', ranges(regexSpace));
emit('[start, end] pairs: combining marks (StripAccents normalizer).', 'COMBINING_MARK', ranges(combiningMark));
out.push('/** Full NFKD of each code point whose NFKD differs from its NFD (compatibility decompositions). */');
out.push(`export const NFKD_MAP = ${JSON.stringify(nfkdMap.join('|'))};`);
out.push('/** Canonical pairs the reference composes (NFC / NFKC): "first,second:composite" (Hangul is algorithmic). */');
out.push(`export const COMPOSE_PAIRS = ${JSON.stringify(pairs.join('|'))};`);
process.stdout.write(out.join('\n') + '\n');
