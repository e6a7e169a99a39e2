#!/usr/bin/env node
// `npm test`: runs every uvu test file under test/ (test/gpu/ only where a CUDA device is
// present — otherwise a notice says it was skipped), then prints uvu's totals as one
// "N passed, N failed" line and exits non-zero on any failure.
//   node test/run.js             all non-GPU tests (+ test/gpu when a GPU is present)
//   node test/run.js --gpu-only  only test/gpu (fails when there is no GPU)
//   node test/run.js PATTERN     only files whose path matches PATTERN (a regex)
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const gpuOnly = args.includes('--gpu-only');
const pattern = args.find((a) => !a.startsWith('--'));

function gpuCount() {
  try {
    return require(path.join(root, 'dist', 'index.js')).cudaDevices().length;
  } catch (err) {
    console.log(`note: could not query CUDA devices (${err.message.split('\n')[0]})`);
    return 0;
  }
}

function runUvu(dir, ignore) {
  // uvu's package exports hide bin.js from require.resolve, so locate the package folder.
  const uvu = path.join(path.dirname(require.resolve('uvu', { paths: [root] })), '..', 'bin.js');
  const argv = [uvu, dir, pattern || '\\.test\\.js$', '--no-color'];
  for (const i of ignore) argv.push('-i', i);
  const res = spawnSync(process.execPath, argv, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
  process.stdout.write(res.stdout);
  process.stderr.write(res.stderr);
  const num = (label) => {
    const m = new RegExp(`${label}:\\s+(\\d+)`).exec(res.stdout);
    return m ? Number(m[1]) : 0;
  };
  const total = num('Total');
  const passed = num('Passed');
  const skipped = num('Skipped');
  // A crash before uvu printed totals counts as one failure, never as success.
  const crashed = res.status !== 0 && total === passed;
  return { passed, failed: total - passed + (crashed ? 1 : 0), skipped, status: res.status };
}

const gpus = gpuCount();
const results = [];
if (gpuOnly) {
  if (gpus === 0) {
    console.log('test/gpu: no CUDA device found — cannot run the GPU tests');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  results.push(runUvu('test/gpu', []));
} else {
  results.push(runUvu('test', ['gpu', 'fixtures']));
  if (gpus > 0) {
    console.log(`\ntest/gpu: ${gpus} CUDA device(s) found — running the GPU tests`);
    results.push(runUvu('test/gpu', []));
  } else {
    console.log('\ntest/gpu: SKIPPED — no CUDA device on this machine (the GPU tests run where cudaDevices() is non-empty)');
  }
}
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
const skipped = results.reduce((a, r) => a + r.skipped, 0);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || results.some((r) => r.status !== 0) ? 1 : 0);
