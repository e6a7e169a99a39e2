#!/usr/bin/env node
'use strict';
/**
 * CPU speed benchmark (issues #5, #28): sentences/s of sbert-native's `encode` (fp32, int8, bf16)
 * vs @huggingface/transformers (feature-extraction pipeline) vs raw onnxruntime-node, in fp32 and
 * on a dynamically quantized int8 graph, and PyTorch dynamic quantization, on the same model
 * (bench/.models/minilm-l6-random: all-MiniLM-L6-v2 shape, random seeded weights, the real
 * bert-base-uncased tokenizer), the same sentences, in the same run. Also checks that all of
 * them give the same embeddings (cosine per sentence: ≥ 0.9999 for fp32, ≥ 0.999 for bf16,
 * ≥ 0.99 for int8), because a benchmark of wrong numbers is worthless.
 *
 *   node bench/make-minilm.js && /usr/bin/python3 bench/export_onnx.py   # once
 *   /usr/bin/python3 bench/quantize_onnx.py                              # once: the int8 ONNX peers
 *   node bench/encode-cpu.js [--n 2000] [--threads N] [--reps 5] [--rounds 1] [--batch-tokens 2048,8192,32768]
 *                            [--precisions fp32,int8,bf16] [--only ours,transformers.js,onnxruntime,torch]
 *                            [--model DIR]
 *
 * Sentences: the first --n unique sentences of STS Benchmark (/work/shared/data/stsbenchmark or
 * $STSB_DIR; sts-{train,dev,test}.csv, tab separated, sentences in columns 6 and 7), unique in order
 * of first appearance over train, dev, test, each row sentence 1 before sentence 2.
 *
 * Contenders (each in its own child process, so each gets its own peak RSS; a child loads its
 * model, warms up with one full pass, then times --reps full passes; the median is reported):
 *   ours            SentenceEncoder.encode(all sentences, { batchTokens }) — whole path:
 *                   tokenization, packed (unpadded) batches, pooling, normalize. The library's
 *                   default budget and each --batch-tokens value, in each --precisions value
 *                   (load option `precision`; one this CPU cannot run is reported as failed).
 *   transformers.js pipeline('feature-extraction', dtype fp32, device cpu), called on batches of
 *                   32 with { pooling: 'mean', normalize: true }: in input order, and length-sorted
 *                   (by characters, longest first, as sentence-transformers sorts; sorting and
 *                   restoring the order is inside the timed region).
 *   onnxruntime     raw onnxruntime-node session on the same ONNX file: transformers.js'
 *                   tokenizer (padding per batch, truncation at 256), int64 inputs, masked mean
 *                   pooling + L2 normalize in JS; batches of 32, input order and length-sorted.
 *   int8 peers      (when onnx/model_quantized.onnx exists: bench/quantize_onnx.py, what
 *                   onnxruntime's quantize_dynamic writes) onnxruntime on it, length-sorted
 *                   batches of 32, and transformers.js with dtype 'q8' (which loads that file);
 *                   and PyTorch quantize_dynamic (peers/torch_int8_encode.py on our token ids;
 *                   Debian's torch has no FBGEMM, see bench/README.md).
 * Linear GOP/s: the useful (unpadded) multiply-adds of the encoder's Linears over the pass time,
 * per wall second and per CPU-second of the process (ours only), to set against the per-CPU-second
 * peaks of bench/gemm_precision.cc.
 * --rounds R runs the whole list of contenders R times, round-robin (a fresh child each time), so a
 * slow phase of a shared VM hits every contender alike: sent/s is then the median over all rounds'
 * passes, and the summary also gives ours/peer per round (each side's best configuration in that
 * round) as median and minimum over the rounds.
 * --threads N sets SBERT_NUM_THREADS for ours and intraOpNumThreads for both peers. Without it, ours
 * uses its default (all cores) and the peers get intraOpNumThreads = the CPU count: onnxruntime's
 * own default (0, "physical cores") ran a single thread on the 2-vCPU benchmark VM.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { stsSentences } = require('./stsb');
const { spawnSync } = require('child_process');

const MAX_SEQ = 256;
const PEER_BATCH = 32;

function parseArgs(argv) {
  const a = { n: 2000, threads: undefined, reps: 5, rounds: 1, batchTokens: [2048, 8192, 32768], only: undefined,
    precisions: ['fp32', 'int8', 'bf16'], model: path.join(__dirname, '.models', 'minilm-l6-random'), child: undefined };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${k} needs a value`);
      return argv[++i];
    };
    if (k === '--n') a.n = Number(v());
    else if (k === '--threads') a.threads = Number(v());
    else if (k === '--reps') a.reps = Number(v());
    else if (k === '--rounds') a.rounds = Number(v());
    else if (k === '--batch-tokens') a.batchTokens = v().split(',').filter(Boolean).map(Number);
    else if (k === '--only') a.only = v().split(',');
    else if (k === '--precisions') a.precisions = v().split(',').filter(Boolean);
    else if (k === '--model') a.model = path.resolve(v());
    else if (k === '--child') a.child = JSON.parse(v());
    else if (k === '-h' || k === '--help') {
      console.log(fs.readFileSync(__filename, 'utf8').split('*/')[0]);
      process.exit(0);
    } else throw new Error(`unknown argument ${k}`);
  }
  for (const [k, x] of [['--n', a.n], ['--reps', a.reps], ['--rounds', a.rounds]]) if (!Number.isInteger(x) || x < 1) throw new Error(`${k} must be a positive integer`);
  if (a.threads !== undefined && (!Number.isInteger(a.threads) || a.threads < 1)) throw new Error('--threads must be a positive integer');
  return a;
}


const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Batches of `size` indices: in input order, or by character length, longest first. */
function batchesOf(sentences, size, sorted) {
  const idx = sentences.map((_, i) => i);
  if (sorted) idx.sort((x, y) => sentences[y].length - sentences[x].length || x - y);
  const out = [];
  for (let i = 0; i < idx.length; i += size) out.push(idx.slice(i, i + size));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Children: one contender each. They print one JSON line (prefixed) and write the embeddings.

async function childOurs(spec, sentences) {
  let sbert;
  try {
    sbert = require('../dist');
  } catch (err) {
    // While the package index is incomplete, the encoder module alone is enough.
    sbert = { ...require('../dist/encoder'), buildInfo: () => require('../dist/native').native().buildInfo() };
  }
  const t0 = performance.now();
  const enc = await sbert.SentenceEncoder.load(spec.model, { device: 'cpu', ...(spec.precision ? { precision: spec.precision } : {}) });
  const loadMs = performance.now() - t0;
  const opts = spec.batchTokens ? { batchTokens: spec.batchTokens } : {};
  const run = () => enc.encode(sentences, opts);
  let e = await run(); // warm-up
  const times = [];
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < spec.reps; r++) {
    const t = performance.now();
    e = await run();
    times.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerPass = (cpu.user + cpu.system) / 1000 / spec.reps;
  // Where the time goes: tokenization alone (the same call encode makes, one batch of all).
  const lower = sentences.map((s) => s.toLowerCase());
  const tt = [];
  let tokens = 0;
  let maxLen = 0;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const tk = enc.tokenizer.encodeBatch(lower, { maxLength: MAX_SEQ });
    tt.push(performance.now() - t);
    tokens = tk.cuSeqlens[tk.cuSeqlens.length - 1];
    for (let i = 0; i < sentences.length; i++) maxLen = Math.max(maxLen, tk.cuSeqlens[i + 1] - tk.cuSeqlens[i]);
  }
  let info = {};
  try {
    const b = sbert.buildInfo();
    info = { threads: b.cpu.threads, gemmKernel: b.cpu.gemmKernel, avx512: b.cpu.avx512, precision: enc.precision,
      int8Path: b.cpu.int8?.best, bf16Path: b.cpu.bf16?.supported ? b.cpu.bf16.best : undefined, features: b.cpu.features };
  } catch { /* older dist */ }
  const out = { data: e.data, dim: e.dim, loadMs, times, cpuMsPerPass, tokenizeMs: median(tt), tokens, maxLen, info, device: enc.device };
  enc.dispose();
  return out;
}

function pkgVersion(name) {
  // package.json may not be in a package's "exports": walk up from its entry point.
  for (let d = path.dirname(require.resolve(name)); d !== path.dirname(d); d = path.dirname(d)) {
    const f = path.join(d, 'package.json');
    if (fs.existsSync(f)) {
      const j = JSON.parse(fs.readFileSync(f, 'utf8'));
      if (j.name === name) return j.version;
    }
  }
  return undefined;
}

async function loadPeers() {
  try {
    return { tf: await import('@huggingface/transformers'), ort: require('onnxruntime-node') };
  } catch (err) {
    throw new Error(`peers not installed (ONNXRUNTIME_NODE_INSTALL=skip npm --prefix bench install): ${err.message}`);
  }
}

async function childTransformers(spec, sentences) {
  const { tf } = await loadPeers();
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = path.dirname(spec.model) + path.sep;
  const t0 = performance.now();
  const extractor = await tf.pipeline('feature-extraction', path.basename(spec.model), {
    dtype: spec.dtype ?? 'fp32',
    device: 'cpu',
    ...(spec.threads ? { session_options: { intraOpNumThreads: spec.threads } } : {}),
  });
  const loadMs = performance.now() - t0;
  const dim = 384;
  const run = async () => {
    const out = new Float32Array(sentences.length * dim);
    for (const b of batchesOf(sentences, PEER_BATCH, spec.sorted)) {
      const t = await extractor(b.map((i) => sentences[i]), { pooling: 'mean', normalize: true });
      const d = t.data;
      for (let j = 0; j < b.length; j++) out.set(d.subarray(j * dim, (j + 1) * dim), b[j] * dim);
    }
    return out;
  };
  let data = await run();
  const times = [];
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < spec.reps; r++) {
    const t = performance.now();
    data = await run();
    times.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerPass = (cpu.user + cpu.system) / 1000 / spec.reps;
  const version = pkgVersion('@huggingface/transformers');
  await extractor.dispose?.();
  return { data, dim, loadMs, times, cpuMsPerPass, info: { version, dtype: spec.dtype ?? 'fp32' } };
}

async function childOnnxruntime(spec, sentences) {
  const { tf, ort } = await loadPeers();
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = path.dirname(spec.model) + path.sep;
  const t0 = performance.now();
  const tok = await tf.AutoTokenizer.from_pretrained(path.basename(spec.model));
  const session = await ort.InferenceSession.create(path.join(spec.model, 'onnx', spec.file ?? 'model.onnx'),
    spec.threads ? { intraOpNumThreads: spec.threads } : {});
  const loadMs = performance.now() - t0;
  const dim = 384;
  const batches = (s) => batchesOf(sentences, PEER_BATCH, s);
  const tokenize = (texts) => tok(texts, { padding: true, truncation: true, max_length: MAX_SEQ });
  const run = async () => {
    const out = new Float32Array(sentences.length * dim);
    for (const b of batches(spec.sorted)) {
      const enc = tokenize(b.map((i) => sentences[i]));
      const [bs, seq] = enc.input_ids.dims;
      const ids = enc.input_ids.data; // BigInt64Array
      const mask = enc.attention_mask.data;
      const feeds = {
        input_ids: new ort.Tensor('int64', ids, [bs, seq]),
        attention_mask: new ort.Tensor('int64', mask, [bs, seq]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(bs * seq), [bs, seq]),
      };
      const res = await session.run(feeds);
      const h = res.last_hidden_state.data;
      for (let j = 0; j < bs; j++) {
        const o = b[j] * dim;
        let cnt = 0;
        for (let t = 0; t < seq; t++) {
          if (mask[j * seq + t] === 0n) continue;
          cnt++;
          const base = (j * seq + t) * dim;
          for (let d = 0; d < dim; d++) out[o + d] += h[base + d];
        }
        let ss = 0;
        for (let d = 0; d < dim; d++) {
          out[o + d] /= Math.max(cnt, 1e-9);
          ss += out[o + d] * out[o + d];
        }
        const inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
        for (let d = 0; d < dim; d++) out[o + d] *= inv;
      }
    }
    return out;
  };
  let data = await run();
  const times = [];
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < spec.reps; r++) {
    const t = performance.now();
    data = await run();
    times.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerPass = (cpu.user + cpu.system) / 1000 / spec.reps;
  // Where the time goes: the peers' tokenization alone, same batches.
  const tt = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    for (const b of batches(spec.sorted)) tokenize(b.map((i) => sentences[i]));
    tt.push(performance.now() - t);
  }
  await session.release?.();
  return { data, dim, loadMs, times, cpuMsPerPass, tokenizeMs: median(tt), info: { version: pkgVersion('onnxruntime-node'), file: spec.file ?? 'model.onnx' } };
}

// PyTorch quantize_dynamic (peers/torch_int8_encode.py) on the same sentences, our token ids.
async function childTorch(spec) {
  const py = spawnSync('/usr/bin/python3', [path.join(__dirname, 'peers', 'torch_int8_encode.py'), '--model', spec.model,
    '--sentences-json', spec.input, '--emit-embeddings', spec.output + '.torch', '--reps', String(spec.reps),
    '--order', spec.sorted ? 'sorted' : 'input', '--threads', String(spec.threads)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = (py.stdout || '').trim().split('\n').pop();
  if (py.status !== 0 || !line?.startsWith('{')) throw new Error(`torch_int8_encode.py failed (exit ${py.status}): ${(py.stderr || py.stdout || '').trim().split('\n').pop()}`);
  const r = JSON.parse(line);
  const buf = fs.readFileSync(spec.output + '.torch');
  fs.rmSync(spec.output + '.torch');
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return { data, dim: data.length / r.sentences, loadMs: NaN, times: r.passesMs,
    info: { version: r.torch, engine: r.engine, threads: r.threads, cosToOwnFp32Min: r.cosToFp32Min, note: 'RSS: the node wrapper only' } };
}

async function child(spec) {
  const sentences = JSON.parse(fs.readFileSync(spec.input, 'utf8'));
  const fn = { ours: childOurs, 'transformers.js': childTransformers, onnxruntime: childOnnxruntime, torch: childTorch }[spec.kind];
  const r = await fn(spec, sentences);
  fs.writeFileSync(spec.output, Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength));
  const { data: _d, ...rest } = r;
  const ru = process.resourceUsage();
  // 1-minute load average at the end of the timed passes: this child's own threads count, so
  // anything well above the thread count means other work competed for the CPUs.
  process.stdout.write(`@@RESULT ${JSON.stringify({ ...rest, maxRssMB: ru.maxRSS / 1024, loadEnd: os.loadavg()[0] })}\n`);
}

// ---------------------------------------------------------------------------------------------
// Parent: runs the children, checks agreement, prints the table and one JSON line.

function runChild(spec, env) {
  const r = spawnSync(process.execPath, [__filename, '--child', JSON.stringify(spec)], {
    env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20, cwd: __dirname,
  });
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('@@RESULT '));
  if (r.status !== 0 || !line) {
    const lines = (r.stderr || r.stdout || '').trim().split('\n');
    const msg = lines.find((l) => /Error|error:/.test(l)) || lines[lines.length - 1] || '';
    return { error: `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}: ${msg.trim()}` };
  }
  const res = JSON.parse(line.slice(9));
  const buf = fs.readFileSync(spec.output);
  res.data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return res;
}

function cosines(a, b, dim, threshold) {
  const n = a.length / dim;
  let min = Infinity;
  let sum = 0;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let d = 0; d < dim; d++) {
      const x = a[i * dim + d];
      const y = b[i * dim + d];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const c = ab / Math.sqrt(aa * bb);
    if (!(c >= threshold)) bad++;
    if (!(c >= min)) min = c; // NaN sticks
    sum += c;
  }
  return { min, mean: sum / n, below: bad };
}

async function parent(args) {
  const want = (k) => !args.only || args.only.includes(k);
  const model = args.model;
  for (const f of ['model.safetensors', 'config.json', 'tokenizer.json']) {
    if (!fs.existsSync(path.join(model, f))) throw new Error(`${path.join(model, f)} missing: run node bench/make-minilm.js`);
  }
  const hasOnnx = fs.existsSync(path.join(model, 'onnx', 'model.onnx'));
  const hasQuantized = fs.existsSync(path.join(model, 'onnx', 'model_quantized.onnx'));
  if (!hasQuantized && (want('transformers.js') || want('onnxruntime'))) {
    console.error(`warning: ${path.join(model, 'onnx', 'model_quantized.onnx')} missing (run /usr/bin/python3 bench/quantize_onnx.py): int8 ONNX peers skipped`);
  }
  if (!hasOnnx && (want('transformers.js') || want('onnxruntime'))) {
    console.error(`warning: ${path.join(model, 'onnx', 'model.onnx')} missing (run /usr/bin/python3 bench/export_onnx.py): peers skipped`);
  }
  const { sentences, dir } = stsSentences(args.n);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-bench-'));
  const input = path.join(tmp, 'sentences.json');
  fs.writeFileSync(input, JSON.stringify(sentences));
  const env = args.threads ? { SBERT_NUM_THREADS: String(args.threads), OMP_NUM_THREADS: String(args.threads) } : {};
  // Peers get intraOpNumThreads explicitly: onnxruntime-node's default (0 = "physical cores")
  // runs one thread on this 2-vCPU VM, which would make the comparison unfair to them.
  const peerThreads = args.threads ?? (os.availableParallelism?.() ?? os.cpus().length);

  const runs = [];
  const base = { model, input, reps: args.reps, threads: peerThreads };
  if (want('ours')) {
    for (const precision of args.precisions) {
      runs.push({ name: `ours ${precision} (default batchTokens)`, kind: 'ours', precision, batchTokens: undefined });
      for (const bt of args.batchTokens) runs.push({ name: `ours ${precision} batchTokens=${bt}`, kind: 'ours', precision, batchTokens: bt });
    }
  }
  if (hasOnnx) {
    for (const kind of ['transformers.js', 'onnxruntime']) {
      if (!want(kind)) continue;
      runs.push({ name: `${kind} b32 input order`, kind, sorted: false, precision: 'fp32' });
      runs.push({ name: `${kind} b32 length-sorted`, kind, sorted: true, precision: 'fp32' });
    }
  }
  if (hasQuantized) {
    if (want('onnxruntime')) runs.push({ name: 'onnxruntime int8 b32 length-sorted', kind: 'onnxruntime', sorted: true, precision: 'int8', file: 'model_quantized.onnx' });
    if (want('transformers.js')) runs.push({ name: 'transformers.js q8 b32 length-sorted', kind: 'transformers.js', sorted: true, precision: 'int8', dtype: 'q8' });
  }
  if (want('torch')) runs.push({ name: 'pytorch int8 b32 length-sorted', kind: 'torch', sorted: true, precision: 'int8' });
  const load0 = os.loadavg();
  const t0 = Date.now();
  const perRound = []; // per round: sent/s of each run (by index)
  for (let round = 0; round < args.rounds; round++) {
    const rates = [];
    runs.forEach((r, i) => {
      const tag = args.rounds > 1 ? `round ${round + 1}/${args.rounds} ` : '';
      process.stderr.write(`${tag}[${i + 1}/${runs.length}] ${r.name} ... `);
      if (r.error) {
        process.stderr.write('skipped (failed before)\n');
        return;
      }
      const { name, kind, batchTokens, sorted, precision, file, dtype } = r;
      const res = runChild({ ...base, name, kind, batchTokens, sorted, precision, file, dtype, output: path.join(tmp, `out${i}.f32`) }, env);
      if (res.error) {
        r.error = res.error;
        process.stderr.write(`FAILED ${res.error}\n`);
        return;
      }
      const times = [...(r.times || []), ...res.times];
      const cpuMs = [...(r.cpuMs || []), ...(res.cpuMsPerPass ? [res.cpuMsPerPass] : [])];
      Object.assign(r, res, { times, cpuMs, cpuMsPerPass: cpuMs.length ? median(cpuMs) : undefined, maxRssMB: Math.max(r.maxRssMB || 0, res.maxRssMB) });
      rates[i] = sentences.length / (median(res.times) / 1000);
      r.sentPerSec = sentences.length / (median(r.times) / 1000);
      process.stderr.write(`${rates[i].toFixed(0)} sent/s\n`);
    });
    perRound.push(rates);
  }
  const load1 = os.loadavg();
  fs.rmSync(tmp, { recursive: true, force: true });

  const ok = runs.filter((r) => !r.error);
  const ours = ok.filter((r) => r.kind === 'ours');
  const fp32Ours = ours.filter((r) => r.precision === 'fp32');
  const ref = fp32Ours.find((r) => r.batchTokens === undefined) || fp32Ours[0];
  const best = (kind, precision) => ok.filter((r) => r.kind === kind && (!precision || r.precision === precision)).sort((x, y) => y.sentPerSec - x.sentPerSec)[0];
  const oursBest = best('ours', 'fp32');
  // Agreement with fp32 (ours default): each precision at its own bound.
  const threshold = (r) => (r.precision === 'int8' ? 0.99 : r.precision === 'bf16' ? 0.999 : 0.9999);
  for (const r of ok) if (ref && r !== ref) r.agreement = cosines(ref.data, r.data, ref.dim, threshold(r));
  const peerRef = ok.find((r) => r.kind === 'onnxruntime' && r.precision === 'fp32') || ok.find((r) => r.kind === 'transformers.js' && r.precision === 'fp32');
  if (!ref && peerRef) for (const r of ok) if (r !== peerRef) r.agreement = cosines(peerRef.data, r.data, peerRef.dim, threshold(r));
  // The encoder's Linear multiply-adds per pass (unpadded tokens), MiniLM-style BERT shape.
  const cfg = JSON.parse(fs.readFileSync(path.join(model, 'config.json'), 'utf8'));
  const H = cfg.hidden_size, I = cfg.intermediate_size;
  const linearOps = ref || ours[0] ? 2 * (ref || ours[0]).tokens * cfg.num_hidden_layers * (4 * H * H + 2 * H * I) : NaN;
  for (const r of ours) {
    r.linearGops = linearOps / (median(r.times) / 1000) / 1e9;
    r.linearGopsPerCpuS = r.cpuMsPerPass ? linearOps / (r.cpuMsPerPass / 1000) / 1e9 : undefined;
  }

  const pad = (s, w) => String(s).padEnd(w);
  const lpad = (s, w) => String(s).padStart(w);
  const refName = ref ? 'ours default' : peerRef ? peerRef.name : '-';
  console.log(`\nCPU encode benchmark — ${sentences.length} unique STS-B sentences (${dir}), model ${path.basename(model)} (random weights, MiniLM-L6 shape)`);
  console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model}), node ${process.version}, threads ${args.threads ?? `ours default, peers ${peerThreads}`}, ${args.reps} timed reps (median) after 1 warm-up${args.rounds > 1 ? `, ${args.rounds} round-robin rounds (median over all)` : ''}; load avg before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${load1.map((x) => x.toFixed(2)).join(' ')}`);
  if (ref) console.log(`tokens: ${ref.tokens} total, longest sentence ${ref.maxLen} tokens (≤ ${MAX_SEQ}: no truncation differences); ours tokenization alone: ${ref.tokenizeMs.toFixed(0)} ms/pass`);
  console.log('');
  const head = `${pad('contender', 40)}${lpad('sent/s', 9)}${lpad('ours/this', 15)}${lpad('ms/pass', 9)}${lpad('peakRSS MB', 12)}${lpad('load ms', 9)}${lpad('load1', 7)}${lpad('cpu ms', 8)}${lpad('GOP/s', 8)}${lpad('GOP/cpu-s', 10)}  cos vs ${refName} (min / mean / #below bound)`;
  console.log(head);
  console.log('-'.repeat(head.length));
  for (const r of runs) {
    if (r.error) {
      console.log(`${pad(r.name, 40)} FAILED: ${r.error}`);
      continue;
    }
    // Peers: ours' best of the same precision over this; ours: this over ours' best fp32 (×).
    const same = r.kind === 'ours' ? undefined : best('ours', r.precision);
    const ratio = r.kind === 'ours' ? (oursBest ? `(${(r.sentPerSec / oursBest.sentPerSec).toFixed(2)}× fp32)` : '-') : same ? (same.sentPerSec / r.sentPerSec).toFixed(2) + '×' : '-';
    const ag = r.agreement ? `${r.agreement.min.toFixed(6)} / ${r.agreement.mean.toFixed(6)} / ${r.agreement.below} (≥ ${threshold(r)})` : '(reference)';
    const gops = r.linearGops ? r.linearGops.toFixed(0) : '';
    const gopsCpu = r.linearGopsPerCpuS ? r.linearGopsPerCpuS.toFixed(0) : '';
    console.log(`${pad(r.name, 40)}${lpad(r.sentPerSec.toFixed(0), 9)}${lpad(ratio, 15)}${lpad(median(r.times).toFixed(0), 9)}${lpad(r.kind === 'torch' ? '-' : r.maxRssMB.toFixed(0), 12)}${lpad(Number.isFinite(r.loadMs) ? r.loadMs.toFixed(0) : '-', 9)}${lpad(r.loadEnd.toFixed(2), 7)}${lpad(r.cpuMsPerPass ? r.cpuMsPerPass.toFixed(0) : '-', 8)}${lpad(gops, 8)}${lpad(gopsCpu, 10)}  ${ag}`);
  }
  const summary = { oursBest: oursBest?.name, rounds: args.rounds };
  // Low precision: ours int8 against transformers.js fp32 and the int8 peers; ours bf16 against ours fp32.
  const lowPrecision = {};
  const ratioOf = (a, b) => (a && b ? +(a.sentPerSec / b.sentPerSec).toFixed(3) : undefined);
  const oursInt8 = best('ours', 'int8'), oursBf16 = best('ours', 'bf16');
  lowPrecision['ours int8 / transformers.js fp32'] = ratioOf(oursInt8, best('transformers.js', 'fp32'));
  lowPrecision['ours int8 / onnxruntime fp32'] = ratioOf(oursInt8, best('onnxruntime', 'fp32'));
  lowPrecision['ours int8 / onnxruntime int8'] = ratioOf(oursInt8, best('onnxruntime', 'int8'));
  lowPrecision['ours int8 / transformers.js q8'] = ratioOf(oursInt8, best('transformers.js', 'int8'));
  lowPrecision['ours int8 / pytorch int8'] = ratioOf(oursInt8, best('torch', 'int8'));
  lowPrecision['ours int8 / ours fp32'] = ratioOf(oursInt8, oursBest);
  lowPrecision['ours bf16 / ours fp32'] = ratioOf(oursBf16, oursBest);
  // The same by CPU time per pass (steadier on a shared VM; a peer whose threads spin-wait pays for it).
  const cpuRatioOf = (a, b) => (a?.cpuMsPerPass && b?.cpuMsPerPass ? +(b.cpuMsPerPass / a.cpuMsPerPass).toFixed(3) : undefined);
  lowPrecision['by CPU time: ours int8 / transformers.js fp32'] = cpuRatioOf(oursInt8, best('transformers.js', 'fp32'));
  lowPrecision['by CPU time: ours int8 / onnxruntime int8'] = cpuRatioOf(oursInt8, best('onnxruntime', 'int8'));
  lowPrecision['by CPU time: ours int8 / transformers.js q8'] = cpuRatioOf(oursInt8, best('transformers.js', 'int8'));
  lowPrecision['by CPU time: ours bf16 / ours fp32'] = cpuRatioOf(oursBf16, oursBest);
  for (const k of Object.keys(lowPrecision)) if (lowPrecision[k] === undefined) delete lowPrecision[k];
  summary.lowPrecision = lowPrecision;
  // Per round: the best ours configuration of that round over the best of the peer's.
  const roundBest = (rates, kind) => Math.max(...runs.map((r, i) => (r.kind === kind && r.precision === 'fp32' && rates[i] > 0 ? rates[i] : 0)));
  for (const kind of ['transformers.js', 'onnxruntime']) {
    const p = best(kind, 'fp32');
    if (!p || !oursBest) continue;
    const perRoundRatios = perRound.map((rates) => roundBest(rates, 'ours') / roundBest(rates, kind)).filter((x) => Number.isFinite(x) && x > 0);
    summary[`vs ${kind}`] = {
      peerBest: p.name, ratioBest: +(oursBest.sentPerSec / p.sentPerSec).toFixed(3), ratioDefault: ref ? +(ref.sentPerSec / p.sentPerSec).toFixed(3) : undefined,
      perRound: perRoundRatios.map((x) => +x.toFixed(3)),
      perRoundMedian: perRoundRatios.length ? +median(perRoundRatios).toFixed(3) : undefined,
      perRoundMin: perRoundRatios.length ? +Math.min(...perRoundRatios).toFixed(3) : undefined,
    };
  }
  const allAgree = ok.every((r) => !r.agreement || (r.agreement.below === 0 && r.agreement.min >= threshold(r)));
  console.log(`\nours best (${oursBest?.name ?? '-'}) vs peers' best: ` + ['transformers.js', 'onnxruntime']
    .filter((k) => summary[`vs ${k}`]).map((k) => `${k} ${summary[`vs ${k}`].ratioBest}× (default batchTokens ${summary[`vs ${k}`].ratioDefault}×)`).join(', ')
    + `; agreement ${allAgree ? 'OK (all cosines above their bounds)' : 'FAILED'}`);
  if (Object.keys(lowPrecision).length) console.log(`low precision: ${Object.entries(lowPrecision).map(([k, v]) => `${k} ${v}×`).join(', ')}`);
  if (args.rounds > 1) {
    console.log(`per round (best of each side in the same round): ` + ['transformers.js', 'onnxruntime']
      .filter((k) => summary[`vs ${k}`]?.perRound?.length).map((k) => `${k} median ${summary[`vs ${k}`].perRoundMedian}×, min ${summary[`vs ${k}`].perRoundMin}× [${summary[`vs ${k}`].perRound.join(', ')}]`).join('; '));
  }
  if (ref?.info?.threads) console.log(`ours: ${ref.device}, ${ref.info.threads} threads, gemm ${ref.info.gemmKernel}, int8 ${ref.info.int8Path ?? '-'}, bf16 ${ref.info.bf16Path ?? 'refused'}; CPU features: ${ref.info.features ?? '?'}`);

  const json = {
    bench: 'encode-cpu', n: sentences.length, reps: args.reps, rounds: args.rounds, threads: args.threads ?? null, peerThreads, cpus: os.cpus().length,
    loadavg: { before: load0, after: load1 }, wallS: (Date.now() - t0) / 1000, tokens: ref?.tokens, maxLen: ref?.maxLen,
    oursTokenizeMs: ref?.tokenizeMs, agreementOk: allAgree, summary,
    runs: runs.map((r) => r.error ? { name: r.name, error: r.error } : {
      name: r.name, kind: r.kind, precision: r.precision ?? null, batchTokens: r.batchTokens ?? null, sorted: r.sorted ?? null,
      linearGops: r.linearGops ? +r.linearGops.toFixed(1) : undefined, linearGopsPerCpuS: r.linearGopsPerCpuS ? +r.linearGopsPerCpuS.toFixed(1) : undefined,
      sentPerSec: +r.sentPerSec.toFixed(1), medianMs: +median(r.times).toFixed(1), timesMs: r.times.map((t) => +t.toFixed(1)),
      ratioOursBestOverThis: oursBest ? +(oursBest.sentPerSec / r.sentPerSec).toFixed(3) : null,
      cpuMsPerPass: r.cpuMsPerPass ? +r.cpuMsPerPass.toFixed(1) : null,
      maxRssMB: r.kind === 'torch' ? null : +r.maxRssMB.toFixed(1), loadAvgEnd: +r.loadEnd.toFixed(2), loadMs: Number.isFinite(r.loadMs) ? +r.loadMs.toFixed(1) : null, tokenizeMs: r.tokenizeMs != null ? +r.tokenizeMs.toFixed(1) : undefined,
      cosMin: r.agreement ? +r.agreement.min.toFixed(7) : null, cosMean: r.agreement ? +r.agreement.mean.toFixed(7) : null,
      cosBelow: r.agreement ? r.agreement.below : null, info: r.info,
    }),
  };
  console.log(JSON.stringify(json));
  if (!allAgree || runs.some((r) => r.error)) process.exitCode = 1;
}

const args = parseArgs(process.argv.slice(2));
(args.child ? child(args.child) : parent(args)).catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(2);
});
