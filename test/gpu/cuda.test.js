// The C++ CUDA tests: cuda_ops_test (native/cpp/tests/cuda_ops_test.cc: every CUDA kernel
// against its CPU kernel at odd shapes and every dtype) and cuda_engine_test (cuda_engine_test.cc:
// the CUDA engine against the CPU engine). Runs only where a CUDA device is present
// (test/run.js skips test/gpu/ otherwise), so "skipped" here is a failure.
// SBERT_NATIVE_TESTS_DIR points at another build's tests folder.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const path = require('node:path');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', '..');
const dir = process.env.SBERT_NATIVE_TESTS_DIR ? path.resolve(process.env.SBERT_NATIVE_TESTS_DIR) : path.join(root, 'build', 'tests');

for (const [name, what] of [
  ['cuda_ops_test', 'every CUDA kernel matches its CPU kernel'],
  ['cuda_engine_test', 'the CUDA engine matches the CPU engine'],
]) {
  test(`${name}: ${what}`, () => {
    const exe = path.join(dir, name);
    assert.ok(fs.existsSync(exe), `${exe} is missing: build with \`npx cmake-js compile --out build\` (nvcc on PATH)`);
    const res = spawnSync(exe, [], { encoding: 'utf8', timeout: 15 * 60 * 1000, maxBuffer: 1 << 26 });
    const out = `${res.stdout || ''}${res.stderr || ''}`;
    const failed = out.split('\n').filter((l) => l.startsWith('FAIL'));
    if (res.status !== 0 || failed.length > 0) {
      process.stdout.write(out);
    }
    assert.not.ok(/skipped: no CUDA device/.test(out), `${name} found no CUDA device (or was built without CUDA)`);
    assert.is(res.error, undefined, `could not run ${exe}: ${res.error}`);
    assert.is(failed.length, 0, `${failed.length} failed checks:\n${failed.slice(0, 20).join('\n')}`);
    assert.ok(/^[1-9]\d* passed, 0 failed$/m.test(out), `no "N passed, 0 failed" summary with N > 0 in the output:\n${out.slice(-2000)}`);
    assert.is(res.status, 0, `exit status ${res.status} (signal ${res.signal})`);
  });
}

test.run();
