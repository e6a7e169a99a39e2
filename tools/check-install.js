#!/usr/bin/env node
// What a user gets from the npm package: packs this checkout (`npm pack`, prebuilt addons
// included when `npm run prebuild` made them), installs the tarball into an empty project, and
// encodes a sentence with the installed package — by default with the compilers hidden (PATH
// holds every program of the real PATH except gcc/g++/cc/c++/clang/cmake/make/ninja/nvcc), so
// the prebuilt path is proven to need none. Prints one JSON line: tarball size, install time,
// the addon that was loaded, the embedding's size.
//
//   node tools/check-install.js [--tarball FILE] [--build-from-source] [--ignore-scripts-too] [--keep]
//     --build-from-source   install with `--build-from-source` and the real PATH (the source build's time)
//     --ignore-scripts-too  also install into a second project with --ignore-scripts (as an npm
//                           that does not run install scripts would) and encode there
//     --keep                leave the temporary project (its path is printed)
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const fromSource = argv.includes('--build-from-source');
const keep = argv.includes('--keep');
const ignoreScriptsToo = argv.includes('--ignore-scripts-too');
const tarAt = argv.indexOf('--tarball');

const COMPILERS = /^(gcc|g\+\+|cc|c\+\+|cpp|clang|clang\+\+|cmake|ccmake|ctest|make|gmake|ninja|nvcc|ptxas|ld|as|x86_64-linux-gnu-.*|aarch64-linux-gnu-.*|gcc-\d+|g\+\+-\d+|clang-\d+|clang\+\+-\d+)$/;

function fail(message, detail) {
  console.error(`check-install: ${message}`);
  if (detail) console.error(detail);
  process.exit(1);
}

/** A folder of links to every program on PATH except the compilers and build tools; its path. */
function pathWithoutCompilers(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const seen = new Set();
  for (const d of (process.env.PATH || '').split(path.delimiter)) {
    let names;
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const name of names) {
      if (seen.has(name) || COMPILERS.test(name)) continue;
      seen.add(name);
      try {
        fs.symlinkSync(path.join(d, name), path.join(dir, name));
      } catch {
        // a name that cannot be linked is not needed
      }
    }
  }
  return dir;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-install-'));
try {
  // 1. the tarball
  let tarball;
  if (tarAt >= 0) {
    tarball = path.resolve(argv[tarAt + 1]);
  } else {
    const r = spawnSync('npm', ['pack', '--pack-destination', work, '--json', '--silent'], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) fail('npm pack failed', r.stderr);
    tarball = path.join(work, JSON.parse(r.stdout)[0].filename);
  }
  const tarballBytes = fs.statSync(tarball).size;

  // 2. an empty project, and the environment of the install
  const emptyProject = (name) => {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'try-sbert', version: '1.0.0', private: true }, null, 2));
    return dir;
  };
  const project = emptyProject('project');
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k.startsWith('SBERT_')) delete env[k];
  if (!fromSource) {
    env.PATH = pathWithoutCompilers(path.join(work, 'bin'));
    const which = spawnSync('sh', ['-c', 'command -v g++ || command -v cc || command -v cmake || command -v nvcc'], { env, encoding: 'utf8' });
    if (which.stdout.trim() !== '') fail(`a compiler is still on PATH: ${which.stdout.trim()}`);
  }

  // 3. npm install, timed
  const args = ['install', tarball, '--no-audit', '--no-fund', '--foreground-scripts'];
  if (fromSource) args.push('--build-from-source');
  const started = process.hrtime.bigint();
  const install = spawnSync('npm', args, { cwd: project, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const installSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (install.status !== 0) fail(`npm install failed (exit ${install.status})`, `${install.stdout}\n${install.stderr}`);
  const announced = `${install.stdout}\n${install.stderr}`.split('\n').filter((l) => l.startsWith('sbert-native:'));

  // 4. the first encode, in the same environment
  const script = `
    const { SentenceEncoder, buildInfo } = require('sbert-native');
    (async () => {
      const enc = await SentenceEncoder.load({ device: 'cpu' });
      const e = await enc.encode(['A man is eating food.', 'A man is riding a horse.']);
      const s = await enc.similarity(e, e);
      enc.dispose();
      const info = buildInfo();
      console.log(JSON.stringify({ addonPath: info.addonPath, cudaCompiled: info.cuda.compiled, count: e.count, dim: e.dim, score01: s.get(0, 1) }));
    })().catch((err) => { console.error(err); process.exit(1); });`;
  const encodeIn = (dir) => {
    const run = spawnSync(process.execPath, ['-e', script], { cwd: dir, env, encoding: 'utf8' });
    if (run.status !== 0) fail(`the first encode failed in ${dir}`, run.stderr);
    return JSON.parse(run.stdout.trim().split('\n').pop());
  };
  const result = encodeIn(project);
  let ignoreScripts;
  if (ignoreScriptsToo) {
    // No install script at all: the loader finds the prebuilt by itself.
    const bare = emptyProject('project-ignore-scripts');
    const r = spawnSync('npm', ['install', tarball, '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: bare, env, encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) fail('npm install --ignore-scripts failed', r.stderr);
    const got = encodeIn(bare);
    ignoreScripts = { addon: path.relative(path.join(bare, 'node_modules', 'sbert-native'), got.addonPath), encoded: `${got.count} × ${got.dim}` };
  }
  const rel = path.relative(path.join(project, 'node_modules', 'sbert-native'), result.addonPath);
  console.log(JSON.stringify({
    tarball: path.basename(tarball),
    tarballMB: Number((tarballBytes / 1e6).toFixed(1)),
    installSeconds: Number(installSeconds.toFixed(1)),
    compilersHidden: !fromSource,
    buildFromSource: fromSource,
    announced,
    addon: rel,
    cudaCompiled: result.cudaCompiled,
    encoded: `${result.count} × ${result.dim}`,
    score01: result.score01,
    ...(ignoreScripts ? { ignoreScripts } : {}),
    ...(keep ? { project } : {}),
  }));
} finally {
  if (!keep) fs.rmSync(work, { recursive: true, force: true });
}
