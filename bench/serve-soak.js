'use strict';
/**
 * The server soak (`node bench/serve.js --only soak`): --soak-requests requests (20,000) at
 * --soak-concurrency (128) over keep-alive connections, a mix of every route — /embed, POST /
 * (embed and similarity bodies), /invocations, /similarity, /embed_all, /v1/embeddings (float,
 * base64, token ids), /embeddings, /tokenize, /decode, /v1/models and /models/{id}, /info,
 * /health, /embed_sparse — with bad input mixed in: malformed JSON, wrong types, token ids
 * outside the vocabulary (huge, negative, fractional), unknown models, over-length inputs
 * without truncation, too many inputs, and clients that disconnect 0–20 ms after sending.
 * Every answer must have the status a correct server gives; every valid answer must be exact —
 * embeddings bit for bit equal to the in-process encoder's (left truncation included), scores
 * equal to cosSim of those rows, token ids and spans to the tokenizer's, decoded text to its
 * decode — and no 5xx may appear: any difference fails the run (exit 1). The server's RSS is
 * read after warm-up and at the end. The soak tests the server, not the model: it runs on the
 * small test model (test/fixtures/tiny) unless --soak-model says otherwise.
 */
const http = require('node:http');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

/** A seeded uniform [0, 1) generator (LCG), so a failing run can be repeated. */
function seeded(seed) {
  return () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 4294967296;
  };
}

const bitsEqual = (a, b) => {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(Float32Array.from(a).buffer);
  const y = new Uint32Array(Float32Array.from(b).buffer);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
};

/** The references every answer is checked against, computed in-process before the server starts. */
async function references(model, sentences) {
  const { SentenceEncoder } = require(path.join(ROOT, 'dist'));
  const { cosSim } = require(path.join(ROOT, 'dist', 'similarity'));
  const enc = await SentenceEncoder.load(model, { device: 'cpu' });
  const max = enc.maxSeqLength;
  const lower = (t) => (enc.model.doLowerCase ? t.toLowerCase() : t);
  const pool = sentences.slice(0, 1000);
  const longs = [];
  for (let i = 0; longs.length < 20; i++) {
    let t = '';
    while (enc.tokenizer.encode(lower(t)).ids.length <= max + 20) t += sentences[(i * 37 + t.length) % sentences.length] + ' ';
    longs.push(t);
  }
  const all = [...pool, '', ...longs];
  const direct = await enc.encode(all, { normalize: true });
  const rows = new Map(all.map((t, i) => [t, direct.row(i)]));
  // Left truncation: [CLS] + the last max - 2 word pieces + [SEP], encoded from its ids.
  const leftRows = new Map();
  for (const t of longs) {
    const full = Array.from(enc.tokenizer.encode(lower(t)).ids);
    const kept = Int32Array.from([full[0], ...full.slice(full.length - (max - 1), full.length - 1), full[full.length - 1]]);
    leftRows.set(t, (await enc.encodeTokenIds({ ids: kept, cuSeqlens: Int32Array.of(0, kept.length) }, { normalize: true })).row(0));
  }
  const tokPool = pool.slice(0, 50);
  const tokRows = await enc.encode(tokPool, { outputValue: 'token_embeddings' });
  const tokens = new Map(tokPool.map((t, i) => [t, tokRows[i]]));
  const ids = new Map(pool.slice(0, 200).map((t) => [t, Array.from(enc.tokenizer.encode(lower(t)).ids)]));
  const cosine = async (source, others) => {
    const dim = enc.dimension;
    const b = new Float32Array(others.length * dim);
    others.forEach((t, i) => b.set(rows.get(t), i * dim));
    return Array.from(await cosSim({ data: rows.get(source), count: 1, dim }, { data: b, count: others.length, dim }));
  };
  const tokenizer = enc.tokenizer;
  const info = { dimension: enc.dimension, vocabSize: enc.model.config.vocabSize, max };
  const refs = { pool, longs, rows, leftRows, tokens, ids, cosine, tokenizer, lower, info, dispose: () => enc.dispose() };
  return refs;
}

/**
 * One soak request: { method, path, body?, expect (status; 0: the client leaves), check?(json,
 * text) → error string or undefined }.
 */
function soakRequest(r, refs, modelId) {
  const { pool, longs, rows, leftRows, tokens, ids, cosine, tokenizer, lower, info } = refs;
  const pick = (list) => list[Math.floor(r() * list.length)];
  const poolPick = () => (r() < 0.03 ? '' : pick(pool));
  const texts = (n) => Array.from({ length: 1 + Math.floor(r() * n) }, poolPick);
  const rowsCheck = (want) => (json) => {
    if (!Array.isArray(json) || json.length !== want.length) return `expected ${want.length} rows`;
    for (let i = 0; i < want.length; i++) if (!bitsEqual(json[i], want[i])) return `row ${i} differs from encode`;
    return undefined;
  };
  const openaiCheck = (want, base64) => (json) => {
    if (!json || !Array.isArray(json.data) || json.data.length !== want.length) return 'bad OpenAI list';
    for (let i = 0; i < want.length; i++) {
      const d = json.data[i];
      const got = base64 ? new Float32Array(new Uint8Array(Buffer.from(d.embedding, 'base64')).buffer) : d.embedding;
      if (d.index !== i || !bitsEqual(got, want[i])) return `data[${i}] differs from encode`;
    }
    return undefined;
  };
  const post = (p, body, expect, check) => ({ method: 'POST', path: p, body: typeof body === 'string' ? body : JSON.stringify(body), expect, check });
  const x = r();
  let acc = 0;
  const when = (p) => x < (acc += p);

  if (when(0.2)) {
    const t = texts(4);
    return post('/embed', { inputs: t }, 200, rowsCheck(t.map((s) => rows.get(s))));
  }
  if (when(0.04)) {
    const t = texts(3);
    return post(pick(['/', '/invocations']), { inputs: t }, 200, rowsCheck(t.map((s) => rows.get(s))));
  }
  if (when(0.06)) {
    const source = pick(pool);
    const others = texts(3);
    const body = r() < 0.5 ? { inputs: { source_sentence: source, sentences: others } } : { source_sentence: source, sentences: others };
    const route = 'inputs' in body && r() < 0.5 ? '/' : '/similarity';
    return post(route, body, 200, async (json) => {
      const want = await cosine(source, others);
      return Array.isArray(json) && json.length === want.length && json.every((v, i) => Math.fround(v) === Math.fround(want[i])) ? undefined : 'scores differ from cosSim';
    });
  }
  if (when(0.04)) {
    const t = Array.from({ length: 1 + Math.floor(r() * 2) }, () => pick([...tokens.keys()]));
    return post('/embed_all', { inputs: t }, 200, (json) => {
      for (let i = 0; i < t.length; i++) {
        const want = tokens.get(t[i]);
        if (!Array.isArray(json[i]) || json[i].length !== want.count) return `input ${i}: token count`;
        for (let k = 0; k < want.count; k++) if (!bitsEqual(json[i][k], want.row(k))) return `input ${i} token ${k} differs`;
      }
      return undefined;
    });
  }
  if (when(0.17)) {
    const t = texts(4);
    const base64 = r() < 0.4;
    return post(r() < 0.8 ? '/v1/embeddings' : '/embeddings', { input: t, model: modelId, ...(base64 ? { encoding_format: 'base64' } : {}) }, 200, openaiCheck(t.map((s) => rows.get(s)), base64));
  }
  if (when(0.04)) {
    const t = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick([...ids.keys()]));
    const input = t.length === 1 && r() < 0.5 ? ids.get(t[0]) : t.map((s) => ids.get(s));
    return post('/v1/embeddings', { input }, 200, openaiCheck(t.map((s) => rows.get(s)), false));
  }
  if (when(0.03)) {
    const t = texts(2);
    const special = r() < 0.7;
    return post('/tokenize', { inputs: t, add_special_tokens: special }, 200, (json) => {
      for (let i = 0; i < t.length; i++) {
        const want = Array.from(tokenizer.encode(lower(t[i]), { addSpecialTokens: special }).ids);
        const got = json[i].map((tok) => tok.id);
        if (got.join() !== want.join()) return `input ${i}: ids differ`;
        const bytes = Buffer.from(t[i]);
        for (const tok of json[i]) if (tok.start !== null && bytes.subarray(tok.start, tok.stop).toString() !== tok.text) return `input ${i}: span of ${tok.text}`;
      }
      return undefined;
    });
  }
  if (when(0.03)) {
    const lists = Array.from({ length: 1 + Math.floor(r() * 2) }, () => ids.get(pick([...ids.keys()])));
    const skip = r() < 0.5;
    return post('/decode', { ids: lists, skip_special_tokens: skip }, 200, (json) =>
      json.length === lists.length && lists.every((l, i) => json[i] === tokenizer.decode(l, { skipSpecialTokens: skip })) ? undefined : 'decoded text differs',
    );
  }
  if (when(0.03)) {
    const gets = [
      ['/v1/models', 200, (j) => (j.data?.[0]?.id === modelId ? undefined : 'model list')],
      [`/models/${encodeURIComponent(modelId)}`, 200, (j) => (j.id === modelId ? undefined : 'model')],
      ['/v1/models/gpt-4', 404, (j) => (j.error?.code === 'model_not_found' ? undefined : 'not-found shape')],
      ['/info', 200, (j) => (j.max_batch_tokens > 0 && j.model_dtype === 'float32' ? undefined : 'info')],
      ['/health', 200],
      ['/', 200],
    ];
    const [p, expect, check] = pick(gets);
    return { method: 'GET', path: p, expect, check };
  }
  if (when(0.1)) {
    const bad = [
      ['/embed', '{'],
      ['/embed', '{"inputs": 5}'],
      ['/embed', '{"inputs": []}'],
      ['/embed', '{"inputs": ["a", 7]}'],
      ['/embed', `{"inputs": [101, ${info.vocabSize}]}`],
      ['/embed', '{"inputs": [[101, 1e12]]}'],
      ['/embed', '{"inputs": "x", "prompt_name": "nope"}'],
      ['/embed', '{"inputs": "x", "truncation_direction": "up"}'],
      ['/', '[]'],
      ['/embed_all', '{"inputs": [[-1]]}'],
      ['/similarity', '{"inputs": {"source_sentence": 1, "sentences": ["a"]}}'],
      ['/v1/embeddings', '{"input": [[1, 2.5]]}'],
      ['/v1/embeddings', '{"input": "x", "encoding_format": "hex"}'],
      ['/embeddings', `{"input": "x", "dimensions": ${info.dimension + 1}}`],
      ['/tokenize', '{"inputs": 3}'],
      ['/decode', '{"ids": [1, -5]}'],
      ['/decode', '{"ids": "x"}'],
    ];
    const [p, body] = pick(bad);
    return post(p, body, 400, (json) => (json && (typeof json.error === 'string' || typeof json.error?.message === 'string') ? undefined : 'error shape'));
  }
  if (when(0.04)) {
    const over = [
      ['/embed', { inputs: [pick(pool), pick(longs)] }],
      ['/v1/embeddings', { input: pick(longs) }],
      ['/embed', { inputs: Array(33).fill('a') }],
      ['/similarity', { inputs: { source_sentence: 'a', sentences: [pick(longs)] } }],
    ];
    const [p, body] = pick(over);
    return post(p, body, 413);
  }
  if (when(0.04)) {
    const long = pick(longs);
    const left = r() < 0.5;
    const t = [long, pick(pool)];
    return post('/embed', { inputs: t, truncate: true, truncation_direction: left ? 'Left' : 'Right' }, 200, rowsCheck([left ? leftRows.get(long) : rows.get(long), rows.get(t[1])]));
  }
  if (when(0.01)) return post('/embed_sparse', { inputs: 'x' }, 424);
  if (when(0.05)) {
    const t = texts(4);
    const spec = r() < 0.5 ? post('/embed', { inputs: t }, 0, rowsCheck(t.map((s) => rows.get(s)))) : post('/v1/embeddings', { input: t }, 0, openaiCheck(t.map((s) => rows.get(s)), false));
    spec.abortAfterMs = Math.floor(r() * 20);
    return spec;
  }
  const t = texts(4);
  return post('/embed', { inputs: t }, 200, rowsCheck(t.map((s) => rows.get(s))));
}

function send(agent, port, spec) {
  return new Promise((resolve) => {
    const headers = spec.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body) };
    const req = http.request({ host: '127.0.0.1', port, path: spec.path, method: spec.method, agent, headers }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', (err) => resolve({ error: err }));
    });
    req.setTimeout(120000, () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ error: err }));
    req.end(spec.body);
    if (spec.abortAfterMs !== undefined) setTimeout(() => req.destroy(), spec.abortAfterMs);
  });
}

/**
 * Runs the soak against a server started with `startServer(model)` (a bench/serve.js child that
 * answers { rss } over IPC); resolves to its summary (failures > 0 or fiveXX > 0: the run failed).
 */
async function soak({ requests, concurrency, model, sentences, startServer, stopServer, readRss }) {
  const refs = await references(model, sentences);
  const modelId = path.basename(model);
  const server = await startServer(model);
  const port = server.port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const r = seeded(12345);
  for (let i = 0; i < 200; i++) await send(agent, port, { method: 'POST', path: '/embed', body: JSON.stringify({ inputs: [refs.pool[i]] }) });
  const rssStart = (await readRss(server)).rss;
  const specs = Array.from({ length: requests }, () => soakRequest(r, refs, modelId));
  const counts = {};
  const byRoute = {};
  const failures = [];
  let checked = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++];
      const res = await send(agent, port, spec);
      const key = res.error ? (spec.expect === 0 ? 'client left' : `error ${res.error.code || res.error.message}`) : String(res.status);
      counts[key] = (counts[key] || 0) + 1;
      const route = `${spec.method} ${spec.path.replace(/^\/(v1\/)?models\/.+$/, '/$1models/{id}')}`;
      byRoute[route] = (byRoute[route] || 0) + 1;
      if (spec.expect === 0) {
        // A client that left may still have been answered before it left: then check the answer.
        if (res.error) continue;
        if (res.status !== 200) failures.push(`disconnect case answered ${res.status}: ${res.text.slice(0, 120)}`);
      } else if (res.error || res.status !== spec.expect) {
        failures.push(`${spec.method} ${spec.path} ${(spec.body ?? '').slice(0, 60)}: expected ${spec.expect}, got ${res.error ? res.error.message : res.status} ${res.text ? res.text.slice(0, 160) : ''}`);
        continue;
      }
      if (res.error || !spec.check) continue;
      let json;
      try {
        json = JSON.parse(res.text);
      } catch {
        failures.push(`${spec.path}: answer is not JSON`);
        continue;
      }
      const problem = await spec.check(json, res.text);
      if (problem) failures.push(`${spec.method} ${spec.path} ${(spec.body ?? '').slice(0, 60)}: ${problem}`);
      else if (res.status === 200) checked++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const rss = await readRss(server);
  agent.destroy();
  await stopServer(server);
  refs.dispose();
  const fiveXX = Object.entries(counts).filter(([k]) => /^5/.test(k)).reduce((n, [, v]) => n + v, 0);
  const mb = (b) => (b / 2 ** 20).toFixed(1);
  console.log(`\nsoak (${modelId}): ${requests} requests at concurrency ${concurrency} in ${seconds.toFixed(1)} s (${(requests / seconds).toFixed(0)} req/s)`);
  console.log(`  routes: ${JSON.stringify(byRoute)}`);
  console.log(`  statuses: ${JSON.stringify(counts)}`);
  console.log(`  valid answers checked exactly (embeddings bit for bit, scores, tokens, text): ${checked}; failures: ${failures.length}; 5xx: ${fiveXX}`);
  console.log(`  server RSS: ${mb(rssStart)} MiB after warm-up → ${mb(rss.rss)} MiB at the end (peak ${mb(rss.peak)} MiB)`);
  for (const f of failures.slice(0, 10)) console.log(`  FAIL ${f}`);
  return { model, requests, concurrency, seconds, counts, byRoute, checked, failures: failures.length, fiveXX, rssStart, rssEnd: rss.rss, rssPeak: rss.peak };
}

module.exports = { soak };
