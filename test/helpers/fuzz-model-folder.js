#!/usr/bin/env node
// Seeded mutations of a small model folder, each loaded with SentenceEncoder.load and (when it
// loads) used to encode a few awkward sentences. Run by test/fuzz.test.js in a limited child
// process; also by hand:
//
//   node test/helpers/fuzz-model-folder.js [--seed N] [--cases N] [--model DIR] [--root PKG] [--work DIR]
//
// Prints one line per case that did not end well, then `RESULT {json}`: the number of cases,
// how they ended (loaded, refused at load or at encode, by error code or class) and the
// failures. A failure is an error that is neither an SbertError with a code nor a
// TypeError/RangeError (a stack overflow counts as a failure too), an output that is not finite,
// or an embedding of the wrong shape. A crash or a hang shows as the process dying or running
// out of time, with the case it was in on stderr.
//
// Weights set to finite values of magnitude >= 1e30 load (only NaN/Inf weights are refused)
// and overflow float32 arithmetic; the engine refuses the non-finite output with ERR_BAD_MODEL
// at encode (a typed refusal), so every non-finite output is a failure.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { rng } = require('./random');

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const SEED = Number(arg('seed', '30'));
const CASES = Number(arg('cases', '400'));
const BASE = path.resolve(arg('model', path.join(__dirname, '..', 'fixtures', 'train-small')));
const ROOT = path.resolve(arg('root', process.env.SBERT_ROOT || path.join(__dirname, '..', '..')));
const { SentenceEncoder } = require.main === module ? require(path.join(ROOT, 'dist')) : {};

const random = rng(SEED);
const int = (n) => Math.floor(random() * n);
const pick = (list) => list[int(list.length)];

const SENTENCES = [
  '',
  'a',
  'The quick brown fox jumps over the lazy dog.',
  'Ünïcödé, 東京 and an emoji 🙂 — with “quotes”.',
  Array.from({ length: 400 }, (_, i) => `word${i}`).join(' '), // past max_seq_length: truncated
  'x'.repeat(300), // longer than a WordPiece word may be
];

// ---- the files of the folder, by kind ---------------------------------------------------------

function filesOf(dir, rel = '') {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...filesOf(dir, r));
    else out.push(r);
  }
  return out;
}
const FILES = filesOf(BASE);
const JSON_FILES = FILES.filter((f) => f.endsWith('.json'));
const WEIGHT_FILES = FILES.filter((f) => f.endsWith('.safetensors'));

// ---- values and mutations ----------------------------------------------------------------------

const LONG = 'a'.repeat(10000);
function interestingValue() {
  return pick([
    null, true, false, 0, -1, 1, 2, 3, 7, 0.5, -0.5, 1e308, -1e308, 2 ** 31, 2 ** 53 + 2, 1e-30,
    '', 'x', 'gelu', 'mean', 'cls', 'max', '[UNK]', '[CLS]', 'Sequence', 'WordPiece', 'BPE', 'Unigram',
    [], {}, [1, 2], ['a', 'b'], { a: 1 }, { type: 'Sequence', normalizers: [] }, LONG,
    nested(1 + int(40)),
  ]);
}

/** An array nested `depth` deep (shallow enough not to test the tokenizer's nesting limit). */
function nested(depth) {
  let v = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Every path into a JSON value (arrays sampled when long: a vocabulary has thousands of keys). */
function jsonPaths(v, at = [], out = []) {
  out.push(at);
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    const chosen = keys.length > 24 ? Array.from({ length: 24 }, () => pick(keys)) : keys;
    for (const k of chosen) jsonPaths(v[k], [...at, Array.isArray(v) ? Number(k) : k], out);
  }
  return out;
}

function mutateJsonValue(doc) {
  const paths = jsonPaths(doc).filter((p) => p.length > 0);
  if (paths.length === 0) return interestingValue();
  const p = pick(paths);
  let parent = doc;
  for (const k of p.slice(0, -1)) parent = parent[k];
  const key = p[p.length - 1];
  const op = int(6);
  if (op === 0) {
    if (Array.isArray(parent)) parent.splice(key, 1);
    else delete parent[key];
  } else if (op === 1 && typeof parent[key] === 'number') {
    parent[key] = pick([parent[key] + 1, parent[key] - 1, parent[key] * 2, -parent[key], parent[key] + 0.5, 0]);
  } else if (op === 2 && Array.isArray(parent)) {
    parent.splice(key, 0, parent[key]); // duplicate an element
  } else if (op === 3 && typeof parent[key] === 'string') {
    parent[key] = pick([parent[key].toUpperCase(), parent[key] + 'x', parent[key].slice(1), '']);
  } else {
    parent[key] = interestingValue();
  }
  return doc;
}

/**
 * Mutations of a folder `dir`, with weights: each returns a description. Finite weights of
 * magnitude >= 1e30 overflow fp32 arithmetic: the engine refuses the non-finite output they give
 * (ERR_BAD_MODEL at encode), which counts as a typed refusal.
 */
const MUTATIONS = [
  // JSON: one value changed (several times over for some cases)
  [6, (dir) => {
    const rel = pick(JSON_FILES);
    const file = path.join(dir, rel);
    let doc = JSON.parse(readRegular(file).toString('utf8'));
    const n = 1 + int(3);
    for (let i = 0; i < n; i++) doc = mutateJsonValue(doc);
    fs.writeFileSync(file, JSON.stringify(doc));
    return `json ×${n} ${rel}`;
  }],
  // JSON text: a number too large for a double, a duplicated key, garbage
  [1, (dir) => {
    const rel = pick(JSON_FILES);
    const file = path.join(dir, rel);
    const text = readRegular(file).toString('utf8');
    const m = [...text.matchAll(/-?\d+(\.\d+)?/g)];
    if (m.length === 0) return 'no number';
    const hit = pick(m);
    const repl = pick(['1e400', '-1e400', '99999999999999999999', '0.0000001', '-0', '00']);
    fs.writeFileSync(file, text.slice(0, hit.index) + repl + text.slice(hit.index + hit[0].length));
    return `json-text ${rel} ${hit[0]}→${repl}`;
  }],
  // bytes: truncated, flipped, inserted, emptied
  [3, (dir) => {
    const rel = pick(FILES);
    const file = path.join(dir, rel);
    const buf = readRegular(file);
    const op = int(4);
    let out;
    if (op === 0) out = buf.subarray(0, int(buf.length + 1));
    else if (op === 1) {
      out = Buffer.from(buf);
      for (let i = 0, n = 1 + int(8); i < n && out.length > 0; i++) out[int(out.length)] = int(256);
    } else if (op === 2) {
      const at = int(buf.length + 1);
      out = Buffer.concat([buf.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256))), buf.subarray(at)]);
    } else out = Buffer.alloc(0);
    fs.writeFileSync(file, out);
    return `bytes op${op} ${rel} (${buf.length}→${out.length})`;
  }],
  // safetensors header: an entry's dtype, shape or offsets changed, or an entry renamed/dropped
  [4, (dir) => {
    const rel = pick(WEIGHT_FILES);
    const file = path.join(dir, rel);
    const buf = readRegular(file);
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    const name = pick(names);
    const e = header[name];
    const op = int(7);
    if (op === 0) e.dtype = pick(['F16', 'BF16', 'F64', 'I64', 'U8', 'BOOL', 'F8_E4M3', 'X', 7]);
    else if (op === 1) e.shape = pick([[...e.shape].reverse(), e.shape.map((d) => d + 1), e.shape.slice(1), [], [0], [2 ** 40, 2 ** 40], [-1]]);
    else if (op === 2) e.data_offsets = pick([[e.data_offsets[0] + 4, e.data_offsets[1] + 4], [e.data_offsets[1], e.data_offsets[0]], [0, e.data_offsets[1] - e.data_offsets[0]], [2 ** 53, 2 ** 53 + 4], [-4, 0], [e.data_offsets[0]]]);
    else if (op === 3) {
      header[pick(['bert.', 'model.', 'x.', '']) + name.replace('weight', pick(['gamma', 'beta', 'weight']))] = e;
      delete header[name];
    } else if (op === 4) delete header[name];
    else if (op === 5) header[`${name}.copy`] = { ...e };
    else header.__metadata__ = pick([{ format: 'pt' }, { format: 7 }, [], 'x', null]);
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    fs.writeFileSync(file, Buffer.concat([head, Buffer.from(json), buf.subarray(8 + n)]));
    return `header op${op} ${rel} ${name}`;
  }],
  // safetensors data: some weights overwritten (large but finite, NaN, infinite, tiny)
  [3, (dir) => {
    const rel = pick(WEIGHT_FILES);
    const file = path.join(dir, rel);
    const buf = readRegular(file);
    const n = Number(buf.readBigUInt64LE(0));
    const start = 8 + n;
    const count = Math.floor((buf.length - start) / 4);
    const value = pick([NaN, Infinity, -Infinity, 3e38, -3e38, 1e30, 1e6, -1e4, 1e-40, 0]);
    const k = 1 + int(64);
    for (let i = 0; i < k; i++) buf.writeFloatLE(value, start + 4 * int(count));
    fs.writeFileSync(file, buf);
    return `data ${rel} ${k}×${value}`;
  }],
  // the file replaced by something else
  [2, (dir) => {
    const rel = pick(FILES);
    const file = path.join(dir, rel);
    fs.rmSync(file, { force: true });
    const op = int(6);
    if (op === 1) fs.mkdirSync(file);
    else if (op === 2) execFileSync('mkfifo', [file]);
    else if (op === 3) fs.symlinkSync('/dev/zero', file);
    else if (op === 4) fs.symlinkSync(path.basename(file), file); // a symlink loop
    else if (op === 5) fs.symlinkSync(path.join(dir, 'no-such-file'), file); // dangling
    return `replace op${op} ${rel}`;
  }],
];
const TOTAL_WEIGHT = MUTATIONS.reduce((a, [w]) => a + w, 0);

/** Applies one random mutation: { what }. */
function mutate(dir) {
  let r = random() * TOTAL_WEIGHT;
  let chosen = MUTATIONS[0][1];
  for (const [w, fn] of MUTATIONS) {
    if ((r -= w) < 0) {
      chosen = fn;
      break;
    }
  }
  let m;
  try {
    m = chosen(dir);
  } catch (err) {
    // A second mutation of a file the first one already broke (or replaced by a FIFO, which is
    // never read here: readRegular refuses it).
    m = `(mutation not applicable: ${String(err.message).slice(0, 60)})`;
  }
  return { what: m };
}

/** The file's bytes when it is a regular file (never read a FIFO: it would block this runner). */
function readRegular(file) {
  if (!fs.lstatSync(file).isFile()) throw new Error(`${path.basename(file)} is not a regular file`);
  return fs.readFileSync(file);
}

// ---- running one case --------------------------------------------------------------------------

function classify(err) {
  if (err && err.name === 'SbertError' && typeof err.code === 'string') return { ok: true, kind: err.code };
  if ((err instanceof TypeError || err instanceof RangeError) && !/call stack/i.test(err.message)) return { ok: true, kind: err.constructor.name };
  return { ok: false, kind: `${err && err.constructor ? err.constructor.name : typeof err}${err && err.code ? ` ${err.code}` : ''}` };
}

async function runCase(dir) {
  let encoder;
  try {
    encoder = await SentenceEncoder.load(dir, { device: 'cpu' });
  } catch (err) {
    const c = classify(err);
    return c.ok ? { outcome: `refused ${c.kind}` } : { outcome: `untyped ${c.kind}`, failure: `load threw ${c.kind}: ${err && err.message}` };
  }
  try {
    const emb = await encoder.encode(SENTENCES);
    if (emb.count !== SENTENCES.length || emb.data.length !== emb.count * emb.dim) return { outcome: 'bad shape', failure: `encode gave ${emb.count} × ${emb.dim} for ${SENTENCES.length} sentences` };
    const bad = emb.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      return { outcome: 'non-finite', failure: `output [${Math.floor(bad / emb.dim)}, ${bad % emb.dim}] = ${emb.data[bad]}` };
    }
    return { outcome: 'loaded' };
  } catch (err) {
    const c = classify(err);
    return c.ok ? { outcome: `loaded, refused at encode ${c.kind}` } : { outcome: `untyped ${c.kind}`, failure: `loaded, then encode threw ${c.kind}: ${err && err.message}` };
  } finally {
    encoder.dispose();
  }
}

async function main() {
  // --work: a folder the caller made (and removes even if this process is killed).
  const work = arg('work') ? path.resolve(arg('work')) : fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-fuzz-'));
  const outcomes = {};
  const failures = [];
  const started = Date.now();
  try {
    for (let i = 0; i < CASES; i++) {
      const dir = path.join(work, `case-${i}`);
      fs.cpSync(BASE, dir, { recursive: true });
      const mutations = [mutate(dir)];
      if (random() < 0.25) mutations.push(mutate(dir)); // two mutations at once, sometimes
      const what = mutations.map((m) => m.what);
      process.stderr.write(`case ${i}: ${what.join('; ')}\n`);
      const r = await runCase(dir);
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      if (r.failure) {
        failures.push({ case: i, mutation: what.join('; '), failure: r.failure });
        process.stdout.write(`FAIL case ${i} (${what.join('; ')}): ${r.failure}\n`);
      }
      await fs.promises.rm(dir, { recursive: true, force: true }); // (rmSync: ~50 ms a folder here)
    }
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
  const result = { seed: SEED, cases: CASES, seconds: (Date.now() - started) / 1000, outcomes, failures };
  process.stdout.write(`\nRESULT ${JSON.stringify({ maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), value: result })}\n`);
}

// Only as a program (a test runner that loads every file under test/ must not start it).
if (require.main === module) {
  main().catch((err) => {
    process.stdout.write(`fuzz runner failed: ${err && err.stack}\n`);
    process.exitCode = 1;
  });
}
