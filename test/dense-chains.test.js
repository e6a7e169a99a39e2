// Dense modules end to end: each folder of test/fixtures/dense-chains/ (written by
// tools/reference/make_dense_chains.py) chains a Pooling mode with Dense layers of a different
// activation (identity after cls+mean, relu then exact-erf GELU after max, sigmoid after
// mean_sqrt_len_tokens, tanh then a bias-free identity after mean), with or without Normalize.
// The CPU engine's sentence embeddings must equal a plain-PyTorch float64 forward of the same
// folder (torch.nn.functional activations, nothing of ours) on the same token ids.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const path = require('node:path');
const { SentenceEncoder } = require('../dist');
const { FIXTURES, cosine } = require('./helpers/reference');

const CHAINS = ['identity', 'relu-gelu', 'sigmoid', 'tanh'];
const MIN_COSINE = 0.99999;
const MAX_ABS_ERROR = 1e-5;

const folderOf = (name) => path.join(FIXTURES, 'dense-chains', name);
const referenceOf = (name) => JSON.parse(fs.readFileSync(path.join(folderOf(name), `${name}-reference.json`), 'utf8'));

for (const name of CHAINS) {
  test(`dense chain ${name}: CPU embeddings equal the PyTorch reference`, async () => {
    const ref = referenceOf(name);
    const enc = await SentenceEncoder.load(folderOf(name), { device: 'cpu' });
    try {
      assert.is(enc.maxSeqLength, ref.maxSeqLength, 'max_seq_length');
      assert.ok(ref.ids.some((ids) => ids.length === ref.maxSeqLength), 'some sentences are truncated');
      // Same token ids first, so a tokenizer change is reported as such, not as a Dense error.
      ref.sentences.forEach((s, i) => {
        const ids = Array.from(enc.tokenizer.encode(s, { maxLength: enc.maxSeqLength }).ids);
        assert.equal(ids, ref.ids[i], `token ids of sentence ${i}`);
      });
      const emb = await enc.encode(ref.sentences);
      assert.is(emb.dim, ref.dim, 'sentence dimension');
      assert.is(emb.count, ref.sentences.length, 'one embedding per sentence');
      for (let i = 0; i < emb.count; i++) {
        const got = Array.from(emb.row(i));
        const want = ref.embeddings[i];
        const cos = cosine(got, want);
        let maxAbs = 0;
        for (let d = 0; d < ref.dim; d++) maxAbs = Math.max(maxAbs, Math.abs(got[d] - want[d]));
        assert.ok(cos >= MIN_COSINE, `sentence ${i}: cosine ${cos} < ${MIN_COSINE}`);
        assert.ok(maxAbs <= MAX_ABS_ERROR, `sentence ${i}: max abs error ${maxAbs} > ${MAX_ABS_ERROR}`);
      }
    } finally {
      enc.dispose();
    }
  });
}

test('dense chains are written in the classic sentence-transformers layout', () => {
  for (const name of CHAINS) {
    const dir = folderOf(name);
    const modules = JSON.parse(fs.readFileSync(path.join(dir, 'modules.json'), 'utf8'));
    const dense = modules.filter((m) => m.type === 'sentence_transformers.models.Dense');
    assert.ok(dense.length > 0, `${name} has a Dense module`);
    for (const m of dense) {
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, m.path, 'config.json'), 'utf8'));
      assert.equal(Object.keys(cfg).sort(), ['activation_function', 'bias', 'in_features', 'out_features'], `${name}/${m.path}`);
      assert.match(cfg.activation_function, /^torch\.nn\.modules\.(activation|linear)\.[A-Za-z]+$/, `${name}/${m.path}`);
      assert.ok(fs.statSync(path.join(dir, m.path, 'model.safetensors')).size > 0, `${name}/${m.path} weights`);
    }
  }
});

test.run();
