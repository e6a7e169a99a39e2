'use strict';
// The STS Benchmark sentences the benchmarks run on: unique sentences in order of first
// appearance over train, dev, test (sentence 1 before sentence 2 of each row). The folder is
// $STSB_DIR, else ../shared/data/stsbenchmark beside the repository (the repository's own data/
// holds dev and test only, not train).
const fs = require('node:fs');
const path = require('node:path');

function stsbDir() {
  const cands = [process.env.STSB_DIR, path.join(__dirname, '..', '..', 'shared', 'data', 'stsbenchmark'), '/work/shared/data/stsbenchmark'].filter(Boolean);
  const dir = cands.find((d) => fs.existsSync(path.join(d, 'sts-train.csv')));
  if (!dir) throw new Error(`STS Benchmark not found (looked in ${cands.join(', ')}; set STSB_DIR)`);
  return dir;
}

/** The first `n` unique STSb sentences (all of them when n is Infinity) and the folder read. */
function stsSentences(n = Infinity) {
  const dir = stsbDir();
  const seen = new Set();
  const out = [];
  for (const split of ['train', 'dev', 'test']) {
    for (const line of fs.readFileSync(path.join(dir, `sts-${split}.csv`), 'utf8').split('\n')) {
      const cols = line.split('\t'); // genre, file, year, id, score, s1, s2 (some rows have more)
      if (cols.length < 7) continue;
      for (const s of [cols[5], cols[6]]) {
        if (seen.has(s)) continue;
        seen.add(s);
        out.push(s);
        if (out.length === n) return { sentences: out, dir };
      }
    }
  }
  return { sentences: out, dir };
}

module.exports = { stsSentences, stsbDir };
