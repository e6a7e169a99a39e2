// The `sbert` command: encode to .npy / .jsonl / stdout, demo, info, and argument errors.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { SentenceEncoder } = require('../dist');
const { FIXTURES, maxAbsDiff } = require('./helpers/reference');

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
const TINY = path.join(FIXTURES, 'tiny');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-cli-'));
const sentences = ['A man is eating food.', '', 'A woman is playing violin.', 'Ünïcödé and 東京 too'];
const inputFile = path.join(tmp, 'in.txt');
fs.writeFileSync(inputFile, sentences.join('\n') + '\n');

/** A file of n sentences in the test's folder (enough output to fill a pipe). */
function bigInput(n) {
  const file = path.join(tmp, `big-${n}.txt`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, Array.from({ length: n }, (_, i) => `A man is eating food number ${i}.`).join('\n') + '\n');
  return file;
}

function sbert(args, input) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, env: { ...process.env } });
}

/** Minimal .npy reader: float32 little-endian, C order. */
function readNpy(file) {
  const buf = fs.readFileSync(file);
  assert.is(buf.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString('latin1');
  assert.is((10 + headerLen) % 64, 0, 'header padded to 64 bytes');
  assert.match(header, "'descr': '<f4'");
  assert.match(header, "'fortran_order': False");
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header).slice(1).map(Number);
  const body = new Uint8Array(buf.subarray(10 + headerLen));
  return { shape, data: new Float32Array(body.buffer, body.byteOffset, body.byteLength / 4) };
}

let expected;
test.before(async () => {
  const enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  expected = await enc.encode(sentences);
  enc.dispose();
});

test('encode --output .npy gives what encode() gives', () => {
  const out = path.join(tmp, 'out.npy');
  const r = sbert(['encode', '--model', TINY, '--device', 'cpu', '--input', inputFile, '--output', out]);
  assert.is(r.status, 0, r.stderr);
  const npy = readNpy(out);
  assert.equal(npy.shape, [sentences.length, expected.dim]);
  assert.ok(maxAbsDiff(npy.data, expected.data) === 0);
});

test('encode --output .jsonl and to stdout from stdin', () => {
  const out = path.join(tmp, 'out.jsonl');
  let r = sbert(['encode', '--model', TINY, '--device', 'cpu', '--input', inputFile, '--output', out]);
  assert.is(r.status, 0, r.stderr);
  const rows = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.is(rows.length, sentences.length);
  assert.ok(maxAbsDiff(Float32Array.from(rows.flat()), expected.data) === 0);
  r = sbert(['encode', '--model', TINY, '--device', 'cpu', '--input', '-'], sentences.join('\n'));
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim().split('\n').length, sentences.length);
});

test('argument errors exit 2 with a message; a bad model exits 1 with its code', () => {
  let r = sbert(['encode', '--model', TINY, '--input', inputFile, '--output', path.join(tmp, 'x.csv')]);
  assert.is(r.status, 2);
  r = sbert(['encode', '--model', TINY, '--bogus']);
  assert.is(r.status, 2);
  r = sbert(['frobnicate']);
  assert.is(r.status, 2);
  r = sbert(['encode', '--model', path.join(tmp, 'nope'), '--device', 'cpu', '--input', inputFile]);
  assert.is(r.status, 2, 'a missing folder is an argument error');
  assert.match(r.stderr, `--model ${path.join(tmp, 'nope')}: no model folder at`);
  fs.mkdirSync(path.join(tmp, 'empty-model'), { recursive: true });
  r = sbert(['encode', '--model', path.join(tmp, 'empty-model'), '--device', 'cpu', '--input', inputFile]);
  assert.is(r.status, 1, 'a folder that is not a model');
  assert.match(r.stderr, 'ERR_BAD_MODEL');
  r = sbert(['encode', '--model', TINY, '--input', path.join(tmp, 'missing.txt')]);
  assert.is(r.status, 2);
});

test('demo runs on the bundled model: food and bread are the most similar pair', () => {
  const r = sbert(['demo', '--device', 'cpu']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, 'models/default-en');
  assert.match(r.stdout, 'Most similar pair: "A man is eating food." ↔ "A man is eating a piece of bread."');
});

test('encode without --model uses the bundled model', () => {
  const out = path.join(tmp, 'default.jsonl');
  const r = sbert(['encode', '--device', 'cpu', '--input', inputFile, '--output', out, '--no-progress']);
  assert.is(r.status, 0, r.stderr);
  const rows = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.is(rows.length, fs.readFileSync(inputFile, 'utf8').trim().split('\n').length);
  assert.is(rows[0].length, 512);
});

test('info --model: what a model is as the engine would run it (family, tokenizer, shape, kind), without an engine', () => {
  const fam = (name) => path.join(__dirname, 'fixtures', 'families', name);
  const cases = [
    [fam('multilingual-minilm-tiny'), { kind: 'bi-encoder', family: 'bert', modelType: 'bert', tokenizer: 'Unigram', positions: /^absolute/ }],
    [fam('xlmr-unigram-tiny'), { kind: 'bi-encoder', family: 'roberta', modelType: 'xlm-roberta', tokenizer: 'Unigram', positions: /^after padding \(from 2\)/ }],
    [fam('mpnet-tiny'), { kind: 'bi-encoder', family: 'mpnet', modelType: 'mpnet', tokenizer: 'WordPiece', positions: /relative attention bias \(32 buckets/ }],
    [fam('distilbert-sinusoidal'), { kind: 'bi-encoder', family: 'distilbert', modelType: 'distilbert', tokenizer: 'WordPiece', positions: /sinusoidal/ }],
    [path.join(__dirname, 'fixtures', 'cross-encoders', 'xlmr-ce'), { kind: 'cross-encoder', family: 'roberta', modelType: 'xlm-roberta', tokenizer: 'WordPiece', positions: /^after padding/ }],
  ];
  for (const [dir, want] of cases) {
    const r = sbert(['info', '--model', dir]);
    assert.is(r.status, 0, r.stderr);
    const { model } = JSON.parse(r.stdout);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    assert.is(model.kind, want.kind, dir);
    assert.is(model.family, want.family, dir);
    assert.is(model.modelType, want.modelType, dir);
    assert.is(model.tokenizer.model, want.tokenizer, dir);
    assert.match(model.positions, want.positions, dir);
    assert.is(model.layers, config.num_hidden_layers ?? config.n_layers, dir);
    assert.is(model.hiddenSize, config.hidden_size ?? config.dim, dir);
    if (want.kind === 'bi-encoder') assert.equal(model.pooling, ['mean'], dir);
    else assert.is(model.outputDimension, Object.keys(config.id2label ?? { 0: 0 }).length, dir);
  }
  const bad = sbert(['info', '--model', path.join(__dirname, 'fixtures', 'no-such-model')]);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /ERR_BAD_MODEL: no model folder/);
});

test('info prints build info as JSON', () => {
  const r = sbert(['info']);
  assert.is(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.type(info.buildInfo.cuda.compiled, 'boolean');
  assert.ok(Array.isArray(info.cudaDevices));
});

/** No stack trace in what the command printed (a message only). */
const noStack = (text) => !/\n\s+at /.test(text);

test('an unwritable --output is refused before any work: exit 2 with a message', () => {
  const dir = path.join(tmp, 'a-dir.npy');
  fs.mkdirSync(dir, { recursive: true });
  const cases = [
    [path.join(tmp, 'no-such-folder', 'x.npy'), /folder .*no-such-folder does not exist/],
    ['/proc/sbert-out.npy', /cannot write \/proc\/sbert-out\.npy/],
    [dir, /is a directory/],
  ];
  for (const [out, re] of cases) {
    // a model that does not exist: the output is checked first, so that is never reached
    const r = sbert(['encode', '--model', path.join(tmp, 'no-model'), '--input', inputFile, '--output', out]);
    assert.is(r.status, 2, `${out}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.not.match(r.stderr, 'ERR_BAD_MODEL');
    assert.ok(noStack(r.stderr), r.stderr);
  }
  assert.equal(fs.readdirSync(dir), []);
});

test('a failed write leaves the old file as it was and no partial or temporary file', () => {
  const out = path.join(tmp, 'kept.npy');
  fs.writeFileSync(out, 'previous contents');
  const input = bigInput(3000);
  const before = new Set(fs.readdirSync(tmp));
  // a file-size limit makes the write fail with EFBIG (SIGXFSZ ignored, so write() returns it)
  const script = `trap "" XFSZ; ulimit -f 8; exec "$0" "$@"`;
  const r = spawnSync('/bin/sh', ['-c', script, process.execPath, CLI, 'encode', '--model', TINY, '--device', 'cpu', '--input', input, '--output', out], { encoding: 'utf8' });
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /cannot write .*kept\.npy/);
  assert.ok(noStack(r.stderr), r.stderr);
  assert.is(fs.readFileSync(out, 'utf8'), 'previous contents');
  assert.equal([...new Set(fs.readdirSync(tmp))].filter((f) => !before.has(f)), []);
  // and a successful write replaces it whole
  const ok = sbert(['encode', '--model', TINY, '--device', 'cpu', '--input', inputFile, '--output', out]);
  assert.is(ok.status, 0, ok.stderr);
  assert.equal(readNpy(out).shape, [sentences.length, expected.dim]);
  assert.equal([...new Set(fs.readdirSync(tmp))].filter((f) => !before.has(f)), []);
});

test('encode --quantize: int8 / ubinary .npy and .jsonl equal quantizeEmbeddings(encode()); a bad value exits 2', async () => {
  const { quantizeEmbeddings } = require('../dist');
  for (const [precision, descr] of [['int8', '|i1'], ['ubinary', '|u1'], ['binary', '|i1'], ['uint8', '|u1']]) {
    const want = quantizeEmbeddings(expected, precision);
    const out = path.join(tmp, `q-${precision}.npy`);
    const r = sbert(['encode', '--model', TINY, '--device', 'cpu', '--input', inputFile, '--output', out, '--quantize', precision]);
    assert.is(r.status, 0, r.stderr);
    const buf = fs.readFileSync(out);
    const headerLen = buf.readUInt16LE(8);
    const header = buf.subarray(10, 10 + headerLen).toString('latin1');
    assert.ok(header.includes(`'descr': '${descr}'`), header);
    assert.ok(header.includes(`'shape': (${sentences.length}, ${want.dim})`), header);
    const body = buf.subarray(10 + headerLen);
    const data = descr === '|i1' ? new Int8Array(body.buffer, body.byteOffset, body.length) : new Uint8Array(body.buffer, body.byteOffset, body.length);
    assert.equal(Array.from(data), Array.from(want.data), precision);
    const j = sbert(['encode', '--model', TINY, '--device', 'cpu', '--input', inputFile, '--quantize', precision]);
    assert.is(j.status, 0, j.stderr);
    const rows = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.flat(), Array.from(want.data), `${precision} jsonl`);
  }
  const bad = sbert(['encode', '--model', TINY, '--input', inputFile, '--quantize', 'int4']);
  assert.is(bad.status, 2);
  assert.ok(bad.stderr.includes("--quantize must be int8, uint8, binary, ubinary or float32 (got 'int4')"), bad.stderr);
});

test('bad --device, --precision and --batch-tokens: exit 2 with a message, as eval does', () => {
  const cases = [
    [['--device', 'gpu'], "--device must be auto, cpu, cuda or cuda:N (got 'gpu')"],
    [['--precision', 'fp8'], "--precision must be fp32, int8 or bf16 (CPU), or fp16, bf16 or fp32 (GPU) (got 'fp8')"],
    [['--batch-tokens', '0x10'], "--batch-tokens must be a positive integer in decimal digits (got '0x10')"],
    [['--batch-tokens', '1e3'], '--batch-tokens must be a positive integer'],
    [['--batch-tokens', ' 8'], '--batch-tokens must be a positive integer'],
    [['--batch-tokens', '0'], '--batch-tokens must be a positive integer'],
  ];
  for (const [args, message] of cases) {
    for (const command of [['encode', '--input', inputFile], ['eval']]) {
      const r = sbert([...command, '--model', TINY, ...args]);
      assert.is(r.status, 2, `${command[0]} ${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stderr.includes(message), r.stderr);
      assert.ok(noStack(r.stderr), r.stderr);
    }
  }
  const demo = sbert(['demo', '--device', 'gpu']);
  assert.is(demo.status, 2);
  assert.match(demo.stderr, '--device must be');
  // plain decimal is taken
  const r = sbert(['encode', '--model', TINY, '--device', 'cpu', '--batch-tokens', '16', '--input', inputFile]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim().split('\n').length, sentences.length);
});

test('a reader that goes away (sbert encode | head) ends the command quietly', async () => {
  const { spawn } = require('node:child_process');
  for (const args of [['encode', '--model', TINY, '--device', 'cpu', '--no-progress', '--input', bigInput(5000)], ['demo', '--device', 'cpu']]) {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.is(code, 0, `${args[0]}: ${stderr}`);
    assert.not.match(stderr, 'EPIPE');
  }
});

test('CR, LF and CRLF all end a line', () => {
  const r = sbert(['encode', '--model', TINY, '--device', 'cpu', '--input', '-'], 'A man is eating food.\r\rA woman is playing violin.\r\nÜnïcödé and 東京 too\r');
  assert.is(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.is(rows.length, sentences.length);
  assert.ok(maxAbsDiff(Float32Array.from(rows.flat()), expected.data) === 0);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
// Issue 27, item 6: one error line plus where the usage is; `sbert` alone is a mistake (exit 2).
test('errors are one line plus "Run \'sbert <cmd> --help\' for usage." (exit 2), never the whole usage', () => {
  const cases = [
    [['encode', '--bogus'], 'encode', /^sbert encode: Unknown option '--bogus'/],
    [['encode', '--model', TINY, '--device', 'gpu'], 'encode', /^sbert encode: --device must be/],
    [['demo', '--device', 'gpu'], 'demo', /^sbert demo: --device must be/],
    [['info', '--verbose'], 'info', /^sbert info: Unknown option '--verbose'/],
    [['download'], 'download', /^sbert download: expected one model id/],
    [['download', 'a/b/c'], 'download', /^sbert download: "a\/b\/c" is not a Hugging Face model id/],
    [['eval', '--task', 'nope'], 'eval', /^sbert eval: unknown task 'nope'/],
    [['train', '--model', TINY], 'train', /^sbert train: --loss is required/],
    [['frobnicate'], undefined, /^sbert: unknown command 'frobnicate'/],
    [['encode', '--model', 'defualt', '--input', inputFile], 'encode', /^sbert encode: --model defualt: no local folder 'defualt'; did you mean 'default'\?/],
  ];
  for (const [args, command, first] of cases) {
    const r = sbert(args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.is(lines.length, 2, `${args.join(' ')}: two lines, got:\n${r.stderr}`);
    assert.match(lines[0], first);
    assert.is(lines[1], `Run '${command ? `sbert ${command}` : 'sbert'} --help' for usage.`);
    assert.not.match(r.stderr, 'Commands:');
  }
});

test('`sbert` alone prints the usage on stderr and exits 2; --help prints it on stdout and exits 0; each command has --help', () => {
  const none = sbert([]);
  assert.is(none.status, 2);
  assert.match(none.stderr, /^Usage: sbert <command>/);
  assert.is(none.stdout, '');
  const help = sbert(['--help']);
  assert.is(help.status, 0);
  assert.match(help.stdout, /^Usage: sbert <command>/);
  for (const command of ['encode', 'rerank', 'demo', 'info', 'eval', 'train', 'download', 'serve']) {
    const r = sbert([command, '--help']);
    assert.is(r.status, 0, `${command}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: sbert ${command}`), command);
  }
});

test('sbert encode --model default and a bare folder name work; the model is checked before the input is read', () => {
  const r = sbert(['encode', '--model', 'default', '--device', 'cpu', '--no-progress'], 'A man is eating.\n');
  assert.is(r.status, 0, r.stderr);
  assert.is(JSON.parse(r.stdout.trim()).length, 512);
});

test.run();
