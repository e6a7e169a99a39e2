// Issue 27, item 2: the README's examples are the files in examples/, run here as a user runs
// them (`node examples/x`, the package found by its own name), and quoted in README.md exactly:
// every `<!-- examples/NAME -->` marker is followed by a code block equal to that file, and every
// file in examples/ is quoted.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');
const examples = fs.readdirSync(path.join(root, 'examples')).sort();

/** Runs an example in a fresh process; its temporary files go to a folder removed afterwards. */
function run(name) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-example-'));
  try {
    const r = spawnSync(process.execPath, [path.join('examples', name)], { cwd: root, encoding: 'utf8', env: { ...process.env, TMPDIR: tmp }, timeout: 300_000 });
    assert.is(r.status, 0, `${name}: ${r.stderr}`);
    assert.is(r.stderr, '', `${name} writes nothing on stderr`);
    return r.stdout;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

test('examples/quickstart.cjs (CommonJS) runs as pasted: search finds the meal', () => {
  const out = run('quickstart.cjs');
  const lines = out.split('\n');
  assert.is(lines[0], '3 512 512');
  assert.match(out, /corpusId: 0, score: 0\.\d+/);
  assert.match(lines.filter(Boolean).pop(), /^0\.\d{4} 3$/);
});

test('examples/quickstart.mjs (ES modules, top-level await) runs as pasted', () => {
  assert.match(run('quickstart.mjs'), /^\[\n {2}\{ corpusId: 0, score: 0\.\d+ \},\n {2}\{ corpusId: \d, score: /);
});

test("examples/training.mjs fine-tunes the bundled model ('default'), saves and reloads it", () => {
  const out = run('training.mjs');
  assert.match(out, /^step 1\/2 loss \d\.\d{4}\nstep 2\/2 loss \d\.\d{4}\nFloat32Array\(2\) \[ 0\.\d+, 0\.\d+ \]\n$/);
});

test('README.md quotes every example exactly', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const quoted = new Set();
  const marker = /<!-- (examples\/[\w.-]+) -->\n```(\w+)\n([\s\S]*?)```\n/g;
  for (const m of readme.matchAll(marker)) {
    const file = path.join(root, m[1]);
    assert.ok(fs.existsSync(file), `${m[1]} exists`);
    assert.fixture(m[3], fs.readFileSync(file, 'utf8'), `README's ${m[1]} block equals the file`);
    quoted.add(path.basename(m[1]));
  }
  assert.equal([...quoted].sort(), examples, 'every file in examples/ is quoted');
  // the first example a reader meets loads no folder they do not have
  const first = /```js\n([\s\S]*?)```/.exec(readme)[1];
  assert.not.match(first, /load\('\.\//);
});

test.run();
