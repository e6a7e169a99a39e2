// BERT tokenizer: ids identical to Hugging Face `tokenizers` on the reference goldens, plus the
// API surface (packing, decode, errors, loading paths).
const path = require('path');
const fs = require('fs');
const { test } = require('uvu');
const assert = require('uvu/assert');
const {
  BertTokenizer,
  loadTokenizer,
  loadTokenizerFromJson,
  loadTokenizerFromVocab,
} = require('../dist/tokenizer');

const FIX = path.join(__dirname, 'fixtures', 'tokenizer');
const goldens = JSON.parse(require('node:zlib').gunzipSync(fs.readFileSync(path.join(FIX, 'tokenizer-goldens.json.gz'))).toString('utf8'));
const tokenizerJson = JSON.parse(fs.readFileSync(path.join(FIX, 'tokenizer.json'), 'utf8'));
const vocabText = fs.readFileSync(path.join(FIX, 'vocab.txt'), 'utf8');
const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(FIX, 'tokenizer_config.json'), 'utf8'));

let tok;
test.before(async () => {
  tok = await loadTokenizer(FIX);
});

const arr = (a) => Array.from(a);

/** Compare every case, report the first few differences. */
function checkAll(cases, encode, label) {
  assert.ok(cases.length > 0, `${label}: the fixture holds no case`);
  const bad = [];
  for (const c of cases) {
    const got = encode(c);
    if (got.length !== c.ids.length || got.some((x, i) => x !== c.ids[i])) {
      bad.push(`${JSON.stringify(c.text).slice(0, 80)}\n   got ${JSON.stringify(got).slice(0, 200)}\n   exp ${JSON.stringify(c.ids).slice(0, 200)}`);
    }
  }
  assert.is(bad.length, 0, `${label}: ${bad.length}/${cases.length} differ:\n${bad.slice(0, 5).join('\n')}`);
}

test('goldens: all cases (20,561 texts) identical to HF', () => {
  assert.ok(goldens.cases.length > 20000);
  checkAll(goldens.cases, (c) => arr(tok.encode(c.text).ids), 'cases');
});

test('goldens: cased_cases with lowercase=false (strip_accents follows it)', () => {
  const j = structuredClone(tokenizerJson);
  j.normalizer.lowercase = false;
  const cased = loadTokenizerFromJson(j);
  checkAll(goldens.cased_cases, (c) => arr(cased.encode(c.text).ids), 'cased_cases');
});

test('goldens: truncated to 16 and 128 (total length with [CLS]/[SEP])', () => {
  for (const [k, cases] of Object.entries(goldens.truncated)) {
    checkAll(cases, (c) => arr(tok.encode(c.text, { maxLength: Number(k) }).ids), `truncated ${k}`);
    for (const c of cases) assert.ok(c.ids.length <= Number(k));
  }
});

test('goldens: pairs with token type ids', () => {
  for (const p of goldens.pairs) {
    const r = tok.encodePair(p.a, p.b);
    assert.equal(arr(r.ids), p.ids);
    assert.equal(arr(r.typeIds), p.type_ids);
  }
});

test('goldens: encodeBatch packs exactly the single encodings', () => {
  const cases = goldens.cases.slice(0, 3000);
  const r = tok.encodeBatch(cases.map((c) => c.text));
  assert.is(r.cuSeqlens.length, cases.length + 1);
  assert.is(r.cuSeqlens[0], 0);
  assert.is(r.cuSeqlens[cases.length], r.ids.length);
  assert.is(r.typeIds.length, r.ids.length);
  assert.ok(r.typeIds.every((x) => x === 0));
  for (let i = 0; i < cases.length; i++) {
    assert.equal(arr(r.ids.subarray(r.cuSeqlens[i], r.cuSeqlens[i + 1])), cases[i].ids, cases[i].text);
  }
});

test('encodeBatch with maxLength truncates each text like encode', () => {
  const cases = goldens.truncated['16'];
  const r = tok.encodeBatch(cases.map((c) => c.text), { maxLength: 16 });
  for (let i = 0; i < cases.length; i++) {
    assert.equal(arr(r.ids.subarray(r.cuSeqlens[i], r.cuSeqlens[i + 1])), cases[i].ids);
  }
  const empty = tok.encodeBatch([]);
  assert.equal(arr(empty.cuSeqlens), [0]);
  assert.is(empty.ids.length, 0);
});

test('vocab.txt + tokenizer_config.json gives the same ids as tokenizer.json', async () => {
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'sbert-tok-'));
  try {
    fs.copyFileSync(path.join(FIX, 'vocab.txt'), path.join(dir, 'vocab.txt'));
    fs.copyFileSync(path.join(FIX, 'tokenizer_config.json'), path.join(dir, 'tokenizer_config.json'));
    const v = await loadTokenizer(dir);
    checkAll(goldens.cases.filter((_, i) => i % 4 === 0), (c) => arr(v.encode(c.text).ids), 'vocab.txt');
    checkAll(goldens.truncated['16'], (c) => arr(v.encode(c.text, { maxLength: 16 }).ids), 'vocab.txt trunc');
    for (const p of goldens.pairs) assert.equal(arr(v.encodePair(p.a, p.b).typeIds), p.type_ids);
    assert.is(v.vocabSize, tok.vocabSize);
    assert.is(v.modelMaxLength, 512);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // cased via do_lower_case: false
  const cased = loadTokenizerFromVocab(vocabText, { ...tokenizerConfig, do_lower_case: false });
  checkAll(goldens.cased_cases, (c) => arr(cased.encode(c.text).ids), 'vocab.txt cased');
});

test('properties: special ids, vocab size, model max length, lookups', () => {
  assert.is(tok.clsId, 101);
  assert.is(tok.sepId, 102);
  assert.is(tok.padId, 0);
  assert.is(tok.unkId, 100);
  assert.is(tok.vocabSize, 30522);
  assert.is(tok.modelMaxLength, 512);
  assert.is(tok.tokenToId('hello'), 7592);
  assert.is(tok.tokenToId('##ing'), 2075);
  assert.is(tok.tokenToId('not-a-token'), undefined);
  assert.is(tok.idToToken(7592), 'hello');
  assert.is(tok.idToToken(1e9), undefined);
  assert.ok(tok instanceof BertTokenizer);
  // no tokenizer_config.json: no model max length
  const bare = loadTokenizerFromJson(tokenizerJson);
  assert.is(bare.modelMaxLength, undefined);
});

test('tokenize returns token strings without special tokens', () => {
  assert.equal(tok.tokenize('Hello, unbelievable World!'), ['hello', ',', 'unbelievable', 'world', '!']);
  assert.equal(tok.tokenize('embeddings'), ['em', '##bed', '##ding', '##s']);
  assert.equal(tok.tokenize('[CLS] x [MASK]'), ['[CLS]', 'x', '[MASK]']);
  assert.equal(tok.tokenize(''), []);
});

test('addSpecialTokens: false', () => {
  assert.equal(arr(tok.encode('hello world', { addSpecialTokens: false }).ids), [7592, 2088]);
  assert.equal(arr(tok.encode('hello world foo', { addSpecialTokens: false, maxLength: 2 }).ids), [7592, 2088]);
});

test('decode: WordPiece decoder (## joined, cleanup) and skipSpecialTokens', () => {
  const ids = tok.encode("Hello, World! don't stop unbelievably.").ids;
  assert.is(tok.decode(ids), "[CLS] hello, world! don ' t stop unbelievably. [SEP]");
  assert.is(tok.decode(ids, { skipSpecialTokens: true }), "hello, world! don ' t stop unbelievably.");
  assert.is(tok.decode([]), '');
  assert.is(tok.decode([7592, 99999999, 2088]), 'hello world'); // unknown ids skipped (HF)
  // round trip of plain lowercase text
  for (const s of ['a man is playing a guitar.', 'the quick brown fox jumps over the lazy dog', 'embeddings are useful!']) {
    assert.is(tok.decode(tok.encode(s).ids, { skipSpecialTokens: true }), s);
  }
  assert.throws(() => tok.decode('abc'.length), TypeError);
});

test('bad input: TypeError naming the argument or the batch index', () => {
  assert.throws(() => tok.encode(42), (e) => e instanceof TypeError && /text is not a string \(got number\)/.test(e.message));
  assert.throws(() => tok.encode(null), (e) => e instanceof TypeError && /got null/.test(e.message));
  assert.throws(() => tok.encodePair('a', {}), (e) => e instanceof TypeError && /^b is not a string \(got object\)/.test(e.message));
  assert.throws(
    () => tok.encodeBatch(['a', 'b', 'c', 7]),
    (e) => e instanceof TypeError && e.message === 'texts[3] is not a string (got number)',
  );
  assert.throws(() => tok.encodeBatch('abc'), (e) => e instanceof TypeError && /texts is not an array/.test(e.message));
  assert.throws(() => tok.encode('x', { maxLength: -1 }), (e) => e instanceof TypeError && /maxLength/.test(e.message));
  assert.throws(() => tok.encode('x', { maxLength: 1.5 }), TypeError);
  assert.throws(() => tok.tokenize(undefined), TypeError);
  // the tokenizer still works after errors
  assert.equal(arr(tok.encode('hello').ids), [101, 7592, 102]);
});

test('unsupported tokenizer.json types are rejected with ERR_UNSUPPORTED_TOKENIZER, naming the component', () => {
  const variants = [
    [(j) => { j.model = { type: 'WordLevel', vocab: {}, unk_token: '[UNK]' }; }, /model type "WordLevel"/],
    [(j) => { j.model = { type: 'BPE', vocab: { a: 0 }, merges: [], dropout: 0.1 }; }, /model type "BPE with dropout 0\.1"/],
    [(j) => { j.normalizer = { type: 'Unidecode' }; }, /normalizer type "Unidecode"/],
    [(j) => { j.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Sequence', normalizers: [{ type: 'Lowercase' }, { type: 'Foo' }] }] }; }, /normalizer\.normalizers\[1\]\.normalizers\[1\] type "Foo"/],
    [(j) => { j.pre_tokenizer = { type: 'UnicodeScripts' }; }, /pre_tokenizer type "UnicodeScripts"/],
    [(j) => { j.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'BertPreTokenizer' }, { type: 'FixedLength', length: 5 }] }; }, /pre_tokenizer\.pretokenizers\[1\] type "FixedLength"/],
    [(j) => { j.pre_tokenizer = { type: 'Split', pattern: { Regex: 'a++' }, behavior: 'Isolated', invert: false }; }, /pre_tokenizer\.pattern regex "a\+\+" is not supported/],
    [(j) => { j.post_processor = { type: 'ByteLevel2' }; }, /post_processor type "ByteLevel2"/],
  ];
  for (const [mutate, re] of variants) {
    const j = structuredClone(tokenizerJson);
    mutate(j);
    assert.throws(
      () => loadTokenizerFromJson(j, { file: '/m/tokenizer.json' }),
      (e) => e.code === 'ERR_UNSUPPORTED_TOKENIZER' && re.test(e.message) && e.message.startsWith('/m/tokenizer.json'),
      re.source,
    );
  }
  // supported: Sequence of one BertNormalizer / BertPreTokenizer, no normalizer, BertProcessing
  const ok = structuredClone(tokenizerJson);
  ok.normalizer = { type: 'Sequence', normalizers: [tokenizerJson.normalizer] };
  ok.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'BertPreTokenizer' }] };
  ok.post_processor = { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] };
  assert.equal(arr(loadTokenizerFromJson(ok).encode('Hello').ids), [101, 7592, 102]);
  // an unknown decoder only fails decode
  const dec = structuredClone(tokenizerJson);
  dec.decoder = { type: 'CTC', pad_token: '<pad>', word_delimiter_token: '|', cleanup: true };
  const t = loadTokenizerFromJson(dec);
  assert.equal(arr(t.encode('Hello').ids), [101, 7592, 102]);
  assert.throws(() => t.decode([7592]), (e) => e.code === 'ERR_UNSUPPORTED_TOKENIZER' && /CTC/.test(e.message));
  // vocab.txt folder of a non-WordPiece tokenizer class (no tokenizer.json to read)
  assert.throws(
    () => loadTokenizerFromVocab(vocabText, { tokenizer_class: 'XLMRobertaTokenizer' }),
    (e) => e.code === 'ERR_UNSUPPORTED_TOKENIZER' && /XLMRobertaTokenizer/.test(e.message),
  );
});

test('missing or broken files: ERR_BAD_MODEL naming the file', async () => {
  const os = require('os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-tok-'));
  try {
    let err;
    try { await loadTokenizer(dir); } catch (e) { err = e; }
    assert.is(err && err.code, 'ERR_BAD_MODEL');
    assert.ok(err.message.includes(dir) && /no tokenizer\.json \(or vocab\.txt\)/.test(err.message));

    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"model": ');
    err = undefined;
    try { await loadTokenizer(dir); } catch (e) { err = e; }
    assert.is(err && err.code, 'ERR_BAD_MODEL');
    assert.ok(err.message.includes('tokenizer.json') && /not valid JSON/.test(err.message));

    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"model": {"type": "WordPiece", "vocab": {"a": "x"}}}');
    err = undefined;
    try { await loadTokenizer(dir); } catch (e) { err = e; }
    assert.is(err && err.code, 'ERR_BAD_MODEL');

    fs.rmSync(path.join(dir, 'tokenizer.json'));
    fs.writeFileSync(path.join(dir, 'vocab.txt'), '');
    err = undefined;
    try { await loadTokenizer(dir); } catch (e) { err = e; }
    assert.is(err && err.code, 'ERR_BAD_MODEL');
    assert.ok(/vocab\.txt: empty vocabulary/.test(err.message));

    fs.writeFileSync(path.join(dir, 'vocab.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n##s\n');
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), '{oops');
    err = undefined;
    try { await loadTokenizer(dir); } catch (e) { err = e; }
    assert.ok(err && err.code === 'ERR_BAD_MODEL' && err.message.includes('tokenizer_config.json'));

    // a tiny vocabulary without tokenizer_config.json: BERT defaults
    fs.rmSync(path.join(dir, 'tokenizer_config.json'));
    const tiny = await loadTokenizer(dir);
    assert.equal(arr(tiny.encode('Hellos, bye').ids), [2, 4, 5, 1, 1, 3]);
    assert.is(tiny.decode([2, 4, 5, 3], { skipSpecialTokens: true }), 'hellos');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loadTokenizer argument check', async () => {
  let err;
  try { await loadTokenizer(5); } catch (e) { err = e; }
  assert.ok(err instanceof TypeError && /dir/.test(err.message));
});

test.run();
