#!/usr/bin/env node
// `npm run prebuild`: the release build of the prebuilt addon that ships in the npm package,
// prebuilds/<platform>-<arch>/node.napi.<libc>.node (prebuildify's layout; node-gyp-build finds
// it at run time, tools/install.js at install time). It holds the CPU engine and the CUDA engine
// (sm_80 and sm_90 code plus PTX for later GPUs, CUDA runtime linked statically), so one file
// runs on machines with and without a GPU. The C++ runtime stays dynamic: linking it statically
// would pull in glibc 2.35/2.36 symbols (_dl_find_object, arc4random) and shut out Ubuntu 22.04;
// the script prints the glibc floor it ends up with (2.34 with CUDA, from the CUDA runtime).
// nvcc is needed, no GPU. `--cpu-only` makes a CPU-only prebuilt (for machines without nvcc).
//
//   npm run prebuild [-- --cpu-only] [-- --out DIR]      then: npm pack
//   npm run prebuild -- --reuse build   package an addon a cmake-js build just made (CI: `npm ci`
//                                       with SBERT_CUDA=ON built the same configuration), no compile
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { root, prebuildFile, findNvcc, findProgram } = require('./platform');

const argv = process.argv.slice(2);
const cpuOnly = argv.includes('--cpu-only');
const outAt = argv.indexOf('--out');
const reuseAt = argv.indexOf('--reuse');
const reuse = reuseAt >= 0 ? path.resolve(argv[reuseAt + 1]) : undefined;
const buildDir = reuse ?? (outAt >= 0 ? path.resolve(argv[outAt + 1]) : path.join(root, 'build-prebuild'));

let written; // the prebuilt file once copied: a failed check removes it (no half-checked binary is packed)
function fail(message) {
  console.error(`prebuild: ${message}`);
  if (written) fs.rmSync(written, { force: true });
  process.exit(1);
}

const started = Date.now();
if (reuse) {
  // The same configuration as a fresh build: CUDA as asked, the default architectures.
  const cache = fs.existsSync(path.join(reuse, 'CMakeCache.txt')) ? fs.readFileSync(path.join(reuse, 'CMakeCache.txt'), 'utf8') : '';
  const archs = /^SBERT_CUDA_ARCHS:\w+=(.*)$/m.exec(cache)?.[1];
  if (!cpuOnly && archs !== '80;90') fail(`${reuse} was not configured with the release architectures (SBERT_CUDA_ARCHS=80;90, got ${archs ?? 'none'})`);
  console.error(`prebuild: packaging the addon of ${path.relative(root, reuse)}/ (no compile)`);
} else {
  if (!cpuOnly && !findNvcc()) fail('nvcc not found (PATH, $CUDA_HOME/bin, /usr/local/cuda/bin): install the CUDA toolkit, or pass --cpu-only');
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  const args = [cmakeJs, 'compile', '--out', buildDir, `--CDSBERT_CUDA=${cpuOnly ? 'OFF' : 'ON'}`, '--CDSBERT_NATIVE_TESTS=OFF'];
  console.error(`prebuild: ${cpuOnly ? 'CPU engine' : 'CPU + CUDA engines (sm_80, sm_90, PTX)'} into ${path.relative(root, buildDir)}/`);
  const env = { ...process.env, SBERT_CUDA: cpuOnly ? 'OFF' : 'ON' };
  const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
  if (r.status !== 0) fail(`the build failed (exit ${r.status})`);
}

const built = path.join(buildDir, 'Release', 'sbert_native.node');
const dest = prebuildFile();
fs.mkdirSync(path.dirname(dest), { recursive: true });
fs.copyFileSync(built, dest);
written = dest;
// Symbols are not needed to run; stripping keeps the package small.
if (findProgram('strip') && process.platform === 'linux') {
  const s = spawnSync('strip', ['--strip-unneeded', dest], { stdio: 'inherit' });
  if (s.status !== 0) fail('strip failed');
}

// The binary must load and say what it holds.
const check = spawnSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(require(process.argv[1]).buildInfo()))', dest], { encoding: 'utf8' });
if (check.status !== 0) fail(`the prebuilt does not load: ${check.stderr}`);
const info = JSON.parse(check.stdout);
if (!cpuOnly && !info.cuda.compiled) fail('the prebuilt has no CUDA engine');

// The oldest glibc it runs on: the newest GLIBC_x.y symbol version it needs.
let glibc = '';
if (process.platform === 'linux' && findProgram('objdump')) {
  const o = spawnSync('objdump', ['-T', dest], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const versions = [...(o.stdout || '').matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (versions.length) glibc = `, needs glibc >= ${versions[versions.length - 1].join('.')}`;
  const cxx = [...(o.stdout || '').matchAll(/GLIBCXX_3\.4\.(\d+)/g)].map((m) => Number(m[1]));
  if (cxx.length) glibc += ` and GLIBCXX_3.4.${Math.max(...cxx)}`;
  const dyn = spawnSync('objdump', ['-p', dest], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const needed = [...(dyn.stdout || '').matchAll(/NEEDED\s+(\S+)/g)].map((m) => m[1]);
  glibc += `; links ${needed.join(', ')}`;
}
const mb = (fs.statSync(dest).size / 1e6).toFixed(1);
console.error(`prebuild: ${path.relative(root, dest)} (${mb} MB, CUDA ${info.cuda.compiled ? info.cuda.runtimeVersion ?? 'yes' : 'no'}${glibc}) in ${Math.round((Date.now() - started) / 1000)} s`);
