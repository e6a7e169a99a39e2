// Training data and schedule (no native trainer needed): the JSONL / TSV / CSV readers and
// their line-numbered errors, the bundled stsb-train, transformers' linear warm-up schedule,
// seeded shuffling, and `sbert train` argument errors.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const train = require('../dist/train');
const { runTrainCommand } = require('../dist/train/cli');
const { FIXTURES } = require('./helpers/reference');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-train-data-'));
function file(name, text) {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}
function badData(fn, lineRe) {
  try {
    fn();
  } catch (err) {
    assert.is(err.code, 'ERR_BAD_DATA', err.message);
    assert.match(err.message, lineRe);
    return err;
  }
  assert.unreachable('expected ERR_BAD_DATA');
}

test('JSONL: texts, label, target; blank lines skipped', () => {
  const f = file('a.jsonl', '{"texts": ["a b", "c"], "label": 0.5}\n\n{"texts": ["x"], "target": [1, -2.5]}\r\n');
  const ex = train.readTrainingFile(f);
  assert.is(ex.length, 2);
  assert.equal(ex[0].texts, ['a b', 'c']);
  assert.is(ex[0].label, 0.5);
  assert.ok(ex[1].target instanceof Float32Array);
  assert.equal(Array.from(ex[1].target), [1, -2.5]);
});

test('JSONL: bad rows name the file and line', () => {
  const ok = '{"texts": ["a", "b"], "label": 1}\n';
  badData(() => train.readTrainingFile(file('b1.jsonl', ok + '\n{"texts": ["a", "b"], "label": 1\n')), /b1\.jsonl:3: not valid JSON/);
  badData(() => train.readTrainingFile(file('b2.jsonl', ok + '{"texts": "a"}\n')), /b2\.jsonl:2: "texts" must be/);
  badData(() => train.readTrainingFile(file('b3.jsonl', ok + ok + '{"texts": ["a"], "label": "high"}\n')), /b3\.jsonl:3: "label"/);
  badData(() => train.readTrainingFile(file('b4.jsonl', '{"texts": ["a"], "target": [1, null]}\n')), /b4\.jsonl:1: "target"/);
  badData(() => train.readTrainingFile(file('b5.jsonl', '[1, 2]\n')), /b5\.jsonl:1: expected an object/);
});

test('TSV with sentence1, sentence2, score header (any column order, extra columns kept out)', () => {
  const f = file('p.tsv', 'id\tscore\tsentence2\tsentence1\n7\t4.5\tsecond\tfirst\n8\t0\tb\ta\n');
  const ex = train.readTrainingFile(f);
  assert.equal(ex, [
    { texts: ['first', 'second'], label: 4.5 },
    { texts: ['a', 'b'], label: 0 },
  ]);
});

test('CSV with quotes; anchor, positive, negative triplets', () => {
  const f = file('t.csv', 'anchor,positive,negative\n"a, with comma","say ""hi""",n\nx,y,z\n');
  const ex = train.readTrainingFile(f);
  assert.equal(ex, [
    { texts: ['a, with comma', 'say "hi"', 'n'] },
    { texts: ['x', 'y', 'z'] },
  ]);
  const pairs = train.readTrainingFile(file('ap.csv', 'anchor,positive\nq,d\n'));
  assert.equal(pairs, [{ texts: ['q', 'd'] }]);
});

test('TSV/CSV: bad header and bad rows name the line', () => {
  badData(() => train.readTrainingFile(file('h.tsv', 'text\tvalue\na\t1\n')), /h\.tsv:1: the header must name/);
  badData(() => train.readTrainingFile(file('n.tsv', 'sentence1\tsentence2\n a\tb\n')), /n\.tsv:1: .*score or label/);
  badData(() => train.readTrainingFile(file('c.tsv', 'sentence1\tsentence2\tlabel\na\tb\t1\n\nc\td\n')), /c\.tsv:4: 2 columns, the header has 3/);
  badData(() => train.readTrainingFile(file('s.csv', 'sentence1,sentence2,score\na,b,1\na,b,high\n')), /s\.csv:3: score "high" is not a number/);
  badData(() => train.readTrainingFile(file('q.csv', 'anchor,positive\n"open,b\n')), /q\.csv:2: unterminated quoted field/);
  badData(() => train.readTrainingFile(file('e.tsv', '')), /empty file/);
  badData(() => train.readTrainingFile(file('x.txt', 'a\n')), /unknown training file type/);
  badData(() => train.readTrainingFile(path.join(tmp, 'missing.jsonl')), /cannot read/);
});

test('stsb-train: 5,749 pairs, scores scaled to [0, 1], first pair as in the file', () => {
  const ex = train.loadTrainingData('stsb-train');
  assert.is(ex.length, 5749);
  assert.equal(ex[0], { texts: ['A plane is taking off.', 'An air plane is taking off.'], label: 1 });
  assert.is(ex[1].label, 3.8 / 5);
  assert.ok(ex.every((e) => e.label >= 0 && e.label <= 1 && e.texts.length === 2));
});

test('linear warm-up schedule equals transformers get_linear_schedule_with_warmup', () => {
  // Values of LambdaLR(get_linear_schedule_with_warmup(opt, 3, 10)) × lr 1.0, steps 0..10,
  // written out from the formula in transformers/optimization.py.
  const expected = [0, 1 / 3, 2 / 3, 1, 6 / 7, 5 / 7, 4 / 7, 3 / 7, 2 / 7, 1 / 7, 0];
  for (let s = 0; s <= 10; s++) assert.ok(Math.abs(train.linearWarmupLr(1, s, 3, 10) - expected[s]) < 1e-15, `step ${s}`);
  assert.is(train.linearWarmupLr(2e-5, 0, 36, 360), 0, 'the first step runs at lr 0');
  assert.is(train.linearWarmupLr(1, 0, 0, 4), 1, 'no warm-up: full lr at step 0');
  assert.is(train.warmupStepsFor(360, 0.1), 36);
  assert.is(train.warmupStepsFor(359, 0.1), 36, 'rounded up');
  assert.is(train.warmupStepsFor(10, 0), 0);
});

test('seeded shuffling: a permutation, the same for a seed, different across seeds and epochs', () => {
  const a = train.epochOrder(1000, new train.SeededRandom(7));
  assert.equal([...a].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.equal(Array.from(train.epochOrder(1000, new train.SeededRandom(7))), Array.from(a));
  assert.not.equal(Array.from(train.epochOrder(1000, new train.SeededRandom(8))), Array.from(a));
  const rng = new train.SeededRandom(7);
  const e1 = train.epochOrder(50, rng);
  const e2 = train.epochOrder(50, rng);
  assert.not.equal(Array.from(e1), Array.from(e2));
  assert.equal(Array.from(train.epochOrder(5)), [0, 1, 2, 3, 4], 'no rng: file order');
  // Roughly uniform: each of 10 items lands first about 1/10 of the time.
  const firsts = new Array(10).fill(0);
  const r = new train.SeededRandom(1);
  for (let i = 0; i < 5000; i++) firsts[train.epochOrder(10, r)[0]]++;
  for (const c of firsts) assert.ok(c > 400 && c < 600, `first-position count ${c}`);
});

async function runCli(args) {
  let out = '';
  let err = '';
  const code = await runTrainCommand(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

test('sbert train: argument errors exit 2 naming the argument', async () => {
  const tiny = path.join(FIXTURES, 'tiny');
  const cases = [
    [[], /--model DIR is required/],
    [['--model', path.join(tmp, 'nope'), '--loss', 'cosine', '--train', 'stsb-train'], /--model .*nope: no model folder at/],
    [['--model', 'defualt', '--loss', 'cosine', '--train', 'stsb-train'], /did you mean 'default'\?/],
    [['--model', tiny, '--train', 'stsb-train'], /--loss is required/],
    [['--model', tiny, '--loss', 'l2', '--train', 'stsb-train'], /--loss must be one of cosine, softmax, triplet, mnrl, mse/],
    [['--model', tiny, '--loss', 'cosine'], /--train FILE\|stsb-train is required/],
    [['--model', tiny, '--loss', 'cosine', '--train', path.join(tmp, 'none.jsonl')], /no such file/],
    [['--model', tiny, '--loss', 'cosine', '--train', 'stsb-train', '--epochs', '0'], /--epochs must be an integer >= 1/],
    [['--model', tiny, '--loss', 'cosine', '--train', 'stsb-train', '--batch-size', 'x'], /--batch-size/],
    [['--model', tiny, '--loss', 'cosine', '--train', 'stsb-train', '--lr=-1'], /--lr must be a number >= 0/],
    [['--model', tiny, '--loss', 'cosine', '--train', 'stsb-train', '--eval', 'stsb-train'], /--eval must be an STS task/],
    [['--model', tiny, '--loss', 'cosine', '--train', 'stsb-train', '--eval-steps', '5'], /--eval-steps needs --eval/],
    [['--model', tiny, '--loss', 'cosine', '--train', 'stsb-train', '--output', tiny], /--output .* exists and is not an empty folder/],
    [['--model', tiny, '--loss', 'cosine', '--train', 'stsb-train', '--save-dtype', 'int8'], /--save-dtype must be fp32, fp16 or bf16/],
    [['--model', tiny, '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
  }
  const help = await runCli(['--help']);
  assert.is(help.code, 0);
  assert.match(help.out, /Usage: sbert train --model DIR --loss LOSS --train FILE\|stsb-train/);
});

test('sbert train: a bad row is reported with its line and exit 1, nothing written to --output', async () => {
  const f = file('bad.jsonl', '{"texts": ["a", "b"], "label": 0.5}\n{"texts": ["a", "b"], "label": "x"}\n');
  const out = path.join(tmp, 'never');
  const r = await runCli(['--model', path.join(FIXTURES, 'tiny'), '--loss', 'cosine', '--train', f, '--output', out, '--no-progress']);
  assert.is(r.code, 1, r.err);
  assert.match(r.err, /ERR_BAD_DATA: .*bad\.jsonl:2: "label"/);
  assert.not.ok(fs.existsSync(out));
});

// Issue 27: rows that parse but that fit refuses are named by file:line, not by their index.
test('sbert train: an example fit refuses is named by its file and line, not its index', async () => {
  const jsonl = file('mixed.jsonl', '{"texts": ["a", "b"], "label": 0.5}\n\n{"texts": ["a", "b", "c"], "label": 0.5}\n');
  let r = await runCli(['--model', 'default', '--loss', 'cosine', '--train', jsonl, '--no-progress', '--output', path.join(tmp, 'never')]);
  assert.is(r.code, 1, r.err);
  assert.is(r.err, `sbert train: ${jsonl}:3: the example has 3 texts; the cosine loss takes 2\n`);
  const tsv = file('labels.tsv', 'sentence1\tsentence2\tlabel\nx\ty\t0\ny\tz\t7\n');
  r = await runCli(['--model', 'default', '--loss', 'softmax', '--train', tsv, '--no-progress', '--output', path.join(tmp, 'never2')]);
  assert.is(r.code, 0, 'labels 0 and 7 make 8 classes: valid');
  const triplets = file('t.csv', 'anchor,positive\na,b\nc,d\n');
  r = await runCli(['--model', 'default', '--loss', 'triplet', '--train', triplets, '--no-progress', '--output', path.join(tmp, 'never3')]);
  assert.is(r.code, 1);
  assert.is(r.err, `sbert train: ${triplets}:2: the example has 2 texts; the triplet loss takes 3\n`);
  assert.not.ok(fs.existsSync(path.join(tmp, 'never')) || fs.existsSync(path.join(tmp, 'never3')), 'nothing written');
});

test("sbert train --model default trains the bundled model", async () => {
  const jsonl = file('two.jsonl', '{"texts": ["A man eats.", "A man is eating."], "label": 0.9}\n{"texts": ["A man eats.", "A plane."], "label": 0.1}\n');
  const out = path.join(tmp, 'trained-default');
  const r = await runCli(['--model', 'default', '--loss', 'cosine', '--train', jsonl, '--batch-size', '2', '--no-progress', '--output', out]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /trained 2 examples, 1 steps/);
  assert.ok(fs.existsSync(path.join(out, 'README.md')) && fs.existsSync(path.join(out, '2_Dense', 'model.safetensors')));
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
