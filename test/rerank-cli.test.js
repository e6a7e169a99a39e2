// `sbert rerank` (issue 24, item 3), run as a user runs it (a child process): the text and
// --json outputs against CrossEncoder.rank in-process (order, scores, --top-k), input from a
// file, from `-` and from a pipe, argument errors (exit 2, one line naming the flag), models
// that cannot rank (exit 1 with the code); and examples/retrieve-rerank.mjs, the README's
// retrieve-and-rerank example.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { CrossEncoder } = require('../dist');
const { FIXTURES } = require('./helpers/reference');

const root = path.join(__dirname, '..');
const CLI = path.join(root, 'dist', 'cli.js');
const CE = path.join(FIXTURES, 'cross-encoders');
const MODEL = path.join(CE, 'mpnet-ce');
const QUERY = 'Someone plays a musical instrument.';
const DOCS = ['A man is playing a flute.', 'A dog runs in the park.', '', 'Ünïcödé and 東京 too', 'Stocks fell sharply on Monday.', 'A woman plays the violin on stage.', 'A man is playing a flute.'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-rerank-'));
const docsFile = path.join(tmp, 'docs.txt');
fs.writeFileSync(docsFile, DOCS.join('\n') + '\n');

function sbert(args, input) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, timeout: 60000 });
}

let ce;
test.before(async () => {
  ce = await CrossEncoder.load(MODEL, { device: 'cpu' });
});
test.after(() => {
  ce.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('--json prints CrossEncoder.rank\'s hits (corpusId, score, text), the same numbers and order; --top-k keeps the best N', async () => {
  const r = sbert(['rerank', '--model', MODEL, '--query', QUERY, '--input', docsFile, '--json', '--device', 'cpu']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.equal(JSON.parse(r.stdout), await ce.rank(QUERY, DOCS, { returnDocuments: true }));
  const top = sbert(['rerank', '-m', MODEL, '-q', QUERY, '-i', docsFile, '--json', '--top-k', '3', '--device', 'cpu']);
  assert.is(top.status, 0, top.stderr);
  assert.equal(JSON.parse(top.stdout), await ce.rank(QUERY, DOCS, { returnDocuments: true, topK: 3 }));
});

test('text output: rank, score (4 decimals) and text per line, aligned, best first; from a file, from `-` and from a pipe alike', async () => {
  const hits = await ce.rank(QUERY, DOCS);
  const want = hits.map((h, k) => `${k + 1}  ${h.score.toFixed(4)}  ${DOCS[h.corpusId]}`).join('\n') + '\n';
  const fromFile = sbert(['rerank', '--model', MODEL, '--query', QUERY, '--input', docsFile, '--device', 'cpu']);
  assert.is(fromFile.status, 0, fromFile.stderr);
  assert.is(fromFile.stdout, want);
  assert.is(sbert(['rerank', '--model', MODEL, '--query', QUERY, '--input', '-', '--device', 'cpu'], DOCS.join('\r\n')).stdout, want, 'stdin via -, CRLF');
  assert.is(sbert(['rerank', '--model', MODEL, '--query', QUERY, '--device', 'cpu'], DOCS.join('\n') + '\n').stdout, want, 'a pipe without --input');
  // Ranks and scores line up when they differ in width (12 documents: ranks 1 to 12).
  const twelve = Array.from({ length: 12 }, (_, i) => `document ${i}`);
  const r = sbert(['rerank', '--model', MODEL, '--query', 'q', '--device', 'cpu'], twelve.join('\n'));
  const lines = r.stdout.trimEnd().split('\n');
  assert.is(lines.length, 12);
  const textAt = lines.map((l) => l.indexOf('document'));
  assert.ok(textAt.every((i) => i === textAt[0]), `texts aligned: ${lines.join(' | ')}`);
  assert.match(lines[0], /^ 1 {2}\d\.\d{4} {2}document/);
  assert.match(lines[11], /^12 {2}/);
});

test('no documents: no output ([] with --json), exit 0; the query may be empty', async () => {
  const none = sbert(['rerank', '--model', MODEL, '--query', QUERY, '--device', 'cpu'], '');
  assert.is(none.status, 0, none.stderr);
  assert.is(none.stdout, '');
  assert.is(sbert(['rerank', '--model', MODEL, '--query', QUERY, '--json', '--device', 'cpu'], '').stdout, '[]\n');
  const empty = sbert(['rerank', '--model', MODEL, '--query', '', '--json', '--device', 'cpu'], DOCS.join('\n'));
  assert.equal(JSON.parse(empty.stdout), await ce.rank('', DOCS, { returnDocuments: true }));
});

test('argument errors exit 2 with one line naming the flag; models that cannot rank exit 1 with their code', () => {
  for (const [args, first] of [
    [['rerank', '--query', 'q', '--input', docsFile], /^sbert rerank: --model is required/],
    [['rerank', '--model', MODEL, '--input', docsFile], /^sbert rerank: --query is required/],
    [['rerank', '--model', MODEL, '--query', 'q', '--top-k', '0'], /^sbert rerank: --top-k must be a positive integer/],
    [['rerank', '--model', MODEL, '--query', 'q', '--top-k', '1e3'], /^sbert rerank: --top-k must be a positive integer/],
    [['rerank', '--model', MODEL, '--query', 'q', '--batch-tokens', '0x10'], /^sbert rerank: --batch-tokens must be a positive integer/],
    [['rerank', '--model', MODEL, '--query', 'q', '--device', 'gpu'], /^sbert rerank: --device must be/],
    [['rerank', '--model', MODEL, '--query', 'q', '--precision', 'fp8'], /^sbert rerank: --precision must be/],
    [['rerank', '--model', MODEL, '--query', 'q', '--input', path.join(tmp, 'missing.txt')], /^sbert rerank: cannot read --input/],
    [['rerank', '--model', path.join(CE, 'nope'), '--query', 'q', '--input', docsFile], /^sbert rerank: --model .*nope: no model folder/],
    [['rerank', '--model', MODEL, '--query', 'q', '--bogus'], /^sbert rerank: Unknown option '--bogus'/],
  ]) {
    const r = sbert(args, '');
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.is(lines.length, 2, r.stderr);
    assert.match(lines[0], first);
    assert.is(lines[1], "Run 'sbert rerank --help' for usage.");
  }
  for (const [model, message] of [
    [path.join(CE, 'xlmr-ce'), /^sbert: ERR_BAD_MODEL: .*xlmr-ce has 3 labels \(LABEL_0, LABEL_1, LABEL_2\): ranking needs a reranker, a model with one label\n$/],
    [path.join(FIXTURES, 'tiny'), /^sbert: ERR_BAD_MODEL: /],
    ['default', /^sbert: ERR_BAD_MODEL: the bundled default model is a bi-encoder/],
  ]) {
    const r = sbert(['rerank', '--model', model, '--query', 'q', '--input', docsFile, '--device', 'cpu']);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.is(r.stdout, '');
  }
  const help = sbert(['rerank', '--help']);
  assert.is(help.status, 0);
  assert.match(help.stdout, /^Usage: sbert rerank --model/);
  assert.match(sbert(['--help']).stdout, /\n {2}rerank {3}Rank documents/);
});

test('examples/retrieve-rerank.mjs (the README\'s retrieve and rerank) runs as pasted: the cross-encoder reorders the bi-encoder\'s hits', () => {
  const r = spawnSync(process.execPath, [path.join('examples', 'retrieve-rerank.mjs')], { cwd: root, encoding: 'utf8', timeout: 120000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^retrieved \d+ of \d+ by the bi-encoder$/);
  const ranked = lines.slice(1);
  assert.ok(ranked.length >= 3, r.stdout);
  for (const line of ranked) assert.match(line, /^-?\d+\.\d{4}\s+\(bi-encoder -?\d\.\d{4}\) .+$/);
  const scores = ranked.map((l) => Number(l.split(/\s+/)[0]));
  assert.equal(scores, [...scores].sort((a, b) => b - a), 'best first by the cross-encoder');
});

test.run();
