// Live differential tests against the reference, the npm `tokenizers` binding (Hugging Face's
// Rust library; a devDependency): every component alone (normalizers on every code point,
// pre-tokenizers and Oniguruma regexes with every split behavior, models with random
// vocabularies built to provoke ties and merge conflicts, decoders, templates) and every family
// end to end on fresh seeded inputs (truncation on both sides, pairs). Where the binding is not
// installed these tests are recorded as skipped; the stored goldens (tokenizer-families.test.js)
// still run.
const { test: uvuTest } = require('uvu');
const assert = require('uvu/assert');
const { testUnless, missingPackage } = require('./helpers/skip');
const { loadTokenizerFromJson } = require('../dist/tokenizer');
const { parseNormalizer, buildNormalizer } = require('../dist/tokenizer/normalizers');
const { parsePreTokenizer, buildPreTokenizer } = require('../dist/tokenizer/pre-tokenizers');
const { parseDecoder, Decoder } = require('../dist/tokenizer/decoders');
const { wellFormed } = require('../dist/tokenizer/charclass');
const fam = require('./fixtures/tokenizer-families/families');
const { adversarial, MULTILINGUAL } = require('../tools/reference/tokenizers/corpus');
const { rng } = require('./helpers/random');

const tk = fam.reference();
const missing = missingPackage('tokenizers') && `${missingPackage('tokenizers')} (the reference; a devDependency: npm ci)`;
/** Every test here needs the reference binding: without it, a recorded skip. */
const test = (name, fn) => testUnless(missing, name, fn);
const arr = (a) => Array.from(a);
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const ctx = (path) => ({ file: 'test', path, depth: 0 });

/** A reference tokenizer from a tokenizer.json object. */
const refTokenizer = (json) => tk.Tokenizer.fromString(JSON.stringify(json));
const WP_MODEL = { type: 'WordPiece', vocab: { '[UNK]': 0, a: 1 }, unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100 };
/** A tokenizer.json holding just one normalizer / pre-tokenizer / decoder (the model is a dummy). */
const holder = (part) => ({ version: '1.0', model: WP_MODEL, ...part });

/**
 * SBERT_TOKENIZER_EXHAUSTIVE=1: sweep all 1.1M code points; otherwise the planes where
 * normalization data lives (BMP, SMP, CJK compatibility supplement, tags / variation
 * selectors), which is most of the time and most of the data.
 */
const EXHAUSTIVE = process.env.SBERT_TOKENIZER_EXHAUSTIVE === '1';
const swept = (cp) => EXHAUSTIVE || cp < 0x20000 || (cp >= 0x2f800 && cp <= 0x2fa1f) || (cp >= 0xe0000 && cp <= 0xe01ef);

let ALL_CHUNKS;
/** The swept code points (surrogates excluded), in chunks of 4096. */
function allChunks() {
  if (!ALL_CHUNKS) {
    ALL_CHUNKS = [];
    let s = '';
    let n = 0;
    for (let cp = 0; cp < 0x110000; cp++) {
      if ((cp >= 0xd800 && cp <= 0xdfff) || !swept(cp)) continue;
      s += String.fromCodePoint(cp);
      if (++n === 4096) {
        ALL_CHUNKS.push(s);
        s = '';
        n = 0;
      }
    }
    ALL_CHUNKS.push(s);
  }
  return ALL_CHUNKS;
}

function fuzzTexts(seed, n, maxPieces = 24) {
  const r = rng(seed);
  const out = [...MULTILINGUAL.slice(0, 30)];
  for (let i = 0; i < n; i++) out.push(adversarial(r, maxPieces));
  return out;
}

const charsmap = () => fam.tokenizerJson('xlmr-unigram').normalizer.normalizers[0];

// ------------------------------------------------------------------ normalizers

const NORMALIZERS = [
  { type: 'NFC' }, { type: 'NFD' }, { type: 'NFKC' }, { type: 'NFKD' }, { type: 'Lowercase' }, { type: 'StripAccents' }, { type: 'Nmt' },
  { type: 'ByteLevel' }, { type: 'Strip', strip_left: true, strip_right: false }, { type: 'Strip', strip_left: false, strip_right: true },
  { type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: 'a' }, content: 'xyz' },
  { type: 'Replace', pattern: { Regex: ' {2,}' }, content: '▁' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
  { type: 'Replace', pattern: { Regex: 'x*' }, content: '-' }, { type: 'Replace', pattern: { Regex: '^\\s+|\\s+$' }, content: '' },
  { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  { type: 'BertNormalizer', clean_text: false, handle_chinese_chars: false, strip_accents: true, lowercase: false },
  { type: 'Sequence', normalizers: [{ type: 'NFKD' }, { type: 'StripAccents' }, { type: 'Lowercase' }, { type: 'NFC' }] },
];

test(`normalizers: ${EXHAUSTIVE ? 'every code point' : 'every code point of planes 0, 1, 2F8, E0'} and fuzzed text identical to the reference`, () => {
  const texts = fuzzTexts(101, 300);
  for (const spec of [...NORMALIZERS, charsmap()]) {
    const ref = refTokenizer(holder({ normalizer: spec })).getNormalizer();
    const ours = buildNormalizer(parseNormalizer(spec, ctx('normalizer')));
    let bad = 0;
    let first = '';
    for (const s of [...allChunks(), ...texts]) {
      const w = wellFormed(s);
      const want = ref.normalizeString(w);
      const got = ours.normalize(w);
      if (want !== got && bad++ === 0) first = `${JSON.stringify(w).slice(0, 60)}: ${JSON.stringify(got).slice(0, 60)} != ${JSON.stringify(want).slice(0, 60)}`;
    }
    assert.is(bad, 0, `${JSON.stringify(spec).slice(0, 80)}: ${bad} differ, first ${first}`);
  }
});

test('Precompiled: grapheme clusters (whole-cluster lookups below 6 bytes) as the reference walks them', () => {
  const ref = refTokenizer(holder({ normalizer: charsmap() })).getNormalizer();
  const ours = buildNormalizer(parseNormalizer(charsmap(), ctx('normalizer')));
  // a base that is a charsmap key (U+00A0, U+FF21, U+FB01) or not (e, a) followed by every BMP
  // code point, and by pairs of combining marks: the cluster decides what is looked up whole
  let bad = 0;
  let first = '';
  for (const base of ['\u00a0', '\uff21', '\ufb01', 'e', 'a', '\r', '\u0600', '\u1100']) {
    let chunk = '';
    for (let cp = 0x20; cp < 0x10000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      chunk += '|' + base + String.fromCodePoint(cp) + '\u0301';
      if (chunk.length > 20000 || cp === 0xffff) {
        const want = ref.normalizeString(chunk);
        const got = ours.normalize(chunk);
        if (want !== got && bad++ === 0) {
          const k = [...want].findIndex((c, i) => c !== [...got][i]);
          first = `base ${JSON.stringify(base)} near ${JSON.stringify([...want].slice(Math.max(0, k - 4), k + 4).join(''))}`;
        }
        chunk = '';
      }
    }
  }
  assert.is(bad, 0, `${bad} chunks differ, first ${first}`);
});

// ------------------------------------------------------------------ pre-tokenizers and regexes

const REGEXES = [
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ' {2,}', '\\s+', '\\d+', '\\w+', '(?<=a)b', 'x*', '\\b', '^\\s+|\\s+$', '\\p{Han}+', '.', '[\\p{P}\\p{S}]', '(?i)[a-c]+', '\\h+', '$', '\\p{Lu}\\p{Ll}*', '[^\\p{L}\\p{M}]+', 'a|ab', '\\A.|.\\z',
];
const BEHAVIORS = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

function comparePreTokenizer(spec, texts) {
  const ref = refTokenizer(holder({ pre_tokenizer: spec })).getPreTokenizer();
  const ours = buildPreTokenizer(parsePreTokenizer(spec, ctx('pre_tokenizer')));
  let bad = 0;
  let first = '';
  for (const s of texts) {
    const w = wellFormed(s);
    const want = w.length === 0 ? [] : ref.preTokenizeString(w).map((x) => x[0]);
    const got = [];
    if (w.length) ours.run([w], [w.codePointAt(0) > 0xffff ? 2 : 1], got, []);
    if (!same(got, want) && bad++ === 0) first = `${JSON.stringify(w).slice(0, 50)}: ${JSON.stringify(got).slice(0, 90)} != ${JSON.stringify(want).slice(0, 90)}`;
  }
  return { bad, first };
}

test('Split: Oniguruma regexes (GPT-2, GPT-4, Qwen2, anchors, lookbehind, empty matches, (?i)) x every behavior x invert', () => {
  const texts = [...fuzzTexts(202, 150), 'aab ab xab', 'xx x  xxx', "I'M DON'T 'S 'll", '  lead and trail  ', 'a\nb\r\nc\n\n d'];
  for (const re of REGEXES) {
    for (const behavior of BEHAVIORS) {
      for (const invert of [false, true]) {
        const { bad, first } = comparePreTokenizer({ type: 'Split', pattern: { Regex: re }, behavior, invert }, texts);
        assert.is(bad, 0, `/${re}/ ${behavior} invert=${invert}: ${bad} differ, first ${first}`);
      }
    }
  }
  const { bad, first } = comparePreTokenizer({ type: 'Split', pattern: { String: '--' }, behavior: 'MergedWithNext', invert: false }, ['a--b----c-', '--', ...texts]);
  assert.is(bad, 0, first);
});

test('pre-tokenizers: every type and option identical to the reference', () => {
  const texts = [...fuzzTexts(303, 300), ...allChunks().filter((_, i) => i % 3 === 0)];
  const specs = [
    { type: 'Whitespace' }, { type: 'WhitespaceSplit' }, { type: 'BertPreTokenizer' },
    ...BEHAVIORS.map((behavior) => ({ type: 'Punctuation', behavior })),
    { type: 'Digits', individual_digits: true }, { type: 'Digits', individual_digits: false },
    { type: 'CharDelimiterSplit', delimiter: '▁' },
    { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true },
    { type: 'Metaspace', replacement: '_', prepend_scheme: 'never', split: false },
    { type: 'Metaspace', replacement: '▁', add_prefix_space: true },
    { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true }] },
    { type: 'Sequence', pretokenizers: [{ type: 'Punctuation', behavior: 'Isolated' }, { type: 'Digits', individual_digits: true }, { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }] },
  ];
  for (const spec of specs) {
    const { bad, first } = comparePreTokenizer(spec, texts);
    assert.is(bad, 0, `${JSON.stringify(spec).slice(0, 120)}: ${bad} differ, first ${first}`);
  }
});

// ------------------------------------------------------------------ models

/** A random Unigram vocabulary with few distinct scores (ties everywhere). */
function randomUnigram(r, { byteFallback, unk }) {
  const alphabet = ['a', 'b', 'c', 'é', '▁', '😀', 'x', 'ab'];
  const pieces = new Map();
  if (unk) pieces.set('<unk>', 0);
  for (const c of alphabet.slice(0, 6)) pieces.set(c, -[1, 2, 3][Math.floor(r() * 3)]);
  for (let i = 0; i < 60; i++) {
    let p = '';
    const n = 2 + Math.floor(r() * 4);
    for (let k = 0; k < n; k++) p += alphabet[Math.floor(r() * alphabet.length)];
    pieces.set(p, -[1, 2, 3, 4.5][Math.floor(r() * 4)]);
  }
  if (byteFallback) for (const b of [0x78, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80, 0x7a]) pieces.set(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, -5);
  return { type: 'Unigram', unk_id: unk ? 0 : null, vocab: [...pieces], byte_fallback: byteFallback };
}

/** A random BPE: characters (with prefix / suffix variants) and random merges of existing tokens. */
function randomBpe(r, { prefix, suffix, unk, fuseUnk, byteFallback, ignoreMerges }) {
  const chars = ['a', 'b', 'c', 'é', '😀', '▁'];
  const vocab = {};
  const add = (t) => {
    if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  };
  if (unk) add('<unk>');
  for (const c of chars) {
    add(c);
    if (prefix) add(prefix + c);
    if (suffix) add(c + suffix);
    if (prefix && suffix) add(prefix + c + suffix);
  }
  if (byteFallback) for (const b of [0x7a, 0xc3, 0xa9, 0xe2, 0x82, 0xac]) add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  const merges = [];
  const tokens = () => Object.keys(vocab).filter((t) => !t.startsWith('<'));
  for (let i = 0; i < 80; i++) {
    const t = tokens();
    const a = t[Math.floor(r() * t.length)];
    let b = t[Math.floor(r() * t.length)];
    if (prefix && !b.startsWith(prefix)) b = prefix + b;
    if (!(b in vocab)) continue;
    if (suffix && a.endsWith(suffix)) continue;
    merges.push([a, b]);
    add(a + b.slice(prefix ? prefix.length : 0));
  }
  return {
    type: 'BPE', dropout: null, unk_token: unk ? '<unk>' : null, continuing_subword_prefix: prefix, end_of_word_suffix: suffix,
    fuse_unk: fuseUnk, byte_fallback: byteFallback, ignore_merges: ignoreMerges, vocab, merges,
  };
}

async function compareModel(model, texts, label) {
  const json = { version: '1.0', model, pre_tokenizer: { type: 'WhitespaceSplit' } };
  const ref = refTokenizer(json);
  let ours;
  try {
    ours = loadTokenizerFromJson(structuredClone(json));
  } catch (e) {
    return { bad: 1, first: `ours refused: ${e.message}` };
  }
  let bad = 0;
  let first = '';
  for (const s of texts) {
    let want;
    let got;
    try {
      want = (await ref.encode(s)).getIds();
    } catch (e) {
      want = 'error';
    }
    try {
      got = arr(ours.encode(s).ids);
    } catch (e) {
      got = 'error';
    }
    const ok = want === 'error' || got === 'error' ? want === got : same(got, want);
    if (!ok && bad++ === 0) first = `${label} ${JSON.stringify(s)}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`;
  }
  return { bad, first };
}

function modelTexts(r, n) {
  const alphabet = ['a', 'b', 'c', 'é', '😀', '▁', 'x', 'z', '€', 'ab', ' '];
  const out = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    const len = Math.floor(r() * 14);
    for (let k = 0; k < len; k++) s += alphabet[Math.floor(r() * alphabet.length)];
    out.push(s);
  }
  return out;
}

test('Unigram: random vocabularies with tied scores, unk / no unk, byte fallback: same ids (or the same error)', async () => {
  const r = rng(404);
  for (let v = 0; v < 24; v++) {
    const model = randomUnigram(r, { byteFallback: v % 3 === 1, unk: v % 4 !== 3 });
    const { bad, first } = await compareModel(model, modelTexts(r, 150), `unigram #${v}`);
    assert.is(bad, 0, first);
  }
});

test('BPE: random merges (conflicts, shared results), prefix / suffix, unk fused or not, byte fallback, ignore_merges', async () => {
  const r = rng(505);
  const variants = [
    { prefix: null, suffix: null, unk: false, fuseUnk: false, byteFallback: false, ignoreMerges: false },
    { prefix: null, suffix: null, unk: true, fuseUnk: true, byteFallback: false, ignoreMerges: false },
    { prefix: null, suffix: null, unk: true, fuseUnk: false, byteFallback: true, ignoreMerges: false },
    { prefix: '##', suffix: null, unk: true, fuseUnk: false, byteFallback: false, ignoreMerges: false },
    { prefix: null, suffix: '</w>', unk: true, fuseUnk: true, byteFallback: false, ignoreMerges: true },
    { prefix: '##', suffix: '</w>', unk: false, fuseUnk: false, byteFallback: true, ignoreMerges: true },
  ];
  for (let v = 0; v < 24; v++) {
    const model = randomBpe(r, variants[v % variants.length]);
    const { bad, first } = await compareModel(model, modelTexts(r, 150), `bpe #${v} ${JSON.stringify(variants[v % variants.length])}`);
    assert.is(bad, 0, first);
  }
});

// ------------------------------------------------------------------ decoders

test('decoders: every type and chains identical to the reference', () => {
  const r = rng(606);
  const pool = ['▁He', 'llo', '▁', '##lo', 'Ġworld', 'Ċ', '<0x41>', '<0xC3>', '<0xA9>', '<0xFF>', '<s>', 'Ã©', 'a</w>', '</w>', ' ', '▁▁', 'x', '😀', '<0xF0>', '<0x9F>'];
  const lists = [];
  for (let i = 0; i < 200; i++) lists.push(Array.from({ length: Math.floor(r() * 10) }, () => pool[Math.floor(r() * pool.length)]));
  const specs = [
    { type: 'WordPiece', prefix: '##', cleanup: true }, { type: 'WordPiece', prefix: '##', cleanup: false },
    { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: true },
    { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }, { type: 'ByteFallback' }, { type: 'Fuse' },
    { type: 'BPEDecoder', suffix: '</w>' }, { type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'Strip', content: ' ', start: 0, stop: 1 }, { type: 'Strip', content: '▁', start: 2, stop: 0 },
    { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
  ];
  for (const spec of specs) {
    const ref = refTokenizer(holder({ decoder: spec })).getDecoder();
    const ours = new Decoder(parseDecoder(spec, ctx('decoder')), 'test');
    for (const l of lists) assert.is(ours.decode(l), ref.decode(l), `${JSON.stringify(spec)} on ${JSON.stringify(l)}`);
  }
});

// ------------------------------------------------------------------ whole tokenizers

async function compareTokenizer(json, texts, pairs, label, seed) {
  const ref = refTokenizer(json);
  const ours = loadTokenizerFromJson(structuredClone(json));
  const r = rng(seed);
  let n = 0;
  const bad = [];
  const cmp = (what, got, want, input) => {
    n++;
    if (!same(arr(got), want) && bad.length < 3) bad.push(`${label} ${what} ${JSON.stringify(input).slice(0, 80)}\n got ${JSON.stringify(arr(got)).slice(0, 120)}\n exp ${JSON.stringify(want).slice(0, 120)}`);
  };
  const w = (await ref.encodeBatch(texts)).map((e) => e.getIds());
  texts.forEach((s, i) => cmp('encode', ours.encode(s).ids, w[i], s));
  for (const side of ['right', 'left']) {
    const L = 1 + Math.floor(r() * 24);
    ref.setTruncation(L, { direction: side, strategy: 'LongestFirst' });
    const t = (await ref.encodeBatch(texts)).map((e) => e.getIds());
    texts.forEach((s, i) => cmp(`maxLength ${L} ${side}`, ours.encode(s, { maxLength: L, truncationSide: side }).ids, t[i], s));
    for (const [a, b] of pairs) {
      const e = await ref.encode(a, b);
      const o = ours.encodePair(a, b, { maxLength: L, truncationSide: side });
      cmp(`pair ${L} ${side}`, o.ids, e.getIds(), [a, b]);
      cmp(`pair types ${L} ${side}`, o.typeIds, e.getTypeIds(), [a, b]);
    }
  }
  return { n, bad };
}

test('every family end to end on fresh fuzzed texts, truncation both sides, pairs', async () => {
  const texts = fuzzTexts(707, 150, 40);
  const r = rng(708);
  const pairs = Array.from({ length: 40 }, () => [adversarial(r, 20), adversarial(r, 30)]);
  for (const name of fam.familyNames()) {
    const { bad } = await compareTokenizer(fam.tokenizerJson(name), texts, pairs, name, 709);
    assert.is(bad.length, 0, bad.join('\n'));
  }
});

test('Metaspace prepend_scheme "first" after normalizers that move the start, with added tokens', async () => {
  const base = fam.tokenizerJson('spm-unigram-bytefallback');
  const texts = [...fuzzTexts(808, 120, 16), '  <mask> x', '<s>hello', ' \u0001 a', '\u0301b', 'ﬁx'];
  const normalizers = [
    null,
    { type: 'Strip', strip_left: true, strip_right: true },
    { type: 'Prepend', prepend: '▁' },
    { type: 'Replace', pattern: { Regex: '^\\s+' }, content: '' },
    { type: 'Sequence', normalizers: [charsmap(), { type: 'Lowercase' }] },
    { type: 'NFKC' },
    { type: 'StripAccents' },
  ];
  const pres = [
    { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true },
    { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true }] },
  ];
  for (const normalizer of normalizers) {
    for (const pre_tokenizer of pres) {
      const j = structuredClone(base);
      j.normalizer = normalizer;
      j.pre_tokenizer = pre_tokenizer;
      j.added_tokens.push({ id: 4000, content: '<mask>', single_word: false, lstrip: true, rstrip: false, normalized: false, special: true });
      j.added_tokens.push({ id: 4001, content: 'hello', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
      const { bad } = await compareTokenizer(j, texts, [], `${JSON.stringify(normalizer)} ${JSON.stringify(pre_tokenizer)}`, 810);
      assert.is(bad.length, 0, bad.join('\n'));
    }
  }
});

test('templates: multi-id special tokens, type ids 2, Bert / Roberta processing, Sequence with ByteLevel', async () => {
  const texts = fuzzTexts(909, 60, 12);
  const r = rng(910);
  const pairs = Array.from({ length: 30 }, () => [adversarial(r, 10), adversarial(r, 10)]);
  const procs = [
    { type: 'BertProcessing', sep: ['</s>', 2], cls: ['<s>', 0] },
    { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: true },
    {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: 'X', type_id: 2 } }, { Sequence: { id: 'A', type_id: 1 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: 'X', type_id: 2 } }, { Sequence: { id: 'B', type_id: 3 } }],
      special_tokens: { X: { id: 'X', ids: [0, 2, 1], tokens: ['<s>', '</s>', '<pad>'] } },
    },
    { type: 'Sequence', processors: [{ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }, { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false }] },
  ];
  for (const post_processor of procs) {
    const j = fam.tokenizerJson('roberta-bpe');
    j.post_processor = post_processor;
    const { bad } = await compareTokenizer(j, texts, pairs, JSON.stringify(post_processor).slice(0, 60), 911);
    assert.is(bad.length, 0, bad.join('\n'));
    const ref = refTokenizer(j);
    const ours = loadTokenizerFromJson(structuredClone(j));
    for (const s of texts.slice(0, 20)) {
      const e = await ref.encode(s);
      assert.equal(arr(ours.encode(s).typeIds), e.getTypeIds(), `${post_processor.type} type ids`);
    }
  }
});

uvuTest.run();
