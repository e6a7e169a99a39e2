// The model families beyond BERT (issue 23) and cross-encoders (issue 24) on the CUDA engine:
// every family fixture (RoBERTa / XLM-R positions after padding, MPNet's relative attention
// bias, DistilBERT learned and sinusoidal positions, a BERT body with an XLM-R Unigram
// tokenizer) against its plain-PyTorch reference and against the CPU engine on the same inputs,
// at every precision; the cross-encoder heads (token type ids for BERT) against the CPU engine.
// Runs only where a CUDA device is present (test/run.js skips test/gpu/ otherwise).
//   fp16 / bf16: per-sentence cosine ≥ 0.999   fp32: ≥ 0.99999   (DESIGN.md "Numerics")
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const path = require('node:path');
const { SentenceEncoder, CrossEncoder } = require('../../dist');
const w = require('../../dist/weights');
const { FIXTURES, cosine } = require('../helpers/reference');

const FAMILIES = ['xlmr-tiny', 'xlmr-unigram-tiny', 'multilingual-minilm-tiny', 'mpnet-tiny', 'distilbert-tiny', 'distilbert-sinusoidal'];
const CROSS_ENCODERS = ['bert-ce', 'xlmr-ce', 'distilbert-ce', 'mpnet-ce'];
const PRECISIONS = ['fp16', 'bf16', 'fp32'];
const MIN_COS = { fp16: 0.999, bf16: 0.999, fp32: 0.99999 };

function familyReference(name) {
  const dir = path.join(FIXTURES, 'families', name);
  const st = w.parseSafetensors(fs.readFileSync(path.join(dir, 'reference.safetensors')), 'reference.safetensors');
  return {
    dir,
    sentences: JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')).sentences,
    sentence: w.toFloat32(st.tensors.get('sentence')),
  };
}

function worstCosine(a, b, count, dim) {
  let worst = 1;
  for (let i = 0; i < count; i++) worst = Math.min(worst, cosine(a.subarray(i * dim, (i + 1) * dim), b.subarray(i * dim, (i + 1) * dim)));
  return worst;
}

for (const name of FAMILIES) {
  for (const precision of PRECISIONS) {
    test(`${name} on CUDA (${precision}): sentence embeddings vs the PyTorch reference and vs the CPU engine; token embeddings vs the CPU engine`, async () => {
      const ref = familyReference(name);
      const gpu = await SentenceEncoder.load(ref.dir, { device: 'cuda', precision });
      const cpu = await SentenceEncoder.load(ref.dir, { device: 'cpu' });
      try {
        const n = ref.sentences.length;
        const g = await gpu.encode(ref.sentences);
        const c = await cpu.encode(ref.sentences);
        const vsRef = worstCosine(g.data, ref.sentence, n, gpu.dimension);
        const vsCpu = worstCosine(g.data, c.data, n, gpu.dimension);
        assert.ok(vsRef >= MIN_COS[precision], `${name} ${precision}: min cosine to the reference ${vsRef}`);
        assert.ok(vsCpu >= MIN_COS[precision], `${name} ${precision}: min cosine to the CPU engine ${vsCpu}`);
        const gt = await gpu.encode(ref.sentences, { outputValue: 'token_embeddings' });
        const ct = await cpu.encode(ref.sentences, { outputValue: 'token_embeddings' });
        for (let i = 0; i < n; i++) {
          assert.is(gt[i].count, ct[i].count, `tokens of sentence ${i}`);
          const worst = worstCosine(gt[i].data, ct[i].data, gt[i].count, gpu.hiddenSize);
          assert.ok(worst >= MIN_COS[precision], `${name} ${precision}: sentence ${i} token cosine ${worst}`);
        }
      } finally {
        gpu.dispose();
        cpu.dispose();
      }
    });
  }
}

for (const name of CROSS_ENCODERS) {
  test(`${name} on CUDA (fp32 and fp16): logits equal the CPU engine's (fp32 ≤ 1e-4 abs, fp16 ≤ 2e-2 abs); rank order of clear winners kept`, async () => {
    const dir = path.join(FIXTURES, 'cross-encoders', name);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'));
    const pairs = meta.pairs;
    const cpu = await CrossEncoder.load(dir, { device: 'cpu' });
    try {
      const want = await cpu.predict(pairs, { activation: 'identity' });
      const flat = (x) => (x instanceof Float32Array ? x : Float32Array.from(x.flatMap((r) => Array.from(r))));
      for (const [precision, tolerance] of [['fp32', 1e-4], ['fp16', 2e-2]]) {
        const gpu = await CrossEncoder.load(dir, { device: 'cuda', precision });
        try {
          const got = flat(await gpu.predict(pairs, { activation: 'identity' }));
          const ref = flat(want);
          let worst = 0;
          for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
          assert.ok(worst <= tolerance, `${name} ${precision}: max |logit(gpu) - logit(cpu)| ${worst}`);
        } finally {
          gpu.dispose();
        }
      }
    } finally {
      cpu.dispose();
    }
  });
}

test.run();
