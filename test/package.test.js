// The published surface: `sbert-native` loads the library only (evaluation, GloVe and plots
// live behind `sbert-native/eval`), and the npm package carries the bundled model but no test
// fixtures.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');

/** Runs `code` in a fresh Node process at the package root; returns its parsed JSON output. */
function inChild(code) {
  const r = spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("require('sbert-native') loads no evaluation module", () => {
  // the package's own name resolves through package.json "exports" (self-reference)
  const got = inChild(`
    const lib = require('sbert-native');
    const evalModules = Object.keys(require.cache).filter((f) => /[\\\\/](lib|dist)[\\\\/]eval[\\\\/]/.test(f));
    console.log(JSON.stringify({ evalModules, keys: Object.keys(lib), main: require.resolve('sbert-native') }));
  `);
  assert.equal(got.evalModules, []);
  assert.ok(got.keys.includes('SentenceEncoder') && got.keys.includes('semanticSearch'), got.keys.join(', '));
  assert.not.ok(got.keys.includes('evaluateSts'));
  assert.is(got.main, path.join(root, 'dist', 'index.js'));
});

test("require('sbert-native/eval') gives evaluation, GloVe and plots", () => {
  const got = inChild(`
    const ev = require('sbert-native/eval');
    console.log(JSON.stringify({ file: require.resolve('sbert-native/eval'), types: ['evaluateSts', 'GloveEncoder', 'scatterSvg', 'runEvalCommand'].map((k) => typeof ev[k]) }));
  `);
  assert.is(got.file, path.join(root, 'dist', 'eval', 'index.js'));
  assert.equal(got.types, ['function', 'function', 'function', 'function']);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  for (const entry of ['.', './eval']) {
    const types = pkg.exports[entry].types;
    assert.ok(fs.existsSync(path.join(root, types)), `${entry}: ${types} exists (after tsc)`);
  }
});

test('npm pack: no test files and no model-building tools, but the bundled model, which loads from the packed files alone', async () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.is(r.status, 0, r.stderr);
  const files = JSON.parse(r.stdout)[0].files.map((f) => f.path);
  assert.equal(files.filter((f) => f.startsWith('test/')), []);
  const generators = (f) => f.startsWith('tools/default-model') || f.startsWith('tools/reference/') || f === 'tools/train-default-model.js' || f === 'tools/gen-unicode-tables.js';
  assert.equal(files.filter(generators), []);
  assert.equal(files.filter((f) => f.startsWith('native/cpp/tests/')), []);
  const modelDir = 'models/default-en/';
  const modelFiles = files.filter((f) => f.startsWith(modelDir)).map((f) => f.slice(modelDir.length)).sort();
  for (const needed of ['README.md', 'config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'modules.json', 'sentence_bert_config.json', 'tokenizer.json', '1_Pooling/config.json', '2_Dense/config.json', '2_Dense/model.safetensors']) {
    assert.ok(modelFiles.includes(needed), `${modelDir}${needed} is packed`);
  }
  for (const needed of ['dist/index.js', 'dist/cli.js', 'dist/eval/index.js', 'dist/eval/index.d.ts', 'CMakeLists.txt', 'binding.gyp', 'tools/install.js']) {
    assert.ok(files.includes(needed), `${needed} is packed`);
  }
  // the packed model files are enough to load and run the model
  const { SentenceEncoder } = require('../dist');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-pack-'));
  try {
    for (const f of modelFiles) {
      const dest = path.join(tmp, f);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(path.join(root, modelDir, f), dest);
    }
    const enc = await SentenceEncoder.load(tmp, { device: 'cpu' });
    try {
      const emb = await enc.encode(['A man is eating food.']);
      assert.is(emb.count, 1);
      assert.is(emb.dim, 512);
    } finally {
      enc.dispose();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
