// CPU inference in int8 and bf16 (issue 28), end to end through SentenceEncoder.load({ precision }):
// - accuracy against the plain PyTorch fp32 references of the bundled model and the tiny fixture
//   (per-sentence cosine), and against our own fp32;
// - every result says which precision produced it (encoder.precision, computePrecision);
// - every ISA path this CPU has, forced with SBERT_CPU_ISA in a child process: int8 bit for bit
//   the same on every int8 path beside the same fp32 kernels, within tolerance across them; bf16
//   on each of its paths within tolerance of fp32; an SBERT_CPU_ISA the CPU lacks refuses to load;
// - weights that strain int8 scales (zero rows, rows below the scale floor, 1e4 outliers) still
//   encode finite values;
// - bad input: an unknown precision, fp16 on the CPU, bf16 without avx512_bf16, int8 without AVX2;
// - the CLI's --precision, `sbert info`, and serve's /info.
// Where this CPU cannot run a precision, the test checks that it is refused with ERR_UNSUPPORTED
// instead (so a machine without AVX-512 still runs every test that it can).
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { SentenceEncoder, Embeddings, buildInfo, createServer } = require('../dist');
const { readReference, cosine, FIXTURES } = require('./helpers/reference');
const { request } = require('./helpers/http');

const ROOT = path.join(__dirname, '..');
const TINY = path.join(FIXTURES, 'tiny');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const cpu = buildInfo().cpu;
const HAS = { fp32: true, int8: cpu.precisions.includes('int8'), bf16: cpu.precisions.includes('bf16') };
const SENTENCES = [
  'A man is eating food.', 'A man is eating a piece of bread.', 'The girl is carrying a baby.', 'A man is riding a horse.',
  'A woman is playing violin.', 'Two men pushed carts through the woods.', 'a', '',
  'Ünïcödé, 東京 and an emoji 🙂 — with “quotes”.', 'one two three four five six seven eight nine ten '.repeat(20),
];

/** Per-row cosines of two embedding sets. */
function rowCosines(a, b) {
  assert.is(a.count, b.count);
  assert.is(a.dim, b.dim);
  const out = [];
  for (let i = 0; i < a.count; i++) out.push(cosine(a.row(i), b.row(i)));
  return out;
}
const minOf = (xs) => xs.reduce((m, x) => (x >= m ? m : x), Infinity); // NaN sticks
const meanOf = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;

async function encodeWith(dir, precision, texts) {
  const enc = await SentenceEncoder.load(dir, { device: 'cpu', ...(precision ? { precision } : {}) });
  try {
    return await enc.encode(texts);
  } finally {
    enc.dispose();
  }
}

async function refusal(precision, dir = TINY) {
  const err = await SentenceEncoder.load(dir, { device: 'cpu', precision }).then((e) => {
    e.dispose();
    return undefined;
  }, (e) => e);
  assert.ok(err, `${precision} loaded although buildInfo().cpu.precisions is ${JSON.stringify(cpu.precisions)}`);
  assert.is(err.code, 'ERR_UNSUPPORTED', err.message);
  return err;
}

test('buildInfo().cpu says which precisions and GEMM paths this CPU has', () => {
  assert.type(cpu.features, 'string');
  assert.ok(cpu.precisions.includes('fp32'));
  assert.ok(cpu.int8.paths.includes(cpu.int8.best), JSON.stringify(cpu.int8));
  assert.ok(cpu.bf16.paths.includes(cpu.bf16.best), JSON.stringify(cpu.bf16));
  assert.is(HAS.int8, cpu.int8.best !== 'portable', 'int8 is offered exactly when a SIMD int8 path exists');
  assert.is(HAS.bf16, cpu.bf16.supported);
  if (!cpu.bf16.supported) assert.is(cpu.bf16.missing, 'avx512_bf16');
  if (cpu.int8.paths.includes('avx512-vnni')) assert.match(cpu.features, 'avx512_vnni');
  assert.is(cpu.isaOverrideError, undefined, 'no SBERT_CPU_ISA in the test environment');
});

for (const precision of ['int8', 'bf16']) {
  test(`${precision}: the bundled model against its plain PyTorch fp32 reference (42 sentences) and our fp32`, async () => {
    if (!HAS[precision]) {
      await refusal(precision, undefined);
      return;
    }
    const ref = readReference('default-en');
    const want = new Embeddings(ref.tensors.sentence_embedding.data, ref.sentences.length, 512);
    const got = await encodeWith(undefined, precision, ref.sentences);
    const fp32 = await encodeWith(undefined, 'fp32', ref.sentences);
    const toRef = rowCosines(got, want);
    const toOurs = rowCosines(got, fp32);
    // Targets (issue 28): bf16 ≥ 0.999, int8 mean ≥ 0.99; measured here: bf16 ≥ 0.99999, int8 ≥ 0.9999.
    const [minBound, meanBound] = precision === 'bf16' ? [0.9999, 0.99999] : [0.999, 0.9999];
    assert.ok(minOf(toRef) >= minBound && meanOf(toRef) >= meanBound, `vs PyTorch: min ${minOf(toRef)}, mean ${meanOf(toRef)}`);
    assert.ok(minOf(toOurs) >= minBound && meanOf(toOurs) >= meanBound, `vs our fp32: min ${minOf(toOurs)}, mean ${meanOf(toOurs)}`);
    // Not fp32 in disguise: the values differ.
    assert.ok(minOf(toOurs) < 1 - 1e-9 || got.data.some((v, i) => v !== fp32.data[i]), `${precision} gave fp32's bits`);
  });

  test(`${precision}: the tiny fixture (random weights, hidden 32) against sentence-transformers fp32 (48 sentences)`, async () => {
    if (!HAS[precision]) {
      await refusal(precision);
      return;
    }
    const ref = readReference('tiny');
    const want = new Embeddings(ref.tensors.st_encode.data, ref.sentences.length, 32);
    const got = await encodeWith(TINY, precision, ref.sentences);
    const c = rowCosines(got, want);
    const [minBound, meanBound] = precision === 'bf16' ? [0.9999, 0.99999] : [0.999, 0.9995];
    assert.ok(minOf(c) >= minBound && meanOf(c) >= meanBound, `min ${minOf(c)}, mean ${meanOf(c)}`);
  });
}

test('every result says which precision computed it', async () => {
  const precisions = ['fp32', 'int8', 'bf16'].filter((p) => HAS[p]);
  for (const precision of precisions) {
    const enc = await SentenceEncoder.load(TINY, { device: 'cpu', precision });
    try {
      assert.is(enc.precision, precision);
      assert.is(enc.batchTokens, precision === 'fp32' ? 8192 : 2048, 'default token budget');
      const e = await enc.encode(['A man is eating food.', 'hello']);
      assert.is(e.computePrecision, precision);
      assert.is((await enc.encode(['A man is eating food.'], { truncateDim: 8, normalize: true })).computePrecision, precision, 'truncateDim');
      const tokens = await enc.encode(['A man is eating food.', 'hello'], { outputValue: 'token_embeddings' });
      assert.ok(tokens.every((t) => t.computePrecision === precision), 'token embeddings');
      assert.is((await enc.encode(['x', 'y'], { precision: 'ubinary' })).computePrecision, precision, 'quantized output');
      const packed = enc.tokenizer.encodeBatch(['hello world']);
      assert.is((await enc.encodeTokenIds({ ids: packed.ids, cuSeqlens: packed.cuSeqlens })).computePrecision, precision, 'token ids');
    } finally {
      enc.dispose();
    }
  }
  const def = await SentenceEncoder.load(TINY, { device: 'cpu' });
  assert.is(def.precision, 'fp32', 'the CPU default');
  def.dispose();
  assert.is(new Embeddings(new Float32Array(2), 1, 2).computePrecision, undefined, 'embeddings made by hand say nothing');
});

test('precision values that do not exist, or that the CPU does not run, are refused at load', async () => {
  for (const bad of ['int4', 'FP32', 'float32', 8, null]) {
    const err = await SentenceEncoder.load(TINY, { device: 'cpu', precision: bad }).then(() => undefined, (e) => e);
    assert.instance(err, RangeError, String(bad));
    assert.match(err.message, /options\.precision must be 'fp32', 'int8' or 'bf16' on the CPU/);
  }
  const fp16 = await refusal('fp16');
  assert.match(fp16.message, /'fp16' is a GPU storage precision/);
  for (const p of ['int8', 'bf16']) if (!HAS[p]) await refusal(p);
});

// A child process with the given environment: loads the bundled model in each precision, encodes
// SENTENCES, prints JSON { info, runs: { precision: { bits | error } } }.
function childRun(env) {
  const script = `
    const { SentenceEncoder, buildInfo } = require(${JSON.stringify(path.join(ROOT, 'dist'))});
    (async () => {
      const runs = {};
      for (const precision of ['fp32', 'int8', 'bf16']) {
        try {
          const enc = await SentenceEncoder.load({ device: 'cpu', precision });
          const e = await enc.encode(${JSON.stringify(SENTENCES)});
          runs[precision] = { data: Array.from(e.data), dim: e.dim, count: e.count, computePrecision: e.computePrecision };
          enc.dispose();
        } catch (err) { runs[precision] = { code: err.code, message: err.message }; }
      }
      process.stdout.write(JSON.stringify({ cpu: buildInfo().cpu, runs }));
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, SBERT_CPU_FEATURES: '', ...env }, maxBuffer: 1 << 26 });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const run of Object.values(out.runs)) if (run.data) run.emb = new Embeddings(Float32Array.from(run.data), run.count, run.dim);
  return out;
}

test('SBERT_CPU_ISA: every path this CPU has — int8 bit for bit beside the same fp32 kernels, bf16 within bounds; a path it lacks refuses to load', () => {
  const fp32 = childRun({}).runs.fp32.emb;
  const int8ByKernel = new Map();
  let honoured = 0;
  for (const isa of ['avx2', 'avxvnni', 'avx512', 'avx512vnni', 'avx512bf16', 'amx']) {
    const { cpu: c, runs } = childRun({ SBERT_CPU_ISA: isa });
    if (c.isaOverrideError) {
      // The CPU lacks it: every load is refused with the reason, none silently runs elsewhere.
      for (const [p, run] of Object.entries(runs)) {
        assert.is(run.code, 'ERR_UNSUPPORTED', `${isa} ${p}`);
        assert.is(run.message, c.isaOverrideError);
      }
      continue;
    }
    honoured++;
    assert.ok(runs.fp32.emb, `${isa} fp32: ${runs.fp32.message}`);
    for (const [p, bound] of [['int8', 0.999], ['bf16', 0.9999]]) {
      const run = runs[p];
      if (!c.precisions.includes(p)) {
        assert.is(run.code, 'ERR_UNSUPPORTED', `${isa} ${p}`);
        assert.match(run.message, p === 'bf16' ? /avx512_bf16.*SBERT_CPU_ISA=/ : /avx2/);
        continue;
      }
      assert.ok(run.emb, `${isa} ${p}: ${run.message}`);
      assert.is(run.computePrecision, p);
      const m = minOf(rowCosines(run.emb, fp32));
      assert.ok(m >= bound, `SBERT_CPU_ISA=${isa} ${p} (${p === 'int8' ? c.int8.best : c.bf16.best}): min cosine to fp32 ${m}`);
    }
    if (runs.int8.emb) {
      const group = int8ByKernel.get(c.gemmKernel) ?? [];
      group.push({ isa, path: c.int8.best, data: runs.int8.emb.data });
      int8ByKernel.set(c.gemmKernel, group);
    }
  }
  assert.ok(honoured >= 1 || !cpu.avx2, 'at least one forced ISA ran');
  const all = [...int8ByKernel.values()].flat();
  for (const group of int8ByKernel.values()) {
    for (const g of group) {
      assert.ok(g.data.every((v, i) => v === group[0].data[i]), `int8 ${g.path} (SBERT_CPU_ISA=${g.isa}) vs ${group[0].path} (${group[0].isa}): not bit for bit`);
    }
  }
  for (const g of all) {
    const m = minOf(rowCosines(new Embeddings(g.data, SENTENCES.length, 512), new Embeddings(all[0].data, SENTENCES.length, 512)));
    assert.ok(m >= 0.99999, `int8 ${g.path} (${g.isa}) vs ${all[0].path} (${all[0].isa}): min cosine ${m}`);
  }
});

test('an SBERT_CPU_ISA that is unknown refuses every load, fp32 included', () => {
  const { cpu: c, runs } = childRun({ SBERT_CPU_ISA: 'avx9000' });
  assert.match(c.isaOverrideError, "SBERT_CPU_ISA=avx9000 is not one of");
  for (const run of Object.values(runs)) assert.is(run.code, 'ERR_UNSUPPORTED');
  const limited = childRun({ SBERT_CPU_FEATURES: 'portable' });
  assert.equal(limited.cpu.precisions, ['fp32']);
  assert.match(limited.runs.int8.message, /int8 on the CPU needs avx2 and fma.*SBERT_CPU_FEATURES=portable/);
  assert.match(limited.runs.bf16.message, /avx512_bf16/);
});

// The tiny fixture with every encoder Linear strained: row 0 all zeros, row 1 of 1e-37 (below the
// int8 quantizer's 2^-119 floor), and one weight in every third row 1e4 times the typical value.
function strainedModel() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-strained-'));
  fs.cpSync(TINY, dir, { recursive: true });
  const file = path.join(dir, 'model.safetensors');
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  let strained = 0;
  for (const [name, t] of Object.entries(header)) {
    if (!/^encoder\.layer\.\d+\..*(query|key|value|dense)\.weight$/.test(name) || t.shape.length !== 2) continue;
    const [N, K] = t.shape;
    const start = 8 + n + t.data_offsets[0];
    const w = new Float32Array(buf.buffer, buf.byteOffset + start, N * K);
    w.fill(0, 0, K);
    w.fill(1e-37, K, 2 * K);
    for (let r = 2; r < N; r += 3) w[r * K + (r % K)] = (r % 2 ? 1 : -1) * 300;
    strained++;
  }
  fs.writeFileSync(file, buf);
  return { dir, strained };
}

test('weights that strain int8 scales (zero rows, rows under the scale floor, 1e4 outliers) still encode finite values', async () => {
  const { dir, strained } = strainedModel();
  try {
    assert.is(strained, 12);
    const fp32 = await encodeWith(dir, 'fp32', SENTENCES);
    for (const precision of ['int8', 'bf16']) {
      if (!HAS[precision]) continue;
      const got = await encodeWith(dir, precision, SENTENCES);
      assert.ok(got.data.every(Number.isFinite), `${precision}: non-finite output`);
      const c = rowCosines(got, fp32);
      assert.ok(minOf(c) >= 0.95, `${precision}: min cosine to fp32 ${minOf(c)}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('sbert encode --precision int8|bf16, sbert eval --precision, sbert info', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-prec-cli-'));
  try {
    const input = path.join(tmp, 'in.txt');
    fs.writeFileSync(input, SENTENCES.slice(0, 6).join('\n') + '\n');
    const run = (args) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    const rows = (r) => r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const base = run(['encode', '--model', TINY, '--device', 'cpu', '--input', input]);
    assert.is(base.status, 0, base.stderr);
    for (const p of ['int8', 'bf16']) {
      const r = run(['encode', '--model', TINY, '--device', 'cpu', '--input', input, '--precision', p]);
      if (!HAS[p]) {
        assert.is(r.status, 1, r.stderr);
        assert.match(r.stderr, 'ERR_UNSUPPORTED');
        continue;
      }
      assert.is(r.status, 0, r.stderr);
      const a = rows(r), b = rows(base);
      for (let i = 0; i < a.length; i++) assert.ok(cosine(a[i], b[i]) >= 0.99, `${p} row ${i}`);
    }
    const fp16 = run(['encode', '--model', TINY, '--device', 'cpu', '--input', input, '--precision', 'fp16']);
    assert.is(fp16.status, 1);
    assert.match(fp16.stderr, "'fp16' is a GPU storage precision");
    const p = HAS.int8 ? 'int8' : 'fp32';
    const ev = run(['eval', '--model', TINY, '--device', 'cpu', '--precision', p, '--task', 'stsb-dev', '--json', '--no-progress']);
    assert.is(ev.status, 0, ev.stderr);
    assert.is(JSON.parse(ev.stdout).precision, p);
    const info = run(['info']);
    assert.is(info.status, 0, info.stderr);
    assert.equal(JSON.parse(info.stdout).buildInfo.cpu.precisions, cpu.precisions);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("serve: /info's model_dtype is the engine's precision", async () => {
  const precision = HAS.int8 ? 'int8' : 'fp32';
  const enc = await SentenceEncoder.load(TINY, { device: 'cpu', precision });
  const server = createServer(enc, {});
  try {
    const { port } = await server.listen(0);
    const info = (await request(port, 'GET', '/info')).json;
    assert.is(info.model_dtype, precision === 'int8' ? 'int8' : 'float32');
    const emb = (await request(port, 'POST', '/embed', { inputs: 'A man is eating food.' })).json;
    assert.is(emb[0].length, 32);
  } finally {
    await server.close();
    enc.dispose();
  }
});

test('CrossEncoder takes the same precision (one load path): scores close to fp32, precision reported', async () => {
  const { CrossEncoder } = require('../dist');
  const dir = path.join(FIXTURES, 'cross-encoders', 'bert-ce');
  const pairs = [['A man is eating food.', 'A man eats.'], ['A man is eating food.', 'The girl plays violin.'], ['a', 'b'], ['hello world', '']];
  const fp32 = await CrossEncoder.load(dir, { device: 'cpu' });
  const want = await fp32.predict(pairs);
  fp32.dispose();
  for (const precision of ['int8', 'bf16']) {
    if (!HAS[precision]) continue;
    const ce = await CrossEncoder.load(dir, { device: 'cpu', precision });
    try {
      assert.is(ce.precision, precision);
      const got = await ce.predict(pairs);
      const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])));
      assert.ok(worst <= (precision === 'int8' ? 0.02 : 0.005), `${precision}: max |score - fp32 score| ${worst}`);
    } finally {
      ce.dispose();
    }
  }
});

test('training stays fp32: fit has no precision option', async () => {
  const { fit } = require('../dist');
  const err = await fit(TINY, { precision: 'int8', loss: 'cosine', train: [], outputDir: os.tmpdir() }).then(() => undefined, (e) => e);
  assert.instance(err, TypeError);
  assert.match(err.message, 'precision');
});

test.run();
