// BERT tokenizer: what a bad tokenizer file or a bad call is told. Every id in a tokenizer.json
// is checked at load (a wrong one used to load for minutes or wrap around silently), and every
// public method names the argument (and the index) it refuses.
const path = require('path');
const fs = require('fs');
const os = require('os');
const { test } = require('uvu');
const assert = require('uvu/assert');
const { loadTokenizer, loadTokenizerFromJson, loadTokenizerFromVocab, TokenizerPool } = require('../dist/tokenizer');

const FIX = path.join(__dirname, 'fixtures', 'tokenizer');
const tokenizerJson = JSON.parse(fs.readFileSync(path.join(FIX, 'tokenizer.json'), 'utf8'));
const vocabText = fs.readFileSync(path.join(FIX, 'vocab.txt'), 'utf8');
const FILE = '/m/tokenizer.json';

let tok;
test.before(async () => {
  tok = await loadTokenizer(FIX);
});

const arr = (a) => Array.from(a);

/** loadTokenizerFromJson on a mutated copy of the fixture; returns the error (or undefined). */
function loadError(mutate) {
  const j = structuredClone(tokenizerJson);
  mutate(j);
  try {
    loadTokenizerFromJson(j, { file: FILE });
  } catch (e) {
    return e;
  }
  return undefined;
}

/** The error is ERR_BAD_MODEL, starts with the file and mentions every pattern given. */
function assertBadModel(err, ...patterns) {
  assert.ok(err, 'expected the load to fail');
  assert.is(err.code, 'ERR_BAD_MODEL', err.message);
  assert.ok(err.message.startsWith(FILE), err.message);
  for (const p of patterns) assert.match(err.message, p);
}

// ------------------------------------------------------------------ load: vocabulary ids

test('vocab ids must be 0…n-1: a huge, negative, fractional, repeated id or a hole is refused at once', () => {
  // (this id used to be accepted, and every id table was sized by it: 114 s to load)
  assertBadModel(loadError((j) => { j.model.vocab.hello = 2147483647; }), /"hello"/, /2147483647/, /0 to 30521/);
  assertBadModel(loadError((j) => { j.model.vocab.hello = -1; }), /"hello"/);
  assertBadModel(loadError((j) => { j.model.vocab.hello = 7592.5; }), /"hello"/, /7592\.5/);
  assertBadModel(loadError((j) => { j.model.vocab.hello = '7592'; }), /"hello"/);
  assertBadModel(loadError((j) => { j.model.vocab.hello = 2088; }), /id 2088 is given to two tokens/);
  // a hole: 30522 entries, one moved past the end
  assertBadModel(loadError((j) => { j.model.vocab.hello = 30522; }), /"hello"/, /30522/);
  // a smaller dense vocabulary is fine
  const small = loadTokenizerFromJson({
    model: { type: 'WordPiece', unk_token: '[UNK]', vocab: { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2, hello: 3 } },
    normalizer: tokenizerJson.normalizer,
    pre_tokenizer: tokenizerJson.pre_tokenizer,
    post_processor: { type: 'BertProcessing', cls: ['[CLS]', 1], sep: ['[SEP]', 2] },
  });
  assert.equal(arr(small.encode('Hello world').ids), [1, 3, 0, 2]);
});

test('added tokens: the id HF would give (vocabulary id, or the next after the vocabulary), else refused', () => {
  // [MASK] is in the vocabulary at 103: HF gives it 103 whatever the file says
  assertBadModel(loadError((j) => { j.added_tokens.find((t) => t.content === '[MASK]').id = 103000000; }), /"\[MASK\]"/, /103000000/, /vocabulary id 103/);
  // a new token takes 30522, the next one 30523
  const add = (j, ...ids) => ids.forEach((id, k) => j.added_tokens.push({ id, content: `<new${k}>`, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  assertBadModel(loadError((j) => add(j, 103000000)), /"<new0>"/, /103000000/, /gives it id 30522/);
  assertBadModel(loadError((j) => add(j, 30522, 30524)), /"<new1>"/, /gives it id 30523/);
  assertBadModel(loadError((j) => add(j, 30522.5)), /"<new0>"/);
  const j = structuredClone(tokenizerJson);
  add(j, 30522, 30523);
  const t = loadTokenizerFromJson(j);
  assert.equal(arr(t.encode('<new1> <new0>').ids), [101, 30523, 30522, 102]);
  assert.is(t.vocabSize, 30524);
  // not an object / no id: named by index
  assertBadModel(loadError((j2) => { j2.added_tokens.push({ content: 'x' }); }), /added_tokens\[5\]/);
});

test('post_processor ids: a [CLS] id of 1.5, 2^32+101 or 1e12 is refused, naming the field', () => {
  for (const bad of [1.5, 2 ** 32 + 101, 1e12, -1, 30522, '101']) {
    assertBadModel(loadError((j) => { j.post_processor.special_tokens['[CLS]'].ids = [bad]; }), /post_processor\.special_tokens\["\[CLS\]"\]\.ids\[0\]/);
    assertBadModel(
      loadError((j) => { j.post_processor = { type: 'BertProcessing', cls: ['[CLS]', bad], sep: ['[SEP]', 102] }; }),
      /post_processor\.cls "\[CLS\]"/,
    );
  }
  assertBadModel(loadError((j) => { j.post_processor.single[0].SpecialToken.type_id = 0.5; }), /type_id 0\.5/);
  assertBadModel(loadError((j) => { j.post_processor.pair[3].Sequence.type_id = -1; }), /sequence B/, /type_id -1/);
  // an id past the model vocabulary is fine when an added token holds it
  const j = structuredClone(tokenizerJson);
  j.added_tokens.push({ id: 30522, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  j.post_processor.special_tokens['[CLS]'] = { id: '[CLS]', ids: [30522], tokens: ['<s>'] };
  assert.equal(arr(loadTokenizerFromJson(j).encode('hello').ids), [30522, 7592, 102]);
});

test('model fields: max_input_chars_per_word, unk_token and the subword prefix are checked', () => {
  for (const bad of [-1, 'x', 1.5, null]) {
    assertBadModel(loadError((j) => { j.model.max_input_chars_per_word = bad; }), /model\.max_input_chars_per_word/, /non-negative integer/);
  }
  assertBadModel(loadError((j) => { j.model.unk_token = 100; }), /model\.unk_token must be a string/);
  assertBadModel(loadError((j) => { j.model.continuing_subword_prefix = null; }), /model\.continuing_subword_prefix/);
  const j = structuredClone(tokenizerJson);
  j.model.max_input_chars_per_word = 3;
  assert.equal(arr(loadTokenizerFromJson(j).encode('abc abcd').ids), [101, 5925, 100, 102]);
});

test('vocab.txt + tokenizer_config.json: added_tokens_decoder ids are checked the same way', () => {
  const cfg = (id, content) => ({ added_tokens_decoder: { [id]: { content, special: true } } });
  let err;
  try { loadTokenizerFromVocab(vocabText, cfg('1e12', '[CLS]'), { file: '/m/vocab.txt' }); } catch (e) { err = e; }
  assert.ok(err && err.code === 'ERR_BAD_MODEL' && err.message.startsWith('/m/vocab.txt') && /"\[CLS\]"/.test(err.message), err && err.message);
  err = undefined;
  try { loadTokenizerFromVocab(vocabText, cfg('40000', '<extra>'), { file: '/m/vocab.txt' }); } catch (e) { err = e; }
  assert.ok(err && /gives it id 30522/.test(err.message), err && err.message);
  const t = loadTokenizerFromVocab(vocabText, cfg('30522', '<extra>'));
  assert.equal(arr(t.encode('<extra>').ids), [101, 30522, 102]);
});

test('a null post_processor adds no special tokens, as HF; requireSpecialTokens refuses it at load', async () => {
  const j = structuredClone(tokenizerJson);
  j.post_processor = null;
  const t = loadTokenizerFromJson(j);
  assert.equal(arr(t.encode('hello world').ids), [7592, 2088]);
  assert.equal(arr(t.encode('').ids), []);
  assert.is(t.numSpecialTokens(), 0);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-tokv-'));
  try {
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(j));
    assert.equal(arr((await loadTokenizer(dir)).encode('hello').ids), [7592]);
    let err;
    try { await loadTokenizer(dir, { requireSpecialTokens: true }); } catch (e) { err = e; }
    assert.ok(err && err.code === 'ERR_BAD_MODEL', err && err.message);
    assert.ok(err.message.startsWith(path.join(dir, 'tokenizer.json')) && /post_processor/.test(err.message));
    // the fixture (TemplateProcessing) passes the same check
    assert.equal(arr((await loadTokenizer(FIX, { requireSpecialTokens: true })).encode('hello').ids), [101, 7592, 102]);
    err = undefined;
    try { await loadTokenizer(FIX, null); } catch (e) { err = e; }
    assert.ok(err instanceof TypeError && /options must be an object \(got null\)/.test(err.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------ calls

test('decode: an array-like of any claimed length is refused at once (it used to hang)', () => {
  for (const bad of [{ length: Infinity }, { length: 1e9 }, { length: 2, 0: 7592, 1: 2088 }, 'abc', 42, null, undefined, new DataView(new ArrayBuffer(4))]) {
    assert.throws(() => tok.decode(bad), (e) => e instanceof TypeError && /^ids must be an array or a typed array of token ids/.test(e.message));
  }
});

test('decode: elements must be integer ids in [0, 2^32); ids that name no token are skipped as HF does', () => {
  assert.throws(() => tok.decode([7592, 'a']), (e) => e instanceof TypeError && e.message === 'ids[1] is not an integer token id (got string)');
  assert.throws(() => tok.decode([7592, 2088, 1.5]), (e) => e instanceof TypeError && /^ids\[2\] .*got 1\.5/.test(e.message));
  assert.throws(() => tok.decode([NaN]), (e) => e instanceof TypeError && /^ids\[0\]/.test(e.message));
  assert.throws(() => tok.decode([, 7592]), (e) => e instanceof TypeError && /^ids\[0\] .*got undefined/.test(e.message)); // eslint-disable-line no-sparse-arrays
  assert.throws(() => tok.decode([7592, -1]), (e) => e instanceof RangeError && /^ids\[1\]/.test(e.message));
  assert.throws(() => tok.decode([2 ** 32]), (e) => e instanceof RangeError && /^ids\[0\]/.test(e.message));
  assert.throws(() => tok.decode(new BigInt64Array(1)), (e) => e instanceof TypeError && /^ids\[0\] .*got bigint/.test(e.message));
  assert.is(tok.decode([7592, 99999999, 2 ** 32 - 1, 2088]), 'hello world');
  assert.is(tok.decode(new Int32Array([7592, 2088])), 'hello world');
  assert.is(tok.decode(new Uint16Array([7592, 2088])), 'hello world');
  assert.is(tok.decode(new Float64Array([7592, 2088])), 'hello world');
});

test('options: null or a non-object is a TypeError naming options; flags must be booleans', () => {
  const isOptionsError = (e) => e instanceof TypeError && /^options must be an object \(got (null|number|string|array)\)$/.test(e.message);
  assert.throws(() => tok.encode('hello', null), isOptionsError);
  assert.throws(() => tok.encode('hello', 5), isOptionsError);
  assert.throws(() => tok.encodePair('a', 'b', null), isOptionsError);
  assert.throws(() => tok.encodeBatch(['a'], null), isOptionsError);
  assert.throws(() => tok.encodeBatch(['a'], [1]), isOptionsError);
  assert.throws(() => tok.decode([7592], null), isOptionsError);
  assert.throws(() => tok.decode([7592], 'x'), isOptionsError);
  assert.throws(() => tok.encode('hello', { addSpecialTokens: 0 }), (e) => e instanceof TypeError && /addSpecialTokens must be a boolean/.test(e.message));
  assert.throws(() => tok.decode([101], { skipSpecialTokens: 'yes' }), (e) => e instanceof TypeError && /skipSpecialTokens must be a boolean/.test(e.message));
  // undefined still means the defaults
  assert.equal(arr(tok.encode('hello', undefined).ids), [101, 7592, 102]);
  assert.is(tok.decode([101, 7592], undefined), '[CLS] hello');
});

test('encodeBatch: a non-string is named by its index in the caller\'s list (indexOffset)', async () => {
  const batch = ['a', 'b', 7];
  assert.throws(() => tok.encodeBatch(batch), (e) => e instanceof TypeError && e.message === 'texts[2] is not a string (got number)');
  assert.throws(() => tok.encodeBatch(batch, { indexOffset: 4096 }), (e) => e instanceof TypeError && e.message === 'texts[4098] is not a string (got number)');
  assert.throws(() => tok.encodeBatch(['a'], { indexOffset: -1 }), (e) => e instanceof TypeError && /indexOffset/.test(e.message));
  assert.throws(() => tok.encodeBatch(['a'], { indexOffset: 1.5 }), (e) => e instanceof TypeError && /indexOffset/.test(e.message));
  // the offset changes nothing else
  assert.equal(arr(tok.encodeBatch(['hello'], { indexOffset: 9 }).ids), [101, 7592, 102]);
  const pool = new TokenizerPool(tok);
  try {
    let err;
    try { await pool.encodeBatch([null], { indexOffset: 10, threads: 1 }); } catch (e) { err = e; }
    assert.ok(err instanceof TypeError && err.message === 'texts[10] is not a string (got null)', err && err.message);
    err = undefined;
    try { await pool.encodeBatch(['a'], null); } catch (e) { err = e; }
    assert.ok(err instanceof TypeError && /options must be an object/.test(err.message), err && err.message);
  } finally {
    pool.close();
  }
});

test('SentenceEncoder.encode: a non-string put into the array during the call is named by its input index', async () => {
  const { SentenceEncoder } = require('../dist');
  const tiny = path.join(__dirname, 'fixtures', 'tiny');
  // the same model with do_lower_case (the encoder lowercases before the tokenizer sees the text)
  const lower = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-lower-'));
  fs.cpSync(tiny, lower, { recursive: true });
  const cfgFile = path.join(lower, 'sentence_bert_config.json');
  fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')), do_lower_case: true }));
  try {
    for (const dir of [tiny, lower]) {
      const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
      try {
        const list = Array.from({ length: 3000 }, (_, i) => `sentence ${i}`);
        // small batches: the first is tokenized at the call, later ones after it returned
        const pending = enc.encode(list, { batchTokens: 64 });
        list[2500] = 42;
        const err = await pending.then(() => undefined, (e) => e);
        assert.ok(err instanceof TypeError && err.message === 'texts[2500] is not a string (got number)', `${dir}: ${err && err.message}`);
      } finally {
        enc.dispose();
      }
    }
  } finally {
    fs.rmSync(lower, { recursive: true, force: true });
  }
});

test.run();
