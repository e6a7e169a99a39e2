#!/usr/bin/env node
// `npm test`: runs every uvu test file under test/ (test/gpu/ only where a CUDA device is
// present — otherwise a notice says it was skipped), then prints uvu's totals as one
// "N passed, N failed, N skipped" line and exits non-zero on any failure. A test that cannot run
// here (a missing optional package, no GPU) is registered as skipped with its reason
// (test/helpers/skip.js) and listed under the summary, never left out silently.
//   node test/run.js             all non-GPU tests (+ test/gpu when a GPU is present)
//   node test/run.js --gpu-only  only test/gpu (fails when there is no GPU)
//   node test/run.js PATTERN     only files whose path matches PATTERN (a regex; test/gpu files
//                                are matched as gpu/NAME.test.js)
//   --file-timeout-s N           kill a GPU test file's process after N seconds (a failure)
// Each test/gpu file runs in its own Node process: a sticky CUDA error (an illegal address)
// kills that process's CUDA context, and would otherwise fail every later GPU file too.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const gpuOnly = args.includes('--gpu-only');
const timeoutAt = args.indexOf('--file-timeout-s');
const fileTimeoutS = timeoutAt >= 0 ? Number(args[timeoutAt + 1]) : 0;
if (timeoutAt >= 0 && !(fileTimeoutS > 0)) {
  console.error('--file-timeout-s needs a positive number of seconds');
  process.exit(2);
}
const pattern = args.find((a, i) => !a.startsWith('--') && !(timeoutAt >= 0 && i === timeoutAt + 1));

// test/helpers/skip.js appends {name, reason} lines here; read back for the summary.
const skipLog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-test-')), 'skips.jsonl');
fs.writeFileSync(skipLog, '');
/** Skips that did not come from a uvu file (a whole folder left out), with their reasons. */
const extraSkips = [];

function gpuCount() {
  try {
    return require(path.join(root, 'dist', 'index.js')).cudaDevices().length;
  } catch (err) {
    console.log(`note: could not query CUDA devices (${err.message.split('\n')[0]})`);
    return 0;
  }
}

function runUvu(dir, ignore, filePattern, timeoutS) {
  // uvu's package exports hide bin.js from require.resolve, so locate the package folder.
  const uvu = path.join(path.dirname(require.resolve('uvu', { paths: [root] })), '..', 'bin.js');
  const argv = [uvu, dir, filePattern, '--no-color'];
  for (const i of ignore) argv.push('-i', i);
  const env = { ...process.env, SBERT_TEST_SKIP_LOG: skipLog };
  const options = { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 };
  if (timeoutS) Object.assign(options, { timeout: timeoutS * 1000, killSignal: 'SIGKILL' });
  const res = spawnSync(process.execPath, argv, options);
  process.stdout.write(res.stdout || '');
  process.stderr.write(res.stderr || '');
  if (res.error || res.signal) console.log(`${dir} ${filePattern}: ${res.error ? res.error.message : `killed by ${res.signal}`}`);
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

/** Each selected test/gpu file in its own process (see the header). */
function runGpuFiles() {
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const selector = pattern ? new RegExp(pattern, 'i') : undefined;
  const files = fs
    .readdirSync(path.join(root, 'test', 'gpu'))
    .filter((f) => f.endsWith('.test.js') && (!selector || selector.test(`gpu/${f}`)))
    .sort();
  if (files.length === 0 && gpuOnly) {
    console.log(`test/gpu: no file matches ${pattern}`);
    return [{ passed: 0, failed: 1, skipped: 0, status: 1 }];
  }
  return files.map((f) => {
    console.log(`\n# test/gpu/${f} (own process)`);
    return runUvu('test/gpu', [], `^${escape(f)}$`, fileTimeoutS);
  });
}

const gpus = gpuCount();
const results = [];
if (gpuOnly) {
  if (gpus === 0) {
    console.log('test/gpu: no CUDA device found — cannot run the GPU tests');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  results.push(...runGpuFiles());
} else {
  results.push(runUvu('test', ['gpu', 'fixtures'], pattern || '\\.test\\.js$'));
  if (gpus > 0) {
    console.log(`\ntest/gpu: ${gpus} CUDA device(s) found — running the GPU tests`);
    results.push(...runGpuFiles());
  } else {
    console.log('\ntest/gpu: SKIPPED — no CUDA device on this machine (the GPU tests run where cudaDevices() is non-empty)');
    const selector = pattern ? new RegExp(pattern, 'i') : undefined;
    for (const f of fs.readdirSync(path.join(root, 'test', 'gpu')).sort()) {
      if (f.endsWith('.test.js') && (!selector || selector.test(`gpu/${f}`))) {
        extraSkips.push({ name: `test/gpu/${f} (the whole file)`, reason: 'no CUDA device on this machine' });
      }
    }
  }
}
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
const recorded = fs.readFileSync(skipLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
fs.rmSync(path.dirname(skipLog), { recursive: true, force: true });
const uvuSkipped = results.reduce((a, r) => a + r.skipped, 0);
const skipped = Math.max(uvuSkipped, recorded.length) + extraSkips.length;
if (skipped > 0) {
  console.log(`\nSkipped (${skipped}):`);
  for (const s of [...recorded, ...extraSkips]) console.log(`  - ${s.name}: ${s.reason}`);
  if (uvuSkipped > recorded.length) {
    console.log(`  - ${uvuSkipped - recorded.length} test(s) skipped without a reason (test.skip used directly: use test/helpers/skip.js)`);
  }
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || results.some((r) => r.status !== 0) ? 1 : 0);
