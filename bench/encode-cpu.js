#!/usr/bin/env node
'use strict';
/**
 * CPU speed benchmark (issue #5): sentences/s of sbert-native's `encode` vs
 * @huggingface/transformers (feature-extraction pipeline) vs raw onnxruntime-node, on the same
 * model (bench/.models/minilm-l6-random: all-MiniLM-L6-v2 shape, random seeded weights, the real
 * bert-base-uncased tokenizer), the same sentences, in the same run. Also checks that all three
 * give the same embeddings (cosine per sentence), because a benchmark of wrong numbers is worthless.
 *
 *   node bench/make-minilm.js && /usr/bin/python3 bench/export_onnx.py   # once
 *   node bench/encode-cpu.js [--n 2000] [--threads N] [--reps 5] [--rounds 1] [--batch-tokens 2048,8192,32768]
 *                            [--only ours,transformers.js,onnxruntime] [--model DIR]
 *
 * Sentences: the first --n unique sentences of STS Benchmark (/work/shared/data/stsbenchmark or
 * $STSB_DIR; sts-{train,dev,test}.csv, tab separated, sentences in columns 6 and 7), unique in order
 * of first appearance over train, dev, test, each row sentence 1 before sentence 2.
 *
 * Contenders (each in its own child process, so each gets its own peak RSS; a child loads its
 * model, warms up with one full pass, then times --reps full passes; the median is reported):
 *   ours            SentenceEncoder.encode(all sentences, { batchTokens }) — whole path:
 *                   tokenization, packed (unpadded) batches, pooling, normalize. The library's
 *                   default budget and each --batch-tokens value.
 *   transformers.js pipeline('feature-extraction', dtype fp32, device cpu), called on batches of
 *                   32 with { pooling: 'mean', normalize: true }: in input order, and length-sorted
 *                   (by characters, longest first, as sentence-transformers sorts; sorting and
 *                   restoring the order is inside the timed region).
 *   onnxruntime     raw onnxruntime-node session on the same ONNX file: transformers.js'
 *                   tokenizer (padding per batch, truncation at 256), int64 inputs, masked mean
 *                   pooling + L2 normalize in JS; batches of 32, input order and length-sorted.
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
    model: path.join(__dirname, '.models', 'minilm-l6-random'), child: undefined };
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
  const enc = await sbert.SentenceEncoder.load(spec.model, { device: 'cpu' });
  const loadMs = performance.now() - t0;
  const opts = spec.batchTokens ? { batchTokens: spec.batchTokens } : {};
  const run = () => enc.encode(sentences, opts);
  let e = await run(); // warm-up
  const times = [];
  for (let r = 0; r < spec.reps; r++) {
    const t = performance.now();
    e = await run();
    times.push(performance.now() - t);
  }
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
    info = { threads: b.cpu.threads, gemmKernel: b.cpu.gemmKernel, avx512: b.cpu.avx512 };
  } catch { /* older dist */ }
  const out = { data: e.data, dim: e.dim, loadMs, times, tokenizeMs: median(tt), tokens, maxLen, info, device: enc.device };
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
    dtype: 'fp32',
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
  for (let r = 0; r < spec.reps; r++) {
    const t = performance.now();
    data = await run();
    times.push(performance.now() - t);
  }
  const version = pkgVersion('@huggingface/transformers');
  await extractor.dispose?.();
  return { data, dim, loadMs, times, info: { version } };
}

async function childOnnxruntime(spec, sentences) {
  const { tf, ort } = await loadPeers();
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = path.dirname(spec.model) + path.sep;
  const t0 = performance.now();
  const tok = await tf.AutoTokenizer.from_pretrained(path.basename(spec.model));
  const session = await ort.InferenceSession.create(path.join(spec.model, 'onnx', 'model.onnx'),
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
  for (let r = 0; r < spec.reps; r++) {
    const t = performance.now();
    data = await run();
    times.push(performance.now() - t);
  }
  // Where the time goes: the peers' tokenization alone, same batches.
  const tt = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    for (const b of batches(spec.sorted)) tokenize(b.map((i) => sentences[i]));
    tt.push(performance.now() - t);
  }
  await session.release?.();
  return { data, dim, loadMs, times, tokenizeMs: median(tt), info: { version: pkgVersion('onnxruntime-node') } };
}

async function child(spec) {
  const sentences = JSON.parse(fs.readFileSync(spec.input, 'utf8'));
  const fn = { ours: childOurs, 'transformers.js': childTransformers, onnxruntime: childOnnxruntime }[spec.kind];
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

function cosines(a, b, dim) {
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
    if (!(c >= 0.9999)) bad++;
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
    runs.push({ name: 'ours (default batchTokens)', kind: 'ours', batchTokens: undefined });
    for (const bt of args.batchTokens) runs.push({ name: `ours batchTokens=${bt}`, kind: 'ours', batchTokens: bt });
  }
  if (hasOnnx) {
    for (const kind of ['transformers.js', 'onnxruntime']) {
      if (!want(kind)) continue;
      runs.push({ name: `${kind} b32 input order`, kind, sorted: false });
      runs.push({ name: `${kind} b32 length-sorted`, kind, sorted: true });
    }
  }
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
      const { name, kind, batchTokens, sorted } = r;
      const res = runChild({ ...base, name, kind, batchTokens, sorted, output: path.join(tmp, `out${i}.f32`) }, env);
      if (res.error) {
        r.error = res.error;
        process.stderr.write(`FAILED ${res.error}\n`);
        return;
      }
      const times = [...(r.times || []), ...res.times];
      Object.assign(r, res, { times, maxRssMB: Math.max(r.maxRssMB || 0, res.maxRssMB) });
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
  const ref = ours.find((r) => r.batchTokens === undefined) || ours[0];
  const best = (kind) => ok.filter((r) => r.kind === kind).sort((x, y) => y.sentPerSec - x.sentPerSec)[0];
  const oursBest = best('ours');
  for (const r of ok) if (ref && r !== ref) r.agreement = cosines(ref.data, r.data, ref.dim);
  const peerRef = ok.find((r) => r.kind === 'onnxruntime') || ok.find((r) => r.kind === 'transformers.js');
  if (!ref && peerRef) for (const r of ok) if (r !== peerRef) r.agreement = cosines(peerRef.data, r.data, peerRef.dim);

  const pad = (s, w) => String(s).padEnd(w);
  const lpad = (s, w) => String(s).padStart(w);
  const refName = ref ? 'ours default' : peerRef ? peerRef.name : '-';
  console.log(`\nCPU encode benchmark — ${sentences.length} unique STS-B sentences (${dir}), model ${path.basename(model)} (random weights, MiniLM-L6 shape)`);
  console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model}), node ${process.version}, threads ${args.threads ?? `ours default, peers ${peerThreads}`}, ${args.reps} timed reps (median) after 1 warm-up${args.rounds > 1 ? `, ${args.rounds} round-robin rounds (median over all)` : ''}; load avg before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${load1.map((x) => x.toFixed(2)).join(' ')}`);
  if (ref) console.log(`tokens: ${ref.tokens} total, longest sentence ${ref.maxLen} tokens (≤ ${MAX_SEQ}: no truncation differences); ours tokenization alone: ${ref.tokenizeMs.toFixed(0)} ms/pass`);
  console.log('');
  const head = `${pad('contender', 36)}${lpad('sent/s', 9)}${lpad('ours/this', 11)}${lpad('ms/pass', 9)}${lpad('peakRSS MB', 12)}${lpad('load ms', 9)}${lpad('load1', 7)}  cos vs ${refName} (min / mean / #<0.9999)`;
  console.log(head);
  console.log('-'.repeat(head.length));
  for (const r of runs) {
    if (r.error) {
      console.log(`${pad(r.name, 36)} FAILED: ${r.error}`);
      continue;
    }
    const ratio = oursBest ? (oursBest.sentPerSec / r.sentPerSec).toFixed(2) + '×' : '-';
    const ag = r.agreement ? `${r.agreement.min.toFixed(6)} / ${r.agreement.mean.toFixed(6)} / ${r.agreement.below}` : '(reference)';
    console.log(`${pad(r.name, 36)}${lpad(r.sentPerSec.toFixed(0), 9)}${lpad(ratio, 11)}${lpad(median(r.times).toFixed(0), 9)}${lpad(r.maxRssMB.toFixed(0), 12)}${lpad(r.loadMs.toFixed(0), 9)}${lpad(r.loadEnd.toFixed(2), 7)}  ${ag}`);
  }
  const summary = { oursBest: oursBest?.name, rounds: args.rounds };
  // Per round: the best ours configuration of that round over the best of the peer's.
  const roundBest = (rates, kind) => Math.max(...runs.map((r, i) => (r.kind === kind && rates[i] > 0 ? rates[i] : 0)));
  for (const kind of ['transformers.js', 'onnxruntime']) {
    const p = best(kind);
    if (!p || !oursBest) continue;
    const perRoundRatios = perRound.map((rates) => roundBest(rates, 'ours') / roundBest(rates, kind)).filter((x) => Number.isFinite(x) && x > 0);
    summary[`vs ${kind}`] = {
      peerBest: p.name, ratioBest: +(oursBest.sentPerSec / p.sentPerSec).toFixed(3), ratioDefault: ref ? +(ref.sentPerSec / p.sentPerSec).toFixed(3) : undefined,
      perRound: perRoundRatios.map((x) => +x.toFixed(3)),
      perRoundMedian: perRoundRatios.length ? +median(perRoundRatios).toFixed(3) : undefined,
      perRoundMin: perRoundRatios.length ? +Math.min(...perRoundRatios).toFixed(3) : undefined,
    };
  }
  const allAgree = ok.every((r) => !r.agreement || (r.agreement.below === 0 && r.agreement.min >= 0.9999));
  console.log(`\nours best (${oursBest?.name ?? '-'}) vs peers' best: ` + ['transformers.js', 'onnxruntime']
    .filter((k) => summary[`vs ${k}`]).map((k) => `${k} ${summary[`vs ${k}`].ratioBest}× (default batchTokens ${summary[`vs ${k}`].ratioDefault}×)`).join(', ')
    + `; agreement ${allAgree ? 'OK (all cosines ≥ 0.9999)' : 'FAILED'}`);
  if (args.rounds > 1) {
    console.log(`per round (best of each side in the same round): ` + ['transformers.js', 'onnxruntime']
      .filter((k) => summary[`vs ${k}`]?.perRound?.length).map((k) => `${k} median ${summary[`vs ${k}`].perRoundMedian}×, min ${summary[`vs ${k}`].perRoundMin}× [${summary[`vs ${k}`].perRound.join(', ')}]`).join('; '));
  }
  if (ref?.info?.threads) console.log(`ours: ${ref.device}, ${ref.info.threads} threads, gemm ${ref.info.gemmKernel}`);

  const json = {
    bench: 'encode-cpu', n: sentences.length, reps: args.reps, rounds: args.rounds, threads: args.threads ?? null, peerThreads, cpus: os.cpus().length,
    loadavg: { before: load0, after: load1 }, wallS: (Date.now() - t0) / 1000, tokens: ref?.tokens, maxLen: ref?.maxLen,
    oursTokenizeMs: ref?.tokenizeMs, agreementOk: allAgree, summary,
    runs: runs.map((r) => r.error ? { name: r.name, error: r.error } : {
      name: r.name, kind: r.kind, batchTokens: r.batchTokens ?? null, sorted: r.sorted ?? null,
      sentPerSec: +r.sentPerSec.toFixed(1), medianMs: +median(r.times).toFixed(1), timesMs: r.times.map((t) => +t.toFixed(1)),
      ratioOursBestOverThis: oursBest ? +(oursBest.sentPerSec / r.sentPerSec).toFixed(3) : null,
      maxRssMB: +r.maxRssMB.toFixed(1), loadAvgEnd: +r.loadEnd.toFixed(2), loadMs: +r.loadMs.toFixed(1), tokenizeMs: r.tokenizeMs != null ? +r.tokenizeMs.toFixed(1) : undefined,
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
