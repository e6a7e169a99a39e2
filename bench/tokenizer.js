#!/usr/bin/env node
// Tokenizer throughput: sbert-native's tokenizer vs @huggingface/transformers' tokenizer
// loaded from the same tokenizer.json, same process, same inputs (every unique STS Benchmark
// sentence), one sentence at a time and in batches; then encodeBatchParallel scaling (BERT);
// then the same comparison for each other tokenizer family of test/fixtures/tokenizer-families
// (Unigram in XLM-R's layout, byte-level BPE in RoBERTa's, WordPiece in MPNet's).
//
//   npm --prefix bench install     (ONNXRUNTIME_NODE_INSTALL=skip is enough for this bench)
//   npx tsc -p tsconfig.json && node bench/tokenizer.js [--rounds 7] [--threads 1,2] [--families a,b]
//
// Timings are the best of interleaved rounds (wall clock), so background load hurts both
// sides alike. Prints a table and one JSON line.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { stsSentences } = require('./stsb');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const ROUNDS = Number(arg('rounds', 7));
const THREADS = String(arg('threads', '1,2')).split(',').map(Number);
const TOKENIZER_DIR = path.join(root, 'test', 'fixtures', 'tokenizer');
/** Families compared after BERT, with the transformers.js tokenizer class each one names. */
const FAMILY_CLASSES = {
  'xlmr-unigram': 'XLMRobertaTokenizer',
  'roberta-bpe': 'RobertaTokenizer',
  'mpnet-wordpiece': 'MPNetTokenizer',
};
const FAMILIES = String(arg('families', Object.keys(FAMILY_CLASSES).join(','))).split(',').filter(Boolean);


function peerVersion() {
  let dir = path.dirname(require.resolve('@huggingface/transformers', { paths: [__dirname] }));
  while (dir !== path.dirname(dir)) {
    const f = path.join(dir, 'package.json');
    if (fs.existsSync(f)) {
      const pkg = JSON.parse(fs.readFileSync(f, 'utf8'));
      if (pkg.name === '@huggingface/transformers') return pkg.version;
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

/** CPU time of the calling thread in ns (Linux), NaN elsewhere. */
function threadCpuNs() {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

function bestOf(fns, rounds) {
  // interleave: round r runs every candidate once
  const best = fns.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      const t0 = now();
      fn();
      best[i] = Math.min(best[i], now() - t0);
    });
  }
  return best;
}

async function main() {
  const { loadTokenizer, TokenizerPool } = require(path.join(root, 'dist', 'tokenizer'));
  let transformers;
  try {
    transformers = require(require.resolve('@huggingface/transformers', { paths: [__dirname] }));
  } catch (e) {
    console.error('peer missing: run `npm --prefix bench install` first (' + e.message.split('\n')[0] + ')');
    process.exit(1);
  }
  const { AutoTokenizer, env } = transformers;
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(TOKENIZER_DIR) + path.sep;

  const sentences = stsSentences().sentences;
  let t0 = now();
  const ours = await loadTokenizer(TOKENIZER_DIR);
  const oursLoadMs = (now() - t0) * 1000;
  t0 = now();
  const peer = await AutoTokenizer.from_pretrained(path.basename(TOKENIZER_DIR));
  const peerLoadMs = (now() - t0) * 1000;

  // correctness first: ours vs the HF goldens, peer vs ours
  const goldens = JSON.parse(require('node:zlib').gunzipSync(fs.readFileSync(path.join(TOKENIZER_DIR, 'tokenizer-goldens.json.gz'))).toString('utf8'));
  const golden = new Map(goldens.cases.map((c) => [c.text, c.ids]));
  let oursOk = 0;
  let peerOk = 0;
  let totalTokens = 0;
  for (const s of sentences) {
    const a = Array.from(ours.encode(s).ids);
    const b = peer.encode(s);
    const g = golden.get(s);
    totalTokens += a.length;
    if (g && g.length === a.length && g.every((x, i) => x === a[i])) oursOk++;
    if (b.length === a.length && b.every((x, i) => Number(x) === a[i])) peerOk++;
  }

  const BATCH = 64;
  const chunks = [];
  for (let i = 0; i < sentences.length; i += BATCH) chunks.push(sentences.slice(i, i + BATCH));
  const runs = {
    'ours  encode (one at a time)': () => { for (const s of sentences) ours.encode(s); },
    'peer  encode (one at a time)': () => { for (const s of sentences) peer.encode(s); },
    'ours  encodeBatch (64)': () => { for (const c of chunks) ours.encodeBatch(c); },
    'peer  tokenizer(batch of 64, padding)': () => { for (const c of chunks) peer(c, { padding: true, truncation: true }); },
    'ours  encodeBatch (all, one call)': () => { ours.encodeBatch(sentences); },
  };
  const names = Object.keys(runs);
  // warm up the JIT of both sides
  bestOf(names.map((n) => runs[n]), 3);
  const times = bestOf(names.map((n) => runs[n]), ROUNDS);
  const result = {};
  names.forEach((n, i) => {
    result[n] = { s: times[i], tokensPerS: totalTokens / times[i], sentencesPerS: sentences.length / times[i] };
  });

  // worker threads on a large batch
  // 8 copies, made distinct, as flat strings (like lines read from a file)
  const lines = [];
  for (let k = 0; k < 8; k++) for (const s of sentences) lines.push(k === 0 ? s : `${s} ${k}`);
  const big = lines.join('\n').split('\n');
  // Wall time is what a caller sees, but on a shared machine a second thread may find no free
  // core. So each thread's own CPU time (Linux schedstat) is recorded too: the busiest thread's
  // CPU time is the wall time the call would take with a free core per thread.
  let bigTokens = 0;
  const parallel = {};
  for (const threads of THREADS) {
    const pool = new TokenizerPool(ours);
    const run = async () => {
      const s0 = now();
      const c0 = threadCpuNs();
      const r = await pool.encodeBatch(big, { threads, minBatch: 0, measure: true });
      const wall = now() - s0;
      bigTokens = r.ids.length;
      const cpu = threads === 1 || !pool.lastStats
        ? (threadCpuNs() - c0) / 1e9
        : Math.max(pool.lastStats.callerCpuMs, ...pool.lastStats.workerCpuMs) / 1e3;
      return { wall, cpu };
    };
    await run();
    await run(); // warm the workers
    let best = Infinity;
    let bestCpu = Infinity;
    for (let r = 0; r < Math.max(3, ROUNDS >> 1); r++) {
      const m = await run();
      best = Math.min(best, m.wall);
      bestCpu = Math.min(bestCpu, m.cpu);
    }
    pool.close();
    parallel[threads] = { s: best, tokensPerS: bigTokens / best, cpuS: bestCpu };
  }
  const base = parallel[THREADS[0]];

  const fmt = (x) => (x >= 1e6 ? (x / 1e6).toFixed(2) + 'M' : (x / 1e3).toFixed(1) + 'k');
  console.log(`tokenizer benchmark: ${sentences.length} unique STS-B sentences, ${totalTokens} tokens (with [CLS]/[SEP])`);
  console.log(`node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} cores, load avg ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`load: ours ${oursLoadMs.toFixed(0)} ms, peer ${peerLoadMs.toFixed(0)} ms; ids identical to HF goldens: ours ${oursOk}/${sentences.length}, peer agrees with ours on ${peerOk}/${sentences.length}`);
  console.log('');
  console.log('| run | tokens/s | sentences/s | seconds |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const n of names) {
    const r = result[n];
    console.log(`| ${n} | ${fmt(r.tokensPerS)} | ${fmt(r.sentencesPerS)} | ${r.s.toFixed(3)} |`);
  }
  console.log('');
  console.log(`encodeBatchParallel on ${big.length} texts (${bigTokens} tokens):`);
  console.log('| threads | tokens/s (wall) | speed-up (wall) | busiest thread CPU s | speed-up (CPU critical path) |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  for (const t of THREADS) {
    const p = parallel[t];
    console.log(`| ${t} | ${fmt(p.tokensPerS)} | ${(base.s / p.s).toFixed(2)}x | ${p.cpuS.toFixed(3)} | ${(base.cpuS / p.cpuS).toFixed(2)}x |`);
  }
  const families = await familyRuns(transformers, sentences);

  const single = result[names[0]].tokensPerS / result[names[1]].tokensPerS;
  const batch = result[names[2]].tokensPerS / result[names[3]].tokensPerS;
  console.log('');
  console.log(
    JSON.stringify({
      bench: 'tokenizer',
      sentences: sentences.length,
      tokens: totalTokens,
      ours_tokens_per_s_single: Math.round(result[names[0]].tokensPerS),
      peer_tokens_per_s_single: Math.round(result[names[1]].tokensPerS),
      ratio_single: +single.toFixed(2),
      ours_tokens_per_s_batch64: Math.round(result[names[2]].tokensPerS),
      peer_tokens_per_s_batch64: Math.round(result[names[3]].tokensPerS),
      ratio_batch64: +batch.toFixed(2),
      ours_tokens_per_s_batch_all: Math.round(result[names[4]].tokensPerS),
      parallel: Object.fromEntries(
        THREADS.map((t) => [
          t,
          {
            tokens_per_s: Math.round(parallel[t].tokensPerS),
            speedup_wall: +(base.s / parallel[t].s).toFixed(2),
            speedup_cpu_critical_path: +(base.cpuS / parallel[t].cpuS).toFixed(2),
          },
        ]),
      ),
      families,
      ours_identical_to_hf: oursOk === sentences.length,
      peer_agrees: peerOk,
      peer: '@huggingface/transformers ' + peerVersion(),
      node: process.version,
      cores: os.cpus().length,
      loadavg: os.loadavg()[0],
    }),
  );
}

/**
 * Each family of test/fixtures/tokenizer-families on the same sentences: ours vs the peer,
 * loaded from the same tokenizer.json (written to a temporary folder with a tokenizer_config.json
 * naming the class, which transformers.js needs). Returns the JSON summary.
 */
async function familyRuns(transformers, sentences) {
  const fam = require(path.join(root, 'test', 'fixtures', 'tokenizer-families', 'families'));
  const { loadTokenizer } = require(path.join(root, 'dist', 'tokenizer'));
  const { AutoTokenizer, env } = transformers;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-tokbench-'));
  env.localModelPath = base + path.sep;
  const out = {};
  const BATCH = 64;
  const chunks = [];
  for (let i = 0; i < sentences.length; i += BATCH) chunks.push(sentences.slice(i, i + BATCH));
  try {
    for (const name of FAMILIES) {
      const dir = path.join(base, name);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(fam.tokenizerJson(name)));
      const specials = { bos_token: '<s>', eos_token: '</s>', cls_token: '<s>', sep_token: '</s>', pad_token: '<pad>', unk_token: '<unk>', mask_token: '<mask>' };
      fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: FAMILY_CLASSES[name], model_max_length: 512, ...specials }));
      let t0 = now();
      const ours = await loadTokenizer(dir);
      const oursLoadMs = (now() - t0) * 1000;
      t0 = now();
      const peer = await AutoTokenizer.from_pretrained(name);
      const peerLoadMs = (now() - t0) * 1000;
      // first pass over the sentences, caches empty on both sides: best of 3 fresh instances
      let oursCold = Infinity;
      let peerCold = Infinity;
      for (let r = 0; r < 3; r++) {
        const o = r === 0 ? ours : await loadTokenizer(dir);
        const p = r === 0 ? peer : await AutoTokenizer.from_pretrained(name);
        t0 = now();
        for (const s of sentences) o.encode(s);
        oursCold = Math.min(oursCold, now() - t0);
        t0 = now();
        for (const s of sentences) p.encode(s);
        peerCold = Math.min(peerCold, now() - t0);
      }
      let agree = 0;
      let tokens = 0;
      for (const s of sentences) {
        const a = ours.encode(s).ids;
        const b = peer.encode(s);
        tokens += a.length;
        if (a.length === b.length && b.every((x, i) => Number(x) === a[i])) agree++;
      }
      const runs = [
        () => { for (const s of sentences) ours.encode(s); },
        () => { for (const s of sentences) peer.encode(s); },
        () => { for (const c of chunks) ours.encodeBatch(c); },
        () => { for (const c of chunks) peer(c, { padding: true, truncation: true }); },
      ];
      bestOf(runs, 2);
      const [os1, ps1, ob, pb] = bestOf(runs, ROUNDS);
      out[name] = {
        family: ours.family,
        peer_agrees: agree,
        sentences: sentences.length,
        tokens,
        ours_load_ms: Math.round(oursLoadMs),
        peer_load_ms: Math.round(peerLoadMs),
        ours_tokens_per_s_single: Math.round(tokens / os1),
        peer_tokens_per_s_single: Math.round(tokens / ps1),
        ratio_single: +(ps1 / os1).toFixed(2),
        ours_tokens_per_s_batch64: Math.round(tokens / ob),
        peer_tokens_per_s_batch64: Math.round(tokens / pb),
        ratio_batch64: +(pb / ob).toFixed(2),
        ratio_first_pass: +(peerCold / oursCold).toFixed(2),
      };
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
  console.log('');
  console.log('Other tokenizer families (same STS-B sentences; ours / peer = peer time / our time):');
  console.log('| family | type | peer agrees | load ms ours / peer | ours tokens/s (one at a time) | ours / peer | ours / peer, batches of 64 | ours / peer, first pass |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const fmt = (x) => (x >= 1e6 ? (x / 1e6).toFixed(2) + 'M' : (x / 1e3).toFixed(1) + 'k');
  for (const [name, r] of Object.entries(out)) {
    console.log(
      `| ${name} | ${r.family} | ${r.peer_agrees}/${r.sentences} | ${r.ours_load_ms} / ${r.peer_load_ms} | ${fmt(r.ours_tokens_per_s_single)} | ${r.ratio_single}x | ${r.ratio_batch64}x | ${r.ratio_first_pass}x |`,
    );
  }
  return out;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
