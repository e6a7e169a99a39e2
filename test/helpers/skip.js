// A test that cannot run on this machine is registered as SKIPPED with its reason, never left
// out silently or turned into a pass. uvu counts it in "Skipped"; test/run.js lists the reasons
// under its summary (it passes a file in SBERT_TEST_SKIP_LOG where each skip appends one line).
'use strict';
const fs = require('node:fs');
const { test } = require('uvu');

/**
 * Registers `name` as skipped because of `reason` (what is missing and how to get it).
 * @param {string} name the test's name, as it would have been registered
 * @param {string} reason why it cannot run here
 */
function skipTest(name, reason) {
  test.skip(name);
  console.log(`  skipped: ${name} — ${reason}`);
  const log = process.env.SBERT_TEST_SKIP_LOG;
  if (log) fs.appendFileSync(log, JSON.stringify({ name, reason }) + '\n');
}

/**
 * Registers `fn` as test `name` when `reason` is falsy, else records the skip.
 * @param {string | false | null | undefined} reason why it cannot run here, or nothing
 */
function testUnless(reason, name, fn) {
  if (reason) skipTest(name, reason);
  else test(name, fn);
}

/** Why the optional package `name` cannot be used here, or null when it loads. */
function missingPackage(name) {
  try {
    require.resolve(name);
    return null;
  } catch {
    return `the optional package "${name}" is not installed`;
  }
}

module.exports = { skipTest, testUnless, missingPackage };
