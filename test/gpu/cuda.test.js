// The CUDA kernels against the CPU kernels (native/cpp/tests/cuda_kernels_test.cc): every op at
// odd shapes and every dtype, plus the engine end to end. Runs only where a CUDA device is
// present (test/run.js skips test/gpu/ otherwise), so "skipped" here is a failure.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const path = require('node:path');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', '..');
const exe = process.env.SBERT_CUDA_KERNELS_TEST || path.join(root, 'build', 'tests', 'cuda_kernels_test');

test('cuda_kernels_test: every CUDA kernel matches its CPU kernel, and the engine matches the CPU engine', () => {
  assert.ok(fs.existsSync(exe), `${exe} is missing: build with \`npx cmake-js compile --out build\` (nvcc on PATH)`);
  const res = spawnSync(exe, [], { encoding: 'utf8', timeout: 15 * 60 * 1000, maxBuffer: 1 << 26 });
  const out = `${res.stdout || ''}${res.stderr || ''}`;
  const failed = out.split('\n').filter((l) => l.startsWith('FAIL'));
  if (res.status !== 0 || failed.length > 0) {
    process.stdout.write(out);
  }
  assert.not.ok(/skipped: no CUDA device/.test(out), 'the test binary found no CUDA device (or was built without CUDA)');
  assert.is(res.error, undefined, `could not run ${exe}: ${res.error}`);
  assert.is(failed.length, 0, `${failed.length} failed checks:\n${failed.slice(0, 20).join('\n')}`);
  assert.ok(/\d+ passed, 0 failed/.test(out), `no "N passed, 0 failed" summary in the output:\n${out.slice(-2000)}`);
  assert.is(res.status, 0, `exit status ${res.status} (signal ${res.signal})`);
});

test.run();
