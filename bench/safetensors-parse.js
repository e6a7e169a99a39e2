#!/usr/bin/env node
'use strict';
/**
 * Safetensors header parsing speed: what test/weights-safetensors.test.js's fuzz test used to
 * assert ("600 corrupted files parse or reject in under 10 s"), measured here instead.
 *
 *   npx tsc -p tsconfig.json && node bench/safetensors-parse.js [--reps 5] [--fuzz 600] [--tensors 20000]
 *
 * Cases, each timed as the best of --reps passes:
 *   fuzz       the test's corrupted files (a 5-tensor file with 1-4 random byte flips, 20% cut
 *              short): every one parses or is rejected with ERR_BAD_MODEL; µs per file
 *   wide       one header of --tensors tensors (the shape of a large checkpoint's index)
 * Peer: JSON.parse of the same header bytes, the floor every safetensors reader pays; the ratio
 * ours/JSON.parse says what validation adds. Nothing here is asserted.
 */
const { parseArgs } = require('node:util');
const w = require('../dist/weights');
const { rng } = require('../test/helpers/random');

const { values: opt } = parseArgs({
  options: { reps: { type: 'string', default: '5' }, fuzz: { type: 'string', default: '600' }, tensors: { type: 'string', default: '20000' } },
});
const reps = Number(opt.reps);

function fuzzFiles(n) {
  const good = w.writeSafetensors(
    {
      a: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
      h: { dtype: 'F16', shape: [4], data: new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0001]) },
      b: { dtype: 'BF16', shape: [2, 2], data: new Uint16Array([0x3f80, 0x4000, 0xbf80, 0x0000]) },
      i: { dtype: 'I32', shape: [3], data: new Int32Array([7, -8, 9]) },
      z: { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
    },
    { format: 'pt' },
  );
  const rnd = rng(0x5eed);
  const headerEnd = 8 + Number(Buffer.from(good).readBigUInt64LE(0));
  const files = [];
  for (let it = 0; it < n; it++) {
    const buf = Buffer.from(good);
    const flips = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < flips; k++) {
      const pos = rnd() < 0.85 ? Math.floor(rnd() * headerEnd) : Math.floor(rnd() * buf.length);
      buf[pos] = rnd() < 0.5 ? buf[pos] ^ (1 << Math.floor(rnd() * 8)) : Math.floor(rnd() * 256);
    }
    files.push(rnd() < 0.2 ? buf.subarray(0, Math.floor(rnd() * buf.length)) : buf);
  }
  return files;
}

function wideFile(n) {
  const tensors = {};
  for (let i = 0; i < n; i++) tensors[`encoder.layer.${i}.weight`] = { dtype: 'F32', shape: [1], data: new Float32Array([i]) };
  return [Buffer.from(w.writeSafetensors(tensors, { format: 'pt' }))];
}

function ours(files) {
  let rejected = 0;
  for (const f of files) {
    try {
      w.parseSafetensors(f, 'bench');
    } catch (err) {
      if (err.code !== 'ERR_BAD_MODEL') throw err;
      rejected++;
    }
  }
  return rejected;
}

function jsonOnly(files) {
  let rejected = 0;
  for (const f of files) {
    try {
      const n = Number(f.readBigUInt64LE(0));
      JSON.parse(f.subarray(8, 8 + n).toString('utf8'));
    } catch {
      rejected++;
    }
  }
  return rejected;
}

function best(fn, files) {
  let ms = Infinity, result;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    result = fn(files);
    ms = Math.min(ms, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms, result };
}

const rows = [];
for (const [name, files] of [['fuzz', fuzzFiles(Number(opt.fuzz))], ['wide', wideFile(Number(opt.tensors))]]) {
  const a = best(ours, files), b = best(jsonOnly, files);
  rows.push({ case: name, files: files.length, rejected: a.result, oursUsPerFile: (a.ms * 1000) / files.length, jsonParseUsPerFile: (b.ms * 1000) / files.length, ratio: a.ms / b.ms });
}
console.log('case   files  rejected   ours µs/file   JSON.parse µs/file   ours/JSON.parse');
for (const r of rows) {
  console.log(`${r.case.padEnd(6)} ${String(r.files).padStart(5)}  ${String(r.rejected).padStart(8)}   ${r.oursUsPerFile.toFixed(1).padStart(12)}   ${r.jsonParseUsPerFile.toFixed(1).padStart(18)}   ${r.ratio.toFixed(2).padStart(15)}`);
}
console.log(JSON.stringify({ bench: 'safetensors-parse', reps, rows }));
