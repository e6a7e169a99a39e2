#!/usr/bin/env node
// Writes test/fixtures/train-cross-encoders/cases.json: the batches of the cross-encoder training
// parity fixture (issue 24) — 10 steps of 6 sentence pairs each, their labels, and their token ids
// and token type ids from Hugging Face `tokenizers` (npm; longest-first truncation at each
// model's max_length, as transformers' tokenizer(a, b, truncation=True) gives
// sentence-transformers) — for the PyTorch reference (tools/reference/train_cross_reference.py)
// and test/cross-encoder-train-parity.test.js.
//
//   bert-bce  test/fixtures/cross-encoders/bert-ce (BERT, 1 label, two token types whose rows
//             differ): STS Benchmark train pairs with soft labels score / 5 (the SBERT paper's
//             cross-encoder STSb regression as BCEWithLogits), plus a pair longer than
//             max_length (truncated) and one with an empty side.
//   xlmr-ce   test/fixtures/cross-encoders/xlmr-ce (XLM-R, 3 labels, no token types given to the
//             model): SICK train pairs with their entailment judgement as the class index in
//             sentence-transformers' NLI order (contradiction 0, entailment 1, neutral 2).
//
//   node tools/reference/make_cross_train_cases.js && /usr/bin/python3 tools/reference/train_cross_reference.py
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Tokenizer } = require('tokenizers');

const ROOT = path.resolve(__dirname, '..', '..');
const MODELS = path.join(ROOT, 'test', 'fixtures', 'cross-encoders');
const OUT = path.join(ROOT, 'test', 'fixtures', 'train-cross-encoders', 'cases.json');
const DATA = process.env.SHARED_DATA_DIR || '/work/shared/data';
const STEPS = 10;
const PER_STEP = 6;

/** STSb train pairs (score / 5), every 37th row for variety, with a long and an empty-sided pair. */
function stsbPairs() {
  const rows = fs.readFileSync(path.join(DATA, 'stsbenchmark', 'sts-train.csv'), 'utf8').split('\n').map((l) => l.split('\t')).filter((c) => c[5] && c[6]);
  const out = [];
  for (let i = 0; out.length < STEPS * PER_STEP - 2; i += 37) out.push({ texts: [rows[i][5], rows[i][6]], label: Number(rows[i][4]) / 5 });
  const long = Array.from({ length: 12 }, (_, i) => `Clause ${i} of a long sentence about harbours, tides and the weather at sea.`).join(' ');
  out.splice(7, 0, { texts: [long, rows[1][6]], label: 0.25 });
  out.splice(23, 0, { texts: ['', rows[2][6]], label: 0 });
  return out;
}

/** SICK train pairs with their entailment class (contradiction 0, entailment 1, neutral 2). */
function sickPairs() {
  const classes = { CONTRADICTION: 0, ENTAILMENT: 1, NEUTRAL: 2 };
  const rows = fs.readFileSync(path.join(DATA, 'sick', 'SICK_train.txt'), 'utf8').split('\n').slice(1).map((l) => l.split('\t')).filter((c) => c[4]);
  // Balanced-ish: cycle through the three classes, taking the next row of each.
  const byClass = [[], [], []];
  for (const c of rows) byClass[classes[c[4].trim()]].push({ texts: [c[1], c[2]], label: classes[c[4].trim()] });
  const out = [];
  for (let i = 0; out.length < STEPS * PER_STEP; i++) out.push(byClass[i % 3][Math.floor(i / 3) * 5]);
  return out;
}

async function caseOf(model, examples) {
  const dir = path.join(MODELS, model);
  const maxLength = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')).model_max_length;
  const tok = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
  tok.setTruncation(maxLength);
  const steps = [];
  for (let s = 0; s < STEPS; s++) {
    const batch = examples.slice(s * PER_STEP, (s + 1) * PER_STEP);
    const ids = [];
    const typeIds = [];
    for (const ex of batch) {
      const e = await tok.encode(ex.texts[0], ex.texts[1]);
      ids.push(Array.from(e.getIds()));
      typeIds.push(Array.from(e.getTypeIds()));
    }
    steps.push({ pairs: batch.map((ex) => ex.texts), labels: batch.map((ex) => ex.label), ids, typeIds });
  }
  return { model: `test/fixtures/cross-encoders/${model}`, maxLength, examplesPerStep: PER_STEP, steps };
}

async function main() {
  const cases = {
    'bert-bce': { loss: 'bce', ...(await caseOf('bert-ce', stsbPairs())) },
    'xlmr-ce': { loss: 'cross_entropy', ...(await caseOf('xlmr-ce', sickPairs())) },
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify({
    note: 'made by tools/reference/make_cross_train_cases.js: STSb-train / SICK-train pairs, ids and type ids from Hugging Face tokenizers (npm)',
    cases,
  }) + '\n');
  for (const [name, c] of Object.entries(cases)) {
    const longest = Math.max(...c.steps.flatMap((s) => s.ids.map((x) => x.length)));
    console.log(`${name}: ${c.steps.length} steps × ${c.examplesPerStep} pairs, longest ${longest} tokens (max_length ${c.maxLength})`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
