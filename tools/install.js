#!/usr/bin/env node
// `npm install` hook. The package carries prebuilt addons (prebuilds/<platform>-<arch>/, made by
// `npm run prebuild`); when one matches this machine (platform, arch, libc, N-API version — the
// rules node-gyp-build applies at run time) and loads, nothing is built. Otherwise, or with
// `npm install --build-from-source` / SBERT_BUILD_FROM_SOURCE=1, the addon is built from source
// and one line says what is built and about how long it takes:
//   - cmake-js (CMakeLists.txt): the CPU engine, plus the CUDA engine when SBERT_CUDA=ON, or
//     when SBERT_CUDA is unset/AUTO and both nvcc and an NVIDIA driver are here (compiling
//     CUDA on a machine that cannot run it only makes the install minutes longer);
//   - node-gyp (binding.gyp) when CMake is missing: the CPU engine only.
// A failing build is an error (its log's tail is printed), never a silent fallback.
// SBERT_SKIP_BUILD=1 does nothing; SBERT_INSTALL_DRY_RUN=1 prints the decision and exits.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { root, NAPI_VERSION, prebuildFile, findProgram, findNvcc, hasNvidiaDriver } = require('./platform');

const dryRun = truthy(process.env.SBERT_INSTALL_DRY_RUN);

function truthy(v) {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

function say(line) {
  console.error(`sbert-native: ${line}`);
}

/** --build-from-source (npm passes it as npm_config_build_from_source: true, or this package's name) or SBERT_BUILD_FROM_SOURCE. */
function buildFromSourceAsked() {
  const npmFlag = process.env.npm_config_build_from_source;
  if (npmFlag === 'true' || npmFlag === 'sbert-native') return '--build-from-source was given';
  if (truthy(process.env.SBERT_BUILD_FROM_SOURCE)) return 'SBERT_BUILD_FROM_SOURCE is set';
  return undefined;
}

/** The prebuilt addon for this machine, as node-gyp-build resolves it (prebuilds only), if it loads here. */
function usablePrebuilt() {
  if (Number(process.versions.napi) < NAPI_VERSION) {
    return { reason: `this Node has N-API ${process.versions.napi}; the prebuilt addons need N-API ${NAPI_VERSION}` };
  }
  process.env.PREBUILDS_ONLY = '1'; // node-gyp-build reads it when loaded: skip build/
  let file;
  try {
    file = require('node-gyp-build').path(root);
  } catch {
    return { reason: `no prebuilt addon for ${path.relative(root, path.dirname(prebuildFile()))} (${path.basename(prebuildFile())}) in this package` };
  } finally {
    delete process.env.PREBUILDS_ONLY;
  }
  try {
    const info = require(file).buildInfo();
    return { file, info };
  } catch (err) {
    return { reason: `the prebuilt ${path.relative(root, file)} does not load here (${String(err.message).split('\n')[0]})` };
  }
}

/** What a source build will compile, and why. */
function sourcePlan() {
  const gyp = process.env.SBERT_BUILD === 'gyp' || !findProgram('cmake');
  if (gyp) return { tool: 'node-gyp', cuda: false, why: process.env.SBERT_BUILD === 'gyp' ? 'SBERT_BUILD=gyp' : 'CMake not found: no CUDA engine' };
  const asked = (process.env.SBERT_CUDA || 'AUTO').toUpperCase();
  if (asked === 'ON') return { tool: 'cmake-js', cuda: true, why: 'SBERT_CUDA=ON' };
  if (asked === 'OFF') return { tool: 'cmake-js', cuda: false, why: 'SBERT_CUDA=OFF' };
  const nvcc = findNvcc();
  if (!nvcc) return { tool: 'cmake-js', cuda: false, why: 'no nvcc' };
  if (!hasNvidiaDriver()) return { tool: 'cmake-js', cuda: false, why: 'nvcc found but no NVIDIA driver; SBERT_CUDA=ON builds it anyway' };
  return { tool: 'cmake-js', cuda: true, why: 'nvcc and an NVIDIA driver found' };
}

/** A rough duration: ~80 s of 2-core build for the CPU engine, ~3.5 min with CUDA (sm_80/sm_90), scaled by cores. */
function estimate(cuda) {
  const twoCoreSeconds = cuda ? 210 : 80;
  const cores = Math.max(1, Math.min(os.cpus().length, 16));
  const s = (twoCoreSeconds * 2) / cores;
  return s < 90 ? `about ${Math.max(10, Math.round(s / 10) * 10)} s` : `about ${Math.round(s / 60)} min`;
}

function sourceBuild(reason) {
  const plan = sourcePlan();
  const what = plan.cuda ? 'the CPU and CUDA engines' : 'the CPU engine';
  say(`${reason}; building ${what} from source with ${plan.tool} (${plan.why}), ${estimate(plan.cuda)} on ${os.cpus().length} cores`);
  if (dryRun) return 0;
  const started = Date.now();
  const args = plan.tool === 'cmake-js'
    ? [require.resolve('cmake-js/bin/cmake-js', { paths: [root] }), 'compile', '--out', 'build']
    : [path.join(__dirname, 'build-gyp.js')];
  const env = { ...process.env, SBERT_CUDA: plan.cuda ? 'ON' : 'OFF' };
  // The compiler's output goes to a log (shown when the build fails); SBERT_BUILD_VERBOSE=1 or CI shows it live.
  const verbose = truthy(process.env.SBERT_BUILD_VERBOSE) || truthy(process.env.CI);
  const log = path.join(root, 'sbert-build.log');
  const out = verbose ? 'inherit' : fs.openSync(log, 'w');
  const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: ['ignore', out, out] });
  if (typeof out === 'number') fs.closeSync(out);
  const status = r.status === null ? 1 : r.status;
  if (status !== 0) {
    if (!verbose) {
      const lines = fs.readFileSync(log, 'utf8').split('\n');
      console.error(lines.slice(-60).join('\n'));
      say(`the source build failed (full log: ${log})`);
    }
    return status;
  }
  say(`built ${what} in ${Math.round((Date.now() - started) / 1000)} s`);
  return 0;
}

function main() {
  if (truthy(process.env.SBERT_SKIP_BUILD)) {
    say('SBERT_SKIP_BUILD is set, not building the addon');
    return 0;
  }
  const asked = buildFromSourceAsked();
  if (asked) return sourceBuild(asked);
  const prebuilt = usablePrebuilt();
  if (prebuilt.file) {
    const engines = prebuilt.info.cuda.compiled ? 'CPU and CUDA engines' : 'CPU engine';
    say(`using the prebuilt addon ${path.relative(root, prebuilt.file)} (${engines}); nothing to build`);
    return 0;
  }
  return sourceBuild(prebuilt.reason);
}

process.exitCode = main();
