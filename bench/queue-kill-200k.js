#!/usr/bin/env node
'use strict';
/**
 * Issue 26's "done when" run: a 200,000-sentence bulk job on two `sbert worker` processes, one of
 * them SIGKILLed midway (mid-chunk) and started again; the manifest's rows must equal in-process
 * `encode` of the same sentences, float32 for float32, in order.
 *
 *   nice node bench/queue-kill-200k.js [--n 200000] [--chunk-size 1024] [--kill-at 0.5]
 *                                      [--lock-duration-ms 10000] [--stalled-interval-ms 5000]
 *
 * Everything is real: redis-server on a free loopback port (test/helpers/redis.js), `sbert submit`
 * and `sbert worker` as separate processes (one engine thread each), the bundled default model.
 * Sentences: the unique STS Benchmark sentences (bench/stsb.js), then the same again with
 * " (k)" appended on the k-th repetition, so all --n are distinct.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { stsSentences } = require('./stsb');

const root = path.join(__dirname, '..');
const CLI = path.join(root, 'dist', 'cli.js');

function parseArgs(argv) {
  const a = { n: 200000, chunkSize: 1024, killAt: 0.5, lock: 10000, stalled: 5000 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => Number(argv[++i]);
    if (k === '--n') a.n = v();
    else if (k === '--chunk-size') a.chunkSize = v();
    else if (k === '--kill-at') a.killAt = v();
    else if (k === '--lock-duration-ms') a.lock = v();
    else if (k === '--stalled-interval-ms') a.stalled = v();
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

const t0 = Date.now();
const say = (m) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${m}`);

function start(args, name, env = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: root, env: { ...process.env, SBERT_NUM_THREADS: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const p = { name, child, started: [], done: [], lines: [], exited: new Promise((r) => child.on('exit', (code, signal) => r({ code, signal }))) };
  const onLine = (line) => {
    p.lines.push(line);
    const m = /chunk [^#]+#(\d+) rows \[\d+, \d+\) (started|done)/.exec(line);
    if (m) p[m[2]].push(Number(m[1]));
    else if (!/progress|\[#*-*\]/.test(line)) say(`${name}: ${line}`);
  };
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  readline.createInterface({ input: child.stderr }).on('line', onLine);
  return p;
}

async function waitFor(check, what, ms = 3600e3) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { startRedis } = require(path.join(root, 'test', 'helpers', 'redis'));
  const pool = stsSentences().sentences;
  const list = Array.from({ length: args.n }, (_, i) => (i < pool.length ? pool[i] : `${pool[i % pool.length]} (${Math.floor(i / pool.length)})`));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-200k-'));
  const input = path.join(tmp, 'corpus.txt');
  fs.writeFileSync(input, list.join('\n') + '\n');
  const output = path.join(tmp, 'out');
  const chunks = Math.ceil(args.n / args.chunkSize);
  const redis = await startRedis();
  say(`redis ${redis.url}; ${args.n} sentences, ${chunks} chunks of ${args.chunkSize}; workers: lock ${args.lock} ms, stalled check every ${args.stalled} ms`);
  const workerArgs = ['worker', '--redis', redis.url, '--queue', 'big', '--device', 'cpu', '--lock-duration-ms', String(args.lock), '--stalled-interval-ms', String(args.stalled)];
  const procs = [];
  // Ctrl-C / kill: leave no worker, submitter or redis-server behind
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      for (const p of procs) p.child.kill('SIGKILL');
      redis.stop().finally(() => {
        fs.rmSync(redis.dir, { recursive: true, force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
  try {
    const a = start(workerArgs, 'worker A');
    const b = start(workerArgs, 'worker B');
    procs.push(a, b);
    const submit = start(['submit', '--redis', redis.url, '--queue', 'big', '--input', input, '--output', output, '--chunk-size', String(args.chunkSize), '--job-id', 'big-200k'], 'submit');
    procs.push(submit);
    const jobStart = Date.now();
    const doneCount = () => procs.reduce((n, p) => n + (p.name.startsWith('worker') ? p.done.length : 0), 0);
    await waitFor(() => doneCount() >= Math.floor(chunks * args.killAt), 'half the chunks');
    // kill A while it holds a chunk
    await waitFor(() => a.started.length > a.done.length, 'worker A mid-chunk');
    const held = a.started[a.started.length - 1];
    a.child.kill('SIGKILL');
    await a.exited;
    const midChunk = !a.done.includes(held);
    say(`SIGKILLed worker A holding chunk ${held} (${midChunk ? 'mid-chunk' : 'it had just finished'}); ${doneCount()} of ${chunks} chunks done`);
    await new Promise((r) => setTimeout(r, 2000));
    const a2 = start(workerArgs, 'worker A (restarted)');
    procs.push(a2);
    const result = await submit.exited;
    const jobS = (Date.now() - jobStart) / 1000;
    if (result.code !== 0) throw new Error(`submit exited ${result.code}: ${submit.lines.slice(-5).join('\n')}`);
    say(`job done in ${jobS.toFixed(1)} s (${(args.n / jobS).toFixed(0)} sentences/s with 2 workers, one killed and restarted)`);
    for (const p of [b, a2]) p.child.kill('SIGTERM');
    await Promise.all([b.exited, a2.exited]);
    const starts = [...a.started, ...b.started, ...a2.started];
    const twice = [...new Set(starts.filter((c, i) => starts.indexOf(c) !== i))];
    say(`chunks started: A ${a.started.length} (killed), B ${b.started.length}, A restarted ${a2.started.length}; encoded more than once: [${twice.join(', ')}]`);

    // the reference: in-process encode of the same sentences (all threads), niced with us
    const { SentenceEncoder } = require(path.join(root, 'dist'));
    const { loadEmbedOutput } = require(path.join(root, 'dist', 'queue'));
    const enc = await SentenceEncoder.load('default', { device: 'cpu' });
    const t = Date.now();
    const ref = await enc.encode(list);
    say(`in-process encode of the same ${args.n} sentences: ${((Date.now() - t) / 1000).toFixed(1)} s (all threads)`);
    enc.dispose();
    const { manifest, embeddings } = await loadEmbedOutput(output);
    const journal = fs.readFileSync(path.join(output, 'shards.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).index);
    const identical = Buffer.from(embeddings.data.buffer).equals(Buffer.from(ref.data.buffer, ref.data.byteOffset, ref.data.byteLength));
    const summary = {
      n: args.n, chunks, chunkSize: args.chunkSize, rows: manifest.rows, dimension: manifest.dimension, shards: manifest.shards.length,
      shardsWrittenOnce: new Set(journal).size === journal.length && journal.length === chunks,
      killedChunk: held, killedMidChunk: midChunk, reEncoded: twice, identicalToInProcess: identical, jobSeconds: jobS,
      model: manifest.model,
    };
    say(`manifest: ${manifest.rows} rows × ${manifest.dimension} in ${manifest.shards.length} shards; each written once: ${summary.shardsWrittenOnce}; rows float32-identical to in-process encode: ${identical}`);
    console.log(JSON.stringify(summary));
    if (!identical || !summary.shardsWrittenOnce || manifest.rows !== args.n) process.exitCode = 1;
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await redis.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
