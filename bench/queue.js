#!/usr/bin/env node
'use strict';
/**
 * Bulk jobs on BullMQ + Redis (issue 26): what the queue costs and how it scales on this machine.
 * The same N sentences are embedded
 *   in-process   SentenceEncoder.encode(all) in one process (the peer),
 *   1 worker     submitEmbedJob + one `sbert worker` process,
 *   2 workers    submitEmbedJob + two `sbert worker` processes,
 * every engine with one thread (SBERT_NUM_THREADS=1), the bundled default model, chunks of
 * --chunk-size sentences, a redis-server started here on a free loopback port (test/helpers/redis.js).
 * Each side loads its model and warms up (one chunk) before the timed region; the queue's timed
 * region is the whole submitEmbedJob call (read and hash the corpus, enqueue, collect, write the
 * shards and the manifest). It reports sentences/s, the ratio to in-process, the queue's overhead
 * per chunk two ways — (wall − in-process wall) / chunks, and wall − the worker's own encode time
 * per chunk (from its log, so independent of run-to-run noise) — and checks that the manifest's
 * rows are float32-identical to in-process encode, in input order.
 *
 *   node bench/queue.js [--n 20000] [--chunk-size 1024] [--rounds 1] [--workers 1,2]
 *
 * Sentences: the unique STS Benchmark sentences (bench/stsb.js: 15,487 of them), repeated in the
 * same order when --n is larger.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { spawn, spawnSync } = require('node:child_process');
const { stsSentences } = require('./stsb');

const root = path.join(__dirname, '..');
const CLI = path.join(root, 'dist', 'cli.js');

function parseArgs(argv) {
  const a = { n: 20000, chunkSize: 1024, rounds: 1, workers: [1, 2], child: undefined };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--n') a.n = Number(v());
    else if (k === '--chunk-size') a.chunkSize = Number(v());
    else if (k === '--rounds') a.rounds = Number(v());
    else if (k === '--workers') a.workers = v().split(',').map(Number);
    else if (k === '--child-inprocess') a.child = { input: v(), output: v(), warm: Number(v()) };
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

/** The CPU as the report names it: model and the SIMD/matrix flags the kernels may use. */
function cpuInfo() {
  const text = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /model name\s*:\s*(.*)/.exec(text)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const flags = new Set((/flags\s*:\s*(.*)/.exec(text)?.[1] ?? '').split(/\s+/));
  const wanted = ['avx2', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16', 'avx_vnni', 'amx_tile', 'amx_int8', 'amx_bf16'];
  return { model, cores: os.cpus().length, flags: wanted.filter((f) => flags.has(f)) };
}

function readLines(file) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Child: in-process encode, timed after a warm-up; writes the rows to a file. */
async function inProcessChild({ input, output, warm }) {
  const { SentenceEncoder } = require(path.join(root, 'dist'));
  const list = readLines(input);
  const enc = await SentenceEncoder.load('default', { device: 'cpu' });
  await enc.encode(list.slice(0, warm));
  const t = process.hrtime.bigint();
  const emb = await enc.encode(list);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  fs.writeFileSync(output, Buffer.from(emb.data.buffer, emb.data.byteOffset, emb.data.byteLength));
  enc.dispose();
  process.stdout.write(JSON.stringify({ ms, rows: emb.count, dim: emb.dim }) + '\n');
}

const live = new Set();

function startWorker(redisUrl, queue) {
  const child = spawn(process.execPath, [CLI, 'worker', '--redis', redisUrl, '--queue', queue, '--device', 'cpu'], {
    cwd: root, env: { ...process.env, SBERT_NUM_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.add(child);
  const w = { child, encodeMs: [], ready: undefined, exited: new Promise((r) => child.on('exit', r)) };
  child.on('exit', () => live.delete(child));
  w.ready = new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stderr }).on('line', (line) => {
      if (/ready: model/.test(line)) resolve();
      const m = / done in (\d+) ms/.exec(line);
      if (m) w.encodeMs.push(Number(m[1]));
      if (/^sbert: /.test(line)) reject(new Error(line));
    });
    child.on('exit', (code) => reject(new Error(`worker exited ${code}`)));
  });
  return w;
}

async function queueRun(redis, nWorkers, corpus, warmFile, chunkSize, tmp, round) {
  const { submitEmbedJob } = require(path.join(root, 'dist', 'queue'));
  const queue = `bench-${nWorkers}-${round}`;
  const workers = Array.from({ length: nWorkers }, () => startWorker(redis.url, queue));
  await Promise.all(workers.map((w) => w.ready));
  // warm-up: one chunk per worker
  await submitEmbedJob({ connection: redis.url, queue, input: warmFile, output: path.join(tmp, `warm-${queue}`), chunkSize });
  for (const w of workers) w.encodeMs.length = 0;
  const output = path.join(tmp, `out-${queue}`);
  const t = process.hrtime.bigint();
  const manifest = await submitEmbedJob({ connection: redis.url, queue, input: corpus, output, chunkSize });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const encodeMs = workers.flatMap((w) => w.encodeMs);
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  return { ms, output, manifest, encodeMs };
}

/** The manifest's rows in order, as one buffer (the shards' data after their .npy headers). */
function manifestBytes(dir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  return Buffer.concat(manifest.shards.map((s) => {
    const buf = fs.readFileSync(path.join(dir, s.file));
    return buf.subarray(10 + buf.readUInt16LE(8));
  }));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.child) return inProcessChild(args.child);
  const { startRedis } = require(path.join(root, 'test', 'helpers', 'redis'));
  const pool = stsSentences().sentences;
  const list = Array.from({ length: args.n }, (_, i) => pool[i % pool.length]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-bench-queue-'));
  const corpus = path.join(tmp, 'corpus.txt');
  fs.writeFileSync(corpus, list.join('\n') + '\n');
  const warmFile = path.join(tmp, 'warm.txt');
  fs.writeFileSync(warmFile, list.slice(0, args.chunkSize * 2).join('\n') + '\n');
  const chunks = Math.ceil(args.n / args.chunkSize);
  const redis = await startRedis();
  // Ctrl-C / kill: leave no worker or redis-server behind
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      for (const child of live) child.kill('SIGKILL');
      redis.close().finally(() => {
        fs.rmSync(tmp, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
  const cpu = cpuInfo();
  const redisVersion = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const bullVersion = require('bullmq/package.json').version;
  console.log(`queue bench: ${args.n} sentences (STSb, ${pool.length} unique), chunks of ${args.chunkSize} (${chunks}), bundled default model, SBERT_NUM_THREADS=1 per engine`);
  console.log(`CPU: ${cpu.model}, ${cpu.cores} cores, flags ${cpu.flags.join(' ')}; ${redisVersion.split(' ').slice(0, 3).join(' ')}; bullmq ${bullVersion}; node ${process.version}`);
  const results = { inProcess: [], queue: {} };
  const refFile = path.join(tmp, 'ref.f32');
  try {
    for (let round = 0; round < args.rounds; round++) {
      const r = spawnSync(process.execPath, [__filename, '--child-inprocess', corpus, refFile, String(args.chunkSize)], {
        cwd: root, env: { ...process.env, SBERT_NUM_THREADS: '1' }, encoding: 'utf8', maxBuffer: 1 << 26,
      });
      if (r.status !== 0) throw new Error(`in-process child failed: ${r.stderr}`);
      results.inProcess.push(JSON.parse(r.stdout.trim().split('\n').pop()));
      const ref = fs.readFileSync(refFile);
      for (const n of args.workers) {
        const q = await queueRun(redis, n, corpus, warmFile, args.chunkSize, tmp, round);
        const identical = manifestBytes(q.output).equals(ref);
        (results.queue[n] ??= []).push({ ms: q.ms, identical, encodeMs: q.encodeMs.reduce((a, b) => a + b, 0), chunks: q.manifest.shards.length });
        fs.rmSync(q.output, { recursive: true, force: true });
      }
    }
  } finally {
    await redis.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const inMs = median(results.inProcess.map((r) => r.ms));
  const rows = [['in-process encode', inMs, 1, '', '', 'reference']];
  const summary = { n: args.n, chunkSize: args.chunkSize, chunks, rounds: args.rounds, cpu, inProcessMs: inMs, queue: {} };
  for (const n of args.workers) {
    const runs = results.queue[n];
    const ms = median(runs.map((r) => r.ms));
    const overheadVsInProcess = (ms - inMs) / chunks;
    // 1 worker: wall minus the worker's own encode time is what the queue adds, per chunk
    const own = n === 1 ? median(runs.map((r) => (r.ms - r.encodeMs) / r.chunks)) : undefined;
    const identical = runs.every((r) => r.identical);
    rows.push([`${n} worker${n > 1 ? 's' : ''}`, ms, inMs / ms, overheadVsInProcess, own, identical ? 'float32-identical' : 'DIFFERENT']);
    summary.queue[n] = { ms, sentencesPerS: args.n / (ms / 1000), ratioToInProcess: inMs / ms, overheadPerChunkMs: overheadVsInProcess, ownOverheadPerChunkMs: own, identical };
  }
  console.log('');
  console.log('| run | wall s | sentences/s | ÷ in-process | overhead/chunk vs in-process | wall − encode per chunk | rows |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, ms, ratio, over, own, note] of rows) {
    console.log(`| ${name} | ${(ms / 1000).toFixed(2)} | ${(args.n / (ms / 1000)).toFixed(0)} | ${ratio.toFixed(3)} | ${over === '' ? '' : `${over.toFixed(1)} ms`} | ${own === undefined || own === '' ? '' : `${own.toFixed(1)} ms`} | ${note} |`);
  }
  console.log('');
  for (let round = 0; round < args.rounds; round++) {
    const parts = [`in-process ${(results.inProcess[round].ms / 1000).toFixed(2)} s`];
    for (const n of args.workers) {
      const r = results.queue[n][round];
      const own = n === 1 ? `, wall − encode ${((r.ms - r.encodeMs) / r.chunks).toFixed(1)} ms/chunk` : '';
      parts.push(`${n} worker${n > 1 ? 's' : ''} ${(r.ms / 1000).toFixed(2)} s (÷ in-process ${(results.inProcess[round].ms / r.ms).toFixed(3)}${own})`);
    }
    console.log(`round ${round + 1}: ${parts.join('; ')}`);
  }
  summary.runs = results;
  console.log(JSON.stringify(summary));
  if (Object.values(summary.queue).some((q) => !q.identical)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
