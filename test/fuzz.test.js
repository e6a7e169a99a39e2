// Issue 30: a fuzz test in every run — a few hundred seeded mutations of a small model folder
// (test/fixtures/train-small: JSON values, bytes, safetensors headers and data, files replaced by
// directories, FIFOs, devices and symlink loops), each loaded with SentenceEncoder.load and,
// when it loads, used to encode awkward sentences (helpers/fuzz-model-folder.js). It runs in a
// child process with a time limit and memory limits and asserts: no crash, no hang, no untyped
// error (every refusal is an SbertError with a code, or a TypeError/RangeError), no non-finite
// output (weights that overflow fp32 are refused at encode with ERR_BAD_MODEL).
//
// SBERT_FUZZ_SEED and SBERT_FUZZ_CASES change the seed (default 30) and the number of cases
// (default 400, ~10 s here); a failure message names the seed and case to rerun by hand:
//   node test/helpers/fuzz-model-folder.js --seed S --cases N
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, runLimitedCommand, describeRun } = require('./helpers/limited-child');

const SEED = Number(process.env.SBERT_FUZZ_SEED ?? 30);
const CASES = Number(process.env.SBERT_FUZZ_CASES ?? 400);

test(`fuzz: ${CASES} seeded mutations of a model folder (seed ${SEED}) end in a load, a coded refusal or finite embeddings — never a crash, a hang or an untyped error`, async () => {
  const runner = path.join(__dirname, 'helpers', 'fuzz-model-folder.js');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-fuzz-'));
  let r;
  try {
    r = await runLimitedCommand([process.execPath, '--max-old-space-size=512', runner, '--seed', String(SEED), '--cases', String(CASES), '--root', ROOT, '--work', work], {
      timeoutMs: 120000,
      addressSpaceMb: 3072,
    });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  // stderr names each case as it starts: the last line is the case a hang or a crash happened in.
  assert.not.ok(r.timedOut, `a case hung: ${describeRun(r)}`);
  assert.is(r.status, 0, `the runner crashed: ${describeRun(r)}`);
  assert.ok(r.result, `no result: ${describeRun(r)}`);
  const { outcomes, failures, seconds } = r.result;
  const total = Object.values(outcomes).reduce((a, b) => a + b, 0);
  assert.is(total, CASES, 'every case ran');
  assert.equal(failures, [], `seed ${SEED}: ${failures.length} failure(s), e.g. case ${failures[0]?.case} (${failures[0]?.mutation}): ${failures[0]?.failure}`);
  // The mutations reach both sides: some folders still load, most are refused.
  assert.ok((outcomes.loaded ?? 0) > CASES / 20, `few folders loaded: ${JSON.stringify(outcomes)}`);
  assert.ok((outcomes['refused ERR_BAD_MODEL'] ?? 0) > CASES / 4, `few refusals: ${JSON.stringify(outcomes)}`);
  console.log(`  # fuzz seed ${SEED}: ${CASES} cases in ${seconds.toFixed(1)} s, peak RSS ${r.maxRssMb} MB: ${JSON.stringify(outcomes)}`);
});

test.run();
