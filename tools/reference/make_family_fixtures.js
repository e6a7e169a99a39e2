#!/usr/bin/env node
// Model-family fixtures (issue 23): small random-weight sentence-transformers folders in Hugging
// Face layout — config.json as transformers writes it, the family's tensor names — with
// reference outputs from plain-PyTorch forwards written from transformers' code
// (tools/reference/torch_families.py via make_family_fixtures.py). Token ids come from Hugging
// Face `tokenizers` (npm, the devDependency), not from our tokenizer.
//
//   node tools/reference/make_family_fixtures.js        # → test/fixtures/families/<name>/
//
// Fixtures (hidden 32, 4 heads, 2 layers, FFN 64; vocabulary: the first 8,000 tokens of
// bert-base-uncased, with the families' special tokens):
//   xlmr-tiny             model_type xlm-roberta: positions after pad_token_id 1, one token type,
//                         LayerNorm eps 1e-5; WordPiece tokenizer with RobertaProcessing
//                         (<s> A </s>). 130 positions → sequences of up to 128.
//   mpnet-tiny            model_type mpnet: relative attention bias (32 buckets, distance 128),
//                         positions after padding index 1, no token types; 258 positions, so
//                         sequences up to 256 reach every bucket.
//   distilbert-tiny       model_type distilbert, learned positions.
//   distilbert-sinusoidal sinusoidal_pos_embds true (the table as transformers makes it).
//   xlmr-unigram-tiny     model_type xlm-roberta with a real XLM-R tokenizer layout: SentencePiece
//                         Unigram (nmt_nfkc Precompiled charsmap, Metaspace, fairseq ids; the
//                         xlmr-unigram tokenizer of test/fixtures/tokenizer-families).
//   multilingual-minilm-tiny  a BERT body (model_type bert, positions from 0, two token types)
//                         with that XLM-R Unigram tokenizer, as paraphrase-multilingual-MiniLM and
//                         multilingual e5 are.
// The Unigram fixtures add multilingual sentences (the tokenizer fixtures' hand-written texts).
//   node tools/reference/make_family_fixtures.js [NAME...]   # only these fixtures
// Sentences: the first STSb-test sentences, an empty one, a long paragraph (truncated at
// max_seq_length), literal special tokens (`<pad>` inside a sentence: the RoBERTa/MPNet position
// rule skips it).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Tokenizer } = require('tokenizers');

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'test', 'fixtures', 'families');
const VOCAB = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'tokenizer', 'vocab.txt'), 'utf8').split('\n').slice(0, 8000);
const STSB = path.join(process.env.STSB_DIR || '/work/shared/data/stsbenchmark', 'sts-test.csv');

function sentences() {
  const seen = new Set();
  for (const line of fs.readFileSync(STSB, 'utf8').split('\n')) {
    const cols = line.split('\t');
    for (const s of [cols[5], cols[6]]) if (s && seen.size < 24) seen.add(s.trim());
  }
  const long = Array.from({ length: 40 }, (_, i) => `Sentence ${i} of a long paragraph goes on about the weather, the sea and the mountains.`).join(' ');
  return [...seen, '', long, 'a man <pad> is playing the <pad> guitar.', 'short', 'Ünïcödé text with 東京 and émojis 🙂 too.'];
}

const added = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
const special = (t) => ({ SpecialToken: { id: t, type_id: 0 } });
const seq = (x, type) => ({ Sequence: { id: x, type_id: type } });

/** A WordPiece tokenizer.json over `vocab` with the given specials and post-processor. */
function wordPieceTokenizer(vocab, specials, postProcessor) {
  const v = {};
  vocab.forEach((t, i) => { v[t] = i; });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(([t]) => added(v[t], t)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: postProcessor,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: v },
  };
}

// RoBERTa / MPNet vocabulary: <s> <pad> </s> <unk> first (the fairseq layout), then BERT's, <mask> last.
const ROBERTA_VOCAB = ['<s>', '<pad>', '</s>', '<unk>', ...VOCAB, '<mask>'];
const ROBERTA_SPECIALS = [['<s>'], ['<pad>'], ['</s>'], ['<unk>'], ['<mask>']];
const template = (cls, sep, ids) => ({
  type: 'TemplateProcessing',
  single: [special(cls), seq('A', 0), special(sep)],
  pair: [special(cls), seq('A', 0), special(sep), special(sep), seq('B', 1), special(sep)],
  special_tokens: { [cls]: { id: cls, ids: [ids[cls]], tokens: [cls] }, [sep]: { id: sep, ids: [ids[sep]], tokens: [sep] } },
});

const SIZES = { hidden: 32, heads: 4, layers: 2, ffn: 64 };

/** The XLM-R Unigram tokenizer.json of the tokenizer-family fixtures. */
function xlmrUnigram() {
  return require(path.join(ROOT, 'test', 'fixtures', 'tokenizer-families', 'families.js')).tokenizerJson('xlmr-unigram');
}

/** Non-English sentences from the tokenizer fixtures' texts (short, one per script range). */
function multilingualSentences() {
  const { texts } = require(path.join(ROOT, 'test', 'fixtures', 'tokenizer-families', 'families.js')).texts();
  return texts.filter((t) => t.length >= 12 && t.length <= 160 && /[^\x00-\x7f]/.test(t) && !/[\u0000-\u001f\ud800-\udfff]/.test(t)).slice(0, 40).filter((_, i) => i % 2 === 0);
}
const XLMR_TOKENIZER_CONFIG = { model_max_length: 512, bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>', mask_token: '<mask>', tokenizer_class: 'XLMRobertaTokenizer' };

const FIXTURES = [
  {
    name: 'xlmr-tiny', family: 'roberta', seed: 23, maxSeqLength: 128,
    config: {
      architectures: ['XLMRobertaModel'], model_type: 'xlm-roberta', vocab_size: ROBERTA_VOCAB.length,
      hidden_size: SIZES.hidden, num_hidden_layers: SIZES.layers, num_attention_heads: SIZES.heads,
      intermediate_size: SIZES.ffn, hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
      max_position_embeddings: 130, type_vocab_size: 1, initializer_range: 0.02, layer_norm_eps: 1e-5,
      pad_token_id: 1, bos_token_id: 0, eos_token_id: 2, position_embedding_type: 'absolute', use_cache: true,
      classifier_dropout: null, torch_dtype: 'float32', transformers_version: '4.51.0',
    },
    tokenizer: wordPieceTokenizer(ROBERTA_VOCAB, ROBERTA_SPECIALS,
      { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false }),
    tokenizerConfig: { model_max_length: 512, bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>', mask_token: '<mask>', tokenizer_class: 'XLMRobertaTokenizer' },
    pad: 1,
  },
  {
    name: 'mpnet-tiny', family: 'mpnet', seed: 24, maxSeqLength: 256,
    config: {
      architectures: ['MPNetModel'], model_type: 'mpnet', vocab_size: ROBERTA_VOCAB.length,
      hidden_size: SIZES.hidden, num_hidden_layers: SIZES.layers, num_attention_heads: SIZES.heads,
      intermediate_size: SIZES.ffn, hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
      max_position_embeddings: 258, initializer_range: 0.02, layer_norm_eps: 1e-5, relative_attention_num_buckets: 32,
      pad_token_id: 1, bos_token_id: 0, eos_token_id: 2, torch_dtype: 'float32', transformers_version: '4.51.0',
    },
    tokenizer: wordPieceTokenizer(ROBERTA_VOCAB, ROBERTA_SPECIALS, template('<s>', '</s>', { '<s>': 0, '</s>': 2 })),
    tokenizerConfig: { model_max_length: 512, do_lower_case: true, bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '[UNK]', tokenizer_class: 'MPNetTokenizer' },
    pad: 1,
  },
  {
    name: 'xlmr-unigram-tiny', family: 'roberta', seed: 27, maxSeqLength: 128, multilingual: true,
    config: () => ({
      architectures: ['XLMRobertaModel'], model_type: 'xlm-roberta', vocab_size: xlmrUnigram().model.vocab.length,
      hidden_size: SIZES.hidden, num_hidden_layers: SIZES.layers, num_attention_heads: SIZES.heads,
      intermediate_size: SIZES.ffn, hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
      max_position_embeddings: 130, type_vocab_size: 1, initializer_range: 0.02, layer_norm_eps: 1e-5,
      pad_token_id: 1, bos_token_id: 0, eos_token_id: 2, position_embedding_type: 'absolute', use_cache: true,
      classifier_dropout: null, torch_dtype: 'float32', transformers_version: '4.51.0',
    }),
    tokenizer: xlmrUnigram,
    tokenizerConfig: XLMR_TOKENIZER_CONFIG,
    pad: 1,
  },
  {
    name: 'multilingual-minilm-tiny', family: 'bert', seed: 28, maxSeqLength: 128, multilingual: true,
    config: () => ({
      architectures: ['BertModel'], model_type: 'bert', vocab_size: xlmrUnigram().model.vocab.length,
      hidden_size: SIZES.hidden, num_hidden_layers: SIZES.layers, num_attention_heads: SIZES.heads,
      intermediate_size: SIZES.ffn, hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
      max_position_embeddings: 512, type_vocab_size: 2, initializer_range: 0.02, layer_norm_eps: 1e-12,
      pad_token_id: 0, position_embedding_type: 'absolute', gradient_checkpointing: false, use_cache: true,
      tokenizer_class: 'XLMRobertaTokenizer', torch_dtype: 'float32', transformers_version: '4.51.0',
    }),
    tokenizer: xlmrUnigram,
    tokenizerConfig: XLMR_TOKENIZER_CONFIG,
    pad: 1,
  },
  ...[false, true].map((sinusoidal) => ({
    name: sinusoidal ? 'distilbert-sinusoidal' : 'distilbert-tiny', family: 'distilbert', seed: sinusoidal ? 26 : 25, maxSeqLength: 128,
    config: {
      architectures: ['DistilBertModel'], model_type: 'distilbert', vocab_size: VOCAB.length, dim: SIZES.hidden,
      n_layers: SIZES.layers, n_heads: SIZES.heads, hidden_dim: SIZES.ffn, activation: 'gelu', dropout: 0.1,
      attention_dropout: 0.1, max_position_embeddings: 128, sinusoidal_pos_embds: sinusoidal, initializer_range: 0.02,
      pad_token_id: 0, qa_dropout: 0.1, seq_classif_dropout: 0.2, tie_weights_: true, torch_dtype: 'float32',
      transformers_version: '4.51.0',
    },
    tokenizer: wordPieceTokenizer(VOCAB, [['[PAD]'], ['[UNK]'], ['[CLS]'], ['[SEP]'], ['[MASK]']],
      { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] }),
    tokenizerConfig: { model_max_length: 512, do_lower_case: true, tokenizer_class: 'DistilBertTokenizer' },
    pad: 0,
  })),
];

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

async function main() {
  const only = process.argv.slice(2);
  const unknown = only.filter((n) => !FIXTURES.some((f) => f.name === n));
  if (unknown.length > 0) throw new Error(`unknown fixture ${unknown.join(', ')} (fixtures: ${FIXTURES.map((f) => f.name).join(', ')})`);
  for (const f of FIXTURES) {
    if (only.length > 0 && !only.includes(f.name)) continue;
    const texts = f.multilingual ? [...sentences(), ...multilingualSentences()] : sentences();
    const dir = path.join(OUT, f.name);
    fs.rmSync(dir, { recursive: true, force: true });
    writeJson(path.join(dir, 'config.json'), typeof f.config === 'function' ? f.config() : f.config);
    writeJson(path.join(dir, 'tokenizer.json'), typeof f.tokenizer === 'function' ? f.tokenizer() : f.tokenizer);
    writeJson(path.join(dir, 'tokenizer_config.json'), f.tokenizerConfig);
    writeJson(path.join(dir, 'modules.json'), [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
    ]);
    writeJson(path.join(dir, 'sentence_bert_config.json'), { max_seq_length: f.maxSeqLength, do_lower_case: false });
    writeJson(path.join(dir, '1_Pooling', 'config.json'), {
      word_embedding_dimension: SIZES.hidden, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true,
      pooling_mode_max_tokens: false, pooling_mode_mean_sqrt_len_tokens: false, pooling_mode_weightedmean_tokens: false,
      pooling_mode_lasttoken: false, include_prompt: true,
    });
    fs.mkdirSync(path.join(dir, '2_Normalize'), { recursive: true });
    writeJson(path.join(dir, 'config_sentence_transformers.json'), { __version__: { sentence_transformers: '3.4.1' }, prompts: {}, default_prompt_name: null, similarity_fn_name: 'cosine' });

    // The reference tokenizer (Hugging Face tokenizers), truncating at max_seq_length as
    // sentence-transformers does.
    const tok = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    tok.setTruncation(f.maxSeqLength);
    const ids = [];
    for (const t of texts) ids.push(Array.from((await tok.encode(t, null)).getIds()));
    const idsFile = path.join(os.tmpdir(), `sbert-family-${f.name}-ids.json`);
    fs.writeFileSync(idsFile, JSON.stringify({ ids, pad: f.pad }));
    execFileSync('/usr/bin/python3', [path.join(__dirname, 'make_family_fixtures.py'), f.family, dir, idsFile, String(f.seed)], { stdio: 'inherit' });
    fs.rmSync(idsFile);
    writeJson(path.join(dir, 'reference.json'), {
      note: 'made by tools/reference/make_family_fixtures.js: ids from Hugging Face tokenizers (npm), outputs from tools/reference/torch_families.py',
      family: f.family,
      max_seq_length: f.maxSeqLength,
      sentences: texts,
      ids,
    });
  }
}

module.exports = { sentences, wordPieceTokenizer, template, ROBERTA_VOCAB, ROBERTA_SPECIALS, VOCAB, SIZES, writeJson };

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
