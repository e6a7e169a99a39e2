// Bulk jobs against a real redis-server (started here on a free loopback port; see
// helpers/redis.js — when it is missing these tests FAIL): the output equals in-process encode
// byte for byte, resume, and the faults — a worker SIGKILLed mid-chunk, Redis restarted mid-job,
// a chunk that keeps failing, the submitter killed and restarted, two submitters with one job
// id, a worker with another model — plus refusals before anything is enqueued. Workers run as
// `sbert worker` processes with one thread and short lock/stall intervals, so a dead worker's
// chunk comes back within about a second.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { startRedis, freePort } = require('./helpers/redis');
const { rejects } = require('./helpers/rejects');
const { SentenceEncoder, SbertError } = require('../dist');
const { submitEmbedJob, runEmbedWorker, loadEmbedOutput, ChunksFailedError } = require('../dist/queue');

const root = path.join(__dirname, '..');
const CLI = path.join(root, 'dist', 'cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-queue-'));
const FAST = ['--lock-duration-ms', '1000', '--stalled-interval-ms', '500'];
const children = new Set();
let redis;
let encoder;
let queueSeq = 0;

/** Unique STS Benchmark sentences from the repository's data/ (in order of first appearance). */
const STS = (() => {
  const seen = new Set();
  for (const split of ['dev', 'test', 'train']) {
    for (const line of fs.readFileSync(path.join(root, 'data', 'stsbenchmark', `sts-${split}.csv`), 'utf8').split('\n')) {
      const cols = line.split('\t');
      if (cols.length >= 7) for (const s of [cols[5], cols[6]]) seen.add(s);
    }
  }
  return [...seen];
})();

/** `n` sentences from `offset`; `long` joins four, so a chunk takes a while to encode. */
function sentences(n, offset = 0, long = false) {
  return Array.from({ length: n }, (_, i) => (long ? [0, 1, 2, 3].map((k) => STS[(offset + i * 4 + k) % STS.length]).join(' ') : STS[(offset + i) % STS.length]));
}

function corpusFile(name, list) {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, list.join('\n') + '\n');
  return file;
}

function newQueue() {
  return `q${++queueSeq}`;
}

async function reference(list) {
  return (await encoder.encode(list)).data;
}

/** Independent of loadEmbedOutput: concatenates the manifest's shards with a minimal .npy reader. */
function readShards(dir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const parts = manifest.shards.map((s) => {
    const buf = fs.readFileSync(path.join(dir, s.file));
    assert.is(buf.toString('latin1', 1, 6), 'NUMPY');
    const headerEnd = 10 + buf.readUInt16LE(8);
    assert.match(buf.toString('latin1', 10, headerEnd), new RegExp(`'descr': '<f4', 'fortran_order': False, 'shape': \\(${s.rows[1] - s.rows[0]}, ${manifest.dimension}\\)`));
    return buf.subarray(headerEnd);
  });
  return { manifest, bytes: Buffer.concat(parts) };
}

/** The output equals in-process encode of `list` bit for bit, in order, each row exactly once. */
async function assertOutputIs(dir, list, label) {
  const { manifest, bytes } = readShards(dir);
  const ref = await reference(list);
  assert.is(manifest.rows, list.length, `${label}: rows`);
  assert.is(manifest.dtype, 'float32');
  assert.is(manifest.dimension, encoder.dimension);
  let next = 0;
  for (const s of manifest.shards) {
    assert.is(s.rows[0], next, `${label}: shards are contiguous and ordered`);
    next = s.rows[1];
  }
  assert.is(next, list.length);
  assert.ok(bytes.equals(Buffer.from(ref.buffer, ref.byteOffset, ref.byteLength)), `${label}: rows are float32-identical to in-process encode`);
  const loaded = await loadEmbedOutput(dir);
  assert.ok(Buffer.from(loaded.embeddings.data.buffer).equals(bytes), `${label}: loadEmbedOutput reads the same rows`);
  // each chunk written exactly once
  const journal = fs.readFileSync(path.join(dir, 'shards.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).index);
  assert.is(new Set(journal).size, journal.length, `${label}: no shard written twice (${journal.join(',')})`);
  return manifest;
}

/** Fails (instead of hanging the suite) when `promise` takes longer than `ms`. */
function within(ms, promise, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]);
}

/** Starts `node dist/cli.js ARGS`, keeping its stderr lines; waitFor(re) resolves on the first matching line. */
function run(args, env = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: root, env: { ...process.env, SBERT_NUM_THREADS: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const proc = { child, lines: [], waiters: [] };
  const onLine = (line) => {
    proc.lines.push(line);
    for (const w of [...proc.waiters]) {
      const m = w.re.exec(line);
      if (m) {
        proc.waiters.splice(proc.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  readline.createInterface({ input: child.stderr }).on('line', onLine);
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  proc.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  proc.waitFor = (re, ms = 30000) => {
    const seen = proc.lines.map((l) => re.exec(l)).find(Boolean);
    if (seen) return Promise.resolve(seen);
    return within(ms, new Promise((resolve) => proc.waiters.push({ re, resolve })), `${args[0]} waiting for ${re}\n${proc.lines.join('\n')}`);
  };
  /** Chunk indices this worker logged with `what` (started | done | failed). */
  proc.chunks = (what) => proc.lines.map((l) => new RegExp(`chunk [^#]+#(\\d+) rows \\[\\d+, \\d+\\) ${what}`).exec(l)).filter(Boolean).map((m) => Number(m[1]));
  return proc;
}

async function worker(queue, extra = []) {
  const w = run(['worker', '--redis', redis.url, '--queue', queue, '--device', 'cpu', ...FAST, ...extra]);
  await w.waitFor(/ready: model/);
  return w;
}

async function stop(proc) {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
  return proc.exited;
}

function submitOptions(queue, input, output, extra = {}) {
  return { connection: redis.url, queue, input, output, chunkSize: 32, backoffMs: 50, ...extra };
}

test.before(async () => {
  try {
    redis = await startRedis();
  } catch (err) {
    // uvu fails every test of a file whose before-hook throws, but does not say why: say it
    console.error(`\nqueue tests: FAILED to start redis-server — ${err.message}\n`);
    throw err;
  }
  encoder = await SentenceEncoder.load('default', { device: 'cpu' });
});

test.after(async () => {
  for (const child of children) child.kill('SIGKILL');
  encoder?.dispose();
  await redis?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('sbert submit + 2 sbert workers: ordered shards and a manifest whose rows equal in-process encode; a rerun resumes with nothing to do', async () => {
  const queue = newQueue();
  const list = sentences(300, 0);
  list[7] = '';
  list[8] = 'Ünïcödé and 東京 too';
  const input = corpusFile('basic.txt', list);
  const out = path.join(tmp, 'basic-out');
  const workers = [await worker(queue), await worker(queue)];
  const submit = run(['submit', '--redis', redis.url, '--queue', queue, '--input', input, '--output', out, '--chunk-size', '32', '--job-id', 'basic']);
  const { code } = await within(60000, submit.exited, 'submit');
  assert.is(code, 0, submit.lines.join('\n'));
  assert.match(submit.lines.join('\n'), /wrote 300 × 512 float32 embeddings in 10 shards/);
  const manifest = await assertOutputIs(out, list, 'basic');
  assert.is(manifest.jobId, 'basic');
  assert.equal(manifest.model.id, 'sbert-native/default-en');
  assert.is(manifest.model.revision, JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  assert.match(manifest.model.digest, /^sha256:[0-9a-f]{64}$/);
  assert.is(manifest.shards.length, 10);
  assert.equal(manifest.shards[9].rows, [288, 300]);
  assert.is(manifest.shards[0].file, 'shard-00000.npy');
  assert.match(manifest.shards[0].inputSha256, /^[0-9a-f]{64}$/);
  assert.is(manifest.transport, 'redis');
  const started = workers.flatMap((w) => w.chunks('started')).sort((a, b) => a - b);
  assert.equal(started, Array.from({ length: 10 }, (_, i) => i), 'every chunk encoded once');

  // the same command again: the job is complete, nothing is enqueued or encoded
  const again = run(['submit', '--redis', redis.url, '--queue', queue, '--input', input, '--output', out, '--chunk-size', '32', '--job-id', 'basic']);
  assert.is((await within(30000, again.exited, 'rerun')).code, 0, again.lines.join('\n'));
  await new Promise((r) => setTimeout(r, 300));
  assert.is(workers.flatMap((w) => w.chunks('started')).length, 10, 'the rerun encoded nothing');
  for (const w of workers) assert.is((await stop(w)).code, 0, 'SIGTERM: the worker exits 0');
});

test('a worker SIGKILLed mid-chunk: the chunk is taken up again and written exactly once', async () => {
  const queue = newQueue();
  const list = sentences(160, 500, true);
  const input = corpusFile('kill.txt', list);
  const out = path.join(tmp, 'kill-out');
  const victim = await worker(queue);
  const job = submitEmbedJob(submitOptions(queue, input, out, { chunkSize: 16, jobId: 'kill' }));
  job.catch(() => undefined);
  const m = await victim.waitFor(/chunk kill#(\d+) rows \[\d+, \d+\) started/);
  victim.child.kill('SIGKILL');
  const index = Number(m[1]);
  await victim.exited;
  assert.not.ok(victim.chunks('done').includes(index), `the kill landed mid-chunk (chunk ${index} was not finished)`);
  const rescuer = await worker(queue);
  await within(60000, job, 'job after the kill');
  assert.ok(rescuer.chunks('started').includes(index), `chunk ${index} was taken up again by the other worker`);
  await assertOutputIs(out, list, 'kill');
  await stop(rescuer);
});

test('SIGTERM finishes the chunk in hand and takes no other; a second SIGTERM puts it back at once', async () => {
  const queue = newQueue();
  const list = sentences(240, 900, true);
  const input = corpusFile('term.txt', list);
  const out = path.join(tmp, 'term-out');
  const graceful = await worker(queue);
  // chunks of 48 long sentences: long enough for both signals to land mid-chunk
  const job = submitEmbedJob(submitOptions(queue, input, out, { chunkSize: 48, jobId: 'term' }));
  job.catch(() => undefined);
  const m = await graceful.waitFor(/chunk term#(\d+) rows \[\d+, \d+\) started/);
  graceful.child.kill('SIGTERM');
  assert.is((await graceful.exited).code, 0);
  assert.equal(graceful.chunks('done'), [Number(m[1])], 'it finished the chunk it held, and only that one');
  assert.equal(graceful.chunks('started'), [Number(m[1])]);

  const releasing = await worker(queue);
  const r = await releasing.waitFor(/chunk term#(\d+) rows \[\d+, \d+\) started/);
  releasing.child.kill('SIGTERM');
  await releasing.waitFor(/stopping/);
  releasing.child.kill('SIGTERM');
  assert.is((await releasing.exited).code, 130);
  const released = Number(r[1]);
  assert.equal(releasing.chunks('done'), [], releasing.lines.join('\n'));
  assert.ok(releasing.lines.some((l) => l.includes(`term#${released} rows`) && l.includes('put back in the queue')), releasing.lines.join('\n'));
  const last = await worker(queue);
  await within(60000, job, 'job after SIGTERM');
  assert.ok(last.chunks('started').includes(released), 'the chunk put back was taken by the next worker');
  await assertOutputIs(out, list, 'term');
  await stop(last);
});

test('Redis restarted mid-job: workers and the submitter reconnect and finish', async () => {
  const queue = newQueue();
  const list = sentences(192, 1500, true);
  const input = corpusFile('restart.txt', list);
  const out = path.join(tmp, 'restart-out');
  const workers = [await worker(queue), await worker(queue)];
  let restarted;
  let rowsAtRestart;
  let doneAtRestart;
  const logs = [];
  const manifest = await within(90000, submitEmbedJob(submitOptions(queue, input, out, {
    chunkSize: 16, jobId: 'restart', pollIntervalMs: 200, onLog: (l) => logs.push(l),
    onProgress: (p) => {
      if (!restarted && p.rows >= 32) {
        rowsAtRestart = p.rows;
        doneAtRestart = workers.reduce((a, w) => a + w.chunks('done').length, 0);
        restarted = redis.restart(500);
      }
    },
  })), 'job across a Redis restart');
  await restarted;
  assert.ok(rowsAtRestart < list.length, `Redis went down mid-job (at ${rowsAtRestart} of ${list.length} rows)`);
  assert.ok(workers.reduce((a, w) => a + w.chunks('done').length, 0) > doneAtRestart, 'the workers encoded chunks after the restart');
  assert.is(manifest.rows, list.length);
  await assertOutputIs(out, list, 'restart');
  for (const w of workers) {
    assert.is(w.child.exitCode, null, 'the workers outlived the restart');
    assert.ok(w.chunks('done').length > 0);
  }
  // still working after the restart: another job on the same workers
  const more = sentences(64, 3000);
  await within(30000, submitEmbedJob(submitOptions(queue, corpusFile('after-restart.txt', more), path.join(tmp, 'after-restart-out'))), 'job after the restart');
  await assertOutputIs(path.join(tmp, 'after-restart-out'), more, 'after restart');
  for (const w of workers) await stop(w);
});

test('Redis loses everything mid-job (FLUSHALL, as a restart without persistence): the submitter enqueues the lost chunks again and finishes', async () => {
  const queue = newQueue();
  const list = sentences(160, 2500, true);
  const input = corpusFile('flush.txt', list);
  const out = path.join(tmp, 'flush-out');
  const { Queue } = require('bullmq');
  const bull = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } });
  const w = await worker(queue);
  let flushed;
  let rowsAtFlush;
  const logs = [];
  await within(90000, submitEmbedJob(submitOptions(queue, input, out, {
    chunkSize: 16, jobId: 'flush', pollIntervalMs: 200, onLog: (l) => logs.push(l),
    onProgress: (p) => {
      if (!flushed && p.rows >= 32) {
        rowsAtFlush = p.rows;
        flushed = bull.client.then((c) => c.flushall());
      }
    },
  })), 'job across a FLUSHALL');
  await flushed;
  assert.ok(rowsAtFlush < list.length, `the data went mid-job (at ${rowsAtFlush} of ${list.length} rows)`);
  assert.ok(logs.some((l) => /neither queued nor done .* enqueuing it again/.test(l)), logs.join('\n'));
  await assertOutputIs(out, list, 'flush');
  await bull.close();
  await stop(w);
});

test('a chunk that keeps failing is retried, then reported with its rows while the others finish; a rerun redoes only it', async () => {
  const queue = newQueue();
  const list = sentences(200, 4000);
  const input = corpusFile('fail.txt', list);
  const out = path.join(tmp, 'fail-out');
  const { Queue } = require('bullmq');
  const bull = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } });
  const job = submitEmbedJob(submitOptions(queue, input, out, { chunkSize: 40, jobId: 'fail', attempts: 3 }));
  job.catch(() => undefined);
  // No worker yet: corrupt chunk 2's sentences in Redis (they no longer match their hash).
  let chunk;
  await within(20000, (async () => {
    while (!(chunk = await bull.getJob('fail#2'))) await new Promise((r) => setTimeout(r, 20));
  })(), 'chunk 2 enqueued');
  await chunk.updateData({ ...chunk.data, texts: chunk.data.texts.map((t, i) => (i === 5 ? t + ' (changed)' : t)) });
  const w = await worker(queue);
  const err = await within(60000, job.then(() => undefined, (e) => e), 'failing job');
  assert.instance(err, ChunksFailedError, String(err && err.stack));
  assert.is(err.code, 'ERR_CHUNKS_FAILED');
  assert.equal(err.failures.map((f) => [f.index, f.rows, f.attempts]), [[2, [80, 120], 3]]);
  assert.match(err.failures[0].reason, /ERR_BAD_INPUT: chunk 2 \(rows \[80, 120\)\).*do not match their hash/);
  assert.match(err.message, /chunk 2, rows \[80, 120\) \(3 attempts\)/);
  assert.equal(w.chunks('done').sort(), [0, 1, 3, 4], 'the others finished');
  assert.is(w.chunks('failed').filter((i) => i === 2).length, 3, 'chunk 2 was tried 3 times');
  assert.not.ok(fs.existsSync(path.join(out, 'manifest.json')), 'no manifest for an unfinished job');
  assert.is(fs.readFileSync(path.join(out, 'shards.jsonl'), 'utf8').trim().split('\n').length, 4);

  // the same job again: chunk 2 is enqueued afresh from the input; nothing else is encoded
  const doneBefore = w.chunks('done').length;
  await within(30000, submitEmbedJob(submitOptions(queue, input, out, { chunkSize: 40, jobId: 'fail' })), 'rerun');
  await assertOutputIs(out, list, 'fail rerun');
  assert.equal(w.chunks('done').slice(doneBefore), [2], 'the rerun encoded chunk 2 only');
  await bull.close();
  await stop(w);
});

test('the submitter killed and restarted resumes from the queue: no chunk encoded twice', async () => {
  const queue = newQueue();
  const list = sentences(192, 5000, true);
  const input = corpusFile('resume.txt', list);
  const out = path.join(tmp, 'resume-out');
  const args = ['submit', '--redis', redis.url, '--queue', queue, '--input', input, '--output', out, '--chunk-size', '16', '--job-id', 'resume'];
  const first = run(args);
  const w = await worker(queue);
  const journal = path.join(out, 'shards.jsonl');
  await within(30000, (async () => {
    while (!fs.existsSync(journal) || fs.readFileSync(journal, 'utf8').split('\n').length < 3) await new Promise((r) => setTimeout(r, 10));
  })(), 'first shards');
  first.child.kill('SIGKILL');
  await first.exited;
  const writtenAtKill = fs.readFileSync(journal, 'utf8').trim().split('\n').length;
  assert.ok(writtenAtKill < 12, `the submitter died mid-job (${writtenAtKill} of 12 shards written)`);
  const second = run(args);
  assert.is((await within(60000, second.exited, 'restarted submitter')).code, 0, second.lines.join('\n'));
  assert.match(second.lines.join('\n'), /resuming job resume/);
  await assertOutputIs(out, list, 'resume');
  assert.equal(w.chunks('started').sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i), 'each chunk encoded exactly once across both submitters');
  await stop(w);
});

test('two submitters with one job id: one output; the other is refused', async () => {
  const queue = newQueue();
  const list = sentences(256, 6000);
  const input = corpusFile('twins.txt', list);
  const w = await worker(queue);
  const outA = path.join(tmp, 'twins-a');
  const outB = path.join(tmp, 'twins-b');
  const opts = { jobId: 'twins', ownerLockMs: 1500 };
  const results = await within(60000, Promise.allSettled([
    submitEmbedJob(submitOptions(queue, input, outA, opts)),
    submitEmbedJob(submitOptions(queue, input, outB, opts)),
  ]), 'two submitters');
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r) => r.status === 'rejected');
  assert.is(ok.length, 1, results.map((r) => r.reason && r.reason.message).join('; '));
  assert.is(refused[0].reason.code, 'ERR_JOB_CONFLICT');
  // refused while the other runs, or — when the other finished first — because the job's output is elsewhere
  assert.match(refused[0].reason.message, /job 'twins' (is being collected by .*one job id has one submitter and one output|writes its output to)/);
  const winner = results[0].status === 'fulfilled' ? outA : outB;
  const loser = winner === outA ? outB : outA;
  await assertOutputIs(winner, list, 'twins');
  assert.not.ok(fs.existsSync(loser), 'the refused submitter wrote nothing');
  // later, too: the job id's output is where it was written
  const late = await submitEmbedJob(submitOptions(queue, input, loser, opts)).then(() => undefined, (e) => e);
  assert.instance(late, SbertError);
  assert.is(late.code, 'ERR_JOB_CONFLICT');
  assert.match(late.message, /job 'twins' writes its output to .*twins-[ab], not here/);
  // the same folder twice at once: one submitter, the other refused
  const same = path.join(tmp, 'twins-same');
  const both = await within(60000, Promise.allSettled([
    submitEmbedJob(submitOptions(queue, input, same, { ...opts, jobId: 'twins2' })),
    submitEmbedJob(submitOptions(queue, input, same, { ...opts, jobId: 'twins2' })),
  ]), 'two submitters, one folder');
  // one collects; the other is refused, or (when the first was done before it got the lock) finds the job complete
  assert.ok(both.some((r) => r.status === 'fulfilled'));
  for (const r of both) if (r.status === 'rejected') assert.is(r.reason.code, 'ERR_JOB_CONFLICT', r.reason.message);
  await assertOutputIs(same, list, 'twins same folder');
  assert.is(w.chunks('started').length, 16, 'each job encoded once (8 chunks each)');
  await stop(w);
});

test('a worker with another model refuses the chunks (no retries); the job reports them', async () => {
  const queue = newQueue();
  const other = path.join(tmp, 'other-model');
  fs.cpSync(path.join(root, 'models', 'default-en'), other, { recursive: true });
  const cfg = path.join(other, 'config_sentence_transformers.json');
  fs.writeFileSync(cfg, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfg, 'utf8')), prompts: { query: 'query: ' } }));
  const list = sentences(64, 7000);
  const input = corpusFile('mismatch.txt', list);
  const w = await worker(queue, ['--model', other]);
  const err = await within(30000, submitEmbedJob(submitOptions(queue, input, path.join(tmp, 'mismatch-out'), { jobId: 'mismatch', attempts: 3 })).then(() => undefined, (e) => e), 'mismatch');
  assert.instance(err, ChunksFailedError);
  assert.equal(err.failures.map((f) => [f.index, f.attempts]), [[0, 1], [1, 1]], 'refused at once, not retried');
  assert.match(err.failures[0].reason, /ERR_MODEL_MISMATCH: chunk 0 .* is for model sbert-native\/default-en@.*this worker runs .*other-model/);
  assert.equal(w.chunks('done'), []);
  await stop(w);
  // the right worker, the same job again: done
  const right = await worker(queue);
  await within(30000, submitEmbedJob(submitOptions(queue, input, path.join(tmp, 'mismatch-out'), { jobId: 'mismatch' })), 'mismatch rerun');
  await assertOutputIs(path.join(tmp, 'mismatch-out'), list, 'mismatch rerun');
  await stop(right);
});

test('folder transport (workers write the shards) and .jsonl input, with in-process workers', async () => {
  const queue = newQueue();
  const list = sentences(100, 8000);
  const input = path.join(tmp, 'in.jsonl');
  fs.writeFileSync(input, list.map((s, i) => JSON.stringify(i % 2 ? s : { text: s, id: i })).join('\n') + '\n');
  const events = [];
  const workers = [
    await runEmbedWorker({ connection: redis.url, queue, device: 'cpu', onEvent: (e) => events.push(e) }),
    await runEmbedWorker({ connection: { host: '127.0.0.1', port: redis.port }, queue, device: 'cpu', concurrency: 2 }),
  ];
  const out = path.join(tmp, 'folder-out');
  const manifest = await within(30000, submitEmbedJob(submitOptions(queue, input, out, { transport: 'folder' })), 'folder transport');
  assert.is(manifest.transport, 'folder');
  assert.match(manifest.jobId, /^embed-[0-9a-f]{16}$/, 'a job id derived from the plan');
  assert.is(manifest.input.format, 'jsonl');
  await assertOutputIs(out, list, 'folder transport');
  assert.ok(events.some((e) => e.type === 'chunk-done'));
  await Promise.all(workers.map((w) => w.close()));
});

test('refused before anything is enqueued: missing input, a bad line (file:line), a foreign output folder, bad options', async () => {
  const queue = newQueue();
  const { Queue } = require('bullmq');
  const bull = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } });
  const good = corpusFile('good.txt', sentences(10));
  const cases = [
    [submitOptions(queue, path.join(tmp, 'nope.txt'), path.join(tmp, 'o1')), /nope\.txt: no such file/, 'ERR_BAD_INPUT'],
    [submitOptions(queue, corpusFile('bad.jsonl', ['"a"', '"b"', '{"id": 3}']), path.join(tmp, 'o2')), /bad\.jsonl:3: expected a JSON string/, 'ERR_BAD_INPUT'],
    [submitOptions(queue, good, tmp), /not empty and holds no sbert-native job/, 'ERR_JOB_CONFLICT'],
    [submitOptions(queue, good, path.join(tmp, 'basic-out'), { jobId: 'other-job' }), /belongs to job 'basic', not 'other-job'/, 'ERR_JOB_CONFLICT'],
  ];
  for (const [options, re, code] of cases) {
    const err = await within(10000, submitEmbedJob(options).then(() => undefined, (e) => e), String(re));
    assert.instance(err, SbertError, String(err));
    assert.is(err.code, code);
    assert.match(err.message, re);
  }
  await rejects(submitEmbedJob(submitOptions(queue, good, path.join(tmp, 'o3'), { encodeOptions: { precision: 'int8' } })), RangeError, /encodeOptions\.precision/);
  await rejects(submitEmbedJob(submitOptions(queue, good, path.join(tmp, 'o3'), { jobId: 'a:b' })), RangeError, /jobId must be/);
  await rejects(submitEmbedJob(submitOptions(queue, good, path.join(tmp, 'o3'), { chunkSize: 0 })), RangeError, /chunkSize must be a positive integer/);
  await rejects(submitEmbedJob(submitOptions('bad:queue', good, path.join(tmp, 'o3'))), RangeError, /queue must be/);
  const counts = await bull.getJobCounts();
  assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), 0, 'nothing was enqueued');
  await bull.close();
  // the CLI: usage errors exit 2, bad input 1 with file:line
  const usage = run(['submit', '--queue', queue, '--input', good, '--output', path.join(tmp, 'o4')]);
  assert.is((await usage.exited).code, 2);
  assert.match(usage.lines.join('\n'), /--redis is required/);
  const bad = run(['submit', '--redis', redis.url, '--queue', queue, '--input', path.join(tmp, 'bad.jsonl'), '--output', path.join(tmp, 'o5')]);
  assert.is((await bad.exited).code, 1);
  assert.match(bad.lines.join('\n'), /ERR_BAD_INPUT: .*bad\.jsonl:3:/);
});

test('an unreachable Redis is one clear error naming the URL, within seconds (submit, worker, CLI)', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const good = corpusFile('good2.txt', sentences(10));
  // within(): a hang guard (the refusal's own timeout is 1.5 s); how fast is bench/ territory.
  const err = await within(10000, submitEmbedJob({ connection: url, queue: 'x', input: good, output: path.join(tmp, 'o6'), connectTimeoutMs: 1500 }).then(() => undefined, (e) => e), 'submit');
  assert.instance(err, SbertError);
  assert.is(err.code, 'ERR_QUEUE_UNREACHABLE');
  assert.match(err.message, new RegExp(`cannot reach Redis at ${url.replace(/[.]/g, '\\.')} within 1\\.5 s \\(.*ECONNREFUSED`));
  const werr = await within(10000, runEmbedWorker({ connection: url, queue: 'x', connectTimeoutMs: 1000 }).then(() => undefined, (e) => e), 'worker');
  assert.is(werr.code, 'ERR_QUEUE_UNREACHABLE');
  const cli = run(['worker', '--redis', 'redis://user:secret@127.0.0.1:' + url.split(':').pop(), '--queue', 'x', '--connect-timeout-ms', '1000']);
  assert.is((await within(10000, cli.exited, 'worker CLI')).code, 1);
  const text = cli.lines.join('\n');
  assert.match(text, /ERR_QUEUE_UNREACHABLE: cannot reach Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:\d+ within 1\.0 s/);
  assert.not.match(text, /secret/);
});

test.run();
