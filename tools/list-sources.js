#!/usr/bin/env node
// Prints the C++ sources of the CPU-only addon, one per line, for binding.gyp (node-gyp has no
// glob). Paths are relative to the repository root, or absolute with --absolute.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dirs = ['native/cpp/common', 'native/cpp/kernels', 'native/cpp/engine', 'native/cpp/train', 'native/cpp/binding'];
const absolute = process.argv.includes('--absolute');
const files = [];
for (const d of dirs) {
  if (!fs.existsSync(path.join(root, d))) continue;
  for (const f of fs.readdirSync(path.join(root, d)).sort()) {
    if (f.endsWith('.cc')) files.push(absolute ? path.join(root, d, f) : `${d}/${f}`);
  }
}
module.exports = files;
if (require.main === module) process.stdout.write(files.join('\n') + '\n');
