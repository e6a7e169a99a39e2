#!/usr/bin/env node
// Writes lib/tokenizer/unicode-tables.ts (shipped code) from the reference implementation.
//
// Hugging Face `tokenizers` (Rust) classifies characters with its own, older Unicode tables
// (crate unicode_categories for Cc/Cf/Co, P*, Mn; unicode-normalization-alignments for NFD;
// Rust std for whitespace and lowercase). Node's \p{..} regexes follow a newer Unicode, so they
// disagree on a few hundred code points (new punctuation, new marks, new decompositions). To be
// identical on every input we ask the reference itself — the npm build of `tokenizers`, the same
// Rust code as the Python wheel — code point by code point, and store what it does.
//
// One input is not the reference's: the canonical combining class VALUES of its marks come from
// Python's unicodedata (/usr/bin/python3; Node has no such API). Combining classes never change
// once assigned (Unicode stability policy), and every candidate is probed against the reference's
// own NFD, so any Python whose Unicode is at least as new as the reference's gives the same table;
// the header records both versions so a difference can be traced.
//
//   node tools/gen-unicode-tables.js            rewrite lib/tokenizer/unicode-tables.ts
//   node tools/gen-unicode-tables.js --stdout   print it instead
// test/unicode-tables.test.js regenerates it in memory and fails when the shipped file is stale.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const TARGET = path.join(ROOT, 'lib', 'tokenizer', 'unicode-tables.ts');
const PYTHON = process.env.SBERT_PYTHON || '/usr/bin/python3';

/** The reference package (a devDependency); throws with an install hint when it is absent. */
function loadReference() {
  try {
    return { tokenizers: require('tokenizers'), version: require('tokenizers/package.json').version };
  } catch (err) {
    const e = new Error(`the npm package "tokenizers" (the reference) is not installed: npm ci installs it (devDependency); ${err.message}`);
    e.code = 'ERR_NO_REFERENCE';
    throw e;
  }
}

/** { unidata: '14.0.0', ccc: Map(cp → class) } for every code point with a non-zero class. */
function pythonCombiningClasses() {
  const script = [
    'import json, sys, unicodedata',
    'ccc = [[cp, unicodedata.combining(chr(cp))] for cp in range(0x110000)]',
    'json.dump({"unidata": unicodedata.unidata_version, "python": sys.version.split()[0],',
    '           "ccc": [p for p in ccc if p[1]]}, sys.stdout)',
  ].join('\n');
  let out;
  try {
    out = execFileSync(PYTHON, ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
  } catch (err) {
    const e = new Error(`${PYTHON} could not list Unicode combining classes: ${err.message}`);
    e.code = 'ERR_NO_PYTHON';
    throw e;
  }
  const parsed = JSON.parse(out);
  return { unidata: parsed.unidata, python: parsed.python, ccc: new Map(parsed.ccc) };
}

function ranges(cps) {
  const out = [];
  for (const cp of [...cps].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && last[1] === cp - 1) last[1] = cp;
    else out.push([cp, cp]);
  }
  return out;
}

const hex = (n) => '0x' + n.toString(16);
const flat = (rs) => rs.map(([a, b]) => `${hex(a)},${hex(b)}`).join(',');
const codePoints = (s) => Array.from(s, (c) => c.codePointAt(0));
const mapString = (entries) =>
  entries.map(([cp, d]) => `${cp.toString(16)}:${codePoints(d).map((c) => c.toString(16)).join(',')}`).join('|');

function check(cond, what) {
  if (!cond) throw new Error(`reference behaves unexpectedly: ${what}`);
}

/**
 * The text of lib/tokenizer/unicode-tables.ts as the reference gives it now, and the versions it
 * came from: { text, versions: { tokenizers, unidata, python }, counts }.
 */
function generateUnicodeTables() {
  const { tokenizers: T, version } = loadReference();
  const unicode = pythonCombiningClasses();
  const bert = (o) => T.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false, ...o });
  const clean = bert({ cleanText: true });
  const chinese = bert({ handleChineseChars: true });
  const strip = bert({ stripAccents: true });
  const lower = bert({ lowercase: true });
  const nfd = T.nfdNormalizer();
  const pre = T.bertPreTokenizer();

  const removed = [], cleanWs = [], chineseCps = [], punct = [], splitWs = [], mn = [];
  const nfdMap = new Map(), lowerMap = new Map();
  const allCps = [];
  for (let cp = 0; cp < 0x110000; cp++) if (cp < 0xd800 || cp > 0xdfff) allCps.push(cp);

  for (const cp of allCps) {
    const ch = String.fromCodePoint(cp);
    const c = clean.normalizeString(ch);
    if (c === '') removed.push(cp);
    else if (c === ' ' && ch !== ' ') cleanWs.push(cp);
    const zh = chinese.normalizeString(ch);
    if (zh !== ch) {
      check(zh === ' ' + ch + ' ', `handle_chinese_chars(${hex(cp)}) = ${JSON.stringify(zh)}`);
      chineseCps.push(cp);
    }
    const d = nfd.normalizeString(ch);
    if (d !== ch) nfdMap.set(cp, d);
    else if (strip.normalizeString(ch) === '') mn.push(cp);
    const low = lower.normalizeString(ch);
    if (low !== ch) lowerMap.set(cp, low);
    const pieces = pre.preTokenizeString('a' + ch + 'a').length;
    if (pieces === 3) punct.push(cp);
    else if (pieces === 2) splitWs.push(cp);
    else check(pieces === 1, `BertPreTokenizer('a${hex(cp)}a') gave ${pieces} pieces`);
  }

  // strip_accents == NFD then drop Mn: the derived Mn set must explain every code point
  const mnSet = new Set(mn);
  for (const cp of allCps) {
    const ch = String.fromCodePoint(cp);
    const want = strip.normalizeString(ch);
    const got = Array.from(nfdMap.get(cp) ?? ch).filter((c) => !mnSet.has(c.codePointAt(0))).join('');
    check(want === got, `strip_accents(${hex(cp)}) = ${JSON.stringify(want)}, NFD minus Mn = ${JSON.stringify(got)}`);
  }

  // Canonical combining classes as the reference's NFD knows them. A code point the reference
  // does not know is a starter (ccc 0) there, so probe each candidate with a reordering test.
  const P1 = '\u0334', P230 = '\u0301'; // ccc 1 and 230, in every Unicode version
  const ccc = new Map();
  for (const [cp, k] of unicode.ccc) {
    if (nfdMap.has(cp)) continue;
    const m = String.fromCodePoint(cp);
    const known = k > 1
      ? nfd.normalizeString('a' + m + P1) === 'a' + P1 + m
      : nfd.normalizeString('a' + P230 + m) === 'a' + m + P230;
    if (known) ccc.set(cp, k);
  }
  // sanity: a few pairs of known marks reorder as the table says
  for (const [a, b] of [[0x301, 0x316], [0x316, 0x301], [0x5b0, 0x5b1], [0x94d, 0x93c]]) {
    const s = 'x' + String.fromCodePoint(a) + String.fromCodePoint(b);
    const expected = (ccc.get(a) ?? 0) <= (ccc.get(b) ?? 0) ? s : 'x' + String.fromCodePoint(b) + String.fromCodePoint(a);
    check(nfd.normalizeString(s) === expected, `NFD order of ${hex(a)} ${hex(b)}`);
  }

  const hangul = [...nfdMap.keys()].filter((cp) => cp >= 0xac00 && cp <= 0xd7a3);
  check(hangul.length === 11172, `${hangul.length} Hangul syllables decompose`);
  const sorted = (m) => [...m.entries()].sort((x, y) => x[0] - y[0]);

  const versions = { tokenizers: version, unidata: unicode.unidata, python: unicode.python };
  const lines = [
    '/* eslint-disable */',
    `// GENERATED by tools/gen-unicode-tables.js from Hugging Face tokenizers ${version} (npm) and the`,
    `// combining classes of Python ${versions.python}'s unicodedata (Unicode ${versions.unidata}).`,
    '// Do not edit. Character classes exactly as the reference implementation applies them.',
    '',
    '/** [start, end] inclusive pairs: removed by BertNormalizer clean_text (NUL, U+FFFD, Cc/Cf/Co but \\t\\n\\r). */',
    `export const REMOVED_RANGES: readonly number[] = [${flat(ranges(removed))}];`,
    '/** Mapped to U+0020 by clean_text. */',
    `export const CLEAN_WHITESPACE: readonly number[] = [${cleanWs.map(hex).join(',')}];`,
    '/** Split (and dropped) by BertPreTokenizer: Rust char::is_whitespace. */',
    `export const SPLIT_WHITESPACE: readonly number[] = [${splitWs.map(hex).join(',')}];`,
    "/** Isolated by BertPreTokenizer: ASCII punctuation or the reference's P* categories. */",
    `export const PUNCT_RANGES: readonly number[] = [${flat(ranges(punct))}];`,
    '/** Surrounded by spaces by handle_chinese_chars. */',
    `export const CHINESE_RANGES: readonly number[] = [${flat(ranges(chineseCps))}];`,
    '/** Nonspacing marks (Mn) dropped by strip_accents, as the reference classifies them. */',
    `export const MN_RANGES: readonly number[] = [${flat(ranges(mn))}];`,
    "/** Canonical combining class of non-starters known to the reference's NFD: [cp, ccc, ...]. */",
    `export const CCC: readonly number[] = [${sorted(ccc).map(([c, k]) => `${hex(c)},${k}`).join(',')}];`,
    '/** Canonical decomposition of each code point (Hangul syllables are algorithmic and left out). */',
    `export const NFD_MAP = "${mapString(sorted(nfdMap).filter(([cp]) => cp < 0xac00 || cp > 0xd7a3))}";`,
    '/** Per-character lowercase (no final-sigma context), only where it changes the character. */',
    `export const LOWER_MAP = "${mapString(sorted(lowerMap))}";`,
    '',
  ];
  const counts = {
    removed: removed.length, cleanWhitespace: cleanWs.length, splitWhitespace: splitWs.length, punct: punct.length,
    chinese: chineseCps.length, mn: mn.length, ccc: ccc.size, nfd: nfdMap.size, lower: lowerMap.size,
  };
  return { text: lines.join('\n'), versions, counts };
}

/** The versions named in a unicode-tables.ts header, or null when the header has none. */
function headerVersions(text) {
  const m = /tokenizers (\S+) \(npm\) and the\n\/\/ combining classes of Python (\S+)'s unicodedata \(Unicode (\S+)\)/.exec(text);
  return m ? { tokenizers: m[1], python: m[2], unidata: m[3] } : null;
}

module.exports = { generateUnicodeTables, headerVersions, TARGET };

if (require.main === module) {
  const { text, counts } = generateUnicodeTables();
  if (process.argv.includes('--stdout')) process.stdout.write(text);
  else fs.writeFileSync(TARGET, text);
  process.stderr.write(`${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(' ')}\n`);
}
