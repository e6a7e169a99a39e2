'use strict';
// What CPU int8 and bf16 cost in accuracy (issue 28): for one model, every STS Benchmark sentence
// encoded in fp32, int8 and bf16 on the CPU engine, the cosine of each low-precision embedding to
// the fp32 one (min / 1st percentile / mean), and — with --eval — Spearman ×100 on every
// `sbert eval --task all` task (plus STSb-dev) in each precision, with the change from fp32.
//
//   node bench/precision-accuracy.js [--model DIR|default] [--n N] [--eval] [--precisions fp32,int8,bf16] [--json]
//
// --model: a model folder (default: the bundled models/default-en). Random-weight models (e.g.
//   bench/.models/minilm-l6-random from make-minilm.js) have no STS meaning: report their cosines
//   only (no --eval).
// --n: the first N unique STSb sentences (stsb.js; default all of train + dev + test).
// Precisions this CPU cannot run are reported as refused (with the engine's reason).
// Prints a table, the CPU features, and one JSON line.
const path = require('node:path');
const os = require('node:os');
const { SentenceEncoder, buildInfo } = require('../dist');
const { evaluateStsTask } = require('../dist/eval');
const { stsSentences } = require('./stsb');

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const flag = (name) => args.includes(`--${name}`);

const MODEL = arg('model', 'default');
const N = Number(arg('n', 'Infinity'));
const PRECISIONS = arg('precisions', 'fp32,int8,bf16').split(',');
const EVAL = flag('eval');
const TASKS = ['sts12', 'sts13', 'sts14', 'sts15', 'sts16', 'stsb-test', 'sick-r', 'stsb-dev'];

function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}

async function main() {
  if (!PRECISIONS.includes('fp32')) PRECISIONS.unshift('fp32');
  const { sentences } = stsSentences(N);
  const info = buildInfo();
  const modelName = MODEL === 'default' ? 'default-en (bundled)' : path.basename(path.resolve(MODEL));
  console.log(`# ${modelName}: ${sentences.length} STSb sentences; CPU: ${os.cpus()[0].model}, ${info.cpu.threads} threads`);
  console.log(`# CPU features: ${info.cpu.features}; int8 path ${info.cpu.int8.best}; bf16 ${info.cpu.bf16.supported ? info.cpu.bf16.best : 'refused'}`);
  const results = {};
  let fp32Rows;
  for (const precision of PRECISIONS) {
    let enc;
    try {
      enc = await SentenceEncoder.load(MODEL === 'default' ? undefined : MODEL, { device: 'cpu', precision });
    } catch (err) {
      results[precision] = { refused: `${err.code}: ${err.message}` };
      console.log(`${precision}: refused — ${err.message}`);
      continue;
    }
    try {
      const t0 = process.hrtime.bigint();
      const emb = await enc.encode(sentences);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const r = { precision: enc.precision, computePrecision: emb.computePrecision, encodeSeconds: seconds };
      if (precision === 'fp32') {
        fp32Rows = emb;
      } else {
        const cos = [];
        for (let i = 0; i < emb.count; i++) cos.push(cosine(emb.row(i), fp32Rows.row(i)));
        const sorted = [...cos].sort((a, b) => a - b);
        r.cosine = {
          min: sorted[0],
          p01: sorted[Math.floor(0.01 * (sorted.length - 1))],
          mean: cos.reduce((a, b) => a + b, 0) / cos.length,
          worstSentence: sentences[cos.indexOf(sorted[0])],
        };
      }
      if (EVAL) {
        r.spearman = {};
        for (const task of TASKS) r.spearman[task] = (await evaluateStsTask(enc, task)).headline.spearman * 100;
      }
      results[precision] = r;
    } finally {
      enc.dispose();
    }
  }

  console.log('\n| precision | cosine to fp32: min | 1st pct | mean |' + (EVAL ? TASKS.map((t) => ` ${t} |`).join('') : ''));
  console.log('|---|---|---|---|' + (EVAL ? TASKS.map(() => '---|').join('') : ''));
  for (const p of PRECISIONS) {
    const r = results[p];
    if (!r || r.refused) {
      console.log(`| ${p} | refused | | |`);
      continue;
    }
    const c = r.cosine;
    const cos = c ? `${c.min.toFixed(6)} | ${c.p01.toFixed(6)} | ${c.mean.toFixed(6)}` : '1 | 1 | 1';
    const ev = EVAL
      ? TASKS.map((t) => {
          const v = r.spearman[t];
          const d = v - results.fp32.spearman[t];
          return ` ${v.toFixed(2)}${p === 'fp32' ? '' : ` (${d >= 0 ? '+' : ''}${d.toFixed(2)})`} |`;
        }).join('')
      : '';
    console.log(`| ${p} | ${cos} |${ev}`);
  }
  for (const p of PRECISIONS) {
    if (results[p]?.cosine) console.log(`# ${p} worst sentence: ${JSON.stringify(results[p].cosine.worstSentence)}`);
  }
  console.log(JSON.stringify({ model: modelName, sentences: sentences.length, cpuFeatures: info.cpu.features, int8Path: info.cpu.int8.best, bf16Path: info.cpu.bf16.supported ? info.cpu.bf16.best : null, results }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
