// Runs the C++ kernel and CPU-engine test executables (native/cpp/tests/*.cc, built into
// build/tests/ by `npm run build:native`) under each CPU dispatch level: SBERT_CPU_FEATURES=
// portable, avx2, and unset (the best the machine has). CUDA test binaries (cuda_*) are left to
// test/gpu. SBERT_NATIVE_TESTS_DIR points at another build (the sanitizer build uses
// build-sanitize/tests).
//
// The int8 / bf16 GEMM tests (which test every path the process may use, in-process) also run
// with --quick under every SBERT_CPU_ISA value this CPU can run (cpu_features_test --isas lists
// them: the AVX2 and AVX-VNNI paths on an AVX-512 machine too), checking that the default path
// is the one the value implies and that the others are refused; and their --digest
// outputs (hashes of fixed products) must not change with the thread count — nor, for int8,
// whose integer core is exact, with the ISA path. cpu_precision_test (the engine end to end in
// int8 / bf16) runs the same way; its int8 digest must be the same on every int8 path that runs
// beside the same fp32 kernels (attention, LayerNorm and GELU stay fp32 and differ in the last
// bits between the AVX2 and AVX-512 bodies).
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

const ISA_TESTS = ['gemm_int8_test', 'gemm_bf16_test', 'cpu_precision_test'];

function run(exe, args, env) {
  return spawnSync(path.join(dir, exe), args, {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 10 * 60 * 1000,
    maxBuffer: 1 << 26,
  });
}

function digestOf(exe, env) {
  const res = run(exe, ['--digest'], env);
  const m = /^digest ([0-9a-f]+)$/m.exec(res.stdout || '');
  assert.ok(res.status === 0 && m, `${exe} --digest (${JSON.stringify(env)}) failed: ${res.stderr || res.stdout}`);
  return m[1];
}

if (fs.existsSync(path.join(dir, 'cpu_features_test')) && ISA_TESTS.every((e) => fs.existsSync(path.join(dir, e)))) {
  const listed = run('cpu_features_test', ['--isas'], {});
  const isas = (listed.stdout || '').split('\n').filter(Boolean);
  test('cpu_features_test --isas lists at least portable and native', () => {
    assert.ok(isas.includes('portable') && isas.includes('native'), `listed: ${isas.join(', ')}`);
  });
  for (const exe of ISA_TESTS) {
    for (const isa of isas) {
      test(`${exe} (SBERT_CPU_ISA=${isa})`, () => {
        const res = run(exe, ['--quick'], { SBERT_CPU_ISA: isa, SBERT_CPU_FEATURES: '' });
        const output = `${res.stdout || ''}${res.stderr || ''}`;
        const failures = output.split('\n').filter((l) => l.startsWith('FAIL')).join('\n');
        assert.is(res.status, 0, `${exe} under SBERT_CPU_ISA=${isa}: ${res.error ? res.error.message : `exit ${res.status}`}\n${failures}\n${output.split('\n').slice(-20).join('\n')}`);
        assert.match(output, /^\d+ passed, 0 failed$/m);
      });
    }
    test(`${exe} --digest: the same for 1 and 2 threads`, () => {
      const one = digestOf(exe, { SBERT_NUM_THREADS: '1' });
      const two = digestOf(exe, { SBERT_NUM_THREADS: '2' });
      assert.is(two, one);
    });
  }
  test('gemm_int8_test --digest: the same on every ISA path (exact integer core)', () => {
    const digests = isas.map((isa) => [isa, digestOf('gemm_int8_test', { SBERT_CPU_ISA: isa, SBERT_CPU_FEATURES: '' })]);
    for (const [isa, d] of digests) assert.is(d, digests[0][1], `SBERT_CPU_ISA=${isa} vs ${digests[0][0]}`);
  });
  test('cpu_precision_test --digest: the int8 engine gives the same bits on every int8 path beside the same fp32 kernels', () => {
    const groups = new Map();  // fp32 kernel → [isa, int8 path, digest]
    for (const isa of isas) {
      const res = run('cpu_precision_test', ['--digest'], { SBERT_CPU_ISA: isa, SBERT_CPU_FEATURES: '' });
      assert.is(res.status, 0, `SBERT_CPU_ISA=${isa}: ${res.stdout}${res.stderr}`);
      const paths = /^# fp32 kernel (\S+), int8 path (\S+)$/m.exec(res.stdout);
      const digest = /^digest ([0-9a-f]+)$/m.exec(res.stdout);
      assert.ok(paths, `SBERT_CPU_ISA=${isa}: no path line in ${res.stdout}`);
      if (!digest) continue;  // int8 is refused here (no AVX2)
      if (!groups.has(paths[1])) groups.set(paths[1], []);
      groups.get(paths[1]).push([isa, paths[2], digest[1]]);
    }
    let compared = 0;
    for (const [kernel, runs] of groups) {
      for (const [isa, path, d] of runs) {
        assert.is(d, runs[0][2], `fp32 ${kernel}: int8 ${path} (SBERT_CPU_ISA=${isa}) vs ${runs[0][1]} (SBERT_CPU_ISA=${runs[0][0]})`);
        compared++;
      }
    }
    assert.ok(compared >= 2, `at least two int8 runs compared (got ${compared})`);
  });
  test('an SBERT_CPU_ISA this CPU cannot run, or an unknown one, fails the tests with a message', () => {
    const res = run('gemm_int8_test', [], { SBERT_CPU_ISA: 'no-such-isa', SBERT_CPU_FEATURES: '' });
    assert.is.not(res.status, 0);
    assert.match(res.stdout, /SBERT_CPU_ISA=no-such-isa is not one of/);
  });
}

test.run();
