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
  let r = sbert(['encode', '--input', inputFile]);
  assert.is(r.status, 2);
  assert.match(r.stderr, '--model');
  r = sbert(['encode', '--model', TINY, '--input', inputFile, '--output', path.join(tmp, 'x.csv')]);
  assert.is(r.status, 2);
  r = sbert(['encode', '--model', TINY, '--bogus']);
  assert.is(r.status, 2);
  r = sbert(['frobnicate']);
  assert.is(r.status, 2);
  r = sbert(['encode', '--model', path.join(tmp, 'nope'), '--device', 'cpu', '--input', inputFile]);
  assert.is(r.status, 1);
  assert.match(r.stderr, 'ERR_BAD_MODEL');
  r = sbert(['encode', '--model', TINY, '--input', path.join(tmp, 'missing.txt')]);
  assert.is(r.status, 2);
});

test('demo runs on the bundled model and says its weights are random', () => {
  const r = sbert(['demo', '--device', 'cpu']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, 'RANDOM TEST WEIGHTS');
  assert.match(r.stdout, 'Most similar pair');
});

test('info prints build info as JSON', () => {
  const r = sbert(['info']);
  assert.is(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.type(info.buildInfo.cuda.compiled, 'boolean');
  assert.ok(Array.isArray(info.cudaDevices));
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
test.run();
