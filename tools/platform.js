// What this machine is, for the install script (tools/install.js) and the release script
// (tools/prebuild.js): the prebuilt binary's folder and tags (the prebuildify layout that
// node-gyp-build reads at run time), whether the CUDA toolkit and an NVIDIA driver are here,
// and the N-API version the addon is compiled against.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');

/** The N-API version the addon is built for (package.json "binary.napi_versions", NAPI_VERSION in the build files). */
const NAPI_VERSION = require(path.join(root, 'package.json')).binary.napi_versions[0];

/** glibc or musl, by node-gyp-build's own rule (LIBC overrides; Alpine is musl), so the name we write is the name it looks for. */
function libc() {
  if (process.env.LIBC) return process.env.LIBC;
  return process.platform === 'linux' && fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
}

/** `prebuilds/<platform>-<arch>/node.napi[.<libc>].node`: prebuildify's name for an N-API addon (libc tagged on Linux). */
function prebuildFile(dir = root) {
  const tags = ['node', 'napi'];
  if (process.platform === 'linux') tags.push(libc());
  return path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, `${tags.join('.')}.node`);
}

/** The first executable named `name` on PATH (or in `extraDirs`), else undefined. */
function findProgram(name, extraDirs = []) {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  const dirs = [...(process.env.PATH || '').split(path.delimiter), ...extraDirs].filter(Boolean);
  for (const d of dirs) {
    for (const ext of exts) {
      const file = path.join(d, name + ext);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        if (fs.statSync(file).isFile()) return file;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** nvcc where CMakeLists.txt looks for it (PATH, $CUDA_HOME/bin, /usr/local/cuda/bin). */
function findNvcc() {
  const extra = [process.env.CUDA_HOME && path.join(process.env.CUDA_HOME, 'bin'), '/usr/local/cuda/bin'].filter(Boolean);
  return findProgram('nvcc', extra);
}

/**
 * Whether an NVIDIA driver is installed: the kernel module's /proc entry, or the driver's user
 * library libcuda.so.1 (what the CUDA runtime loads; also WSL's /usr/lib/wsl/lib), or nvcuda.dll
 * on Windows. The toolkit's stub libcuda.so does not count.
 */
function hasNvidiaDriver() {
  if (process.platform === 'win32') return fs.existsSync(path.join(process.env.SystemRoot || 'C:\\Windows', 'System32', 'nvcuda.dll'));
  if (process.platform !== 'linux') return false;
  if (fs.existsSync('/proc/driver/nvidia/version')) return true;
  for (const d of ['/usr/lib/wsl/lib', '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib']) {
    if (fs.existsSync(path.join(d, 'libcuda.so.1'))) return true;
  }
  const r = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  return r.status === 0 && /\blibcuda\.so\.1\b/.test(r.stdout);
}

module.exports = { root, NAPI_VERSION, libc, prebuildFile, findProgram, findNvcc, hasNvidiaDriver };
