#!/usr/bin/env node
'use strict';
/**
 * `sbert serve` under load (issue #16), loopback only, bounded in time and requests.
 *
 *   node bench/make-minilm.js && /usr/bin/python3 bench/export_onnx.py   # once (model + ONNX)
 *   npm --prefix bench install                                          # autocannon, transformers.js
 *   node bench/serve.js [--model DIR] [--duration 5] [--concurrency 1,16,64,256] [--sizes 1,32]
 *                       [--only server,inprocess,transformers.js,cost,soak] [--cost-rounds 3]
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
 * Cost: the same requests (600 of 1 sentence, 40 of 32) at concurrency 16 through the server and
 * in-process, alternating for --cost-rounds rounds; CPU time of the process (all threads, engine
 * included) per request. Wall-clock throughput on a shared machine swings with the share of the
 * cores a process gets (and the server shares them with its load generator); CPU seconds per
 * request measure what the server adds on top of the encoder (HTTP, JSON, validation, token
 * counting) regardless.
 *
 * Soak: --soak-requests requests at --soak-concurrency against `sbert serve`: 10% malformed
 * (→ 400), 5% over-length without truncate (→ 413), 5% over-length with truncate, 5% client
 * disconnects (the client destroys the socket 0–20 ms after sending), 10% OpenAI base64, the rest
 * /embed with 1–4 sentences (some empty). Every answered valid request is compared bit for bit
 * with a direct `enc.encode` of its inputs; any 5xx, wrong status or wrong value fails the run
 * (exit 1). The server's RSS (process_resident_memory_bytes) is read after warm-up and at the end.
 * The soak tests the server, not the model: --soak-model defaults to the small test model
 * (test/fixtures/tiny), because with the MiniLM shape a 2-core machine serves ~30 such requests/s
 * and 20,000 would take over ten minutes (pass --soak-model bench/.models/minilm-l6-random).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { fork } = require('node:child_process');
const { parseArgs } = require('node:util');
const { stsSentences } = require('./stsb');

const ROOT = path.join(__dirname, '..');
const DEFAULT_MODEL = path.join(__dirname, '.models', 'minilm-l6-random');

// ---- children ------------------------------------------------------------------------------------

/** `sbert serve` in this process: createServer on a free port; reports the port to the parent. */
async function childServer(model) {
  const { SentenceEncoder, createServer } = require(path.join(ROOT, 'dist'));
  const enc = await SentenceEncoder.load(model, { device: 'cpu' });
  const server = createServer(enc, {});
  const { port } = await server.listen(0, '127.0.0.1');
  process.send({ ready: true, port, device: enc.device });
  process.on('message', async (m) => {
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
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const worker = async () => {
        while (issued < count) await enc.encode(requests[issued++ % requests.length], { normalize: true });
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      const cpu = process.cpuUsage(cpu0);
      process.send({ costResult: { cpuMs: (cpu.user + cpu.system) / 1000 / count, wallS: (performance.now() - t0) / 1000 } });
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

/** Forks a contender; resolves to { kind, child, port?, next(type, timeoutMs) } once it is ready. */
function startChild(kind, model) {
  const child = fork(__filename, ['--child', kind, '--model', model], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

/** Server CPU time (all its threads) per request for exactly `count` requests at `concurrency`. */
async function serverCost(port, bodies, concurrency, count) {
  const autocannon = require('autocannon');
  const cpu = async () => metric(await get(port, '/metrics'), 'process_cpu_seconds_total');
  let i = 0;
  const before = await cpu();
  const t0 = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/embed`,
    connections: concurrency,
    amount: count,
    timeout: 120,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
  });
  const wallS = (performance.now() - t0) / 1000;
  // The /metrics reads themselves cost the server a little CPU: counted against it.
  return { cpuMs: ((await cpu()) - before) * 1000 / count, wallS, errors: result.errors + result.timeouts + result.non2xx };
}

/**
 * The server's cost per request in CPU time rather than wall time: the machine these runs share
 * may give a process any share of the cores, but CPU seconds per request are what the server
 * adds on top of the encoder, whatever the load. Same requests, same concurrency, both warm.
 */
async function cost(args, model, sentences) {
  const server = await startChild('server', model);
  const inproc = await startChild('inprocess', model);
  const rows = [];
  for (const size of args.sizes) {
    const requests = [];
    for (let i = 0; i + size <= sentences.length && requests.length < 256; i += size) requests.push(sentences.slice(i, i + size));
    const bodies = requests.map((texts) => JSON.stringify({ inputs: texts }));
    const count = size === 1 ? 600 : 40;
    const concurrency = 16;
    await warm(server.port, bodies);
    inproc.child.send({ cost: { requests, concurrency: 2, count: 4 } });
    await inproc.next('costResult');
    const row = { size, concurrency, count, rounds: [] };
    for (let round = 0; round < args.costRounds; round++) {
      const s = await serverCost(server.port, bodies, concurrency, count);
      inproc.child.send({ cost: { requests, concurrency, count } });
      const p = (await inproc.next('costResult')).costResult;
      row.rounds.push({ server: s, inprocess: p, overhead: s.cpuMs / p.cpuMs - 1 });
    }
    const overheads = row.rounds.map((r) => r.overhead).sort((a, b) => a - b);
    row.medianOverhead = overheads[Math.floor(overheads.length / 2)];
    rows.push(row);
    console.log(
      `cost size ${String(size).padStart(2)} c ${concurrency} × ${count} requests: CPU ms/request server ${row.rounds.map((r) => fmt(r.server.cpuMs, 2)).join(' ')}` +
        ` | in-process ${row.rounds.map((r) => fmt(r.inprocess.cpuMs, 2)).join(' ')} | server overhead per round ${row.rounds.map((r) => (100 * r.overhead).toFixed(1) + '%').join(' ')} (median ${(100 * row.medianOverhead).toFixed(1)}%)`,
    );
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
          row[kind] = await autocannonRun(ct.port, bodies, c, args.duration);
        }
        // A backlog that would take long to drain: restart the contender instead (then warm it).
        if (!(await settles(ct, 3000))) {
          await stopChild(ct);
          contenders[kind] = await startChild(kind, model);
          if (kind !== 'inprocess') await warm(contenders[kind].port, bodies);
        }
      }
      rows.push(row);
      const cell = (r) => (r ? `${fmt(r.rps)} req/s  p50 ${fmt(r.p50)} p99 ${fmt(r.p99)} ms${r.errors ? `  (${r.errors} errors)` : ''}` : '—');
      const ratio = (a, b) => (a && b ? (a.rps / b.rps).toFixed(2) : '—');
      console.log(
        `size ${String(size).padStart(2)}  c ${String(c).padStart(3)} | server ${cell(row.server)} | inprocess ${cell(row.inprocess)} | transformers.js ${cell(row['transformers.js'])}` +
          ` | server/inprocess ${ratio(row.server, row.inprocess)}  server/transformers.js ${ratio(row.server, row['transformers.js'])}`,
      );
    }
  }
  for (const c of Object.values(contenders)) await stopChild(c);
  return rows;
}

/** The soak's request mix; `expect` is the status a correct server answers (0: client disconnects). */
function soakRequest(r, pool, longs) {
  const x = r();
  const pick = () => pool[Math.floor(r() * pool.length)];
  if (x < 0.1) {
    const bad = ['{', '{"inputs": 5}', '{"inputs": []}', '{"inputs": ["a", 7]}', '{"input": "x"}', '{"inputs": "x", "prompt_name": "q"}', '[]', '{"inputs": "x", "normalize": "no"}'];
    return { path: '/embed', body: bad[Math.floor(r() * bad.length)], expect: 400 };
  }
  if (x < 0.15) return { path: '/embed', body: JSON.stringify({ inputs: [pick(), longs[Math.floor(r() * longs.length)]] }), expect: 413 };
  if (x < 0.2) {
    const texts = [longs[Math.floor(r() * longs.length)], pick()];
    return { path: '/embed', body: JSON.stringify({ inputs: texts, truncate: true }), expect: 200, texts };
  }
  const texts = Array.from({ length: 1 + Math.floor(r() * 4) }, () => (r() < 0.03 ? '' : pick()));
  if (x < 0.25) return { path: '/embed', body: JSON.stringify({ inputs: texts }), expect: 0, abortAfterMs: Math.floor(r() * 20), texts };
  if (x < 0.35) return { path: '/v1/embeddings', body: JSON.stringify({ input: texts, encoding_format: 'base64' }), expect: 200, texts, base64: true };
  return { path: '/embed', body: JSON.stringify({ inputs: texts }), expect: 200, texts };
}

function post(agent, port, spec) {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: spec.path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body) } },
      (res) => {
        const parts = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(parts).toString('utf8') }));
        res.on('error', (err) => resolve({ error: err }));
      },
    );
    req.setTimeout(120000, () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ error: err }));
    req.end(spec.body);
    if (spec.abortAfterMs !== undefined) setTimeout(() => req.destroy(), spec.abortAfterMs);
  });
}

async function soak(args, sentences) {
  const model = args.soakModel;
  const { SentenceEncoder } = require(path.join(ROOT, 'dist'));
  const enc = await SentenceEncoder.load(model, { device: 'cpu' });
  const pool = sentences.slice(0, 1000);
  const longs = [];
  for (let i = 0; longs.length < 20; i++) {
    let t = '';
    while (enc.tokenizer.encode(t).ids.length <= enc.maxSeqLength + 20) t += sentences[(i * 37 + t.length) % sentences.length] + ' ';
    longs.push(t);
  }
  // Direct encode of every text the soak can send: the reference each response must equal, bit for bit.
  const all = [...pool, '', ...longs];
  const direct = await enc.encode(all, { normalize: true });
  const expected = new Map(all.map((t, i) => [t, direct.row(i)]));
  enc.dispose();

  const server = await startChild('server', model);
  const port = server.port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: args.soakConcurrency });
  // Warm-up before the first RSS reading.
  let seed = 12345;
  const r = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 4294967296;
  };
  for (let i = 0; i < 200; i++) await post(agent, port, { path: '/embed', body: JSON.stringify({ inputs: [pool[i]] }) });
  const rssStart = metric(await get(port, '/metrics'), 'process_resident_memory_bytes');
  const specs = Array.from({ length: args.soakRequests }, () => soakRequest(r, pool, longs));
  const counts = {};
  const failures = [];
  let checked = 0;
  let next = 0;
  const t0 = performance.now();
  const rssSamples = [];
  const sampler = setInterval(async () => {
    try {
      rssSamples.push(metric(await get(port, '/metrics'), 'process_resident_memory_bytes'));
    } catch {}
  }, 2000);
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++];
      const res = await post(agent, port, spec);
      const key = res.error ? (spec.expect === 0 ? 'client-aborted' : `error ${res.error.code || res.error.message}`) : String(res.status);
      counts[key] = (counts[key] || 0) + 1;
      if (spec.expect === 0) {
        // A client that left may still have been answered before it left: then check the answer.
        if (res.error) continue;
        if (res.status !== 200) failures.push(`disconnect case answered ${res.status}: ${res.text.slice(0, 120)}`);
      } else if (res.error || res.status !== spec.expect) {
        failures.push(`${spec.path} ${spec.body.slice(0, 60)}: expected ${spec.expect}, got ${res.error ? res.error.message : res.status} ${res.text ? res.text.slice(0, 120) : ''}`);
        continue;
      }
      if (res.error || res.status !== 200) continue;
      const json = JSON.parse(res.text);
      const rows = spec.base64 ? json.data.map((d) => new Float32Array(new Uint8Array(Buffer.from(d.embedding, 'base64')).buffer)) : json.map((row) => Float32Array.from(row));
      spec.texts.forEach((t, i) => {
        const want = new Uint32Array(Float32Array.from(expected.get(t)).buffer);
        const got = new Uint32Array(rows[i].buffer, rows[i].byteOffset, rows[i].length);
        if (got.length !== want.length || got.some((b, k) => b !== want[k])) failures.push(`${spec.path}: row ${i} differs from direct encode`);
      });
      checked++;
    }
  };
  await Promise.all(Array.from({ length: args.soakConcurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  if (!(await settles(server, 60000))) failures.push('server still busy 60 s after the last answer');
  const metricsText = await get(port, '/metrics');
  const rssEnd = metric(metricsText, 'process_resident_memory_bytes');
  agent.destroy();
  await stopChild(server);
  const fiveXX = Object.entries(counts).filter(([k]) => /^5/.test(k)).reduce((n, [, v]) => n + v, 0);
  const mb = (b) => (b / 2 ** 20).toFixed(1);
  console.log(`\nsoak (${path.basename(model)}): ${args.soakRequests} requests at concurrency ${args.soakConcurrency} in ${seconds.toFixed(1)} s (${(args.soakRequests / seconds).toFixed(0)} req/s)`);
  console.log(`  statuses: ${JSON.stringify(counts)}`);
  console.log(`  valid requests checked bit for bit against direct encode: ${checked}; failures: ${failures.length}; 5xx: ${fiveXX}`);
  console.log(`  server RSS: ${mb(rssStart)} MiB after warm-up → ${mb(rssEnd)} MiB at the end (samples every 2 s: ${rssSamples.map(mb).join(', ')})`);
  for (const f of failures.slice(0, 10)) console.log(`  FAIL ${f}`);
  return { model, requests: args.soakRequests, concurrency: args.soakConcurrency, seconds, counts, checked, failures: failures.length, fiveXX, rssStart, rssEnd, rssSamples };
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
      'soak-requests': { type: 'string', default: '20000' },
      'soak-concurrency': { type: 'string', default: '128' },
      'soak-model': { type: 'string', default: path.join(ROOT, 'test', 'fixtures', 'tiny') },
    },
  });
  if (values.child) {
    // A contender never outlives the bench (e.g. when the parent fails).
    process.on('disconnect', () => process.exit(0));
    const run = { server: childServer, inprocess: childInProcess, 'transformers.js': childTransformers }[values.child];
    return run(values.model);
  }
  const args = {
    duration: Number(values.duration),
    concurrency: values.concurrency.split(',').map(Number),
    sizes: values.sizes.split(',').map(Number),
    only: values.only?.split(','),
    costRounds: Number(values['cost-rounds']),
    soakRequests: Number(values['soak-requests']),
    soakConcurrency: Number(values['soak-concurrency']),
    soakModel: values['soak-model'],
  };
  if (!fs.existsSync(path.join(values.model, 'model.safetensors'))) throw new Error(`${values.model}: no model (run node bench/make-minilm.js)`);
  const { sentences } = stsSentences(4000);
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`bench/serve.js — ${os.cpus()[0].model} × ${os.cpus().length}, node ${process.version}, load ${load()}; model ${values.model}`);
  const out = { rows: [], cost: [], soak: undefined };
  if (!args.only || args.only.some((k) => ['server', 'inprocess', 'transformers.js'].includes(k))) out.rows = await benchmark(args, values.model, sentences);
  if (!args.only || args.only.includes('cost')) out.cost = await cost(args, values.model, sentences);
  if (!args.only || args.only.includes('soak')) out.soak = await soak(args, sentences);
  console.log(`load after: ${load()}`);
  console.log(JSON.stringify(out));
  if (out.soak && (out.soak.failures > 0 || out.soak.fiveXX > 0)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
