// Runs the C++ kernel and CPU-engine test executables (native/cpp/tests/*.cc, built into
// build/tests/ by `npm run build:native`) under each CPU dispatch level: SBERT_CPU_FEATURES=
// portable, avx2, and unset (the best the machine has). CUDA test binaries (cuda_*) are left to
// test/gpu. SBERT_NATIVE_TESTS_DIR points at another build (the sanitizer build uses
// build-sanitize/tests).
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dir = process.env.SBERT_NATIVE_TESTS_DIR
  ? path.resolve(process.env.SBERT_NATIVE_TESTS_DIR)
  : path.join(root, 'build', 'tests');
const SETTINGS = ['portable', 'avx2', undefined];

function listExecutables() {
  return fs
    .readdirSync(dir)
    .filter((name) => !name.startsWith('cuda_'))
    .filter((name) => {
      const full = path.join(dir, name);
      const st = fs.statSync(full);
      if (!st.isFile()) return false;
      if (process.platform === 'win32') return name.endsWith('.exe');
      return (st.mode & 0o111) !== 0;
    })
    .sort();
}

if (!fs.existsSync(dir)) {
  test('native test executables are built', () => {
    assert.unreachable(
      `${dir} does not exist: run \`npm run build:native\` (or set SBERT_NATIVE_TESTS_DIR) to build the C++ tests`,
    );
  });
} else {
  const exes = listExecutables();
  test('native test executables are present', () => {
    assert.ok(exes.length > 0, `no test executables in ${dir}: run \`npm run build:native\``);
  });
  for (const exe of exes) {
    for (const setting of SETTINGS) {
      const label = setting === undefined ? 'unset' : setting;
      test(`${exe} (SBERT_CPU_FEATURES=${label})`, () => {
        const env = { ...process.env };
        if (setting === undefined) delete env.SBERT_CPU_FEATURES;
        else env.SBERT_CPU_FEATURES = setting;
        const res = spawnSync(path.join(dir, exe), [], {
          cwd: root,
          env,
          encoding: 'utf8',
          timeout: 10 * 60 * 1000,
          maxBuffer: 1 << 26,
        });
        const output = `${res.stdout || ''}${res.stderr || ''}`;
        if (res.status !== 0) {
          const failures = output.split('\n').filter((l) => l.startsWith('FAIL')).join('\n');
          const tail = output.split('\n').slice(-40).join('\n');
          const why = res.error ? res.error.message : res.signal ? `signal ${res.signal}` : `exit code ${res.status}`;
          assert.unreachable(`${exe} (SBERT_CPU_FEATURES=${label}) failed: ${why}\n${failures}\n--- output tail ---\n${tail}`);
        }
        // at least one check ran: "0 passed, 0 failed" is a binary that tested nothing
        assert.match(output, /^[1-9]\d* passed, 0 failed$/m, `${exe} printed no "N passed, 0 failed" line with N > 0`);
      });
    }
  }
}

test.run();
