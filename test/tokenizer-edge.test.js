// BERT tokenizer edge cases: differential goldens from HF tokenizers 0.23.2 over several
// configurations (tools/reference/make_tokenizer_goldens.py), each normalization /
// pre-tokenization rule with explicit examples, lone surrogates, huge inputs (their timings:
// bench/tokenizer-edge.js).
const path = require('path');
const fs = require('fs');
const { test } = require('uvu');
const assert = require('uvu/assert');
const { loadTokenizer, loadTokenizerFromJson, normalizeString } = require('../dist/tokenizer');

const FIX = path.join(__dirname, 'fixtures', 'tokenizer');
const tokenizerJson = JSON.parse(fs.readFileSync(path.join(FIX, 'tokenizer.json'), 'utf8'));
const extra = JSON.parse(require('node:zlib').gunzipSync(fs.readFileSync(path.join(FIX, 'extra-goldens.json.gz'))).toString('utf8'));

let tok;
test.before(async () => {
  tok = await loadTokenizer(FIX);
});

const arr = (a) => Array.from(a);
const ids = (text, opts) => arr(tok.encode(text, opts).ids);
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const show = (s) => JSON.stringify(s).slice(0, 120);

test('reference goldens: every configuration is there', () => {
  assert.is(extra.configs.length, 9);
});

for (const cfg of extra.configs) {
  test(`reference goldens, config "${cfg.name}": encode, truncation, pairs, decode`, () => {
    for (const part of ['cases', 'truncated', 'pairs', 'decode']) assert.ok(cfg[part].length > 0, `${cfg.name}: no ${part}`);
    const j = structuredClone(cfg.tokenizer);
    j.model.vocab = tokenizerJson.model.vocab;
    const t = loadTokenizerFromJson(j);
    const bad = [];
    for (const c of cfg.cases) {
      const r = t.encode(c.text);
      if (!same(arr(r.ids), c.ids) || !same(arr(r.typeIds), c.type_ids)) bad.push(`encode ${show(c.text)}`);
      if (!same(arr(t.encode(c.text, { addSpecialTokens: false }).ids), c.ids_nospecial)) bad.push(`nospecial ${show(c.text)}`);
    }
    for (const c of cfg.truncated) {
      if (!same(arr(t.encode(c.text, { maxLength: c.max_length }).ids), c.ids)) bad.push(`trunc ${c.max_length} ${show(c.text)}`);
    }
    for (const p of cfg.pairs) {
      const r = t.encodePair(p.a, p.b, { maxLength: p.max_length });
      if (!same(arr(r.ids), p.ids) || !same(arr(r.typeIds), p.type_ids)) bad.push(`pair ${p.max_length} ${show(p.a)} | ${show(p.b)}`);
      const f = t.encodePair(p.a, p.b);
      if (!same(arr(f.ids), p.ids_full) || !same(arr(f.typeIds), p.type_ids_full)) bad.push(`pair ${show(p.a)}`);
    }
    for (const d of cfg.decode) {
      if (t.decode(d.ids, { skipSpecialTokens: d.skip }) !== d.text) bad.push(`decode ${show(d.ids)}`);
    }
    assert.is(bad.length, 0, bad.slice(0, 5).join('\n'));
    // batches give the same as singles
    const texts = cfg.cases.map((c) => c.text);
    const b = t.encodeBatch(texts);
    for (let i = 0; i < texts.length; i++) {
      assert.ok(same(arr(b.ids.subarray(b.cuSeqlens[i], b.cuSeqlens[i + 1])), cfg.cases[i].ids), `batch ${i}`);
      assert.ok(same(arr(b.typeIds.subarray(b.cuSeqlens[i], b.cuSeqlens[i + 1])), cfg.cases[i].type_ids));
    }
  });
}

// Expected ids below were produced by HF tokenizers 0.23.2 with test/fixtures/tokenizer/tokenizer.json.

test('accents: NFD + drop nonspacing marks, then lowercase', () => {
  assert.equal(ids('Café naïve RÉSUMÉ'), [101, 7668, 15743, 13746, 102]);
  assert.equal(ids('e\u0301cole'), [101, 12431, 102]); // combining acute dropped
  assert.equal(ids('Ångström'), [101, 17076, 15687, 102]);
  assert.equal(ids('İ'), [101, 1045, 102]); // I + U+0307 -> i
  assert.equal(ids('ΟΔΟΣ'), [101, 1169, 29722, 29730, 29733, 102]); // per-character lowercase: no final sigma
  const opt = { cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true };
  assert.is(normalizeString('ΟΔΟΣ Ḉ a\u0316\u0301', opt), 'οδοσ c a');
  assert.is(normalizeString('a\u0301\u0316', { ...opt, stripAccents: false, lowercase: false }), 'a\u0301\u0316');
});

test('CJK ideographs become words of their own (HF code point ranges)', () => {
  assert.equal(ids('中文abc字'), [101, 1746, 1861, 5925, 100, 102]);
  assert.equal(ids('\uf900x'), [101, 100, 1060, 102]); // compatibility ideograph
  assert.equal(ids('\u{20000}z'), [101, 100, 1062, 102]); // extension B
  assert.equal(tok.tokenize('日本語のひらがな'), ['日', '本', '語', 'の', '##ひ', '##ら', '##か', '##な']); // kana are not split
});

test('punctuation: ASCII symbols and the reference Unicode P* table', () => {
  assert.equal(ids('a$b+c<d=e>f^g`h|i~j'), [101, 1037, 1002, 1038, 1009, 1039, 1026, 1040, 1027, 1041, 1028, 1042, 1034, 1043, 1036, 1044, 1064, 1045, 1066, 1046, 102]);
  assert.equal(ids('x¿y¡'), [101, 1060, 1094, 1061, 1067, 102]);
  assert.equal(ids('a—b…c'), [101, 1037, 1517, 1038, 1529, 1039, 102]);
  // U+2E5D is punctuation in Unicode 14 (and in Node's \p{P}), not in HF's tables: no split
  assert.equal(ids('x\u2e5dy'), [101, 100, 102]);
});

test('clean_text: control / format characters removed, whitespace becomes a space', () => {
  assert.equal(ids('a\u0000b\u0001c\u007fd'), [101, 5925, 2094, 102]);
  assert.equal(ids('a\u0085b'), [101, 11113, 102]); // NEL is a control character: removed, not a space
  assert.equal(ids('a\u200bb'), [101, 11113, 102]);
  assert.equal(ids('a\ufeffb'), [101, 11113, 102]);
  assert.equal(ids('a\ufffdb'), [101, 11113, 102]);
  assert.equal(ids('a\u00a0b'), [101, 1037, 1038, 102]);
  assert.equal(ids('a\u3000b'), [101, 1037, 1038, 102]);
  assert.equal(ids('x\ue000y'), [101, 1060, 2100, 102]); // private use removed
  assert.equal(ids('x\u0890y'), [101, 100, 102]); // Cf only in newer Unicode: kept by HF
  assert.equal(ids('\t\n\r '), [101, 102]);
});

test('lone surrogates are read as U+FFFD (removed by clean_text)', () => {
  assert.equal(ids('a\ud800b'), ids('a\ufffdb'));
  assert.equal(ids('a\udc00b'), [101, 11113, 102]);
  assert.equal(ids('\ud83d'), [101, 102]);
  assert.equal(ids('x\ud83d\ude00\ud83d'), ids('x\u{1f600}\ufffd'));
  const noClean = structuredClone(tokenizerJson);
  noClean.normalizer.clean_text = false;
  const t = loadTokenizerFromJson(noClean);
  assert.equal(arr(t.encode('a\ud800b').ids), arr(t.encode('a\ufffdb').ids));
});

test('max_input_chars_per_word: 100 characters (code points) then [UNK]', () => {
  assert.is(ids('a'.repeat(100)).length, 52);
  assert.equal(ids('a'.repeat(101)), [101, 100, 102]);
  assert.equal(ids('\u{1f600}'.repeat(100)), [101, 100, 102]); // 200 UTF-16 units, 100 chars: in the limit, no vocab
  assert.equal(ids('é'.repeat(101)), [101, 100, 102]);
  assert.equal(ids('x ' + 'b'.repeat(5000) + ' y'), [101, 1060, 100, 1061, 102]);
});

test('special tokens written in the text are matched on the raw text', () => {
  assert.equal(ids('[CLS][SEP][MASK]'), [101, 101, 102, 103, 102]);
  assert.equal(ids('x[MASK]y'), [101, 1060, 103, 1061, 102]);
  assert.equal(ids('[[SEP]]'), [101, 1031, 102, 1033, 102]);
  assert.equal(ids('[cls] [Mask]'), [101, 1031, 18856, 2015, 1033, 1031, 7308, 1033, 102]); // not normalized: no match
});

test('added tokens: lstrip / rstrip / single_word / normalized, as HF', () => {
  const j = structuredClone(tokenizerJson);
  j.added_tokens.push(
    { id: 30522, content: '<mask>', single_word: false, lstrip: true, rstrip: true, normalized: false, special: false },
    { id: 30523, content: 'New York', single_word: true, lstrip: false, rstrip: false, normalized: true, special: false },
  );
  const t = loadTokenizerFromJson(j);
  // HF: ['a', '  <mask>  ', 'b', '[CLS]', 'x']
  assert.equal(t.tokenize('a  <mask>  b [CLS]x'), ['a', '  <mask>  ', 'b', '[CLS]', 'x']);
  assert.equal(arr(t.encode('a  <mask>  b').ids), [101, 1037, 30522, 1038, 102]);
  // normalized: matched on the lowercased text, only as a single word
  assert.equal(t.tokenize('I love NEW YORK!'), ['i', 'love', 'new york', '!']);
  assert.equal(t.tokenize('xnew york'), ['x', '##ne', '##w', 'york']);
  assert.is(t.decode([30523, 30522]), 'new york <mask>');
});

test('pairs: longest_first truncation counting the 3 special tokens', () => {
  const long = 'a b c d e f g h i j k';
  let r = tok.encodePair(long, 'x y z w v u t s', { maxLength: 9 });
  assert.equal(arr(r.ids), [101, 1037, 1038, 1039, 102, 1060, 1061, 1062, 102]);
  assert.equal(arr(r.typeIds), [0, 0, 0, 0, 0, 1, 1, 1, 1]);
  r = tok.encodePair(long, 'x y', { maxLength: 10 });
  assert.equal(arr(r.ids), [101, 1037, 1038, 1039, 1040, 1041, 102, 1060, 1061, 102]);
  r = tok.encodePair('hello', 'world', { maxLength: 512 });
  assert.equal(arr(r.ids), [101, 7592, 102, 2088, 102]);
  r = tok.encodePair('hello world', 'a b', { maxLength: 3 });
  assert.equal(arr(r.ids), [101, 102, 102]);
});

test('maxLength below the number of special tokens: HF does not truncate (reproduced)', () => {
  // HF computes max_length - 2 in usize (wraps), so no truncation, after stopping at the first word
  assert.equal(ids('hello world foo bar', { maxLength: 0 }), [101, 7592, 102]);
  assert.equal(ids('hello world foo bar', { maxLength: 1 }), [101, 7592, 102]);
  assert.equal(ids('hello world foo bar', { maxLength: 2 }), [101, 102]);
  assert.equal(ids('hello world foo bar', { maxLength: 3 }), [101, 7592, 102]);
  assert.equal(ids('[CLS] x y', { maxLength: 0 }), [101, 101, 1060, 102]);
  assert.equal(arr(tok.encodePair('hello world foo', 'a b c d e f', { maxLength: 2 }).ids), [101, 7592, 2088, 102, 1037, 1038, 102]);
});

// How long these take is measured by bench/tokenizer-edge.js, not asserted here.
test('a 10 MB string: right ids', () => {
  const unit = 'The quick brown fox jumps over the lazy dog, unbelievably. Café 中文 😀 [MASK]\u0000 ';
  const small = ids(unit.repeat(3), { addSpecialTokens: false });
  const perUnit = ids(unit, { addSpecialTokens: false });
  assert.is(small.length, perUnit.length * 3);
  const big = unit.repeat(Math.ceil((10 << 20) / unit.length));
  const r = tok.encode(big);
  assert.is(r.ids.length, perUnit.length * (big.length / unit.length) + 2);
  for (let k = 0; k < 5; k++) {
    const off = 1 + k * 1000 * perUnit.length;
    assert.equal(arr(r.ids.subarray(off, off + perUnit.length)), perUnit);
  }
  // with maxLength: the first 256 ids of the whole encoding
  const cut = tok.encode(big, { maxLength: 256 }).ids;
  assert.is(cut.length, 256);
  assert.equal(arr(cut.subarray(0, 255)), arr(r.ids.subarray(0, 255)));
  assert.is(cut[255], 102);
  // pathological 10 MB inputs: one word, all NUL, all combining marks, all brackets, CJK
  const MB10 = 10 << 20;
  assert.equal(ids('a'.repeat(MB10)), [101, 100, 102]);
  assert.equal(ids('\u0000'.repeat(MB10)), [101, 102]);
  assert.equal(ids('é\u0301\u0316'.repeat(MB10 / 4)), [101, 100, 102]);
  const br = tok.encode('['.repeat(MB10)).ids;
  assert.is(br.length, MB10 + 2);
  assert.is(br[1], 1031);
  const cjk = tok.encode('中文'.repeat(MB10 / 4)).ids;
  assert.is(cjk.length, MB10 / 2 + 2);
  assert.equal(arr(cjk.subarray(1, 5)), [1746, 1861, 1746, 1861]);
});

test('a 100k-text batch: packed', () => {
  const texts = [];
  for (let i = 0; i < 100000; i++) texts.push(i % 7 === 0 ? '' : `Sentence number ${i} is here, naïvely.`);
  const r = tok.encodeBatch(texts, { maxLength: 128 });
  assert.is(r.cuSeqlens.length, 100001);
  for (const i of [0, 1, 2, 99999, 54321]) {
    assert.equal(arr(r.ids.subarray(r.cuSeqlens[i], r.cuSeqlens[i + 1])), ids(texts[i], { maxLength: 128 }));
  }
  assert.is(r.ids.length, r.cuSeqlens[100000]);
});

test('the word cache stays correct when it is flushed', () => {
  // more distinct words than the cache holds
  const words = [];
  for (let i = 0; i < 200000; i++) words.push('zq' + i.toString(36) + 'xv');
  const a = tok.encodeBatch(words);
  const b = tok.encodeBatch(words.slice(0, 1000));
  assert.equal(arr(a.ids.subarray(0, b.ids.length)), arr(b.ids));
  const fresh = loadTokenizerFromJson(tokenizerJson);
  assert.equal(arr(fresh.encode(words[199999]).ids), arr(tok.encode(words[199999]).ids));
});

test.run();
