#!/usr/bin/env node
// Tokenizer worst cases, timed: the huge and pathological inputs test/tokenizer-edge.test.js
// checks for correctness (the test asserts ids, never time). Tells whether they stay linear:
// each case is also run at a tenth of the size, and the ratio of the two times is printed
// (about 10 when linear).
//
//   npx tsc -p tsconfig.json && node bench/tokenizer-edge.js [--rounds 3]
//
// Times are the best of --rounds runs (wall clock). Prints a table and one JSON line.
'use strict';
const path = require('path');
const { loadTokenizer } = require('../dist/tokenizer');

const args = process.argv.slice(2);
const i = args.indexOf('--rounds');
const ROUNDS = i >= 0 ? Number(args[i + 1]) : 3;
const MB10 = 10 << 20;

/** Best wall-clock time of `fn` over ROUNDS runs, in ms. */
function best(fn) {
  let ms = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    ms = Math.min(ms, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return ms;
}

async function main() {
  const tok = await loadTokenizer(path.join(__dirname, '..', 'test', 'fixtures', 'tokenizer'));
  const unit = 'The quick brown fox jumps over the lazy dog, unbelievably. Café 中文 😀 [MASK]\u0000 ';
  const mixed = (size) => unit.repeat(Math.ceil(size / unit.length));
  const batch = (n) => Array.from({ length: n }, (_, k) => (k % 7 === 0 ? '' : `Sentence number ${k} is here, naïvely.`));
  // [name, make input of a given size, run]
  const cases = [
    ['10 MB mixed text, encode', mixed, (s) => tok.encode(s)],
    ['10 MB mixed text, maxLength 256', mixed, (s) => tok.encode(s, { maxLength: 256 })],
    ['10 MB one word', (n) => 'a'.repeat(n), (s) => tok.encode(s)],
    ['10 MB of NUL', (n) => '\u0000'.repeat(n), (s) => tok.encode(s)],
    ['10 MB combining marks', (n) => 'é\u0301\u0316'.repeat(n / 4), (s) => tok.encode(s)],
    ['10 MB of "["', (n) => '['.repeat(n), (s) => tok.encode(s)],
    ['10 MB CJK', (n) => '中文'.repeat(n / 4), (s) => tok.encode(s)],
    ['100k-text batch, maxLength 128', (n) => batch(Math.round(n / 104.8576)), (t) => tok.encodeBatch(t, { maxLength: 128 })],
  ];
  const rows = [];
  for (const [name, make, run] of cases) {
    const full = make(MB10);
    const tenth = make(MB10 / 10);
    const ms = best(() => run(full));
    const msTenth = best(() => run(tenth));
    rows.push({ case: name, ms: +ms.toFixed(1), msTenthSize: +msTenth.toFixed(1), ratio: +(ms / msTenth).toFixed(1) });
  }
  const w = Math.max(...rows.map((r) => r.case.length));
  console.log(`${'case'.padEnd(w)}  ${'ms'.padStart(9)}  ${'1/10 size'.padStart(9)}  ratio`);
  for (const r of rows) {
    console.log(`${r.case.padEnd(w)}  ${r.ms.toFixed(1).padStart(9)}  ${r.msTenthSize.toFixed(1).padStart(9)}  ${r.ratio.toFixed(1).padStart(5)}`);
  }
  console.log(JSON.stringify({ bench: 'tokenizer-edge', rounds: ROUNDS, node: process.version, rows }));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
