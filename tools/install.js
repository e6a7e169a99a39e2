#!/usr/bin/env node
// `npm install` hook: builds the addon with cmake-js (CPU engine + CUDA when nvcc is found).
// On a machine without CMake it falls back to the CPU-only node-gyp build (binding.gyp), so
// `npm install` still gives a working package; a failing CMake build is an error, not a
// fallback, so broken CUDA code is never hidden.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function hasCmake() {
  const r = spawnSync('cmake', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  return r.status === null ? 1 : r.status;
}

if (process.env.SBERT_SKIP_BUILD) {
  console.log('sbert-native: SBERT_SKIP_BUILD is set, not building the addon');
  process.exit(0);
}
// SBERT_BUILD=gyp forces the node-gyp build (and tests this fallback on machines with CMake).
if (process.env.SBERT_BUILD !== 'gyp' && hasCmake()) {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  process.exit(run(process.execPath, [cmakeJs, 'compile', '--out', 'build']));
}
console.warn(process.env.SBERT_BUILD === 'gyp' ? 'sbert-native: SBERT_BUILD=gyp — building' : 'sbert-native: CMake not found — building the CPU-only addon with node-gyp (no CUDA engine)');
process.exit(run(process.execPath, [path.join(__dirname, 'build-gyp.js')]));
