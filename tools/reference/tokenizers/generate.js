#!/usr/bin/env node
'use strict';
// Writes the tokenizer-family fixtures of test/fixtures/tokenizer-families/: tokenizer.json
// files of every family we load, and golden ids for them computed by the reference itself
// (the npm `tokenizers` binding, Hugging Face's Rust library).
//
//   node tools/reference/tokenizers/generate.js            (needs devDependencies + python3-sentencepiece)
//
// The tokenizers are trained here, not downloaded:
// - Unigram: sentencepiece (Debian python3-sentencepiece, train-spm.py) with nmt_nfkc
//   normalization, converted by spm-convert.js into XLM-R's tokenizer.json layout and the newer
//   SpmConverter layout (with byte_fallback), and a legacy Llama-style layout;
// - byte-level BPE: the npm binding's BPE trainer, in RoBERTa's layout and in the modern
//   NFC + Split(GPT-4 regex) + ByteLevel layout;
// - WordPiece: the BERT vocabulary of test/fixtures/tokenizer in MPNet's layout and in two
//   layouts made of the general components (NFD/NFKC, Lowercase, StripAccents, Replace, Strip,
//   Whitespace, Punctuation, Digits, Split, CharDelimiterSplit).
// Training text and test texts come from corpus.js (STS/SICK, many languages, adversarial).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { execFileSync } = require('node:child_process');
const tk = require('tokenizers');
const { trainingLines, testTexts, testPairs } = require('./corpus');
const { parseModelProto, xlmrTokenizerJson, spmTokenizerJson } = require('./spm-convert');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const OUT = path.join(ROOT, 'test', 'fixtures', 'tokenizer-families');
const BERT_JSON = path.join(ROOT, 'test', 'fixtures', 'tokenizer', 'tokenizer.json');
/** Marker that stands for the BERT vocabulary in stored files (resolved by families.js). */
const BERT_VOCAB = '@test/fixtures/tokenizer/tokenizer.json#model.vocab';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-tokref-'));
const gz = (obj) => zlib.gzipSync(Buffer.from(JSON.stringify(obj)), { level: 9 });

function trainUnigram(lines, name, vocab, byteFallback) {
  const input = path.join(tmp, 'train.txt');
  fs.writeFileSync(input, lines.join('\n') + '\n');
  const prefix = path.join(tmp, name);
  execFileSync('/usr/bin/python3', [path.join(__dirname, 'train-spm.py'), input, prefix, String(vocab), byteFallback ? '1' : '0', '0.98'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return parseModelProto(fs.readFileSync(prefix + '.model'));
}

/** Byte-level BPE trained by the binding, cut to the first `merges` merges (same as training that far). */
function trainBpe(lines, merges) {
  const input = path.join(tmp, 'train-bpe.txt');
  fs.writeFileSync(input, lines.join('\n') + '\n');
  const t = new tk.Tokenizer(tk.BPE.empty());
  t.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
  t.train([input]);
  const file = path.join(tmp, 'bpe.json');
  t.save(file);
  const m = JSON.parse(fs.readFileSync(file, 'utf8')).model;
  const alphabet = Object.keys(m.vocab).length - m.merges.length;
  // the alphabet, every byte character (RoBERTa's initial alphabet), then the merge results
  const tokens = Object.entries(m.vocab)
    .filter(([, id]) => id < alphabet)
    .sort((a, b) => a[1] - b[1])
    .map(([t]) => t);
  const have = new Set(tokens);
  const byteLevelAlphabet = tk.byteLevelAlphabet();
  for (const c of byteLevelAlphabet.sort()) if (!have.has(c)) tokens.push(c);
  const kept = m.merges.slice(0, merges);
  for (const [a, b] of kept) tokens.push(a + b);
  return { tokens, merges: kept };
}

const addedTok = (id, content, extra = {}) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...extra });
const special = (id, type_id = 0) => ({ SpecialToken: { id, type_id } });
const seq = (id, type_id = 0) => ({ Sequence: { id, type_id } });

function robertaJson(bpe) {
  const vocab = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (const t of bpe.tokens) if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  const mask = Object.keys(vocab).length;
  vocab['<mask>'] = mask;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [addedTok(0, '<s>'), addedTok(1, '<pad>'), addedTok(2, '</s>'), addedTok(3, '<unk>'), addedTok(mask, '<mask>', { lstrip: true })],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: bpe.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

const GPT4_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

function gpt4Json(bpe) {
  const vocab = {};
  for (const t of bpe.tokens) if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  const eot = Object.keys(vocab).length;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [addedTok(eot, '<|endoftext|>'), addedTok(eot + 1, '<|im_start|>'), addedTok(eot + 2, ' hello', { normalized: true, special: false })],
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: GPT4_REGEX }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [seq('A'), special('<|endoftext|>')],
          pair: [seq('A'), special('<|endoftext|>'), seq('B', 1), special('<|endoftext|>', 1)],
          special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [eot], tokens: ['<|endoftext|>'] } },
        },
      ],
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab,
      merges: bpe.merges,
    },
  };
}

/** Legacy Llama-style: Prepend + Replace normalizer, no pre-tokenizer, Unigram on whole segments. */
function llamaStyleJson(unigramJson) {
  const j = structuredClone(unigramJson);
  j.normalizer = { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] };
  j.pre_tokenizer = null;
  j.post_processor = {
    type: 'TemplateProcessing',
    single: [special('<s>'), seq('A')],
    pair: [special('<s>'), seq('A'), special('<s>', 1), seq('B', 1)],
    special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
  };
  return j;
}

function bertBase() {
  return JSON.parse(fs.readFileSync(BERT_JSON, 'utf8'));
}

/** MPNet: BERT's pipeline with <s> / </s> and the MPNetConverter template. */
function mpnetJson() {
  const j = bertBase();
  const n = Object.keys(j.model.vocab).length;
  j.added_tokens = [
    ...j.added_tokens,
    addedTok(n, '<s>'),
    addedTok(n + 1, '<pad>'),
    addedTok(n + 2, '</s>'),
    addedTok(n + 3, '<unk>'),
    addedTok(n + 4, '<mask>', { lstrip: true }),
  ];
  j.post_processor = {
    type: 'TemplateProcessing',
    single: [special('<s>'), seq('A'), special('</s>')],
    pair: [special('<s>'), seq('A'), special('</s>'), special('</s>'), seq('B', 1), special('</s>', 1)],
    special_tokens: {
      '<s>': { id: '<s>', ids: [n], tokens: ['<s>'] },
      '</s>': { id: '</s>', ids: [n + 2], tokens: ['</s>'] },
    },
  };
  j.model.vocab = BERT_VOCAB;
  return j;
}

/** WordPiece behind general components (no fused BERT path). */
function wordpieceGenericJson() {
  const j = bertBase();
  j.normalizer = {
    type: 'Sequence',
    normalizers: [
      { type: 'NFD' },
      { type: 'Lowercase' },
      { type: 'StripAccents' },
      { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
      { type: 'Replace', pattern: { String: "''" }, content: '"' },
      { type: 'Strip', strip_left: true, strip_right: true },
    ],
  };
  j.pre_tokenizer = {
    type: 'Sequence',
    pretokenizers: [{ type: 'Whitespace' }, { type: 'Punctuation', behavior: 'Isolated' }, { type: 'Digits', individual_digits: true }],
  };
  j.post_processor = { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] };
  j.model.vocab = BERT_VOCAB;
  return j;
}

function wordpieceNfkcJson() {
  const j = bertBase();
  j.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Nmt' }, { type: 'Lowercase' }] };
  j.pre_tokenizer = {
    type: 'Sequence',
    pretokenizers: [
      { type: 'WhitespaceSplit' },
      { type: 'Split', pattern: { String: '-' }, behavior: 'MergedWithPrevious', invert: false },
      { type: 'Split', pattern: { Regex: '\\p{N}' }, behavior: 'Contiguous', invert: false },
      { type: 'CharDelimiterSplit', delimiter: '_' },
      { type: 'Split', pattern: { Regex: '\\w+' }, behavior: 'Removed', invert: true },
      { type: 'Punctuation', behavior: 'MergedWithNext' },
      { type: 'Digits', individual_digits: false },
    ],
  };
  j.model.vocab = BERT_VOCAB;
  return j;
}

function resolve(j) {
  if (j.model.vocab === BERT_VOCAB) {
    j = structuredClone(j);
    j.model.vocab = bertBase().model.vocab;
  }
  return j;
}

const TRUNC_LENGTHS = [1, 2, 3, 5, 16, 64];
const PAIR_LENGTHS = [3, 8, 32];

async function goldens(name, json, texts, pairs, { long }) {
  const t = tk.Tokenizer.fromString(JSON.stringify(resolve(json)));
  const enc = async (inputs, opts) => (await t.encodeBatch(inputs, opts)).map((e) => ({ ids: e.getIds(), typeIds: e.getTypeIds() }));
  const useTexts = long ? texts : texts.filter((s) => s.length <= 20000);
  const idx = useTexts.map((s) => texts.indexOf(s));
  const all = await enc(useTexts, { addSpecialTokens: true });
  const cases = all.map((e, k) => ({ t: idx[k], ids: e.ids, ...(e.typeIds.some((x) => x) ? { typeIds: e.typeIds } : {}) }));
  const sub = idx.filter((i) => texts[i].length <= 20000).filter((_, k) => k % 9 === 0);
  const noSpecial = (await enc(sub.map((i) => texts[i]), { addSpecialTokens: false })).map((e, k) => ({ t: sub[k], ids: e.ids }));
  const truncated = [];
  for (const side of ['right', 'left']) {
    for (const L of TRUNC_LENGTHS) {
      t.setTruncation(L, { direction: side, strategy: 'LongestFirst' });
      const r = await enc(sub.map((i) => texts[i]), { addSpecialTokens: true });
      truncated.push({ side, maxLength: L, cases: r.map((e, k) => ({ t: sub[k], ids: e.ids })) });
    }
  }
  t.disableTruncation();
  const pairCases = [];
  for (const side of ['right', 'left']) {
    for (const L of [0, ...PAIR_LENGTHS]) {
      if (L === 0) {
        if (side === 'left') continue;
        t.disableTruncation();
      } else t.setTruncation(L, { direction: side, strategy: 'LongestFirst' });
      const r = [];
      for (const [a, b] of pairs) {
        const e = await t.encode(a, b, { addSpecialTokens: true });
        r.push({ ids: e.getIds(), typeIds: e.getTypeIds() });
      }
      pairCases.push({ side, maxLength: L || null, cases: r.map((e, k) => ({ p: k, ids: e.ids, typeIds: e.typeIds })) });
    }
  }
  t.disableTruncation();
  const decoded = [];
  for (const c of cases.filter((x, k) => k % 13 === 0 && x.ids.length < 2000)) {
    decoded.push({ ids: c.ids, text: await t.decode(c.ids, false), skipped: await t.decode(c.ids, true) });
  }
  fs.writeFileSync(path.join(OUT, `${name}.json.gz`), gz(json));
  fs.writeFileSync(path.join(OUT, `${name}.goldens.json.gz`), gz({ reference: `tokenizers ${require('tokenizers/package.json').version} (npm)`, cases, noSpecial, truncated, pairs: pairCases, decoded }));
  let n = cases.length + noSpecial.length + decoded.length;
  for (const g of truncated) n += g.cases.length;
  for (const g of pairCases) n += g.cases.length;
  console.log(`${name}: ${n} golden cases`);
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const lines = trainingLines();
  const texts = testTexts();
  const pairs = testPairs();
  fs.writeFileSync(path.join(OUT, 'texts.json.gz'), gz({ texts, pairs }));
  console.log(`${lines.length} training lines, ${texts.length} test texts, ${pairs.length} pairs`);

  const uni = trainUnigram(lines, 'unigram', 8000, false);
  const bf = trainUnigram(lines, 'unigram-bf', 4000, true);
  const bpe = trainBpe(lines, 6000);
  const families = {
    'xlmr-unigram': [xlmrTokenizerJson(uni), { long: true }],
    'spm-unigram-bytefallback': [spmTokenizerJson(bf), { long: false }],
    'llama-style-unigram': [llamaStyleJson(spmTokenizerJson(uni)), { long: false }],
    'roberta-bpe': [robertaJson(bpe), { long: true }],
    'gpt4-bpe': [gpt4Json(bpe), { long: false }],
    'mpnet-wordpiece': [mpnetJson(), { long: true }],
    'wordpiece-generic': [wordpieceGenericJson(), { long: false }],
    'wordpiece-nfkc': [wordpieceNfkcJson(), { long: false }],
  };
  for (const [name, [json, opts]] of Object.entries(families)) await goldens(name, json, texts, pairs, opts);
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
