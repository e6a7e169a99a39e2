#!/usr/bin/env node
// Writes test/fixtures/train-families/cases.json: the cosine and MNRL batches of the BERT
// training parity fixture (test/fixtures/train/cases.json: same texts, labels, order) re-tokenized
// for test/fixtures/families/mpnet-tiny by Hugging Face `tokenizers` (npm), for the MPNet training
// parity reference (tools/reference/train_family_reference.py) and test/train-parity.test.js.
//
//   node tools/reference/make_family_train_cases.js && /usr/bin/python3 tools/reference/train_family_reference.py
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Tokenizer } = require('tokenizers');

const ROOT = path.resolve(__dirname, '..', '..');
const MODEL = path.join(ROOT, 'test', 'fixtures', 'families', 'mpnet-tiny');
const SOURCE = path.join(ROOT, 'test', 'fixtures', 'train', 'cases.json');
const OUT = path.join(ROOT, 'test', 'fixtures', 'train-families', 'cases.json');
const LOSSES = ['cosine', 'mnrl'];

async function main() {
  const source = JSON.parse(fs.readFileSync(SOURCE, 'utf8'));
  const maxSeqLength = JSON.parse(fs.readFileSync(path.join(MODEL, 'sentence_bert_config.json'), 'utf8')).max_seq_length;
  const tok = Tokenizer.fromFile(path.join(MODEL, 'tokenizer.json'));
  tok.setTruncation(maxSeqLength);
  const losses = {};
  for (const loss of LOSSES) {
    const c = source.losses[loss];
    const steps = [];
    for (const s of c.steps) {
      const ids = [];
      const cu = [0];
      for (const t of s.texts) {
        const e = Array.from((await tok.encode(t, null)).getIds());
        ids.push(...e);
        cu.push(ids.length);
      }
      steps.push({ texts: s.texts, ids, cuSeqlens: cu, ...(s.labels ? { labels: s.labels } : {}) });
    }
    losses[loss] = { textsPerExample: c.textsPerExample, examplesPerStep: c.examplesPerStep, steps };
  }
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify({
    note: 'made by tools/reference/make_family_train_cases.js: the texts of test/fixtures/train/cases.json, ids from Hugging Face tokenizers for families/mpnet-tiny',
    model: 'test/fixtures/families/mpnet-tiny',
    maxSeqLength,
    losses,
  }) + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
