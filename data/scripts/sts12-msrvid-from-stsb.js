#!/usr/bin/env node
'use strict';
// Rebuilds the STS 2012 MSRvid test set (750 pairs) from the STS Benchmark, which holds all of
// it spread over its train/dev/test files (rows with file "MSRvid", year "2012test", ids
// 0000–0749), and writes it in the merged `score<TAB>sentence1<TAB>sentence2` form of the other
// sts12-16 files, in id order.
//
// Check first: the same extraction for MSRpar ("MSRpar", "2012test") must give back
// data/sts12-16/2012/MSRpar.test.tsv byte for byte — which shows the STS Benchmark keeps the
// STS 2012 test pairs, their order (ids) and gold scores unchanged.
//
//   node data/scripts/sts12-msrvid-from-stsb.js STSB_DIR [OUT]
//   STSB_DIR holds sts-train.csv, sts-dev.csv, sts-test.csv; OUT defaults to
//   data/sts12-16/2012/MSRvid.test.tsv
const fs = require('fs');
const path = require('path');

const [stsbDir, outArg] = process.argv.slice(2);
if (!stsbDir) {
  console.error('usage: node data/scripts/sts12-msrvid-from-stsb.js STSB_DIR [OUT]');
  process.exit(2);
}
const dataDir = path.resolve(__dirname, '..');
const out = outArg ?? path.join(dataDir, 'sts12-16', '2012', 'MSRvid.test.tsv');

function extract(file, year) {
  const rows = new Map();
  for (const split of ['sts-train.csv', 'sts-dev.csv', 'sts-test.csv']) {
    const lines = fs.readFileSync(path.join(stsbDir, split), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line === '') return;
      const f = line.split('\t');
      if (f.length < 7) throw new Error(`${split}:${i + 1}: fewer than 7 fields`);
      if (f[1] !== file || f[2] !== year) return;
      const id = Number(f[3]);
      if (rows.has(id)) throw new Error(`${split}:${i + 1}: ${file} ${year} id ${f[3]} appears twice`);
      rows.set(id, `${f[4]}\t${f[5]}\t${f[6]}\n`);
    });
  }
  const n = rows.size;
  for (let id = 0; id < n; id++) if (!rows.has(id)) throw new Error(`${file} ${year}: id ${id} is missing (ids must be 0..${n - 1})`);
  return Array.from({ length: n }, (_, id) => rows.get(id)).join('');
}

const msrpar = extract('MSRpar', '2012test');
const original = fs.readFileSync(path.join(dataDir, 'sts12-16', '2012', 'MSRpar.test.tsv'), 'utf8');
if (msrpar !== original) {
  console.error('check failed: MSRpar rebuilt from the STS Benchmark differs from sts12-16/2012/MSRpar.test.tsv');
  process.exit(1);
}
const msrvid = extract('MSRvid', '2012test');
const count = msrvid.split('\n').length - 1;
if (count !== 750) {
  console.error(`expected 750 MSRvid 2012test pairs, found ${count}`);
  process.exit(1);
}
fs.writeFileSync(out, msrvid);
console.log(`check passed (MSRpar: 750 pairs identical); wrote ${count} MSRvid pairs to ${out}`);
