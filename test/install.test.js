// Issue 27, item 1: prebuilt addons the ecosystem's way. In a copy of the package laid out as
// npm installs it (no build/, a prebuilds/ folder), the install script (tools/install.js, in its
// dry-run mode) uses a matching prebuilt that loads and builds nothing; it builds from source
// without a match, with a prebuilt that does not load, or when asked (--build-from-source,
// SBERT_BUILD_FROM_SOURCE), announcing what it builds and about how long, with CUDA only when
// asked or when nvcc and a driver are here. The run-time loader (lib/native) finds the prebuilt
// by node-gyp-build's rules, after $SBERT_NATIVE_ADDON and source builds. The real tarball,
// installed with the compilers hidden, is test/prebuilt-install.test.js.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { hasNvidiaDriver, prebuildFile } = require('../tools/platform');

const root = path.join(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-install-test-'));
const builtAddon = require('../dist').buildInfo().addonPath;

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A package folder as npm lays it out: package.json, dist/, tools/, node_modules/node-gyp-build, and optionally a prebuilt. */
function fakePackage(name, { prebuilt } = {}) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'tools'));
  for (const f of ['install.js', 'platform.js', 'build-gyp.js', 'list-sources.js']) fs.copyFileSync(path.join(root, 'tools', f), path.join(dir, 'tools', f));
  fs.symlinkSync(path.join(root, 'node_modules', 'node-gyp-build'), path.join(dir, 'node_modules', 'node-gyp-build'));
  if (prebuilt) {
    const file = prebuildFile(dir);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (prebuilt === 'broken') fs.writeFileSync(file, 'not an ELF file');
    else fs.symlinkSync(builtAddon, file);
  }
  return dir;
}

/** Runs the install script in `dir` in dry-run mode; returns its one-line announcement. */
function install(dir, env = {}) {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('npm_') || k.startsWith('SBERT_') || k === 'PREBUILDS_ONLY') delete clean[k];
  const r = spawnSync(process.execPath, [path.join(dir, 'tools', 'install.js')], { cwd: dir, env: { ...clean, SBERT_INSTALL_DRY_RUN: '1', ...env }, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, `one line: ${r.stderr}`);
  return lines[0];
}

const rel = path.relative(root, prebuildFile(root));

test('a matching prebuilt that loads: nothing is built', () => {
  const dir = fakePackage('with-prebuilt', { prebuilt: true });
  assert.match(install(dir), new RegExp(`^sbert-native: using the prebuilt addon ${rel.replace(/[.]/g, '\\.')} \\(CPU( and CUDA)? engines?\\); nothing to build$`));
});

test('--build-from-source / SBERT_BUILD_FROM_SOURCE build from source even with a prebuilt, saying what and how long', () => {
  const dir = fakePackage('asked', { prebuilt: true });
  for (const [env, why] of [[{ npm_config_build_from_source: 'true' }, '--build-from-source was given'], [{ SBERT_BUILD_FROM_SOURCE: '1' }, 'SBERT_BUILD_FROM_SOURCE is set']]) {
    const line = install(dir, { ...env, SBERT_CUDA: 'OFF' });
    assert.match(line, new RegExp(`^sbert-native: ${why.replace(/-/g, '\\-')}; building the CPU engine from source with cmake-js \\(SBERT_CUDA=OFF\\), about \\d+ (s|min) on \\d+ cores$`));
  }
  assert.match(install(dir, { SBERT_BUILD_FROM_SOURCE: 'false' }), /using the prebuilt addon/, "'false' is not a request");
});

test('no prebuilt for this platform, or one that does not load: the source build, with the reason', () => {
  const none = fakePackage('without-prebuilt');
  assert.match(install(none, { SBERT_CUDA: 'OFF' }), new RegExp(`^sbert-native: no prebuilt addon for ${path.dirname(rel).replace(/[.]/g, '\\.')} \\(${path.basename(rel).replace(/[.]/g, '\\.')}\\) in this package; building the CPU engine`));
  const broken = fakePackage('broken-prebuilt', { prebuilt: 'broken' });
  assert.match(install(broken, { SBERT_CUDA: 'OFF' }), /^sbert-native: the prebuilt prebuilds\/.* does not load here \(.*\); building the CPU engine/);
});

test('CUDA in a source build: when asked, or when nvcc and an NVIDIA driver are both here', () => {
  const dir = fakePackage('cuda-choice');
  assert.match(install(dir, { SBERT_CUDA: 'ON' }), /building the CPU and CUDA engines from source with cmake-js \(SBERT_CUDA=ON\), about \d+ min/);
  // a fake nvcc on PATH: without a driver, CUDA is left out (it could not run here anyway)
  const bin = path.join(tmp, 'fake-bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'nvcc'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const line = install(dir, { PATH: `${bin}${path.delimiter}${process.env.PATH}` });
  if (hasNvidiaDriver()) assert.match(line, /the CPU and CUDA engines .*\(nvcc and an NVIDIA driver found\)/);
  else assert.match(line, /the CPU engine from source with cmake-js \(nvcc found but no NVIDIA driver; SBERT_CUDA=ON builds it anyway\)/);
  assert.match(install(dir, { SBERT_BUILD: 'gyp' }), /building the CPU engine from source with node-gyp \(SBERT_BUILD=gyp\)/);
});

/** buildInfo().addonPath as the package in `dir` loads it (a fresh process), or the error. */
function loadedAddon(dir, env = {}) {
  const clean = { ...process.env };
  delete clean.SBERT_NATIVE_ADDON;
  const r = spawnSync(process.execPath, ['-e', "try { console.log(require('./dist').buildInfo().addonPath) } catch (e) { console.log('ERROR ' + e.code + ' ' + e.message) }"], { cwd: dir, env: { ...clean, ...env }, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('at run time: $SBERT_NATIVE_ADDON first, then source builds, then the prebuilt (node-gyp-build rules); none → how to build', () => {
  const dir = fakePackage('runtime', { prebuilt: true });
  assert.is(loadedAddon(dir), prebuildFile(dir), 'the prebuilt, in a package without build/');
  assert.is(loadedAddon(dir, { SBERT_NATIVE_ADDON: builtAddon }), builtAddon, 'SBERT_NATIVE_ADDON wins');
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.symlinkSync(builtAddon, path.join(dir, 'build', 'Release', 'sbert_native.node'));
  assert.is(loadedAddon(dir), path.join(dir, 'build', 'Release', 'sbert_native.node'), 'a source build wins over the prebuilt');
  const none = fakePackage('runtime-none');
  const err = loadedAddon(none);
  assert.match(err, /^ERROR ERR_NATIVE the sbert-native addon is not built or failed to load: reinstall with `npm install --build-from-source`/);
  assert.match(err, /prebuilds.*not found: no prebuilt addons in this copy/);
  // a prebuilt folder for another platform only: node-gyp-build's own message is kept
  fs.mkdirSync(path.join(none, 'prebuilds', 'sunos-sparc'), { recursive: true });
  fs.writeFileSync(path.join(none, 'prebuilds', 'sunos-sparc', 'node.napi.node'), '');
  assert.match(loadedAddon(none), new RegExp(`prebuilds/ \\(No native build was found for platform=${process.platform} arch=${process.arch}`));
});

test('the package carries prebuilds/ and not the release tools; prebuilt binaries stay out of git', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  assert.ok(pkg.files.includes('prebuilds'));
  assert.ok(pkg.files.includes('!tools/prebuild.js') && pkg.files.includes('!tools/check-install.js'));
  assert.ok(pkg.dependencies['node-gyp-build'], 'node-gyp-build is a dependency (the loader uses it)');
  assert.is(pkg.scripts.prebuild, 'node tools/prebuild.js');
  assert.not.ok('build' in pkg.scripts, 'no "build" script: npm would run "prebuild" (the CUDA release build) before it');
  assert.match(fs.readFileSync(path.join(root, '.gitignore'), 'utf8'), /^prebuilds\/$/m);
});

test.run();
