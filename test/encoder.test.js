// End-to-end: SentenceEncoder on the CPU engine against the reference fixtures (Hugging Face
// transformers + sentence-transformers on the same weights), plus the API's contract:
// batch-composition independence, concurrency, dispose, argument errors.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const path = require('node:path');
const fs = require('node:fs');
const { SentenceEncoder, SbertError } = require('../dist');
const { FIXTURES, readReference, realLength, cosine, maxAbs, maxAbsDiff, variantFolder, rng } = require('./helpers/reference');

const MODELS = ['tiny', 'headdim32-f16', 'headdim64-f32'];
const TINY = path.join(FIXTURES, 'tiny');

/** Reference pooled vectors computed from last_hidden_state for modes without a stored tensor. */
function poolFromReference(ref, i, mode) {
  const h = ref.tensors.last_hidden_state;
  const [, L, H] = h.shape;
  const len = realLength(ref, i);
  const out = new Float64Array(H);
  let wsum = 0;
  for (let t = 0; t < len; t++) {
    const w = mode === 'weightedmean' ? t + 1 : 1;
    wsum += w;
    for (let d = 0; d < H; d++) out[d] += w * h.data[(i * L + t) * H + d];
  }
  if (mode === 'lasttoken') return Array.from({ length: H }, (_, d) => h.data[(i * L + len - 1) * H + d]);
  return Array.from(out, (v) => v / wsum);
}

for (const name of MODELS) {
  const ref = readReference(name);
  const n = ref.sentences.length;

  test(`${name}: token ids and truncation match the reference`, async () => {
    const enc = await SentenceEncoder.load(path.join(FIXTURES, name), { device: 'cpu' });
    try {
      const L = ref.tensors.input_ids.shape[1];
      assert.is(enc.maxSeqLength, ref.meta.max_seq_length ?? enc.maxSeqLength);
      for (let i = 0; i < n; i++) {
        const len = realLength(ref, i);
        const want = Array.from(ref.tensors.input_ids.data.subarray(i * L, i * L + len));
        const got = Array.from(enc.tokenizer.encode(ref.sentences[i], { maxLength: enc.maxSeqLength }).ids);
        assert.equal(got, want, `sentence ${i}`);
      }
    } finally {
      enc.dispose();
    }
  });

  test(`${name}: last_hidden_state within 1e-4 × max|ref| on real tokens`, async () => {
    const enc = await SentenceEncoder.load(path.join(FIXTURES, name), { device: 'cpu' });
    try {
      const tokens = await enc.encode(ref.sentences, { outputValue: 'token_embeddings' });
      const h = ref.tensors.last_hidden_state;
      const [, L, H] = h.shape;
      const scale = maxAbs(h.data);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const len = realLength(ref, i);
        assert.is(tokens[i].count, len, `sentence ${i} length`);
        assert.is(tokens[i].dim, H);
        worst = Math.max(worst, maxAbsDiff(tokens[i].data, h.data.subarray(i * L * H, (i * L + len) * H)));
      }
      assert.ok(worst <= 1e-4 * scale, `max abs error ${worst} > 1e-4 × ${scale}`);
    } finally {
      enc.dispose();
    }
  });

  test(`${name}: st_encode (the folder's own modules), cosine ≥ 0.99999`, async () => {
    const enc = await SentenceEncoder.load(path.join(FIXTURES, name), { device: 'cpu' });
    try {
      const emb = await enc.encode(ref.sentences);
      const st = ref.tensors.st_encode;
      assert.is(emb.count, n);
      assert.is(emb.dim, st.shape[1]);
      assert.is(enc.dimension, st.shape[1]);
      for (let i = 0; i < n; i++) {
        const want = st.data.subarray(i * emb.dim, (i + 1) * emb.dim);
        const c = cosine(emb.row(i), want);
        assert.ok(c >= 0.99999, `sentence ${i}: cosine ${c}`);
        assert.ok(maxAbsDiff(emb.row(i), want) <= 1e-4 * Math.max(maxAbs(want), 1e-6), `sentence ${i}: abs error`);
      }
    } finally {
      enc.dispose();
    }
  });

  test(`${name}: every pooling mode vs the reference`, async () => {
    const stored = { cls: 'pool_cls', max: 'pool_max', mean: 'pool_mean', mean_sqrt_len_tokens: 'pool_mean_sqrt_len' };
    for (const mode of ['cls', 'max', 'mean', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken']) {
      const dir = variantFolder(name, { pooling: [mode] });
      const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
      try {
        const emb = await enc.encode(ref.sentences);
        for (let i = 0; i < n; i++) {
          const want = stored[mode]
            ? ref.tensors[stored[mode]].data.subarray(i * emb.dim, (i + 1) * emb.dim)
            : poolFromReference(ref, i, mode);
          const c = cosine(emb.row(i), want);
          assert.ok(c >= 0.99999, `${mode}, sentence ${i}: cosine ${c}`);
        }
      } finally {
        enc.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });
}

test('several pooling modes are concatenated in sentence-transformers order', async () => {
  const ref = readReference('headdim64-f32');
  const dir = variantFolder('headdim64-f32', { pooling: ['mean', 'cls', 'max'] });
  const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
  try {
    const H = 256;
    assert.is(enc.dimension, 3 * H);
    const emb = await enc.encode(ref.sentences.slice(0, 4));
    for (let i = 0; i < 4; i++) {
      const row = emb.row(i);
      // sentence-transformers order: cls, max, mean
      assert.ok(cosine(row.subarray(0, H), ref.tensors.pool_cls.data.subarray(i * H, (i + 1) * H)) >= 0.99999);
      assert.ok(cosine(row.subarray(H, 2 * H), ref.tensors.pool_max.data.subarray(i * H, (i + 1) * H)) >= 0.99999);
      assert.ok(cosine(row.subarray(2 * H), ref.tensors.pool_mean.data.subarray(i * H, (i + 1) * H)) >= 0.99999);
    }
  } finally {
    enc.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function randomSentences(count, seed) {
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'quickly', 'running', 'dogs', 'über', 'naïve', '東京', 'play', '!', 'ping-pong', 'unbelievably', 'x'];
  const r = rng(seed);
  return Array.from({ length: count }, () => {
    const len = 1 + Math.floor(r() * 40);
    return Array.from({ length: len }, () => words[Math.floor(r() * words.length)]).join(' ');
  });
}

test('the same sentence gives the same embedding alone or inside a batch of 1,000', async () => {
  const enc = await SentenceEncoder.load(path.join(FIXTURES, 'headdim32-f16'), { device: 'cpu' });
  try {
    const batch = randomSentences(1000, 7);
    const probe = [0, 1, 499, 999];
    const all = await enc.encode(batch);
    for (const i of probe) {
      const alone = await enc.encode(batch[i]);
      const d = maxAbsDiff(alone.row(0), all.row(i));
      assert.ok(d <= 1e-6, `sentence ${i}: ${d}`);
    }
    // Tiny token budgets split the batch differently: same results.
    const small = await enc.encode(batch.slice(0, 50), { batchTokens: 17 });
    assert.ok(maxAbsDiff(small.data, all.data.subarray(0, 50 * all.dim)) <= 1e-6);
  } finally {
    enc.dispose();
  }
});

test('100 concurrent encode calls resolve to what sequential calls give', async () => {
  const enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  try {
    const inputs = Array.from({ length: 100 }, (_, i) => randomSentences(1 + (i % 5), 100 + i));
    const sequential = [];
    for (const t of inputs) sequential.push(await enc.encode(t));
    const concurrent = await Promise.all(inputs.map((t) => enc.encode(t)));
    for (let i = 0; i < inputs.length; i++) assert.ok(maxAbsDiff(concurrent[i].data, sequential[i].data) === 0, `call ${i}`);
  } finally {
    enc.dispose();
  }
});

test('dispose() while calls are in flight: each call finishes or rejects with ERR_DISPOSED', async () => {
  const enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  const calls = Array.from({ length: 30 }, (_, i) => enc.encode(randomSentences(20, i)));
  enc.dispose();
  enc.dispose(); // idempotent
  const settled = await Promise.allSettled(calls);
  for (const s of settled) {
    if (s.status === 'rejected') {
      assert.instance(s.reason, SbertError);
      assert.is(s.reason.code, 'ERR_DISPOSED');
    } else {
      assert.is(s.value.count, 20);
    }
  }
  assert.ok(enc.disposed);
  try {
    await enc.encode('after dispose');
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.is(err.code, 'ERR_DISPOSED');
  }
});

test('edge cases: [] → empty, "" is a sentence, single string, normalize, token embeddings', async () => {
  const enc = await SentenceEncoder.load(path.join(FIXTURES, 'headdim64-f32'), { device: 'cpu' });
  try {
    const empty = await enc.encode([]);
    assert.is(empty.count, 0);
    assert.is(empty.dim, enc.dimension);
    assert.is(empty.data.length, 0);
    const blank = await enc.encode('');
    assert.is(blank.count, 1);
    assert.ok(blank.data.every(Number.isFinite));
    const one = await enc.encode('hello world');
    const many = await enc.encode(['hello world', 'x']);
    assert.ok(maxAbsDiff(one.row(0), many.row(0)) <= 1e-6);
    const texts = ['hello world', 'a much longer sentence here'];
    const raw = await enc.encode(texts);
    const norm = await enc.encode(texts, { normalize: true });
    for (let i = 0; i < norm.count; i++) {
      const row = norm.row(i);
      const len = Math.hypot(...row);
      assert.ok(Math.abs(len - 1) < 1e-5, `norm ${len}`);
      // normalize only rescales: each row is the unnormalized row over its length
      const rawLen = Math.hypot(...raw.row(i));
      assert.ok(maxAbsDiff(row, raw.row(i).map((v) => v / rawLen)) < 1e-6, `row ${i}`);
    }
    assert.ok(cosine(norm.row(0), one.row(0)) > 0.99999);
    // Truncation: a very long input gives exactly maxSeqLength token embeddings.
    const long = 'word '.repeat(5000);
    const tok = await enc.encode([long], { outputValue: 'token_embeddings' });
    assert.is(tok[0].count, enc.maxSeqLength);
  } finally {
    enc.dispose();
  }
});

test('argument errors are TypeError/RangeError naming the argument', async () => {
  const enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  try {
    let err = await enc.encode(['ok', 'fine', 3]).catch((e) => e);
    assert.instance(err, TypeError);
    assert.match(err.message, 'texts[2]');
    err = await enc.encode(null).catch((e) => e);
    assert.instance(err, TypeError);
    err = await enc.encode(['a'], { batchTokens: 0 }).catch((e) => e);
    assert.instance(err, RangeError);
    assert.match(err.message, 'batchTokens');
    err = await enc.encode(['a'], { outputValue: 'nope' }).catch((e) => e);
    assert.instance(err, RangeError);
    err = await SentenceEncoder.load(TINY, { device: 'gpu' }).catch((e) => e);
    assert.instance(err, RangeError);
    assert.match(err.message, 'device');
    err = await SentenceEncoder.load(TINY, { precision: 'fp8' }).catch((e) => e);
    assert.instance(err, RangeError);
  } finally {
    enc.dispose();
  }
});

test('a folder that is not loadable → ERR_BAD_MODEL; a missing GPU → ERR_NO_CUDA', async () => {
  let err = await SentenceEncoder.load(path.join(FIXTURES, 'does-not-exist'), { device: 'cpu' }).catch((e) => e);
  assert.instance(err, SbertError);
  assert.is(err.code, 'ERR_BAD_MODEL');
  err = await SentenceEncoder.load(path.join(FIXTURES, 'classic-layout-all-MiniLM-L6-v2'), { device: 'cpu' }).catch((e) => e);
  assert.is(err.code, 'ERR_BAD_MODEL');
  const { cudaDevices } = require('../dist');
  if (cudaDevices().length === 0) {
    err = await SentenceEncoder.load(TINY, { device: 'cuda' }).catch((e) => e);
    assert.instance(err, SbertError);
    assert.is(err.code, 'ERR_NO_CUDA');
  }
});

test('weights are read from the file by native code: tensor sources hold no bytes, their ranges read back equal the eager views; a file cut after its header was read is ERR_BAD_MODEL naming the tensor', async () => {
  const w = require('../dist/weights');
  const { native } = require('../dist/native');
  const file = path.join(TINY, 'model.safetensors');
  const eager = await w.readSafetensors(file);
  const lazy = await w.readSafetensorsLazy(file);
  for (const [name, v] of eager.tensors) {
    const l = lazy.tensors.get(name);
    assert.ok(w.isTensorSource(l) && !w.isTensorSource(v), `${name}: a source when lazy, bytes when eager`);
    assert.equal([l.file, l.byteLength], [file, v.bytes.byteLength], `${name} knows its file and length`);
    assert.not.ok('bytes' in l, `${name}: a source has no bytes property (nothing hides a read behind it)`);
    assert.equal(Buffer.from(await w.readTensorBytes(l)), Buffer.from(v.bytes), `${name}: the source's range equals the file's bytes`);
    assert.is(await w.readTensorBytes(v), v.bytes, 'a view\'s bytes are its own');
  }
  const tmp = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'sbert-cut-'));
  fs.cpSync(TINY, tmp, { recursive: true });
  const folder = await w.loadModelFolder(tmp, { lazyWeights: true });
  const spec = w.buildNativeSpec(folder);
  fs.truncateSync(path.join(tmp, 'model.safetensors'), 1000);
  const err = await native().createEngine({ spec, device: 'cpu', deviceIndex: 0, precision: 'fp32', retainTokens: 8192 }).then(
    () => assert.unreachable('a cut file must not load'), (e) => e);
  assert.ok(err instanceof SbertError, String(err));
  assert.is(err.code, 'ERR_BAD_MODEL');
  assert.match(err.message, /tensor embeddings\.word_embeddings\.weight: cannot read/);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('finite weights that overflow fp32 arithmetic give ERR_BAD_MODEL at encode, never NaN embeddings (sentence and token outputs)', async () => {
  // A copy of tiny whose first layer's FFN weights are all 1e30: u = h·W1 is ~1e31, then f·W2
  // overflows to infinity and LayerNorm makes NaN — as PyTorch would compute it.
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'sbert-overflow-'));
  try {
    fs.cpSync(TINY, dir, { recursive: true });
    const file = path.join(dir, 'model.safetensors');
    const buf = fs.readFileSync(file);
    const headerLen = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
    for (const name of ['encoder.layer.0.intermediate.dense.weight', 'encoder.layer.0.output.dense.weight']) {
      const [a, b] = header[name].data_offsets;
      assert.is(header[name].dtype, 'F32');
      for (let o = 8 + headerLen + a; o < 8 + headerLen + b; o += 4) buf.writeFloatLE(1e30, o);
    }
    fs.writeFileSync(file, buf);
    const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
    try {
      for (const outputValue of ['sentence_embedding', 'token_embeddings']) {
        const err = await enc.encode(['a man is eating food.', 'hi'], { outputValue }).then(() => undefined, (e) => e);
        assert.ok(err instanceof SbertError, `${outputValue}: rejects with an SbertError (got ${err})`);
        assert.is(err.code, 'ERR_BAD_MODEL');
        assert.match(err.message, /non-finite value for (sentence|token) 0/);
      }
    } finally {
      enc.dispose();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('truncateDim (Matryoshka): the first N dims after the model\'s modules; normalize renormalizes the cut rows', async () => {
  const texts = ['A man is eating food.', 'A man is riding a horse.', ''];
  const enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  const cutByDefault = await SentenceEncoder.load(TINY, { device: 'cpu', truncateDim: 8 });
  try {
    const full = await enc.encode(texts);
    const cut = await enc.encode(texts, { truncateDim: 8 });
    assert.is(cut.dim, 8);
    assert.is(cut.count, 3);
    for (let r = 0; r < 3; r++) assert.equal(Array.from(cut.row(r)), Array.from(full.row(r).subarray(0, 8)));
    assert.equal(Array.from((await cutByDefault.encode(texts)).data), Array.from(cut.data), 'load option is the default');
    assert.is((await cutByDefault.encode(texts, { truncateDim: 32 })).dim, 32, 'the encode option wins');
    const renorm = await enc.encode(texts, { truncateDim: 8, normalize: true });
    for (let r = 0; r < 3; r++) {
      const x = Array.from(full.row(r).subarray(0, 8));
      const len = Math.sqrt(x.reduce((a, v) => a + v * v, 0));
      const got = Array.from(renorm.row(r));
      for (let j = 0; j < 8; j++) assert.ok(Math.abs(got[j] - x[j] / len) <= 1e-6, `row ${r} dim ${j}: ${got[j]} vs ${x[j] / len}`);
    }
    for (const bad of [0, 33, 1.5, '8']) {
      await enc.encode(texts, { truncateDim: bad }).then(() => assert.unreachable(`truncateDim ${bad}`), (e) => {
        assert.instance(e, RangeError);
        assert.match(e.message, /truncateDim/);
      });
    }
    await SentenceEncoder.load(TINY, { device: 'cpu', truncateDim: 64 }).then(() => assert.unreachable('load truncateDim 64'), (e) => assert.match(e.message, /truncateDim/));
  } finally {
    enc.dispose();
    cutByDefault.dispose();
  }
});

test('similarity_fn_name: enc.similarity / similarityPairwise use the model\'s function; a bad name is ERR_BAD_MODEL', async () => {
  const { similarity } = require('../dist');
  const os = require('node:os');
  const texts = ['A man is eating food.', 'A man is riding a horse.', 'A woman plays the violin.'];
  for (const fnName of ['cosine', 'dot', 'euclidean', 'manhattan']) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-simfn-'));
    fs.cpSync(TINY, dir, { recursive: true });
    const cfgFile = path.join(dir, 'config_sentence_transformers.json');
    fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')), similarity_fn_name: fnName }));
    const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
    try {
      assert.is(enc.model.similarityFnName, fnName);
      const e = await enc.encode(texts);
      const m = await enc.similarity(e, e);
      assert.equal(Array.from(m), Array.from(await similarity(e, e, { scoreFunction: fnName })));
      const p = await enc.similarityPairwise(e, { data: e.data.slice(), count: 3, dim: e.dim });
      for (let i = 0; i < 3; i++) assert.ok(Math.abs(p[i] - m[i * 3 + i]) <= 1e-5 * Math.max(1, Math.abs(m[i * 3 + i])), `${fnName} pair ${i}: ${p[i]} vs ${m[i * 3 + i]}`);
      // Pairs of different rows, against a plain float64 computation written here.
      const a = e.row(0), b = e.row(1);
      let dot = 0, l1 = 0, l2 = 0, aa = 0, bb = 0;
      for (let j = 0; j < e.dim; j++) { dot += a[j] * b[j]; l1 += Math.abs(a[j] - b[j]); l2 += (a[j] - b[j]) ** 2; aa += a[j] ** 2; bb += b[j] ** 2; }
      const want = { cosine: dot / Math.sqrt(aa * bb), dot, euclidean: -Math.sqrt(l2), manhattan: -l1 }[fnName];
      const got = (await enc.similarityPairwise({ data: a.slice(), count: 1, dim: e.dim }, { data: b.slice(), count: 1, dim: e.dim }))[0];
      assert.ok(Math.abs(got - want) <= 1e-6, `${fnName}: ${got} vs ${want}`);
    } finally {
      enc.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const bad = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-simfn-'));
  fs.cpSync(TINY, bad, { recursive: true });
  fs.writeFileSync(path.join(bad, 'config_sentence_transformers.json'), JSON.stringify({ similarity_fn_name: 'jaccard' }));
  await SentenceEncoder.load(bad, { device: 'cpu' }).then(() => assert.unreachable('jaccard'), (e) => {
    assert.is(e.code, 'ERR_BAD_MODEL');
    assert.match(e.message, /similarity_fn_name/);
  });
  fs.rmSync(bad, { recursive: true, force: true });
});

test('prompts: promptName, prompt, default_prompt_name, encodeQuery/encodeDocument prepend the text as sentence-transformers does', async () => {
  const os = require('node:os');
  const texts = ['A man is eating food.', 'Someone plays a guitar.'];
  const make = (stCfg, pooling) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-prompt-'));
    fs.cpSync(TINY, dir, { recursive: true });
    const cfgFile = path.join(dir, 'config_sentence_transformers.json');
    fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')), ...stCfg }));
    if (pooling) {
      const pf = path.join(dir, '1_Pooling', 'config.json');
      fs.writeFileSync(pf, JSON.stringify({ ...JSON.parse(fs.readFileSync(pf, 'utf8')), ...pooling }));
    }
    return dir;
  };
  const data = async (p) => Array.from((await p).data);
  const dirs = [];
  const plain = await SentenceEncoder.load(TINY, { device: 'cpu' });
  try {
    dirs.push(make({ prompts: { query: 'query: ', document: 'passage: ' }, default_prompt_name: null }));
    const enc = await SentenceEncoder.load(dirs[0], { device: 'cpu' });
    try {
      const q = texts.map((t) => 'query: ' + t);
      assert.equal(await data(enc.encode(texts, { promptName: 'query' })), await data(plain.encode(q)));
      assert.equal(await data(enc.encodeQuery(texts)), await data(plain.encode(q)));
      assert.equal(await data(enc.encodeDocument(texts)), await data(plain.encode(texts.map((t) => 'passage: ' + t))));
      assert.equal(await data(enc.encode(texts, { promptName: 'query', prompt: 'X ' })), await data(plain.encode(texts.map((t) => 'X ' + t))), 'prompt wins');
      assert.equal(await data(enc.encode(texts)), await data(plain.encode(texts)), 'no default prompt');
      await enc.encode(texts, { promptName: 'passage' }).then(() => assert.unreachable('unknown name'), (e) => {
        assert.instance(e, RangeError);
        assert.match(e.message, /promptName "passage".*"query", "document"/);
      });
    } finally {
      enc.dispose();
    }
    dirs.push(make({ prompts: { query: 'query: ' }, default_prompt_name: 'query' }));
    const def = await SentenceEncoder.load(dirs[1], { device: 'cpu' });
    try {
      assert.equal(await data(def.encode(texts)), await data(plain.encode(texts.map((t) => 'query: ' + t))), 'default prompt');
      assert.equal(await data(def.encode(texts, { prompt: '' })), await data(plain.encode(texts)), "prompt '' turns it off");
    } finally {
      def.dispose();
    }
    dirs.push(make({ prompts: { query: 'query: ' } }, { include_prompt: false }));
    const excl = await SentenceEncoder.load(dirs[2], { device: 'cpu' });
    try {
      assert.equal(await data(excl.encode(texts)), await data(plain.encode(texts)), 'no prompt: same as include_prompt true');
      // With a prompt the embeddings differ from pooling the prompted text (checked in detail below).
      const withPrompt = await data(excl.encode(texts, { promptName: 'query' }));
      assert.not.equal(withPrompt, await data(plain.encode(texts.map((t) => 'query: ' + t))));
    } finally {
      excl.dispose();
    }
    dirs.push(make({ prompts: { query: 'q' }, default_prompt_name: 'nope' }));
    await SentenceEncoder.load(dirs[3], { device: 'cpu' }).then(() => assert.unreachable('bad default'), (e) => assert.match(e.message, /default_prompt_name/));
  } finally {
    plain.dispose();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
});

test('native encode: poolSkipTokens must be an integer in [0, 2^31 - 1] (RangeError; TypeError for a non-number), beyond a sequence it pools nothing', async () => {
  const enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  try {
    const engine = enc.engine; // the native engine behind the encoder
    const ids = Int32Array.from(enc.tokenizer.encode('a b c').ids);
    const cuSeqlens = new Int32Array([0, ids.length]);
    for (const [v, type] of [[-1, RangeError], [1.5, RangeError], [NaN, RangeError], ['2', TypeError], [2 ** 31, RangeError], [null, TypeError]]) {
      // Argument errors are thrown by the call itself, before any work is queued.
      assert.throws(
        () => engine.encode({ ids, cuSeqlens, sentence: true, tokens: false, normalize: false, poolSkipTokens: v }),
        (e) => e instanceof type && /^options\.poolSkipTokens must be/.test(e.message),
        `poolSkipTokens ${String(v)}`,
      );
    }
    // tiny pools with mean then Normalize: nothing left → zeros (not NaN), as sentence-transformers.
    const r = await engine.encode({ ids, cuSeqlens, sentence: true, tokens: false, normalize: false, poolSkipTokens: 1000 });
    assert.ok(r.sentence.every((v) => v === 0));
    const zero = await engine.encode({ ids, cuSeqlens, sentence: true, tokens: false, normalize: false, poolSkipTokens: 0 });
    assert.equal(Array.from(zero.sentence), Array.from((await enc.encode('a b c')).data));
  } finally {
    enc.dispose();
  }
});

test('encode precision: the float embeddings (after normalize / truncateDim) through quantizeEmbeddings, as sentence-transformers encode(precision=...)', async () => {
  const { quantizeEmbeddings, Embeddings } = require('../dist');
  const enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  try {
    const texts = ['A man is eating food.', '', 'Someone plays a guitar.', 'Ünïcödé and 東京 too', 'x'];
    for (const options of [{}, { normalize: true, truncateDim: 20 }, { truncateDim: 13 }, { batchTokens: 5 }]) {
      const float = await enc.encode(texts, options);
      for (const precision of ['int8', 'uint8', 'binary', 'ubinary']) {
        const got = await enc.encode(texts, { ...options, precision });
        const want = quantizeEmbeddings(float, precision);
        const what = `${precision} ${JSON.stringify(options)}`;
        assert.is(got.precision, precision, what);
        assert.is(got.data.constructor, want.data.constructor, what);
        assert.is(got.count, texts.length, what);
        assert.is(got.dim, want.dim, what);
        assert.equal(Array.from(got.data), Array.from(want.data), what);
      }
      // 'float32' is sentence-transformers' default: the plain Embeddings.
      const f32 = await enc.encode(texts, { ...options, precision: 'float32' });
      assert.instance(f32, Embeddings);
      assert.equal(Array.from(f32.data), Array.from(float.data));
    }
    const q = await enc.encodeQuery(texts, { precision: 'ubinary' });
    assert.equal(Array.from(q.data), Array.from(quantizeEmbeddings(await enc.encodeQuery(texts), 'ubinary').data));
    const one = await enc.encode('A man is eating food.', { precision: 'binary' });
    assert.is(one.count, 1);
    assert.is(one.dim, 4);
    const none = await enc.encode([], { precision: 'int8' });
    assert.is(none.count, 0);
    assert.is(none.data.length, 0);
    for (const bad of ['int4', 'fp16', 8, 'INT8']) {
      await enc.encode(texts, { precision: bad }).then(() => assert.unreachable(String(bad)), (e) => {
        assert.instance(e, RangeError);
        assert.match(e.message, /options\.precision must be one of 'float32', 'int8', 'uint8', 'binary', 'ubinary'/);
      });
    }
    await enc.encode(texts, { precision: 'int8', outputValue: 'token_embeddings' }).then(() => assert.unreachable('tokens'), (e) => {
      assert.instance(e, RangeError);
      assert.match(e.message, /options\.precision 'int8'.*token_embeddings/);
    });
  } finally {
    enc.dispose();
  }
});

/**
 * sentence-transformers' Pooling.forward with `include_prompt: false` in float64, written out
 * here from its code: the attention mask of the first `skip` tokens is 0; Max fills masked
 * tokens with -1e9, the sums weigh them 0 and divide by clamp(count, 1e-9), Cls takes token 0,
 * LastToken gathers the last unmasked token (token 0 when none) times its mask. Then Normalize.
 */
function stPool(tok, skip, mode) {
  const L = tok.count, H = tok.dim;
  const x = (i, d) => tok.data[i * H + d];
  const mask = (i) => (i >= skip ? 1 : 0);
  const out = new Float64Array(H);
  for (let d = 0; d < H; d++) {
    if (mode === 'cls') { out[d] = x(0, d); continue; }
    if (mode === 'max') { let m = -Infinity; for (let i = 0; i < L; i++) m = Math.max(m, mask(i) ? x(i, d) : -1e9); out[d] = m; continue; }
    if (mode === 'lasttoken') { let last = 0; for (let i = 0; i < L; i++) if (mask(i)) last = i; out[d] = x(last, d) * mask(last); continue; }
    let s = 0, w = 0;
    for (let i = 0; i < L; i++) {
      const wi = mask(i) * (mode === 'weightedmean' ? i + 1 : 1);
      s += wi * x(i, d);
      w += wi;
    }
    w = Math.max(w, 1e-9);
    out[d] = s / (mode === 'mean_sqrt_len_tokens' ? Math.sqrt(w) : w);
  }
  let ss = 0;
  for (let d = 0; d < H; d++) ss += out[d] * out[d];
  const nrm = Math.max(Math.sqrt(ss), 1e-12);
  return Array.from(out, (v) => v / nrm);
}

test('include_prompt: false leaves the prompt tokens out of every pooling mode, as sentence-transformers', async () => {
  const os = require('node:os');
  // 'a' × 99 is several word pieces alone, but glued to the text's 'aa' it is one word over 100
  // characters: one [UNK], so every token of that sentence is inside the prompt's length.
  const prompts = { query: 'query: ', long: 'Represent this sentence for searching relevant passages: ', glued: 'a'.repeat(99) };
  const texts = ['A man is eating food.', '', 'Someone plays a guitar; a long one, with many more word pieces in it than the prompt.', 'xx'];
  const plain = await SentenceEncoder.load(TINY, { device: 'cpu' });
  const dirs = [];
  try {
    for (const mode of ['mean', 'max', 'cls', 'lasttoken', 'weightedmean', 'mean_sqrt_len_tokens']) {
      for (const maxSeq of [undefined, 9]) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-exclprompt-'));
        dirs.push(dir);
        fs.cpSync(TINY, dir, { recursive: true });
        const cfgFile = path.join(dir, 'config_sentence_transformers.json');
        fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')), prompts }));
        const pf = path.join(dir, '1_Pooling', 'config.json');
        fs.writeFileSync(pf, JSON.stringify({ ...JSON.parse(fs.readFileSync(pf, 'utf8')), pooling_mode: mode, include_prompt: false }));
        if (maxSeq) {
          const sb = path.join(dir, 'sentence_bert_config.json');
          fs.writeFileSync(sb, JSON.stringify({ ...JSON.parse(fs.readFileSync(sb, 'utf8')), max_seq_length: maxSeq }));
        }
        const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
        try {
          for (const [name, prompt] of Object.entries(prompts)) {
            // prompt_length: the prompt alone, [CLS] + pieces (+ [SEP] dropped), truncated as the texts are.
            const alone = enc.tokenizer.encode(prompt.toLowerCase(), { maxLength: enc.maxSeqLength }).ids;
            const skip = alone.length - 1;
            assert.is(enc.promptLength(prompt), skip, `${mode} ${name} promptLength`);
            const got = await enc.encode(texts, { promptName: name, batchTokens: 7 });
            // Token embeddings keep every token (the prompt's too) and equal the prompted text's.
            const toks = await enc.encode(texts, { promptName: name, outputValue: 'token_embeddings' });
            const plainToks = await enc.encode(texts.map((t) => prompt + t), { prompt: '', outputValue: 'token_embeddings' });
            for (let i = 0; i < texts.length; i++) {
              assert.equal(Array.from(toks[i].data), Array.from(plainToks[i].data), `${mode} ${name} tokens ${i}`);
              const want = stPool(toks[i], skip, mode);
              const row = got.row(i);
              for (let d = 0; d < want.length; d++) {
                assert.ok(Math.abs(row[d] - want[d]) <= 2e-6, `${mode} max_seq ${maxSeq} ${name} text ${i} dim ${d}: ${row[d]} vs ${want[d]} (skip ${skip} of ${toks[i].count})`);
              }
            }
            if (name === 'glued') {
              // Nothing left to pool: what sentence-transformers gives (after Normalize).
              const allMasked = toks[3].count <= skip;
              assert.ok(allMasked, `glued prompt + 'xx' is all prompt (${toks[3].count} tokens, skip ${skip})`);
            }
          }
          // Other texts in the same call, and concurrent calls with other prompts, do not mix.
          const [a, b, c] = await Promise.all([
            enc.encode(texts, { promptName: 'query' }),
            enc.encode(texts, { promptName: 'long' }),
            enc.encode(texts),
          ]);
          assert.equal(Array.from(a.data), Array.from((await enc.encode(texts, { promptName: 'query' })).data));
          assert.equal(Array.from(b.data), Array.from((await enc.encode(texts, { promptName: 'long' })).data));
          assert.equal(Array.from(c.data), Array.from((await enc.encode(texts)).data));
        } finally {
          enc.dispose();
        }
      }
    }
  } finally {
    plain.dispose();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
});

test.run();
