#!/usr/bin/env node
// Cross-encoder fixtures (issue 24): random-weight Hugging Face sequence-classification folders
// — config.json as transformers writes it (architectures …ForSequenceClassification, id2label,
// the score activation sentence-transformers stores) and the task model's tensor names
// (`bert.encoder…`, `bert.pooler…`, `classifier…`) — with reference logits from plain-PyTorch
// forwards written from transformers' code (tools/reference/make_cross_encoder_fixtures.py).
// Pair token ids and token type ids come from Hugging Face `tokenizers` (npm).
//
//   node tools/reference/make_cross_encoder_fixtures.js     # → test/fixtures/cross-encoders/<name>/
//
//   bert-ce        BertForSequenceClassification, 1 label, type_vocab_size 2 (token type rows
//                  differ, so segment ids matter), pooler + classifier; activation Identity
//                  (as ms-marco cross-encoders store it)
//   xlmr-ce        XLMRobertaForSequenceClassification, 3 labels (NLI-like), RoBERTa head
//                  (classifier.dense + tanh + classifier.out_proj); no stored activation
//   distilbert-ce  DistilBertForSequenceClassification, 1 label (pre_classifier + ReLU + classifier);
//                  no stored activation (Sigmoid by default)
//   mpnet-ce       MPNetForSequenceClassification, 1 label, `sbert_ce_default_activation_function`
//                  Sigmoid (the older key)
// Pairs: STSb-test sentence pairs, an empty side, long texts (longest-first truncation at
// max_length), identical pairs.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Tokenizer } = require('tokenizers');
const { wordPieceTokenizer, template, ROBERTA_VOCAB, ROBERTA_SPECIALS, VOCAB, SIZES, writeJson } = require('./make_family_fixtures');

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'test', 'fixtures', 'cross-encoders');
const STSB = path.join(process.env.STSB_DIR || '/work/shared/data/stsbenchmark', 'sts-test.csv');

function pairs() {
  const out = [];
  for (const line of fs.readFileSync(STSB, 'utf8').split('\n')) {
    const cols = line.split('\t');
    if (cols[5] && cols[6] && out.length < 20) out.push([cols[5], cols[6]]);
  }
  const long = Array.from({ length: 30 }, (_, i) => `Part ${i} of a long passage about rivers, harbours and the trade winds.`).join(' ');
  return [...out, ['', 'an empty query'], ['a query', ''], [long, 'short document'], ['short query', long], [long, long], ['same text', 'same text']];
}

const common = { hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, initializer_range: 0.02, torch_dtype: 'float32', transformers_version: '4.51.0' };
const labels = (n) => ({ id2label: Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), `LABEL_${i}`])), label2id: Object.fromEntries(Array.from({ length: n }, (_, i) => [`LABEL_${i}`, i])) });
const dims = { hidden_size: SIZES.hidden, num_hidden_layers: SIZES.layers, num_attention_heads: SIZES.heads, intermediate_size: SIZES.ffn };

const FIXTURES = [
  {
    name: 'bert-ce', family: 'bert', seed: 31, maxLength: 64, pad: 0, useTypes: true,
    config: {
      architectures: ['BertForSequenceClassification'], model_type: 'bert', vocab_size: VOCAB.length, ...dims, ...common,
      max_position_embeddings: 128, type_vocab_size: 2, layer_norm_eps: 1e-12, pad_token_id: 0, position_embedding_type: 'absolute',
      classifier_dropout: null, ...labels(1), sbert_ce_default_activation_function: 'torch.nn.modules.linear.Identity',
    },
    tokenizer: wordPieceTokenizer(VOCAB, [['[PAD]'], ['[UNK]'], ['[CLS]'], ['[SEP]'], ['[MASK]']], {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] } },
    }),
    tokenizerConfig: { model_max_length: 64, do_lower_case: true, tokenizer_class: 'BertTokenizer' },
  },
  {
    name: 'xlmr-ce', family: 'roberta', seed: 32, maxLength: 64, pad: 1, useTypes: false,
    config: {
      architectures: ['XLMRobertaForSequenceClassification'], model_type: 'xlm-roberta', vocab_size: ROBERTA_VOCAB.length, ...dims, ...common,
      max_position_embeddings: 130, type_vocab_size: 1, layer_norm_eps: 1e-5, pad_token_id: 1, bos_token_id: 0, eos_token_id: 2,
      position_embedding_type: 'absolute', classifier_dropout: null, ...labels(3),
    },
    tokenizer: wordPieceTokenizer(ROBERTA_VOCAB, ROBERTA_SPECIALS,
      { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false }),
    tokenizerConfig: { model_max_length: 512, bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>', mask_token: '<mask>', tokenizer_class: 'XLMRobertaTokenizer' },
  },
  {
    name: 'distilbert-ce', family: 'distilbert', seed: 33, maxLength: 64, pad: 0, useTypes: false,
    config: {
      architectures: ['DistilBertForSequenceClassification'], model_type: 'distilbert', vocab_size: VOCAB.length, dim: SIZES.hidden,
      n_layers: SIZES.layers, n_heads: SIZES.heads, hidden_dim: SIZES.ffn, activation: 'gelu', dropout: 0.1, attention_dropout: 0.1,
      max_position_embeddings: 128, sinusoidal_pos_embds: false, initializer_range: 0.02, pad_token_id: 0, qa_dropout: 0.1,
      seq_classif_dropout: 0.2, torch_dtype: 'float32', transformers_version: '4.51.0', ...labels(1),
    },
    tokenizer: wordPieceTokenizer(VOCAB, [['[PAD]'], ['[UNK]'], ['[CLS]'], ['[SEP]'], ['[MASK]']], template('[CLS]', '[SEP]', { '[CLS]': 101, '[SEP]': 102 })),
    tokenizerConfig: { model_max_length: 64, do_lower_case: true, tokenizer_class: 'DistilBertTokenizer' },
  },
  {
    name: 'mpnet-ce', family: 'mpnet', seed: 34, maxLength: 96, pad: 1, useTypes: false,
    config: {
      architectures: ['MPNetForSequenceClassification'], model_type: 'mpnet', vocab_size: ROBERTA_VOCAB.length, ...dims, ...common,
      max_position_embeddings: 130, layer_norm_eps: 1e-5, relative_attention_num_buckets: 32, pad_token_id: 1, bos_token_id: 0,
      eos_token_id: 2, ...labels(1), sbert_ce_default_activation_function: 'torch.nn.modules.activation.Sigmoid',
    },
    tokenizer: wordPieceTokenizer(ROBERTA_VOCAB, ROBERTA_SPECIALS, template('<s>', '</s>', { '<s>': 0, '</s>': 2 })),
    tokenizerConfig: { model_max_length: 96, do_lower_case: true, bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '[UNK]', tokenizer_class: 'MPNetTokenizer' },
  },
];

async function main() {
  const list = pairs();
  for (const f of FIXTURES) {
    const dir = path.join(OUT, f.name);
    fs.rmSync(dir, { recursive: true, force: true });
    writeJson(path.join(dir, 'config.json'), f.config);
    writeJson(path.join(dir, 'tokenizer.json'), f.tokenizer);
    // max_length is the tokenizer's model_max_length, as sentence-transformers takes it.
    writeJson(path.join(dir, 'tokenizer_config.json'), { ...f.tokenizerConfig, model_max_length: f.maxLength });
    // The reference tokenizer, longest-first truncation at max_length, as transformers'
    // tokenizer(a, b, truncation=True, max_length=…) gives sentence-transformers.
    const tok = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    tok.setTruncation(f.maxLength);
    const ids = [];
    const typeIds = [];
    for (const [a, b] of list) {
      const e = await tok.encode(a, b);
      ids.push(Array.from(e.getIds()));
      typeIds.push(Array.from(e.getTypeIds()));
    }
    const idsFile = path.join(os.tmpdir(), `sbert-ce-${f.name}-ids.json`);
    // Models whose tokenizer gives no token_type_ids to the model (RoBERTa, MPNet, DistilBERT)
    // run with all-zero types, as transformers does.
    fs.writeFileSync(idsFile, JSON.stringify({ ids, typeIds: f.useTypes ? typeIds : null, pad: f.pad }));
    execFileSync('/usr/bin/python3', [path.join(__dirname, 'make_cross_encoder_fixtures.py'), f.family, dir, idsFile, String(f.seed)], { stdio: 'inherit' });
    fs.rmSync(idsFile);
    writeJson(path.join(dir, 'reference.json'), {
      note: 'made by tools/reference/make_cross_encoder_fixtures.js: ids and type ids from Hugging Face tokenizers (npm), logits from tools/reference/make_cross_encoder_fixtures.py',
      family: f.family,
      max_length: f.maxLength,
      pairs: list,
      ids,
      typeIds,
    });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
