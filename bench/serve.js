#!/usr/bin/env node
'use strict';
/**
 * `sbert serve` under load (issue #16), loopback only, bounded in time and requests.
 *
 *   node bench/make-minilm.js && /usr/bin/python3 bench/export_onnx.py   # once (model + ONNX)
 *   npm --prefix bench install                                          # autocannon, transformers.js
 *   node bench/serve.js [--model DIR] [--duration 5] [--concurrency 1,16,64,256] [--sizes 1,32]
 *                       [--only server,inprocess,transformers.js,cost,bulk,soak]
 *                       [--cost-rounds 3] [--cost-concurrency 1,16]
 *                       [--bulk-inputs 2048] [--bulk-tokens 512] [--bulk-model DIR]
 *                       [--soak-requests 20000] [--soak-concurrency 128] [--soak-model DIR]
 *
 * Contenders, each in its own child process, all on the same MiniLM-L6-shaped model and the same
 * STS Benchmark sentences; for every (request size, concurrency) they run back to back, so a slow
 * phase of a shared machine hits all three alike:
 *   server           `sbert serve` (createServer on node:http), POST /embed, driven by autocannon
 *                    with C connections; requests of 1 or 32 sentences.
 *   inprocess        the same encoder called directly: C concurrent loops of
 *                    `await enc.encode(texts, { normalize: true })` with the same texts (what the
 *                    server would cost if HTTP, JSON and validation were free).
 *   transformers.js  the server a Node user writes today: node:http + transformers.js
 *                    pipeline('feature-extraction') per request (fp32, CPU, intraOpNumThreads =
 *                    CPU count), JSON.stringify(tensor.tolist()); driven by the same autocannon.
 * requests/s and p50/p99 latency of each. Requests still in flight when a run's time is up are not
 * counted (autocannon's semantics), so at high concurrency p99 covers the requests that finished;
 * the next run starts once the contender has drained that backlog, or, when that would take more
 * than 3 s, on a fresh (re-warmed) contender process.
 *
 * Cost: the same requests (800 of 1 sentence, 150 of up to 8, 40 of 32) at each of
 * --cost-concurrency through the server (keep-alive connections) and in-process, alternating for
 * --cost-rounds rounds; CPU time per request of the whole process (all threads, engine included)
 * and of its main thread (HTTP, JSON, validation, tokenization; from /proc). Wall-clock throughput
 * on a shared machine swings with the share of the cores a process gets (and the server shares
 * them with its load generator); CPU seconds per request measure what the server adds on top of
 * the encoder regardless. At concurrency 1 both sides run the same native calls; there the
 * engine's own CPU per call is higher behind HTTP than back to back in-process, because the
 * round trip leaves it idle between calls (an in-process loop with a 1 ms pause between calls
 * costs the same), so the main thread's difference is the server's own cost.
 *
 * Bulk: see bulk() — one 2,048 × 512-token /v1/embeddings request; the server's peak RSS.
 *
 * Soak: see serve-soak.js — 20,000 requests over every route at concurrency 128, bad input and
 * disconnects mixed in, every valid answer checked exactly; exit 1 on any 5xx or difference. It
 * runs on the small test model (--soak-model), since it tests the server, not the model.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { fork } = require('node:child_process');
const { parseArgs } = require('node:util');
const { stsSentences } = require('./stsb');
const { soak } = require('./serve-soak');

const ROOT = path.join(__dirname, '..');
const DEFAULT_MODEL = path.join(__dirname, '.models', 'minilm-l6-random');

// ---- children ------------------------------------------------------------------------------------

/**
 * CPU time of this process so far, in ms: `total` (all threads: the engine's workers included)
 * and `main` (the main thread alone, where HTTP, JSON, validation and tokenization run; read
 * from /proc on Linux, in clock ticks of 10 ms, so it is only meaningful over many requests).
 */
function cpuNow() {
  const u = process.cpuUsage();
  let main = NaN;
  try {
    const fields = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    main = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, CLK_TCK 100
  } catch {
    // not Linux: main-thread time unknown
  }
  return { total: (u.user + u.system) / 1000, main };
}

/** `sbert serve` in this process: createServer on a free port; reports the port to the parent. */
async function childServer(model, options) {
  const { SentenceEncoder, createServer } = require(path.join(ROOT, 'dist'));
  const enc = await SentenceEncoder.load(model, { device: 'cpu' });
  const server = createServer(enc, options ? JSON.parse(options) : {});
  const { port } = await server.listen(0, '127.0.0.1');
  process.send({ ready: true, port, device: enc.device });
  let peakRss = process.memoryUsage.rss();
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20).unref();
  process.on('message', async (m) => {
    if (m.cpu) process.send({ cpuResult: cpuNow() });
    if (m.rss) {
      process.send({ rssResult: { rss: process.memoryUsage.rss(), peak: peakRss } });
      peakRss = process.memoryUsage.rss();
    }
    if (m.stop) {
      await server.close();
      enc.dispose();
      process.exit(0);
    }
  });
}

/** node:http + transformers.js pipeline per request, in the TEI /embed shape; GET /idle for the bench. */
async function childTransformers(model) {
  const tf = await import('@huggingface/transformers');
  tf.env.allowRemoteModels = false;
  tf.env.localModelPath = path.dirname(model) + path.sep;
  const extractor = await tf.pipeline('feature-extraction', path.basename(model), {
    dtype: 'fp32',
    device: 'cpu',
    session_options: { intraOpNumThreads: os.cpus().length },
  });
  let inFlight = 0;
  const server = http.createServer(async (req, res) => {
    if (req.method === 'GET') {
      res.end(JSON.stringify({ inFlight }));
      return;
    }
    inFlight++;
    try {
      let body = '';
      for await (const chunk of req) body += chunk;
      const { inputs } = JSON.parse(body);
      const texts = Array.isArray(inputs) ? inputs : [inputs];
      const out = await extractor(texts, { pooling: 'mean', normalize: true });
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(out.tolist()));
    } catch (err) {
      res.statusCode = 500;
      res.end(JSON.stringify({ error: String(err) }));
    } finally {
      inFlight--;
    }
  });
  server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }));
  process.on('message', (m) => {
    if (m.cpu) process.send({ cpuResult: cpuNow() });
    if (m.stop) process.exit(0);
  });
}

/**
 * The encoder called directly: runs one (texts, concurrency, duration) configuration per message,
 * answers { result } when the time is up and { idle } once the calls still running have finished.
 */
async function childInProcess(model) {
  const { SentenceEncoder } = require(path.join(ROOT, 'dist'));
  const enc = await SentenceEncoder.load(model, { device: 'cpu' });
  process.send({ ready: true });
  process.on('message', async (m) => {
    if (m.stop) {
      enc.dispose();
      process.exit(0);
    }
    if (m.cost) {
      // Exactly `count` calls at `concurrency`; the process's CPU time (all threads) per call.
      const { requests, concurrency, count } = m.cost;
      let issued = 0;
      const cpu0 = cpuNow();
      const t0 = performance.now();
      const worker = async () => {
        while (issued < count) await enc.encode(requests[issued++ % requests.length], { normalize: true });
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      const cpu1 = cpuNow();
      process.send({ costResult: { cpuMs: (cpu1.total - cpu0.total) / count, mainMs: (cpu1.main - cpu0.main) / count, wallS: (performance.now() - t0) / 1000 } });
      return;
    }
    const { requests, concurrency, durationMs } = m;
    const latencies = [];
    let next = 0;
    // Warm-up, not timed.
    await Promise.all(Array.from({ length: Math.min(concurrency, 4) }, (_, i) => enc.encode(requests[i % requests.length], { normalize: true })));
    const start = performance.now();
    const end = start + durationMs;
    const worker = async () => {
      while (performance.now() < end) {
        const texts = requests[next++ % requests.length];
        const t = performance.now();
        await enc.encode(texts, { normalize: true });
        const done = performance.now();
        if (done <= end) latencies.push(done - t);
      }
    };
    const all = Promise.all(Array.from({ length: concurrency }, worker));
    await new Promise((r) => setTimeout(r, durationMs));
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    process.send({ result: { rps: latencies.length / (durationMs / 1000), p50: q(0.5), p99: q(0.99), n: latencies.length, errors: 0 } });
    await all;
    process.send({ idle: true });
  });
}

// ---- parent --------------------------------------------------------------------------------------

/** Forks a contender; resolves to { kind, child, port?, next(type, timeoutMs) } once it is ready. `options`: createServer's (server only). */
function startChild(kind, model, options) {
  const argv = ['--child', kind, '--model', model, ...(options ? ['--server-options', JSON.stringify(options)] : [])];
  const child = fork(__filename, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox = [];
  let wake = () => {};
  child.on('message', (m) => {
    inbox.push(m);
    wake();
  });
  /** The next message that has `type`, or undefined after `timeoutMs`. */
  const next = async (type, timeoutMs = 600000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = inbox.findIndex((m) => type in m);
      if (i >= 0) return inbox.splice(i, 1)[0];
      if (Date.now() >= end) return undefined;
      await new Promise((r) => {
        wake = r;
        setTimeout(r, Math.min(100, end - Date.now()));
      });
    }
  };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} child exited with ${code} before it was ready`)));
    next('ready').then((m) => resolve({ kind, model, child, next, ...m }));
  });
}

function stopChild(c) {
  if (!c || c.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    c.child.once('exit', resolve);
    c.child.send({ stop: true });
    setTimeout(() => c.child.kill('SIGKILL'), 5000).unref();
  });
}

function get(port, p) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

function metric(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.slice(name.length + 1)) : NaN;
}

/**
 * Whether a contender finishes the work still in flight when a run's time is up (requests that
 * autocannon stopped waiting for are still encoded) within `graceMs`; the next run must not
 * share the machine with that backlog.
 */
async function settles(c, graceMs) {
  const end = Date.now() + graceMs;
  if (c.kind === 'inprocess') return (await c.next('idle', graceMs)) !== undefined;
  while (Date.now() < end) {
    const busy = c.kind === 'server' ? metric(await get(c.port, '/metrics'), 'sbert_queue_requests') : JSON.parse(await get(c.port, '/idle')).inFlight;
    if (busy === 0) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function autocannonRun(port, bodies, connections, durationS) {
  const autocannon = require('autocannon');
  let i = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/embed`,
    connections,
    duration: durationS,
    timeout: 60,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
  });
  return {
    rps: result.requests.total / durationS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    n: result.requests.total,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function warm(port, bodies) {
  const autocannon = require('autocannon');
  let i = 0;
  await autocannon({
    url: `http://127.0.0.1:${port}/embed`,
    connections: 2,
    amount: 8,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
  });
}

/** Server CPU time per request (all threads, and the main thread) for exactly `count` requests at `concurrency`, over keep-alive connections. */
async function serverCost(server, bodies, concurrency, count) {
  const autocannon = require('autocannon');
  const cpu = async () => {
    server.child.send({ cpu: true });
    return (await server.next('cpuResult')).cpuResult;
  };
  let i = 0;
  const before = await cpu();
  const t0 = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/embed`,
    connections: concurrency,
    amount: count,
    timeout: 120,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
  });
  const wallS = (performance.now() - t0) / 1000;
  const after = await cpu();
  return { cpuMs: (after.total - before.total) / count, mainMs: (after.main - before.main) / count, wallS, errors: result.errors + result.timeouts + result.non2xx };
}

/**
 * The server's cost per request in CPU time rather than wall time: the machine these runs share
 * may give a process any share of the cores, but CPU seconds per request are what the server
 * adds on top of the encoder, whatever the load. Same requests, same concurrency, both warm,
 * alternating rounds. At concurrency 1 both run exactly the same native calls (one per request),
 * so the difference is the server's own work; at 16 the batcher merges concurrent requests, on
 * both sides, but not necessarily into the same batches. The main thread's share (HTTP, JSON,
 * tokenization, admission) is reported beside the total.
 */
async function cost(args, model, sentences) {
  const server = await startChild('server', model);
  const inproc = await startChild('inprocess', model);
  const rows = [];
  for (const size of args.sizes) {
    const requests = [];
    for (let i = 0; i + size <= sentences.length && requests.length < 256; i += size) requests.push(sentences.slice(i, i + size));
    const bodies = requests.map((texts) => JSON.stringify({ inputs: texts }));
    const count = size === 1 ? 800 : size <= 8 ? 150 : 40;
    await warm(server.port, bodies);
    inproc.child.send({ cost: { requests, concurrency: 2, count: 4 } });
    await inproc.next('costResult');
    for (const concurrency of args.costConcurrency) {
      const row = { size, concurrency, count, rounds: [] };
      for (let round = 0; round < args.costRounds; round++) {
        const sv = await serverCost(server, bodies, concurrency, count);
        inproc.child.send({ cost: { requests, concurrency, count } });
        const p = (await inproc.next('costResult')).costResult;
        row.rounds.push({ server: sv, inprocess: p, overhead: sv.cpuMs / p.cpuMs - 1, mainOverhead: (sv.mainMs - p.mainMs) / p.cpuMs });
      }
      const median = (k) => row.rounds.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(row.rounds.length / 2)];
      row.medianOverhead = median('overhead');
      row.medianMainOverhead = median('mainOverhead');
      rows.push(row);
      const list = (f) => row.rounds.map(f).join(' ');
      console.log(
        `cost size ${String(size).padStart(2)} c ${String(concurrency).padStart(2)} × ${count}: CPU ms/request server ${list((r) => fmt(r.server.cpuMs, 2))}` +
          ` | in-process ${list((r) => fmt(r.inprocess.cpuMs, 2))} | overhead ${list((r) => (100 * r.overhead).toFixed(1) + '%')} (median ${(100 * row.medianOverhead).toFixed(1)}%)` +
          ` | main thread ms/request server ${list((r) => fmt(r.server.mainMs, 3))} in-process ${list((r) => fmt(r.inprocess.mainMs, 3))}` +
          ` → ${(100 * row.medianMainOverhead).toFixed(1)}% of in-process CPU`,
      );
    }
  }
  await stopChild(server);
  await stopChild(inproc);
  return rows;
}

const fmt = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '—');

async function benchmark(args, model, sentences) {
  const want = (k) => !args.only || args.only.includes(k);
  const sizes = args.sizes;
  const contenders = {};
  if (want('server')) contenders.server = await startChild('server', model);
  if (want('inprocess')) contenders.inprocess = await startChild('inprocess', model);
  if (want('transformers.js')) {
    if (!fs.existsSync(path.join(model, 'onnx', 'model.onnx'))) {
      console.error(`warning: ${path.join(model, 'onnx', 'model.onnx')} missing (run /usr/bin/python3 bench/export_onnx.py): transformers.js skipped`);
    } else {
      contenders['transformers.js'] = await startChild('transformers.js', model);
    }
  }
  const rows = [];
  for (const size of sizes) {
    const requests = [];
    for (let i = 0; i + size <= sentences.length && requests.length < 256; i += size) requests.push(sentences.slice(i, i + size));
    const bodies = requests.map((texts) => JSON.stringify({ inputs: texts }));
    for (const kind of ['server', 'transformers.js']) if (contenders[kind]) await warm(contenders[kind].port, bodies);
    for (const c of args.concurrency) {
      const row = { size, concurrency: c };
      for (const kind of ['server', 'inprocess', 'transformers.js']) {
        const ct = contenders[kind];
        if (!ct) continue;
        if (kind === 'inprocess') {
          ct.child.send({ requests, concurrency: c, durationMs: args.duration * 1000 });
          row[kind] = (await ct.next('result')).result;
        } else {
          // CPU of the contender's process (all threads) per answered request, beside the wall clock.
          ct.child.send({ cpu: true });
          const cpu0 = (await ct.next('cpuResult')).cpuResult;
          row[kind] = await autocannonRun(ct.port, bodies, c, args.duration);
          ct.child.send({ cpu: true });
          row[kind].cpuMs = ((await ct.next('cpuResult')).cpuResult.total - cpu0.total) / Math.max(1, row[kind].n);
        }
        // A backlog that would take long to drain: restart the contender instead (then warm it).
        if (!(await settles(ct, 3000))) {
          await stopChild(ct);
          contenders[kind] = await startChild(kind, model);
          if (kind !== 'inprocess') await warm(contenders[kind].port, bodies);
        }
      }
      rows.push(row);
      const cell = (r) =>
        r ? `${fmt(r.rps)} req/s  p50 ${fmt(r.p50)} p99 ${fmt(r.p99)} ms${r.cpuMs !== undefined ? `  ${fmt(r.cpuMs, 2)} CPU ms/req` : ''}${r.errors ? `  (${r.errors} errors)` : ''}` : '—';
      const ratio = (a, b) => (a && b ? (a.rps / b.rps).toFixed(2) : '—');
      console.log(
        `size ${String(size).padStart(2)}  c ${String(c).padStart(3)} | server ${cell(row.server)} | inprocess ${cell(row.inprocess)} | transformers.js ${cell(row['transformers.js'])}` +
          ` | server/inprocess ${ratio(row.server, row.inprocess)}  server/transformers.js ${ratio(row.server, row['transformers.js'])}` +
          (row.server?.cpuMs && row['transformers.js']?.cpuMs ? `  (CPU per request: transformers.js/server ${(row['transformers.js'].cpuMs / row.server.cpuMs).toFixed(2)})` : ''),
      );
    }
  }
  for (const c of Object.values(contenders)) await stopChild(c);
  return rows;
}

/** The server's RSS now and its peak since the last reading (sampled every 20 ms in the child). */
async function readRss(server) {
  server.child.send({ rss: true });
  return (await server.next('rssResult')).rssResult;
}

/**
 * Bulk: one /v1/embeddings request of --bulk-inputs (2,048) inputs of --bulk-tokens (512) tokens
 * each, on a copy of --bulk-model whose max_seq_length is raised to fit, with the payload limit
 * the body needs; the server's peak RSS while it is answered (sampled every 20 ms), against its
 * RSS before. The answer is checked row for row against the in-process encoder. The default
 * model is the small test model: the point is the server's memory (body, token ids, parts in
 * the engine, the answer), and a 2,048 × 512-token request through the MiniLM shape would take
 * minutes of CPU on this machine.
 */
async function bulk(args, sentences) {
  const { SentenceEncoder } = require(path.join(ROOT, 'dist'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-bulk-'));
  try {
    fs.cpSync(args.bulkModel, dir, { recursive: true });
    const cfg = path.join(dir, 'sentence_bert_config.json');
    fs.writeFileSync(cfg, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfg, 'utf8')), max_seq_length: args.bulkTokens }));
    const enc = await SentenceEncoder.load(dir, { device: 'cpu' });
    // Inputs of exactly --bulk-tokens tokens: STSb words until the budget, then cut by tokens.
    const words = sentences.join(' ').split(/\s+/);
    const inputs = [];
    for (let i = 0, w = 0; i < args.bulkInputs; i++) {
      const ids = [];
      while (ids.length < args.bulkTokens - 2) {
        const piece = enc.tokenizer.encode(words[w++ % words.length], { addSpecialTokens: false }).ids;
        for (const id of piece) if (ids.length < args.bulkTokens - 2) ids.push(id);
      }
      inputs.push(enc.tokenizer.decode(ids));
    }
    const lengths = enc.tokenizer.encodeBatch(inputs.map((t) => t.toLowerCase()), { maxLength: args.bulkTokens }).cuSeqlens;
    const tokens = lengths[lengths.length - 1];
    const body = JSON.stringify({ input: inputs, model: 'bulk' });
    const server = await startChild('server', dir, { payloadLimit: body.length + 1024, maxOpenAIBatchSize: args.bulkInputs, autoTruncate: true });
    const before = await readRss(server);
    const t0 = performance.now();
    const text = await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, path: '/v1/embeddings', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        const parts = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(parts).toString()) : reject(new Error(`status ${res.statusCode}: ${Buffer.concat(parts).toString().slice(0, 200)}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
    const seconds = (performance.now() - t0) / 1000;
    const during = await readRss(server);
    await stopChild(server);
    const json = JSON.parse(text);
    const want = await enc.encode(inputs, { normalize: true });
    let exact = json.data.length === inputs.length;
    for (let i = 0; exact && i < inputs.length; i++) {
      const a = new Uint32Array(Float32Array.from(json.data[i].embedding).buffer);
      const b = new Uint32Array(Float32Array.from(want.row(i)).buffer);
      exact = a.every((v, k) => v === b[k]);
    }
    enc.dispose();
    const mb = (b) => (b / 2 ** 20).toFixed(1);
    const result = {
      inputs: args.bulkInputs, tokensPerInput: args.bulkTokens, tokens, bodyBytes: body.length, answerBytes: text.length, dimension: want.dim,
      seconds, rssBefore: before.rss, rssPeak: during.peak, rssAfter: during.rss, exact,
    };
    console.log(
      `\nbulk (${path.basename(args.bulkModel)}, max_seq_length ${args.bulkTokens}): ${args.bulkInputs} inputs × ${args.bulkTokens} tokens (${tokens} tokens, body ${mb(body.length)} MiB, answer ${mb(text.length)} MiB) in ${seconds.toFixed(1)} s;` +
        ` server RSS ${mb(before.rss)} MiB before → peak ${mb(during.peak)} MiB (+${mb(during.peak - before.rss)}) → ${mb(during.rss)} MiB after; rows bit-identical to encode: ${exact}`,
    );
    return result;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      model: { type: 'string', default: DEFAULT_MODEL },
      duration: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '1,16,64,256' },
      sizes: { type: 'string', default: '1,32' },
      only: { type: 'string' },
      'cost-rounds': { type: 'string', default: '3' },
      'cost-concurrency': { type: 'string', default: '1,16' },
      'server-options': { type: 'string' },
      'bulk-inputs': { type: 'string', default: '2048' },
      'bulk-tokens': { type: 'string', default: '512' },
      'bulk-model': { type: 'string', default: path.join(ROOT, 'test', 'fixtures', 'tiny') },
      'soak-requests': { type: 'string', default: '20000' },
      'soak-concurrency': { type: 'string', default: '128' },
      'soak-model': { type: 'string', default: path.join(ROOT, 'test', 'fixtures', 'tiny') },
    },
  });
  if (values.child) {
    // A contender never outlives the bench (e.g. when the parent fails).
    process.on('disconnect', () => process.exit(0));
    const run = { server: childServer, inprocess: childInProcess, 'transformers.js': childTransformers }[values.child];
    return run(values.model, values['server-options']);
  }
  const args = {
    duration: Number(values.duration),
    concurrency: values.concurrency.split(',').map(Number),
    sizes: values.sizes.split(',').map(Number),
    only: values.only?.split(','),
    costRounds: Number(values['cost-rounds']),
    costConcurrency: values['cost-concurrency'].split(',').map(Number),
    bulkInputs: Number(values['bulk-inputs']),
    bulkTokens: Number(values['bulk-tokens']),
    bulkModel: values['bulk-model'],
    soakRequests: Number(values['soak-requests']),
    soakConcurrency: Number(values['soak-concurrency']),
    soakModel: values['soak-model'],
  };
  if (!fs.existsSync(path.join(values.model, 'model.safetensors'))) throw new Error(`${values.model}: no model (run node bench/make-minilm.js)`);
  const { sentences } = stsSentences(4000);
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`bench/serve.js — ${os.cpus()[0].model} × ${os.cpus().length}, node ${process.version}, load ${load()}; model ${values.model}`);
  const out = { rows: [], cost: [], bulk: undefined, soak: undefined };
  if (!args.only || args.only.some((k) => ['server', 'inprocess', 'transformers.js'].includes(k))) out.rows = await benchmark(args, values.model, sentences);
  if (!args.only || args.only.includes('cost')) out.cost = await cost(args, values.model, sentences);
  if (!args.only || args.only.includes('bulk')) out.bulk = await bulk(args, sentences);
  if (!args.only || args.only.includes('soak')) {
    out.soak = await soak({
      requests: args.soakRequests,
      concurrency: args.soakConcurrency,
      model: args.soakModel,
      sentences,
      startServer: (m) => startChild('server', m),
      stopServer: stopChild,
      readRss,
    });
  }
  console.log(`load after: ${load()}`);
  console.log(JSON.stringify(out));
  if ((out.soak && (out.soak.failures > 0 || out.soak.fiveXX > 0)) || (out.bulk && !out.bulk.exact)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
