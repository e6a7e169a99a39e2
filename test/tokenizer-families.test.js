// Tokenizer families beyond BERT: Unigram (XLM-R and sentencepiece layouts, byte fallback),
// byte-level BPE (RoBERTa, GPT-4-style Split + ByteLevel), WordPiece in MPNet's layout and
// behind the general components. Every stored golden (ids of the npm `tokenizers` binding on
// STS/SICK, many languages, adversarial and 100 kB texts; truncation right and left at several
// lengths; pairs; decode) must be identical, and the API must pack / pair / thread them the
// same way.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('uvu');
const assert = require('uvu/assert');
const { loadTokenizer, loadTokenizerFromJson, TokenizerPool, Tokenizer, BertTokenizer } = require('../dist/tokenizer');
const fam = require('./fixtures/tokenizer-families/families');

const arr = (a) => Array.from(a);
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

const loaded = new Map();
function tok(name) {
  if (!loaded.has(name)) loaded.set(name, loadTokenizerFromJson(fam.tokenizerJson(name), { file: `${name}/tokenizer.json` }));
  return loaded.get(name);
}

/** Runs every golden of a family; returns [identical, total] and the first differences. */
function checkFamily(name) {
  const t = tok(name);
  const g = fam.goldens(name);
  const { texts, pairs } = fam.texts();
  let total = 0;
  const bad = [];
  const check = (label, got, exp, input) => {
    total++;
    if (!same(arr(got), exp)) bad.push(`${label} ${JSON.stringify(input).slice(0, 100)}\n  got ${JSON.stringify(arr(got)).slice(0, 160)}\n  exp ${JSON.stringify(exp).slice(0, 160)}`);
  };
  for (const c of g.cases) {
    const e = t.encode(texts[c.t]);
    check('encode', e.ids, c.ids, texts[c.t]);
    check('typeIds', e.typeIds, c.typeIds ?? new Array(c.ids.length).fill(0), texts[c.t]);
  }
  for (const c of g.noSpecial) check('addSpecialTokens:false', t.encode(texts[c.t], { addSpecialTokens: false }).ids, c.ids, texts[c.t]);
  for (const tr of g.truncated) {
    for (const c of tr.cases) {
      check(`maxLength ${tr.maxLength} ${tr.side}`, t.encode(texts[c.t], { maxLength: tr.maxLength, truncationSide: tr.side }).ids, c.ids, texts[c.t]);
    }
  }
  for (const pg of g.pairs) {
    for (const c of pg.cases) {
      const [a, b] = pairs[c.p];
      const e = t.encodePair(a, b, { maxLength: pg.maxLength ?? undefined, truncationSide: pg.side });
      check(`pair ${pg.maxLength} ${pg.side}`, e.ids, c.ids, [a, b]);
      check(`pair typeIds ${pg.maxLength} ${pg.side}`, e.typeIds, c.typeIds, [a, b]);
    }
  }
  for (const d of g.decoded) {
    total += 2;
    const x = t.decode(d.ids);
    const y = t.decode(d.ids, { skipSpecialTokens: true });
    if (x !== d.text) bad.push(`decode ${JSON.stringify(x).slice(0, 80)} != ${JSON.stringify(d.text).slice(0, 80)}`);
    if (y !== d.skipped) bad.push(`decode skip ${JSON.stringify(y).slice(0, 80)} != ${JSON.stringify(d.skipped).slice(0, 80)}`);
  }
  return { total, bad };
}

const summary = [];
for (const name of fam.familyNames()) {
  test(`goldens: ${name} identical to HF tokenizers (encode, truncation right/left, pairs, decode)`, () => {
    const { total, bad } = checkFamily(name);
    summary.push(`${name}: ${total - bad.length}/${total}`);
    assert.ok(total > 10000, `${name}: only ${total} cases`);
    assert.is(bad.length, 0, `${name}: ${bad.length}/${total} differ:\n${bad.slice(0, 5).join('\n')}`);
  });
}

test('encodeBatch packs exactly the single encodings, for every family, both sides', () => {
  const { texts } = fam.texts();
  const sample = texts.filter((s) => s.length < 5000).filter((_, i) => i % 5 === 0);
  for (const name of fam.familyNames()) {
    const t = tok(name);
    for (const opts of [{}, { maxLength: 7 }, { maxLength: 7, truncationSide: 'left' }, { maxLength: 1 }]) {
      const r = t.encodeBatch(sample, opts);
      assert.is(r.cuSeqlens.length, sample.length + 1);
      assert.is(r.cuSeqlens[sample.length], r.ids.length);
      for (let i = 0; i < sample.length; i++) {
        const one = t.encode(sample[i], opts);
        const ids = r.ids.subarray(r.cuSeqlens[i], r.cuSeqlens[i + 1]);
        if (!same(arr(ids), arr(one.ids)) || !same(arr(r.typeIds.subarray(r.cuSeqlens[i], r.cuSeqlens[i + 1])), arr(one.typeIds))) {
          assert.unreachable(`${name} ${JSON.stringify(opts)}: text ${i} packed differently`);
        }
      }
    }
  }
});

test('encodePairBatch packs exactly the pair encodings (ids, type ids), longest-first, both sides', () => {
  const { pairs } = fam.texts();
  for (const name of fam.familyNames()) {
    const t = tok(name);
    for (const opts of [{}, { maxLength: 9 }, { maxLength: 9, truncationSide: 'left' }, { maxLength: 2 }]) {
      const r = t.encodePairBatch(pairs, opts);
      assert.is(r.cuSeqlens.length, pairs.length + 1);
      for (let i = 0; i < pairs.length; i++) {
        const one = t.encodePair(pairs[i][0], pairs[i][1], opts);
        const lo = r.cuSeqlens[i];
        const hi = r.cuSeqlens[i + 1];
        assert.ok(same(arr(r.ids.subarray(lo, hi)), arr(one.ids)), `${name} pair ${i} ids`);
        assert.ok(same(arr(r.typeIds.subarray(lo, hi)), arr(one.typeIds)), `${name} pair ${i} typeIds`);
        if (opts.maxLength >= t.numSpecialTokens(true)) assert.ok(hi - lo <= opts.maxLength);
      }
    }
  }
  const bert = tok('mpnet-wordpiece');
  assert.throws(() => bert.encodePairBatch('x'), (e) => e instanceof TypeError && /pairs is not an array/.test(e.message));
  assert.throws(() => bert.encodePairBatch([['a', 'b'], ['a']], { indexOffset: 10 }), (e) => e instanceof TypeError && /pairs\[11\] is not a \[string, string\] pair/.test(e.message));
  assert.throws(() => bert.encodePairBatch([['a', 3]]), (e) => e instanceof TypeError && /pairs\[0\]\[1\] is not a string \(got number\)/.test(e.message));
  assert.throws(() => bert.encode('a', { truncationSide: 'middle' }), (e) => e instanceof TypeError && /truncationSide/.test(e.message));
});

test('XLM-R layout: fairseq ids, <s> A </s> / <s> A </s></s> B </s>, all type ids 0, <mask> last', () => {
  const t = tok('xlmr-unigram');
  assert.is(t.family, 'Unigram');
  assert.ok(t instanceof Tokenizer && t instanceof BertTokenizer);
  assert.equal([t.clsId, t.padId, t.sepId, t.unkId], [0, 1, 2, 3]);
  const mask = t.tokenToId('<mask>');
  assert.is(mask, t.vocabSize - 1);
  assert.is(t.idToToken(mask), '<mask>');
  assert.ok([0, 1, 2, 3, mask].every((id) => t.isSpecialId(id)));
  assert.is(t.numSpecialTokens(), 2);
  assert.is(t.numSpecialTokens(true), 4);
  const e = t.encode('Hello world');
  assert.is(e.ids[0], 0);
  assert.is(e.ids[e.ids.length - 1], 2);
  const p = t.encodePair('Hello', 'world');
  const ids = arr(p.ids);
  const k = ids.indexOf(2);
  assert.equal([ids[0], ids[k], ids[k + 1], ids[ids.length - 1]], [0, 2, 2, 2]);
  assert.ok(arr(p.typeIds).every((x) => x === 0));
  // <mask> with lstrip swallows the space before it; Metaspace prepends ▁ to each segment
  assert.is(t.decode(t.encode('Hello <mask> world').ids, { skipSpecialTokens: true }), 'Hello world');
  // left truncation keeps <s> … </s> and the end of the text
  const left = arr(t.encode('one two three four five six', { maxLength: 4, truncationSide: 'left' }).ids);
  const full = arr(t.encode('one two three four five six').ids);
  assert.equal(left, [0, ...full.slice(full.length - 3, full.length - 1), 2]);
});

test('RoBERTa layout: byte-level BPE, <s> A </s></s> B </s>, type ids 0', () => {
  const t = tok('roberta-bpe');
  assert.is(t.family, 'BPE');
  assert.equal([t.clsId, t.padId, t.sepId], [0, 1, 2]);
  const p = t.encodePair('Hello there', 'General Kenobi');
  assert.ok(arr(p.typeIds).every((x) => x === 0));
  assert.is(t.decode(t.encode(' Hello  wörld 😀').ids, { skipSpecialTokens: true }), ' Hello  wörld 😀');
});

test('MPNet layout: WordPiece with <s> / </s> (TemplateProcessing and RobertaProcessing)', () => {
  const t = tok('mpnet-wordpiece');
  assert.is(t.family, 'WordPiece');
  const s = t.tokenToId('<s>');
  const e = t.tokenToId('</s>');
  assert.equal([t.clsId, t.sepId], [s, e]);
  const hello = t.tokenToId('hello');
  assert.equal(arr(t.encode('Hello').ids), [s, hello, e]);
  assert.equal(arr(t.encodePair('Hello', 'hello').ids), [s, hello, e, e, hello, e]);
  assert.equal(arr(t.encodePair('Hello', 'hello').typeIds), [0, 0, 0, 0, 1, 1]);
  const j = fam.tokenizerJson('mpnet-wordpiece');
  j.post_processor = { type: 'RobertaProcessing', sep: ['</s>', e], cls: ['<s>', s], trim_offsets: true, add_prefix_space: false };
  const r = loadTokenizerFromJson(j);
  assert.equal(arr(r.encodePair('Hello', 'hello').ids), [s, hello, e, e, hello, e]);
  assert.equal(arr(r.encodePair('Hello', 'hello').typeIds), [0, 0, 0, 0, 0, 0]);
});

test('loadTokenizer reads a folder of each family; requireSpecialTokens accepts them', async () => {
  for (const name of ['xlmr-unigram', 'roberta-bpe', 'gpt4-bpe']) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-fam-'));
    try {
      fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(fam.tokenizerJson(name)));
      fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 512 }));
      const t = await loadTokenizer(dir, { requireSpecialTokens: true });
      assert.is(t.modelMaxLength, 512);
      assert.equal(arr(t.encode('Hello world').ids), arr(tok(name).encode('Hello world').ids));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('worker threads give the same packed result for every family (spec travels to workers)', async () => {
  const { texts } = fam.texts();
  const sample = texts.filter((s) => s.length < 3000).slice(0, 900);
  for (const name of fam.familyNames()) {
    const t = tok(name);
    const pool = new TokenizerPool(t);
    try {
      for (const opts of [{ maxLength: 32 }, { maxLength: 32, truncationSide: 'left' }]) {
        const want = t.encodeBatch(sample, opts);
        const got = await pool.encodeBatch(sample, { ...opts, threads: 3, minBatch: 1 });
        assert.ok(same(arr(got.ids), arr(want.ids)), `${name} ${JSON.stringify(opts)} ids`);
        assert.ok(same(arr(got.cuSeqlens), arr(want.cuSeqlens)), `${name} cuSeqlens`);
      }
    } finally {
      pool.close();
    }
  }
});

test.after(() => {
  if (summary.length) console.log(`\n  tokenizer family goldens (identical/total): ${summary.join(', ')}`);
});

test.run();
