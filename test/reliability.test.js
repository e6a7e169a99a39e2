// Issue 30: the defects a probe of mutated model folders, pickles, API misuse and the CLI found
// (D1–D3, D5–D9 and two lenient loads), one test each. Every case runs in a child process with a
// time limit and memory limits (helpers/limited-child.js): a hang, a runaway read or a crash
// fails the assertion instead of stalling or killing the suite. Each test also bounds the
// child's peak RSS where the defect was memory.
//
// SBERT_ROOT=/path/to/other/checkout node test/run.js reliability runs the same cases against
// another build (how each test was shown to fail on main before the fix).
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { ROOT, runLimited, runLimitedCommand, describeRun } = require('./helpers/limited-child');
const { zip, zeroBombDeflate } = require('./helpers/zip-writer');

const FIXTURES = path.join(__dirname, 'fixtures');
const SMALL = path.join(FIXTURES, 'train-small'); // Transformer + Pooling + Dense + Normalize, 150 KB
const TINY = path.join(FIXTURES, 'tiny');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-reliability-'));

/** Time limit of one child: generous for a busy 2-core machine; what it catches is "never". */
const LIMITS = { timeoutMs: 45000, addressSpaceMb: 3072 };
/** Peak RSS a refusal may cost (node + addon + a small model is ~80 MB). */
const REFUSAL_RSS_MB = 400;

let copies = 0;
/** A fresh copy of train-small (or `from`) to break. */
function modelCopy(from = SMALL) {
  const dir = path.join(TMP, `m${copies++}`);
  fs.cpSync(from, dir, { recursive: true });
  return dir;
}

function mkfifo(file) {
  fs.rmSync(file, { force: true });
  execFileSync('mkfifo', [file]);
}

/** A sparse file of `bytes` (nothing written: the disk holds almost nothing). */
function sparse(file, bytes, head = Buffer.alloc(0)) {
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, head);
  fs.truncateSync(file, bytes);
}

/** A child script that loads each folder with SentenceEncoder.load and reports the outcomes. */
function loadEach(dirs) {
  return `
    const { SentenceEncoder } = require(ROOT + '/dist');
    (async () => {
      const out = [];
      for (const dir of ${JSON.stringify(dirs)}) {
        process.stderr.write('loading ' + dir + '\\n');
        out.push(await outcome(async () => { const e = await SentenceEncoder.load(dir, { device: 'cpu' }); e.dispose(); }));
      }
      report(out);
    })();
  `;
}

function assertFinished(r, what) {
  assert.not.ok(r.timedOut, `${what}: ${describeRun(r)}`);
  assert.ok(r.result !== undefined, `${what}: no result — ${describeRun(r)}`);
}

function assertRefused(o, code, needles, what) {
  assert.is(o.ok, false, `${what}: was accepted`);
  assert.is(o.code, code, `${what}: ${o.ctor} ${o.code}: ${o.message}`);
  for (const n of needles) assert.ok(n instanceof RegExp ? n.test(o.message) : o.message.includes(n), `${what}: "${o.message}" should mention ${n}`);
}

// ---- D1: FIFOs ---------------------------------------------------------------------------------

test('D1: a FIFO anywhere in a model folder is refused at once with ERR_BAD_MODEL naming it (never waited on)', async () => {
  const cases = [];
  const add = (rel, prepare) => {
    const dir = modelCopy();
    if (prepare) prepare(dir);
    mkfifo(path.join(dir, rel));
    cases.push({ dir, file: path.join(dir, rel) });
  };
  for (const rel of ['config.json', 'modules.json', 'sentence_bert_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors',
    '1_Pooling/config.json', '2_Dense/config.json', '2_Dense/model.safetensors', 'config_sentence_transformers.json']) {
    add(rel);
  }
  add('vocab.txt', (dir) => fs.rmSync(path.join(dir, 'tokenizer.json')));
  add('2_Dense/pytorch_model.bin', (dir) => fs.rmSync(path.join(dir, '2_Dense', 'model.safetensors')));
  add('model-00001-of-00001.safetensors', (dir) => {
    const names = Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors')).subarray(8, 8 + fs.readFileSync(path.join(dir, 'model.safetensors')).readUInt32LE(0)).toString()));
    fs.rmSync(path.join(dir, 'model.safetensors'));
    const weightMap = Object.fromEntries(names.filter((n) => n !== '__metadata__').map((n) => [n, 'model-00001-of-00001.safetensors']));
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
  });
  const r = await runLimited(loadEach(cases.map((c) => c.dir)), LIMITS);
  assertFinished(r, 'loading folders with a FIFO');
  cases.forEach((c, i) => assertRefused(r.result[i], 'ERR_BAD_MODEL', [c.file, /FIFO/], path.relative(c.dir, c.file)));
  assert.ok(r.maxRssMb < REFUSAL_RSS_MB, describeRun(r));
});

// ---- D2: devices and oversized files -----------------------------------------------------------

test('D2: devices and oversized files in a model folder are refused before reading (ERR_BAD_MODEL naming the file and the cap)', async () => {
  const cases = [];
  const add = (rel, make, needle) => {
    const dir = modelCopy();
    const file = path.join(dir, rel);
    fs.rmSync(file, { force: true });
    make(file);
    cases.push({ dir, file, needle });
  };
  const device = (target) => (file) => fs.symlinkSync(target, file);
  add('config.json', device('/dev/zero'), /character device/);
  add('tokenizer_config.json', device('/dev/zero'), /character device/);
  add('2_Dense/config.json', device('/dev/zero'), /character device/);
  add('tokenizer.json', device('/dev/urandom'), /character device/);
  add('config.json', (f) => sparse(f, 3 * 2 ** 30, Buffer.from('{"hidden_size": 32')), /3(\.0)? GiB, over the 16 MiB limit for config\.json files/);
  add('tokenizer.json', (f) => sparse(f, 2 ** 30, Buffer.from('{')), /1 GiB, over the 256 MiB limit for tokenizer\.json files/);
  add('2_Dense/config.json', (f) => sparse(f, 2 ** 31, Buffer.from('{')), /over the 16 MiB limit for config\.json files/);
  const r = await runLimited(loadEach(cases.map((c) => c.dir)), LIMITS);
  assertFinished(r, 'loading folders with devices and huge files');
  cases.forEach((c, i) => assertRefused(r.result[i], 'ERR_BAD_MODEL', [c.file, c.needle], path.relative(c.dir, c.file)));
  assert.ok(r.maxRssMb < REFUSAL_RSS_MB, describeRun(r));
});

test('D2: sbert encode --input refuses devices, FIFOs and oversized files with ERR_BAD_INPUT; standard input is capped too', async () => {
  const fifo = path.join(TMP, 'input.fifo');
  mkfifo(fifo);
  const huge = path.join(TMP, 'huge-input.txt');
  sparse(huge, 2 ** 30, Buffer.from('a sentence\n'));
  for (const [input, needle] of [['/dev/zero', /character device/], [fifo, /FIFO/], [huge, /over the 256 MiB limit for input files/]]) {
    const r = await runLimitedCommand([process.execPath, CLI, 'encode', '--model', TINY, '--device', 'cpu', '--input', input], LIMITS);
    assert.not.ok(r.timedOut, `--input ${input}: ${describeRun(r)}`);
    assert.is(r.status, 1, `--input ${input}: ${describeRun(r)}`);
    assert.match(r.stderr, 'ERR_BAD_INPUT', input);
    assert.match(r.stderr, needle, input);
    assert.ok(r.stderr.includes(input), `names ${input}: ${r.stderr}`);
    if (input !== huge) assert.match(r.stderr, 'pipe it to standard input and pass --input -', input);
  }
  // `sbert encode < /dev/zero`: a pipe cannot be stat()ed for its size; the read stops at the cap.
  const zero = fs.openSync('/dev/zero', 'r');
  try {
    const r = await runLimitedCommand([process.execPath, CLI, 'encode', '--model', TINY, '--device', 'cpu', '--input', '-'], { ...LIMITS, stdinFd: zero });
    assert.not.ok(r.timedOut, `stdin /dev/zero: ${describeRun(r)}`);
    assert.is(r.status, 1, describeRun(r));
    assert.match(r.stderr, /ERR_BAD_INPUT: standard input: over the 256 MiB limit/);
  } finally {
    fs.closeSync(zero);
  }
});

// ---- D3: headers before bodies -----------------------------------------------------------------

test('D3: a 3 GB weights file with a bad header is refused from its first 8 bytes (Dense, encoder, eager reader)', async () => {
  const dense = modelCopy();
  sparse(path.join(dense, '2_Dense', 'model.safetensors'), 3 * 2 ** 30);
  const encoder = modelCopy();
  sparse(path.join(encoder, 'model.safetensors'), 3 * 2 ** 30);
  const lone = path.join(TMP, 'lone.safetensors');
  sparse(lone, 3 * 2 ** 30);
  const r = await runLimited(`
    const { SentenceEncoder } = require(ROOT + '/dist');
    const w = require(ROOT + '/dist/weights');
    (async () => {
      const out = [];
      for (const dir of ${JSON.stringify([dense, encoder])}) out.push(await outcome(async () => (await SentenceEncoder.load(dir, { device: 'cpu' })).dispose()));
      out.push(await outcome(w.loadModelFolder(${JSON.stringify(dense)})));
      out.push(await outcome(w.readSafetensors(${JSON.stringify(lone)})));
      report(out);
    })();
  `, LIMITS);
  assertFinished(r, 'reading 3 GB weights with a zero header length');
  const files = [path.join(dense, '2_Dense', 'model.safetensors'), path.join(encoder, 'model.safetensors'), path.join(dense, '2_Dense', 'model.safetensors'), lone];
  files.forEach((f, i) => assertRefused(r.result[i], 'ERR_BAD_MODEL', [f, 'header length 0 is too small'], `case ${i}`));
  assert.ok(r.maxRssMb < REFUSAL_RSS_MB, `the 3 GB bodies were not read: ${describeRun(r)}`);
});

// ---- D5: zip bombs -----------------------------------------------------------------------------

test('D5: a 3 MB pytorch_model.bin whose storage inflates to 3 GiB is refused before inflating', async () => {
  const { readZipEntries } = require('../dist/weights/zip');
  const src = path.join(FIXTURES, 'pickle', 'dense', 'pytorch_model.bin');
  const entries = {};
  for (const [name, e] of readZipEntries(fs.readFileSync(src), src)) entries[name] = Buffer.from(e.data());
  const bomb = { body: zeroBombDeflate(3072), size: 3 * 2 ** 30, method: 8 };
  // (a) the pickle declares the bias storage's real 16 floats; the archive entry claims 3 GiB.
  const lying = path.join(TMP, 'bomb-entry.bin');
  fs.writeFileSync(lying, zip({ ...entries, 'pytorch_model/data/1': bomb }));
  // (b) the pickle agrees: storage '1' declared as 3 GiB / 4 floats (BININT1 16 → BININT 805306368).
  const pkl = entries['pytorch_model/data.pkl'];
  const at = pkl.indexOf(Buffer.from([0x4b, 16, 0x74]), pkl.indexOf(Buffer.from('X\x01\x00\x00\x001', 'latin1')));
  assert.ok(at > 0, 'found the storage size of storage 1 in data.pkl');
  const numel = Buffer.alloc(5);
  numel[0] = 0x4a;
  numel.writeInt32LE(3 * 2 ** 28, 1);
  const agreeing = path.join(TMP, 'bomb-agreeing.bin');
  fs.writeFileSync(agreeing, zip({ ...entries, 'pytorch_model/data.pkl': Buffer.concat([pkl.subarray(0, at), numel, pkl.subarray(at + 2)]), 'pytorch_model/data/1': bomb }));
  assert.ok(fs.statSync(agreeing).size < 4 * 2 ** 20, 'the bombs are ~3 MB');
  const r = await runLimited(`
    const { readTorchCheckpoint } = require(ROOT + '/dist/weights/torch-pickle');
    (async () => report([await outcome(readTorchCheckpoint(${JSON.stringify(lying)})), await outcome(readTorchCheckpoint(${JSON.stringify(agreeing)}))]))();
  `, LIMITS);
  assertFinished(r, 'reading zip bombs');
  assertRefused(r.result[0], 'ERR_BAD_MODEL', [lying, /storage 1 .*holds 3221225472 bytes but the pickle declares 16 × F32 = 64 bytes/], 'entry size ≠ declared storage');
  assertRefused(r.result[1], 'ERR_BAD_MODEL', [agreeing, /zip bomb/], 'a consistent 3 GiB claim in 3 MB');
  assert.ok(r.maxRssMb < REFUSAL_RSS_MB, `nothing was inflated: ${describeRun(r)}`);
});

// ---- D6: no spread of user-sized arrays --------------------------------------------------------

test('D6: fit with 200,000 softmax rows and a pickle APPENDS of 200,000 items do not overflow the stack', async () => {
  const r = await runLimited(`
    const { fit } = require(ROOT + '/dist');
    const { parseTorchCheckpoint } = require(ROOT + '/dist/weights/torch-pickle');
    (async () => {
      const train = Array.from({ length: 200000 }, (_, i) => ({ texts: ['a b', 'c d'], label: i % 3 }));
      // Aborted from the start: fit validates everything, then stops before training.
      const fitted = await outcome(fit(${JSON.stringify(SMALL)}, { loss: 'softmax', train, signal: AbortSignal.abort(new Error('validated')) }));
      // PROTO 2, EMPTY_LIST, MARK, 200,000 × BININT1 0, APPENDS, STOP
      const pickle = Buffer.concat([Buffer.from([0x80, 2, 0x5d, 0x28]), Buffer.from(new Array(200000).fill([0x4b, 0]).flat()), Buffer.from([0x65, 0x2e])]);
      const unpickled = await outcome(() => parseTorchCheckpoint(pickle, 'appends.bin'));
      report([fitted, unpickled]);
    })();
  `, LIMITS);
  assertFinished(r, 'fit on 200k rows');
  const [fitted, unpickled] = r.result;
  assert.is(fitted.ok, false);
  assert.is(fitted.message, 'validated', `fit got through its checks and stopped at the signal: ${fitted.ctor}: ${fitted.message}`);
  assertRefused(unpickled, 'ERR_BAD_MODEL', ['appends.bin', 'not a torch.save file'], 'a 200k-item APPENDS');
});

// ---- D7: every fit option validated ------------------------------------------------------------

test('D7: every fit option is validated with a TypeError or RangeError naming it, before any work', async () => {
  const cases = [
    [{ adamBetas: 5 }, 'TypeError', /options\.adamBetas must be an array of two numbers/],
    [{ adamBetas: [0.9] }, 'TypeError', /options\.adamBetas/],
    [{ adamBetas: ['a', 0.9] }, 'TypeError', /options\.adamBetas\[0\] must be a number/],
    [{ adamBetas: [0.9, 1] }, 'RangeError', /options\.adamBetas\[1\] must be in \[0, 1\)/],
    [{ adamBetas: [-0.1, 0.9] }, 'RangeError', /options\.adamBetas\[0\]/],
    [{ adamEps: -1 }, 'RangeError', /options\.adamEps/],
    [{ warmupSteps: -1 }, 'RangeError', /options\.warmupSteps must be a non-negative integer/],
    [{ warmupSteps: 1.5 }, 'RangeError', /options\.warmupSteps/],
    [{ warmupRatio: '0.1' }, 'TypeError', /options\.warmupRatio must be a number/],
    [{ epochs: 1.5 }, 'RangeError', /options\.epochs must be a positive integer/],
    [{ seed: '42' }, 'TypeError', /options\.seed must be a number/],
    [{ shuffle: 'no' }, 'TypeError', /options\.shuffle must be true or false/],
    [{ dropout: 0 }, 'TypeError', /options\.dropout must be true or false/],
    [{ onProgress: 5 }, 'TypeError', /options\.onProgress must be a function/],
    [{ saveDtype: 'fp8' }, 'RangeError', /options\.saveDtype must be one of fp32, fp16, bf16/],
    [{ margin: NaN }, 'RangeError', /options\.margin/],
    [{ scale: 0 }, 'RangeError', /options\.scale must be a finite number > 0/],
    [{ maxGradNorm: -1 }, 'RangeError', /options\.maxGradNorm/],
    [{ weightDecay: Infinity }, 'RangeError', /options\.weightDecay/],
    [{ classifierInit: 5 }, 'TypeError', /options\.classifierInit must be/],
    [{ evaluator: [{ s1: 'a', s2: 'b', score: 1 }, { s1: 'a' }] }, 'TypeError', /options\.evaluator\[1\] must be/],
    [{ evaluator: [{ s1: 'a', s2: 'b', score: 1 }, { s1: 'a', s2: 'b', score: NaN }] }, 'RangeError', /options\.evaluator\[1\]\.score/],
    [{ learning_rate: 1e-3 }, 'TypeError', /options\.learning_rate is not an option of fit/],
    [{ loss: 'mse', train: [{ texts: ['a'], target: new Float32Array([1, NaN]) }] }, 'RangeError', /options\.train\[0\]\.target\[1\] is not finite/],
  ];
  const r = await runLimited(`
    const { fit } = require(ROOT + '/dist');
    const cases = ${cases.map(([o]) => `(${objectSource(o)})`).join(',\n').replace(/^/, '[').concat(']')};
    (async () => {
      const out = [];
      const train = [{ texts: ['a b', 'c d'], label: 0.5 }, { texts: ['e f', 'g h'], label: 0.1 }];
      // Aborted from the start: an option that is not validated reaches the abort instead.
      for (const o of cases) out.push(await outcome(fit(${JSON.stringify(SMALL)}, { loss: 'cosine', train, signal: AbortSignal.abort(new Error('not validated')), ...o })));
      report(out);
    })();
  `, LIMITS);
  assertFinished(r, 'fit with bad options');
  cases.forEach(([o, ctor, re], i) => {
    const got = r.result[i];
    const what = JSON.stringify(o, (k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
    assert.is(got.ok, false, `${what} accepted`);
    assert.is(got.ctor, ctor, `${what}: ${got.ctor}: ${got.message}`);
    assert.match(got.message, re, what);
  });
});

/** Source text of a plain options object (NaN, Infinity and Float32Arrays kept). */
function objectSource(o) {
  return JSON.stringify(o, (k, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return `@@${v}@@`;
    if (v instanceof Float32Array) return `@@new Float32Array([${Array.from(v, (x) => (Number.isNaN(x) ? 'NaN' : x)).join(', ')}])@@`;
    return v;
  }).replace(/"@@(.*?)@@"/g, '$1');
}

// ---- D8: output folders ------------------------------------------------------------------------

test('D8: an outputDir under /proc, /sys or /dev (directly or through a symlink) is refused before any work', async () => {
  const link = path.join(TMP, 'link-to-proc');
  fs.symlinkSync('/proc/self', link);
  const file = path.join(TMP, 'a-file');
  fs.writeFileSync(file, 'x');
  const dirs = ['/proc/self/x', '/sys/kernel/x', '/dev/shm/sbert-x', path.join(link, 'x'), path.join(file, 'x')];
  const r = await runLimited(`
    const { fit } = require(ROOT + '/dist');
    (async () => {
      const out = [];
      const train = [{ texts: ['a b', 'c d'], label: 0.5 }, { texts: ['e f', 'g h'], label: 0.1 }];
      for (const outputDir of ${JSON.stringify(dirs)}) {
        process.stderr.write('outputDir ' + outputDir + '\\n');
        out.push(await outcome(fit(${JSON.stringify(SMALL)}, { loss: 'cosine', train, batchSize: 2, outputDir })));
      }
      report(out);
    })();
  `, LIMITS);
  assertFinished(r, 'fit into pseudo-filesystems');
  dirs.forEach((d, i) => {
    const got = r.result[i];
    assert.is(got.ok, false, `${d} accepted`);
    assert.is(got.ctor, 'RangeError', `${d}: ${got.ctor}: ${got.message}`);
    assert.match(got.message, /options\.outputDir/, d);
    assert.ok(got.message.includes(d), `${got.message} names ${d}`);
  });
  assert.match(r.result[0].message, /under \/proc/);
  assert.match(r.result[4].message, /is not a folder/);
  // The CLI says so as an argument error.
  const cli = await runLimitedCommand([process.execPath, CLI, 'train', '--model', SMALL, '--loss', 'cosine', '--train', 'stsb-train', '--output', '/proc/self/x'], LIMITS);
  assert.not.ok(cli.timedOut, describeRun(cli));
  assert.is(cli.status, 2, describeRun(cli));
  assert.match(cli.stderr, /--output \/proc\/self\/x is under \/proc/);
});

// ---- D9: temporary files on SIGINT / SIGTERM ---------------------------------------------------

test('D9: Ctrl-C or SIGTERM during sbert encode removes its temporary output file (.npy and .jsonl)', async () => {
  const input = path.join(TMP, 'many.txt');
  fs.writeFileSync(input, Array.from({ length: 30000 }, (_, i) => `A man is eating food number ${i} with a fork.`).join('\n') + '\n');
  for (const [signal, ext] of [['SIGINT', 'npy'], ['SIGTERM', 'jsonl'], ['SIGINT', 'jsonl']]) {
    const dir = fs.mkdtempSync(path.join(TMP, 'sig-'));
    const out = path.join(dir, `out.${ext}`);
    let sent = false;
    const r = await runLimitedCommand([process.execPath, CLI, 'encode', '--model', TINY, '--device', 'cpu', '--no-progress', '--input', input, '--output', out], {
      ...LIMITS,
      onSpawn(child) {
        // As soon as the temporary file exists (before the model is loaded), interrupt.
        const poll = setInterval(() => {
          if (fs.readdirSync(dir).some((f) => f.endsWith('.tmp'))) {
            clearInterval(poll);
            sent = true;
            child.kill(signal);
          }
        }, 5);
        child.on('close', () => clearInterval(poll));
      },
    });
    assert.ok(sent, `the temporary file appeared (${describeRun(r)})`);
    assert.not.ok(r.timedOut, describeRun(r));
    assert.ok(r.signal === signal || r.status === 128 + os.constants.signals[signal], `ended by ${signal}: ${describeRun(r)}`);
    assert.equal(fs.readdirSync(dir), [], `${signal} during a .${ext} encode leaves nothing behind`);
  }
});

// ---- lenient loads -----------------------------------------------------------------------------

/** train-small with its word-embedding table cut (or padded) to `rows` and config.json saying so. */
function withVocabSize(rows) {
  const w = require('../dist/weights');
  const dir = modelCopy();
  const file = path.join(dir, 'model.safetensors');
  const st = w.parseSafetensors(fs.readFileSync(file), file);
  const tensors = new Map();
  for (const [name, v] of st.tensors) {
    let data = v.bytes;
    let shape = v.shape;
    if (name.endsWith('word_embeddings.weight')) {
      const out = new Uint8Array(rows * shape[1] * 4);
      out.set(data.subarray(0, Math.min(data.byteLength, out.byteLength)));
      data = out;
      shape = [rows, shape[1]];
    }
    tensors.set(name, { dtype: v.dtype, shape, data });
  }
  fs.writeFileSync(file, w.writeSafetensors(tensors, st.metadata));
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  config.vocab_size = rows;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

test('lenient: a tokenizer with ids past config.json vocab_size is refused at load naming both numbers; a smaller tokenizer (padded table) loads', async () => {
  const small = withVocabSize(500); // the tokenizer has 512 tokens
  const padded = withVocabSize(640);
  const r = await runLimited(`
    const { SentenceEncoder } = require(ROOT + '/dist');
    (async () => {
      const refused = await outcome(async () => (await SentenceEncoder.load(${JSON.stringify(small)}, { device: 'cpu' })).dispose());
      const fine = await outcome(async () => {
        const e = await SentenceEncoder.load(${JSON.stringify(padded)}, { device: 'cpu' });
        const emb = await e.encode(['a man eats food', '']);
        e.dispose();
        return Array.from(emb.data).every(Number.isFinite) ? 'finite' : 'non-finite';
      });
      report([refused, fine]);
    })();
  `, LIMITS);
  assertFinished(r, 'loading mismatched vocabularies');
  assertRefused(r.result[0], 'ERR_BAD_MODEL', [/token ids up to 511 \(512 ids\)/, /vocab_size 500/], 'tokenizer larger than the table');
  assert.equal(r.result[1], { ok: true, value: 'finite' }, 'a tokenizer smaller than vocab_size is normal');
});

test('lenient: a vocab.txt-only folder missing [UNK], [SEP] or [CLS] is refused at load naming the token', async () => {
  const tj = JSON.parse(fs.readFileSync(path.join(SMALL, 'tokenizer.json'), 'utf8'));
  const lines = Object.entries(tj.model.vocab).sort((a, b) => a[1] - b[1]).map(([t]) => t);
  const dirs = ['[UNK]', '[SEP]', '[CLS]'].map((tok) => {
    const dir = modelCopy();
    fs.rmSync(path.join(dir, 'tokenizer.json'));
    fs.writeFileSync(path.join(dir, 'vocab.txt'), lines.map((l) => (l === tok ? `[unused-${l.slice(1, -1).toLowerCase()}]` : l)).join('\n') + '\n');
    return dir;
  });
  const intact = modelCopy();
  fs.rmSync(path.join(intact, 'tokenizer.json'));
  fs.writeFileSync(path.join(intact, 'vocab.txt'), lines.join('\n') + '\n');
  const r = await runLimited(loadEach([...dirs, intact]), LIMITS);
  assertFinished(r, 'loading vocab.txt folders');
  ['[UNK]', '[SEP]', '[CLS]'].forEach((tok, i) => assertRefused(r.result[i], 'ERR_BAD_MODEL', [path.join(dirs[i], 'vocab.txt'), `"${tok}" is missing from the vocabulary`], tok));
  assert.is(r.result[3].ok, true, `the intact vocab.txt loads: ${r.result[3].message}`);
});

test.after(() => fs.rmSync(TMP, { recursive: true, force: true }));

test.run();
