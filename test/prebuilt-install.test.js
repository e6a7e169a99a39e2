// Issue 27, item 1: the npm package as a user gets it. tools/check-install.js packs this checkout
// with its prebuilt addon, installs the tarball into an empty project with the compilers hidden
// (no gcc/g++/cc/cmake/make/nvcc on PATH), and encodes with the installed package. Needs the
// prebuilt made by `npm run prebuild` (.ci/run makes it); without one the test is recorded as
// skipped. The npm registry is used for the package's dependencies, as a user's install does.
// A second install with --ignore-scripts (a future npm may not run install scripts) must work too.
'use strict';
const assert = require('uvu/assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { test } = require('uvu');
const { testUnless } = require('./helpers/skip');
const { prebuildFile } = require('../tools/platform');

const root = path.join(__dirname, '..');
const prebuilt = prebuildFile(root);

testUnless(
  !fs.existsSync(prebuilt) && `no prebuilt addon at ${path.relative(root, prebuilt)} (run \`npm run prebuild\` first)`,
  'the packed tarball installs without a compiler and encodes with the prebuilt addon',
  () => {
    const r = spawnSync(process.execPath, [path.join(root, 'tools', 'check-install.js'), '--ignore-scripts-too'], { cwd: root, encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 26 });
    assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.ok(result.compilersHidden);
    assert.is(result.addon, path.relative(root, prebuilt), 'the prebuilt was loaded, not a build');
    assert.is(result.encoded, '2 × 512');
    assert.ok(result.score01 > 0 && result.score01 < 1);
    assert.equal(result.announced.length, 1);
    assert.match(result.announced[0], /^sbert-native: using the prebuilt addon .*; nothing to build$/);
    assert.ok(result.tarballMB <= 40, `tarball ${result.tarballMB} MB (limit 40)`);
    // an npm that runs no install scripts still gets a working package
    assert.equal(result.ignoreScripts, { addon: result.addon, encoded: '2 × 512' });
    console.log(`  tarball ${result.tarballMB} MB, npm install ${result.installSeconds} s with the compilers hidden`);
  },
);

test.run();
