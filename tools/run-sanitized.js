#!/usr/bin/env node
// `npm run test:sanitize`: runs the native C++ tests and the JS tests against the
// AddressSanitizer + UndefinedBehaviorSanitizer build (`npm run build:sanitize` first).
// Node itself is not instrumented, so libasan is preloaded; leak checking is off because V8
// and Node keep allocations alive at exit by design.
'use strict';
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const addon = path.join(root, 'build-sanitize', 'Debug', 'sbert_native.node');
if (!fs.existsSync(addon)) {
  console.error(`${addon} not found: run \`npm run build:sanitize\` first`);
  process.exit(1);
}
const cxx = process.env.CXX || 'g++';
const lib = (name) => execFileSync(cxx, [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
const env = {
  ...process.env,
  LD_PRELOAD: [lib('libasan.so'), lib('libubsan.so')].join(' '),
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  SBERT_NATIVE_ADDON: addon,
  SBERT_NATIVE_TESTS_DIR: path.join(root, 'build-sanitize', 'tests'),
  SBERT_SANITIZE: '1',
};
const pattern = process.argv[2] || '(native-kernels|encoder|similarity)\\.test\\.js$';
const res = spawnSync(process.execPath, [path.join(root, 'test', 'run.js'), pattern], { cwd: root, env, stdio: 'inherit' });
process.exit(res.status === null ? 1 : res.status);
