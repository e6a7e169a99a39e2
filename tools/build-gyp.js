#!/usr/bin/env node
// `npm run build:gyp`: builds the CPU-only addon with node-gyp from binding.gyp, in its own
// folder (build-gyp/) so it does not wipe the cmake-js build in build/ (node-gyp's `rebuild`
// deletes ./build). The staged binding.gyp is the root one with its paths rebased.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const stage = path.join(root, 'build-gyp');
fs.mkdirSync(stage, { recursive: true });
const gyp = JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
const target = gyp.targets[0];
// Sources relative to the staged folder: gyp's make generator mangles absolute source paths.
target.sources = require('./list-sources.js').map((f) => path.relative(stage, path.join(root, f)));
target.include_dirs = [require('node-addon-api').include.replace(/"/g, ''), path.join(root, 'native/cpp')];
target.defines = target.defines.map((d) =>
  d.startsWith('SBERT_VERSION=') ? `SBERT_VERSION="${require(path.join(root, 'package.json')).version}"` : d,
);
fs.writeFileSync(path.join(stage, 'binding.gyp'), JSON.stringify(gyp, null, 2));
// node-gyp from devDependencies, or the copy npm ships (npm names it in npm_config_node_gyp for
// install scripts) when sbert-native is installed as a dependency.
function findNodeGyp() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  } catch {
    if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
    console.error('node-gyp not found: install it (npm install -g node-gyp) or install CMake for the cmake-js build');
    process.exit(1);
  }
}
const nodeGyp = findNodeGyp();
// Node's own headers: nothing may be downloaded, so point node-gyp at the installed ones
// (npm's nodedir setting, or the prefix of the running node when it ships include/node).
const args = [nodeGyp, 'rebuild', '--jobs', 'max'];
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const res = spawnSync(process.execPath, args, { cwd: stage, stdio: 'inherit' });
if (res.status !== 0) {
  console.error('node-gyp build failed');
  process.exit(res.status || 1);
}
console.log(`built ${path.join(stage, 'build', 'Release', 'sbert_native.node')}`);
