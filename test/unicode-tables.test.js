// lib/tokenizer/unicode-tables.ts is shipped code generated from the reference tokenizer
// (tools/gen-unicode-tables.js: npm `tokenizers`, plus the combining classes of Python's
// unicodedata): regenerate it in memory and fail when the shipped file differs. The generator
// takes a few seconds of CPU, so it starts in a child process as soon as uvu loads this file and
// runs beside the other test files.
'use strict';
const assert = require('uvu/assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { testUnless, missingPackage } = require('./helpers/skip');

const root = path.join(__dirname, '..');
const generator = path.join(root, 'tools', 'gen-unicode-tables.js');
const { headerVersions, TARGET } = require(generator);
const python = process.env.SBERT_PYTHON || '/usr/bin/python3';

const missing = missingPackage('tokenizers')
  ? `${missingPackage('tokenizers')} (the reference; a devDependency: npm ci)`
  : !fs.existsSync(python)
    ? `${python} is not there (its unicodedata gives the combining classes; set SBERT_PYTHON to another Python 3)`
    : null;

/** stdout of the generator (the file's text), started now so it overlaps the other tests. */
const generated = missing
  ? null
  : new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [generator, '--stdout'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = [], err = [];
      child.stdout.on('data', (d) => out.push(d));
      child.stderr.on('data', (d) => err.push(d));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
        else reject(new Error(`tools/gen-unicode-tables.js exited ${code}: ${Buffer.concat(err).toString('utf8')}`));
      });
    });
// Keep an early failure from surfacing as an unhandled rejection before the test awaits it.
if (generated) generated.catch(() => {});

/** { NAME: value text } of every `export const` line. */
function tables(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^export const (\w+)[^=]*= (.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

const describe = (v) => (v ? `tokenizers ${v.tokenizers}, Python ${v.python} (Unicode ${v.unidata})` : 'no versions in its header');

testUnless(missing, 'lib/tokenizer/unicode-tables.ts is what tools/gen-unicode-tables.js generates now', async () => {
  const fresh = await generated;
  const shipped = fs.readFileSync(TARGET, 'utf8');
  const want = tables(fresh), have = tables(shipped);
  assert.equal(Object.keys(want).sort(), ['CCC', 'CHINESE_RANGES', 'CLEAN_WHITESPACE', 'LOWER_MAP', 'MN_RANGES', 'NFD_MAP', 'PUNCT_RANGES', 'REMOVED_RANGES', 'SPLIT_WHITESPACE'],
    'the generator writes every table');
  const differing = [...new Set([...Object.keys(want), ...Object.keys(have)])].filter((k) => want[k] !== have[k]);
  if (differing.length > 0) {
    const made = headerVersions(shipped), now = headerVersions(fresh);
    const sameVersions = JSON.stringify(made) === JSON.stringify(now);
    assert.unreachable(
      `lib/tokenizer/unicode-tables.ts differs from the generator's output in ${differing.join(', ')}. ` +
        `The shipped file was made with ${describe(made)}; this machine has ${describe(now)}. ` +
        (sameVersions
          ? 'Same versions, so the file is stale: run `node tools/gen-unicode-tables.js` and commit the result.'
          : 'A different reference or Unicode version gives different tables: regenerate only if that version is the intended reference.'),
    );
  }
  // the whole text too (header aside, whose versions may name another Python with equal tables)
  const body = (t) => t.split('\n').filter((l) => !l.startsWith('//')).join('\n');
  assert.is(body(shipped), body(fresh), 'the file outside its header comment');
});

require('uvu').test.run();
