// Deeply nested tokenizer.json components (issue 30, D4): 100,000 Sequences inside one another
// must be refused with ERR_BAD_MODEL naming the file and the component, not end in a bare
// "Maximum call stack size exceeded". Each case runs in a child process with a time and a
// memory limit, so a regression (a crash, a hang, runaway memory) fails the test instead of
// taking the test runner down.
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { test } = require('uvu');
const assert = require('uvu/assert');

const ROOT = path.join(__dirname, '..');

/** Run `body` (JS source with `dist` = the tokenizer module) in a child; its last stdout line is JSON. */
function child(body) {
  const src = `
    const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
    const dist = require(${JSON.stringify(path.join(ROOT, 'dist', 'tokenizer'))});
    (async () => { ${body} })().catch((e) => { console.log(JSON.stringify({ crashed: String(e && e.stack || e) })); });
  `;
  const r = spawnSync(process.execPath, ['--max-old-space-size=384', '--stack-size=984', '-e', src], { encoding: 'utf8', timeout: 60000, killSignal: 'SIGKILL' });
  assert.ok(!r.error && r.signal === null, `child killed (${r.signal || r.error}): ${r.stderr.slice(-500)}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

const NEST = 100000;
const cases = [
  ['normalizer', `{"type":"NFC"}`, (inner) => `{"type":"Sequence","normalizers":[${inner}]}`, /normalizer: components nest more than 64 levels deep \(at normalizer\.normalizers\[0\]/],
  ['pre_tokenizer', `{"type":"WhitespaceSplit"}`, (inner) => `{"type":"Sequence","pretokenizers":[${inner}]}`, /pre_tokenizer: components nest more than 64 levels deep \(at pre_tokenizer\.pretokenizers\[0\]/],
  ['decoder', `{"type":"Fuse"}`, (inner) => `{"type":"Sequence","decoders":[${inner}]}`, /decoder: components nest more than 64 levels deep \(at decoder\.decoders\[0\]/],
  ['post_processor', `{"type":"BertProcessing","sep":["b",1],"cls":["a",0]}`, (inner) => `{"type":"Sequence","processors":[${inner}]}`, /post_processor: components nest more than 64 levels deep/],
];

for (const [field, leaf, wrap, re] of cases) {
  test(`${field}: ${NEST.toLocaleString('en')} nested Sequences -> ERR_BAD_MODEL naming the file and the component`, () => {
    // build the file text without recursion (a template repeated around the leaf)
    const open = wrap('\u0000').split('\u0000')[0];
    const close = wrap('\u0000').split('\u0000')[1];
    const out = child(`
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-depth-'));
      const nested = ${JSON.stringify(open)}.repeat(${NEST}) + ${JSON.stringify(leaf)} + ${JSON.stringify(close)}.repeat(${NEST});
      const json = '{"model":{"type":"WordPiece","vocab":{"[UNK]":0,"a":1,"b":2},"unk_token":"[UNK]"},"pre_tokenizer":{"type":"BertPreTokenizer"},' +
        ${JSON.stringify(JSON.stringify(field))} + ':' + nested + '}';
      fs.writeFileSync(path.join(dir, 'tokenizer.json'), json);
      try {
        await dist.loadTokenizer(dir);
        console.log(JSON.stringify({ loaded: true }));
      } catch (e) {
        console.log(JSON.stringify({ code: e.code, name: e.name, message: e.message.slice(0, 400), file: path.join(dir, 'tokenizer.json') }));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    `);
    assert.ok(!out.crashed, out.crashed);
    assert.is(out.loaded, undefined, 'the nested file was accepted');
    assert.is(out.code, 'ERR_BAD_MODEL', `${out.name}: ${out.message}`);
    assert.ok(out.message.startsWith(out.file), out.message);
    assert.match(out.message, re);
  });
}

test('64 levels still load (the limit is on depth, not on real files)', () => {
  const out = child(`
    let n = '{"type":"Lowercase"}';
    for (let i = 0; i < 60; i++) n = '{"type":"Sequence","normalizers":[' + n + ']}';
    const t = dist.loadTokenizerFromJson(JSON.parse('{"model":{"type":"WordPiece","vocab":{"[UNK]":0,"a":1},"unk_token":"[UNK]"},"pre_tokenizer":{"type":"WhitespaceSplit"},"normalizer":' + n + '}'));
    console.log(JSON.stringify({ ids: Array.from(t.encode('A a').ids) }));
  `);
  assert.equal(out.ids, [1, 1]);
});

test.run();
