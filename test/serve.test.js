// The embedding server (lib/serve): every endpoint's shape, every error path, 429 from the
// request and token limits, embeddings bit-identical to enc.encode, exact float serialization,
// client disconnects, draining on close(), and `sbert serve` exiting 0 on SIGTERM. Loopback only;
// every request has a timeout. A "gated" encoder (the real one behind a promise the test opens)
// holds requests in flight deterministically, so the limits and the draining are tested without
// timing races.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { SentenceEncoder, createServer } = require('../dist');
const { floatArrayJson, floatArrayBase64, rowsJson } = require('../dist/serve/vectors');
const { RateWindow, Histogram } = require('../dist/serve/metrics');
const { FIXTURES } = require('./helpers/reference');
const { request, waitFor } = require('./helpers/http');
const { serveProcess } = require('./helpers/serve-process');
const { rng } = require('./helpers/random');

const TINY = path.join(FIXTURES, 'tiny');
const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
const SENTENCES = ['A man is eating food.', 'A woman is playing violin.', '', 'Ünïcödé and 東京 too', 'The quick brown fox jumps over the lazy dog.'];
const LONG = 'lorem ipsum dolor sit amet '.repeat(80); // well over 256 tokens

let enc;
let server;
let port;

/** Float32 bits of a list of JSON numbers (each parsed as a double, rounded to float32). */
function bitsOf(numbers) {
  return Array.from(new Uint32Array(Float32Array.from(numbers).buffer));
}
function bitsOfF32(f32) {
  return Array.from(new Uint32Array(Float32Array.from(f32).buffer));
}

/** The real encoder behind a gate: encode calls wait until release(); `waiting` counts them. */
function gatedEncoder() {
  let open;
  const gate = new Promise((r) => (open = r));
  const g = {
    tokenizer: enc.tokenizer,
    maxSeqLength: enc.maxSeqLength,
    dimension: enc.dimension,
    hiddenSize: enc.hiddenSize,
    device: enc.device,
    model: enc.model,
    batchTokens: enc.batchTokens,
    precision: enc.precision,
    promptLength: (p) => enc.promptLength(p),
    waiting: 0,
    async encodeTokenIds(batch, options) {
      g.waiting++;
      await gate;
      g.waiting--;
      return enc.encodeTokenIds(batch, options);
    },
    release: () => open(),
  };
  return g;
}

async function started(encoder, options) {
  const s = createServer(encoder, options);
  const addr = await s.listen(0, '127.0.0.1');
  return { s, port: addr.port };
}

test.before(async () => {
  enc = await SentenceEncoder.load(TINY, { device: 'cpu' });
  ({ s: server, port } = await started(enc, { maxClientBatchSize: 8 }));
});

test.after(async () => {
  await server.close();
  enc.dispose();
});

// ---- exact serialization ---------------------------------------------------------------------

test('float32 values survive JSON and base64 bit for bit (random bit patterns, -0, subnormals, extremes)', () => {
  const r = rng(7);
  const bits = new Uint32Array(4096);
  for (let i = 0; i < bits.length; i++) bits[i] = Math.floor(r() * 2 ** 32);
  bits.set([0x80000000, 0x00000000, 0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, 0x3f800000, 0x33d6bf95], 0);
  const values = new Float32Array(bits.buffer);
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) values[i] = 1.5; // NaN/Inf are not JSON numbers
  const parsed = JSON.parse(floatArrayJson(values));
  assert.equal(bitsOf(parsed), bitsOfF32(values));
  assert.ok(Object.is(parsed[0], -0), '-0 keeps its sign');
  const back = new Float32Array(new Uint8Array(Buffer.from(floatArrayBase64(values, 3, 100), 'base64')).buffer);
  assert.equal(bitsOfF32(back), bitsOfF32(values.subarray(3, 103)));
  assert.equal(JSON.parse(rowsJson(values.subarray(0, 6), 2, 3)).map(bitsOf), [bitsOfF32(values.subarray(0, 3)), bitsOfF32(values.subarray(3, 6))]);
  assert.is(floatArrayJson(Float32Array.of(NaN, Infinity)), '[null,null]');
});

test('JSON numbers are the shortest decimals that read back to the same float32 (as TEI prints f32)', () => {
  const r = rng(11);
  const values = Float32Array.from({ length: 4000 }, (_, i) => (r() - 0.5) * 10 ** -(i % 9));
  values.set([0.1, -0.25, 1, 100, 1e-7, 3.4e-12, 0.30000001192092896], 0);
  const printed = floatArrayJson(values).slice(1, -1).split(',');
  const significant = (s) => {
    const mantissa = s.replace(/^-/, '').replace(/e.*$/, '');
    return (mantissa.includes('.') ? mantissa.replace('.', '') : mantissa.replace(/0+$/, '')).replace(/^0+/, '').length;
  };
  values.forEach((v, i) => {
    let shortest = 1;
    while (Math.fround(Number(v.toPrecision(shortest))) !== v) shortest++;
    assert.is(Math.fround(Number(printed[i])), v, `value ${i} reads back`);
    assert.is(significant(printed[i]), shortest, `value ${i}: ${printed[i]} vs ${v.toPrecision(shortest)}`);
  });
  assert.equal(printed.slice(0, 7), ['0.1', '-0.25', '1', '100', '0.0000001', '0.0000000000034', '0.3']);
});

// ---- endpoint shapes and bit-identical embeddings --------------------------------------------

test('POST /embed: number[][] bit-identical to enc.encode (normalize defaults to true, as TEI)', async () => {
  const expected = await enc.encode(SENTENCES, { normalize: true });
  const r = await request(port, 'POST', '/embed', { inputs: SENTENCES });
  assert.is(r.status, 200);
  assert.is(r.headers['content-type'], 'application/json');
  assert.is(r.json.length, SENTENCES.length);
  for (let i = 0; i < SENTENCES.length; i++) {
    assert.is(r.json[i].length, enc.dimension);
    assert.equal(bitsOf(r.json[i]), bitsOfF32(expected.row(i)), `row ${i}`);
  }
  const one = await request(port, 'POST', '/embed', { inputs: SENTENCES[1], normalize: false });
  assert.is(one.status, 200);
  assert.equal(bitsOf(one.json[0]), bitsOfF32((await enc.encode(SENTENCES[1], { normalize: false })).row(0)));
});

test('concurrent requests (shared native batches) each get exactly their own rows', async () => {
  const texts = Array.from({ length: 24 }, (_, i) => `sentence number ${i} ${'x'.repeat(i)}`);
  const expected = await enc.encode(texts, { normalize: true });
  const replies = await Promise.all(texts.map((t) => request(port, 'POST', '/embed', { inputs: [t] })));
  replies.forEach((r, i) => {
    assert.is(r.status, 200);
    assert.equal(bitsOf(r.json[0]), bitsOfF32(expected.row(i)), `request ${i}`);
  });
});

test('POST /v1/embeddings: OpenAI shape, usage tokens, float and base64 bit-identical, dimensions', async () => {
  const expected = await enc.encode(SENTENCES, { normalize: true });
  const tokens = SENTENCES.reduce((n, s) => n + enc.tokenizer.encode(s, { maxLength: enc.maxSeqLength }).ids.length, 0);
  const r = await request(port, 'POST', '/v1/embeddings', { input: SENTENCES, model: 'whatever', user: 'ignored' });
  assert.is(r.status, 200);
  assert.is(r.json.object, 'list');
  assert.is(r.json.model, 'tiny');
  assert.equal(r.json.usage, { prompt_tokens: tokens, total_tokens: tokens });
  assert.is(r.json.data.length, SENTENCES.length);
  r.json.data.forEach((d, i) => {
    assert.is(d.object, 'embedding');
    assert.is(d.index, i);
    assert.equal(bitsOf(d.embedding), bitsOfF32(expected.row(i)));
  });
  const b = await request(port, 'POST', '/v1/embeddings', { input: SENTENCES[0], encoding_format: 'base64' });
  assert.is(b.status, 200);
  const bytes = new Uint8Array(Buffer.from(b.json.data[0].embedding, 'base64'));
  assert.equal(bitsOfF32(new Float32Array(bytes.buffer)), bitsOfF32(expected.row(0)));

  // dimensions: the first N values normalized again, exactly as encode({ truncateDim, normalize }).
  const d = await request(port, 'POST', '/v1/embeddings', { input: [SENTENCES[0], SENTENCES[1]], dimensions: 8 });
  assert.is(d.status, 200);
  const short = await enc.encode([SENTENCES[0], SENTENCES[1]], { truncateDim: 8, normalize: true });
  for (let i = 0; i < 2; i++) {
    const got = d.json.data[i].embedding;
    assert.is(got.length, 8);
    assert.equal(bitsOf(got), bitsOfF32(short.row(i)), `dimensions: row ${i}`);
    assert.ok(Math.abs(got.reduce((a, v) => a + v * v, 0) - 1) < 1e-5, 'shortened rows are unit length');
  }
});

test('POST /similarity: cosine of the source with each sentence, TEI shape and flat shape', async () => {
  const e = await enc.encode(SENTENCES, { normalize: true });
  const want = [1, 2, 3].map((j) => {
    let dot = 0;
    for (let k = 0; k < e.dim; k++) dot += e.row(0)[k] * e.row(j)[k];
    return dot;
  });
  const tei = await request(port, 'POST', '/similarity', { inputs: { source_sentence: SENTENCES[0], sentences: SENTENCES.slice(1, 4) } });
  assert.is(tei.status, 200);
  assert.is(tei.json.length, 3);
  tei.json.forEach((s, i) => assert.ok(Math.abs(s - want[i]) < 1e-5, `score ${i}: ${s} vs ${want[i]}`));
  const flat = await request(port, 'POST', '/similarity', { source_sentence: SENTENCES[0], sentences: SENTENCES.slice(1, 4) });
  assert.equal(flat.json, tei.json);
});

test('GET /health, /info, /metrics', async () => {
  const h = await request(port, 'GET', '/health');
  assert.is(h.status, 200);
  const info = await request(port, 'GET', '/info');
  assert.is(info.status, 200);
  assert.is(info.json.model_id, 'tiny');
  assert.is(info.json.dimension, enc.dimension);
  assert.is(info.json.max_input_length, enc.maxSeqLength);
  assert.is(info.json.max_client_batch_size, 8);
  assert.is(info.json.device, 'cpu');
  assert.equal(info.json.model_type, { embedding: { pooling: 'mean' } });

  // A fresh server so the counts are known exactly.
  const { s, port: p } = await started(enc, {});
  try {
    for (let i = 0; i < 3; i++) assert.is((await request(p, 'POST', '/embed', { inputs: ['a b c', 'd'] })).status, 200);
    assert.is((await request(p, 'POST', '/embed', '{')).status, 400);
    const m = await request(p, 'GET', '/metrics');
    assert.is(m.status, 200);
    assert.match(m.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    const line = (name) => {
      const found = m.text.split('\n').find((l) => l.startsWith(name + ' '));
      assert.ok(found, `metrics has ${name}`);
      return Number(found.slice(name.length + 1));
    };
    assert.is(line('sbert_requests_total{route="/embed",status="200"}'), 3);
    assert.is(line('sbert_requests_total{route="/embed",status="400"}'), 1);
    assert.is(line('sbert_request_duration_seconds_count{route="/embed"}'), 4);
    assert.is(line('sbert_request_sentences_count'), 3);
    assert.is(line('sbert_request_sentences_sum'), 6);
    assert.is(line('sbert_request_sentences_bucket{le="1"}'), 0);
    assert.is(line('sbert_request_sentences_bucket{le="2"}'), 3);
    const tokens = 3 * (enc.tokenizer.encode('a b c').ids.length + enc.tokenizer.encode('d').ids.length);
    assert.is(line('sbert_tokens_total'), tokens);
    assert.is(line('sbert_request_tokens_sum'), tokens);
    assert.is(line('sbert_encode_duration_seconds_count'), 3);
    assert.is(line('sbert_queue_requests'), 0);
    assert.is(line('sbert_queue_tokens'), 0);
    assert.is(line('sbert_in_flight_requests'), 1); // the /metrics request itself
    for (const name of ['sbert_tokens_per_second', 'sbert_rejected_total', 'sbert_sentences_total', 'process_resident_memory_bytes', 'process_cpu_seconds_total']) {
      assert.match(m.text, `# TYPE ${name} `);
    }
  } finally {
    await s.close();
  }
});

test('metrics helpers: histogram buckets are cumulative; the tokens/s window forgets old seconds', () => {
  const h = new Histogram('x', 'help', [1, 10]);
  for (const v of [0.5, 1, 5, 50]) h.observe(v);
  assert.match(h.render(), 'x_bucket{le="1"} 2\nx_bucket{le="10"} 3\nx_bucket{le="+Inf"} 4\nx_sum 56.5\nx_count 4\n');
  let now = 100_000;
  const w = new RateWindow(10, () => now);
  w.add(50);
  now += 1000;
  w.add(30);
  assert.is(w.rate(), 5, 'only complete seconds count (the current one is excluded)');
  now += 1000;
  assert.is(w.rate(), 8);
  now += 10_000;
  assert.is(w.rate(), 0);
});

// ---- error paths -------------------------------------------------------------------------------

test('400: malformed JSON, wrong types, empty input, unknown prompt_name, bad OpenAI options', async () => {
  const cases = [
    ['/embed', '{"inputs": [', /not valid JSON/, 'Validation'],
    ['/embed', '', /empty/, 'Validation'],
    ['/embed', '[1, 2]', /must be a JSON object \(got an array\)/, 'Validation'],
    ['/embed', {}, /`inputs` is required/, 'Validation'],
    ['/embed', { inputs: 42 }, /`inputs` must be a string, an array of strings, or token ids \(got number\)/, 'Validation'],
    ['/embed', { inputs: ['ok', null] }, /`inputs\[1\]` must be a string or an array of token ids \(got null\)/, 'Validation'],
    ['/embed', { inputs: [] }, /`inputs` cannot be empty/, 'Empty'],
    ['/embed', { inputs: 'x', normalize: 'yes' }, /`normalize` must be a boolean/, 'Validation'],
    ['/embed', { inputs: 'x', truncate: 1 }, /`truncate` must be a boolean/, 'Validation'],
    ['/embed', { inputs: 'x', prompt_name: 'passage' }, /`prompt_name` "passage" is not one of the model's prompts \("document", "query"\)/, 'Validation'],
    ['/embed', { inputs: 'x', prompt_name: 7 }, /`prompt_name` must be a string/, 'Validation'],
    ['/v1/embeddings', { input: [[1, 2.5, 3]] }, /`input\[0\]\[1\]` must be an integer token id \(got 2.5\)/, 'Validation'],
    ['/v1/embeddings', { input: [101, 1e20] }, /`input\[1\]` = 100000000000000000000 is not a token id of the model \(ids are 0 to 30521\)/, 'Validation'],
    ['/v1/embeddings', { input: [[101], [-1]] }, /`input\[1\]\[0\]` = -1 is not a token id/, 'Validation'],
    ['/v1/embeddings', { input: [[101], []] }, /`input\[1\]` cannot be empty/, 'Empty'],
    ['/v1/embeddings', { input: 'x', user: 3 }, /`user` must be a string/, 'Validation'],
    ['/embed', { inputs: 'x', truncation_direction: 'Up' }, /`truncation_direction` must be 'Left' or 'Right'/, 'Validation'],
    ['/embed', { inputs: 'x', dimensions: 33 }, /`dimensions` must be an integer from 1 to 32/, 'Validation'],
    ['/v1/embeddings', { input: 'x', encoding_format: 'float16' }, /`encoding_format` must be 'float' or 'base64'/, 'Validation'],
    ['/v1/embeddings', { input: 'x', dimensions: 0 }, /`dimensions` must be an integer from 1 to 32/, 'Validation'],
    ['/v1/embeddings', { input: 'x', dimensions: 33 }, /`dimensions`/, 'Validation'],
    ['/v1/embeddings', { input: 'x', dimensions: 2.5 }, /`dimensions`/, 'Validation'],
    ['/v1/embeddings', { input: 'x', model: 7 }, /`model` must be a string/, 'Validation'],
    ['/similarity', { inputs: { source_sentence: 1, sentences: ['a'] } }, /`source_sentence` must be a string/, 'Validation'],
    ['/similarity', { inputs: { source_sentence: 'a', sentences: 'b' } }, /`sentences` must be an array/, 'Validation'],
    ['/similarity', { inputs: { source_sentence: 'a', sentences: [] } }, /`sentences` cannot be empty/, 'Empty'],
    ['/similarity', { inputs: { source_sentence: 'a', sentences: ['b'] }, parameters: { prompt_name: 'q' } }, /`prompt_name` "q" is not one of the model's prompts/, 'Validation'],
  ];
  for (const [route, body, message, type] of cases) {
    const r = await request(port, 'POST', route, body);
    const what = `${route} ${typeof body === 'string' ? body : JSON.stringify(body)}`;
    assert.is(r.status, 400, what);
    assert.is(r.json.error_type, type, what);
    if (route.startsWith('/v1/')) {
      // OpenAI's error object, which its SDKs read.
      assert.equal(Object.keys(r.json.error).sort(), ['code', 'message', 'param', 'type'], what);
      assert.is(r.json.error.type, 'invalid_request_error', what);
      assert.match(r.json.error.message, message, what);
    } else {
      assert.match(r.json.error, message, what);
    }
  }
});

test('413: too many inputs, an over-length input (named by index) unless truncated', async () => {
  const many = await request(port, 'POST', '/embed', { inputs: Array(9).fill('a') });
  assert.is(many.status, 413);
  assert.is(many.json.error_type, 'Validation');
  assert.match(many.json.error, 'batch size 9 > maximum allowed batch size 8');

  const long = await request(port, 'POST', '/embed', { inputs: ['short', 'fine', LONG] });
  assert.is(long.status, 413);
  assert.match(long.json.error, '`inputs[2]` has more than 256 tokens');
  const oa = await request(port, 'POST', '/v1/embeddings', { input: [LONG] });
  assert.is(oa.status, 413);
  assert.match(oa.json.error.message, '`input[0]`');
  const sim = await request(port, 'POST', '/similarity', { inputs: { source_sentence: 'a', sentences: ['b', LONG] } });
  assert.is(sim.status, 413);
  assert.match(sim.json.error, '`sentences[1]`');

  // truncate: true → the encoder's truncation at max_seq_length, bit-identical to enc.encode.
  const t = await request(port, 'POST', '/embed', { inputs: ['short', LONG], truncate: true });
  assert.is(t.status, 200);
  assert.equal(bitsOf(t.json[1]), bitsOfF32((await enc.encode(['short', LONG], { normalize: true })).row(1)));
  const sim2 = await request(port, 'POST', '/similarity', { inputs: { source_sentence: 'a', sentences: ['b', LONG] }, parameters: { truncate: true } });
  assert.is(sim2.status, 200);
});

test('--auto-truncate truncates unless the request says truncate: false; a max input length below max_seq_length is a hard cap', async () => {
  const { s, port: p } = await started(enc, { autoTruncate: true });
  try {
    const ok = await request(p, 'POST', '/v1/embeddings', { input: LONG });
    assert.is(ok.status, 200);
    assert.equal(ok.json.usage.prompt_tokens, enc.maxSeqLength);
    assert.is((await request(p, 'POST', '/embed', { inputs: LONG, truncate: false })).status, 413);
  } finally {
    await s.close();
  }
  const { s: s2, port: p2 } = await started(enc, { maxInputLength: 8 });
  try {
    const nine = 'a b c d e f g'; // 7 words + [CLS] [SEP] = 9 tokens
    assert.is(enc.tokenizer.encode(nine).ids.length, 9);
    const r = await request(p2, 'POST', '/embed', { inputs: ['a b', nine] });
    assert.is(r.status, 413);
    assert.match(r.json.error, '`inputs[1]` has more than 8 tokens');
    // Truncation cuts at the max input length (TEI), keeping [CLS] and [SEP].
    const cut = await request(p2, 'POST', '/embed', { inputs: ['a b', nine], truncate: true });
    assert.is(cut.status, 200);
    assert.is(cut.headers['x-compute-tokens'], String(4 + 8));
    const eight = enc.tokenizer.encode(nine, { maxLength: 8 });
    const want = await enc.encodeTokenIds({ ids: eight.ids, cuSeqlens: Int32Array.of(0, 8) }, { normalize: true });
    assert.equal(bitsOf(cut.json[1]), bitsOfF32(want.row(0)));
    assert.is((await request(p2, 'POST', '/embed', { inputs: 'a b c d e f' })).status, 200);
  } finally {
    await s2.close();
  }
});

test('prompt_name: /embed and /similarity encode with the model\'s prompt (bit-identical to encode), default_prompt_name otherwise; prompt tokens count towards the limit', async () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-serve-prompt-'));
  fs.cpSync(TINY, dir, { recursive: true });
  const cfgFile = path.join(dir, 'config_sentence_transformers.json');
  const prompts = { query: 'query: ', passage: 'passage: ' };
  fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')), prompts, default_prompt_name: 'passage' }));
  // include_prompt: false as well, so the server must hand the prompt itself to the encoder.
  const pf = path.join(dir, '1_Pooling', 'config.json');
  fs.writeFileSync(pf, JSON.stringify({ ...JSON.parse(fs.readFileSync(pf, 'utf8')), include_prompt: false }));
  const penc = await SentenceEncoder.load(dir, { device: 'cpu' });
  const { s, port: p } = await started(penc);
  try {
    const texts = ['A man is eating food.', '', 'Someone plays a guitar.'];
    const q = await request(p, 'POST', '/embed', { inputs: texts, prompt_name: 'query' });
    assert.is(q.status, 200);
    const want = await penc.encode(texts, { promptName: 'query', normalize: true });
    for (let i = 0; i < texts.length; i++) assert.equal(bitsOf(q.json[i]), bitsOfF32(want.row(i)), `query row ${i}`);
    const noPrompt = await penc.encode(texts, { prompt: '', normalize: true });
    assert.not.equal(bitsOf(q.json[0]), bitsOfF32(noPrompt.row(0)), 'the prompt changes the embedding');
    // No prompt_name: the model's default_prompt_name ('passage'), as encode() does.
    const d = await request(p, 'POST', '/embed', { inputs: texts });
    const wantDefault = await penc.encode(texts, { normalize: true });
    assert.equal(bitsOf(d.json[2]), bitsOfF32(wantDefault.row(2)));
    assert.equal(bitsOf(d.json[2]), bitsOfF32((await penc.encode(texts, { promptName: 'passage', normalize: true })).row(2)));
    // /similarity with parameters.prompt_name (and the flat form's top-level prompt_name).
    for (const body of [
      { inputs: { source_sentence: texts[0], sentences: texts.slice(1) }, parameters: { prompt_name: 'query' } },
      { source_sentence: texts[0], sentences: texts.slice(1), prompt_name: 'query' },
    ]) {
      const sim = await request(p, 'POST', '/similarity', body);
      assert.is(sim.status, 200);
      const e = await penc.encode(texts, { promptName: 'query', normalize: true });
      for (let i = 1; i < texts.length; i++) {
        let dot = 0;
        for (let j = 0; j < e.dim; j++) dot += e.row(0)[j] * e.row(i)[j];
        assert.ok(Math.abs(sim.json[i - 1] - dot) <= 1e-6, `similarity ${i}: ${sim.json[i - 1]} vs ${dot}`);
      }
    }
    // Token-id inputs with a prompt: decoded, then tokenized after the prompt (as TEI does).
    const idsOf = Array.from(penc.tokenizer.encode(texts[2].toLowerCase()).ids);
    const withIds = await request(p, 'POST', '/embed', { inputs: [idsOf], prompt_name: 'query' });
    assert.is(withIds.status, 200);
    const decoded = penc.tokenizer.decode(idsOf, { skipSpecialTokens: true });
    assert.equal(bitsOf(withIds.json[0]), bitsOfF32((await penc.encode(decoded, { promptName: 'query', normalize: true })).row(0)));
    // OpenAI usage counts the default prompt's tokens too.
    const oa = await request(p, 'POST', '/v1/embeddings', { input: 'x' });
    assert.is(oa.status, 200);
    assert.is(oa.json.usage.prompt_tokens, penc.tokenizer.encode('passage: x').ids.length);
    // Exactly max_seq_length tokens alone, over it with the prompt: 413 without truncation.
    const fits = 'a '.repeat(penc.maxSeqLength - 2);
    assert.is(penc.tokenizer.encode(fits).ids.length, penc.maxSeqLength);
    assert.is((await request(p, 'POST', '/embed', { inputs: fits, prompt_name: 'query', truncate: false })).status, 413);
    const over = await request(p, 'POST', '/embed', { inputs: ['ok', fits], prompt_name: 'query' });
    assert.is(over.status, 413);
    assert.match(over.json.error, '`inputs[1]` with its prompt ("query: ") has more than 256 tokens');
    const cut = await request(p, 'POST', '/embed', { inputs: ['ok', fits], prompt_name: 'query', truncate: true });
    assert.is(cut.status, 200);
    assert.equal(bitsOf(cut.json[1]), bitsOfF32((await penc.encode(['ok', fits], { promptName: 'query', normalize: true })).row(1)));
    // The same text without a prompt fits (prompt '' via a model with no default is the plain server's case).
    assert.is((await request(port, 'POST', '/embed', { inputs: fits, truncate: false })).status, 200);
    const unknown = await request(p, 'POST', '/embed', { inputs: 'x', prompt_name: 'document' });
    assert.is(unknown.status, 400);
    assert.match(unknown.json.error, '"document" is not one of the model\'s prompts ("query", "passage")');
  } finally {
    await s.close();
    penc.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('413 for a body over the payload limit, declared or chunked, before it is parsed', async () => {
  const { s, port: p } = await started(enc, { payloadLimit: 1000 });
  try {
    const big = JSON.stringify({ inputs: 'word '.repeat(300) });
    const declared = await request(p, 'POST', '/embed', big);
    assert.is(declared.status, 413);
    assert.match(declared.json.error, 'larger than the limit of 1000 bytes');
    assert.is(declared.headers.connection, 'close');
    const chunked = await request(p, 'POST', '/embed', [big.slice(0, 600), big.slice(600)]);
    assert.is(chunked.status, 413);
    const small = await request(p, 'POST', '/embed', ['{"inputs":', '"fits"}']);
    assert.is(small.status, 200);
  } finally {
    await s.close();
  }
});

test('404 for an unknown route, 405 (with Allow) for a wrong method', async () => {
  const nf = await request(port, 'GET', '/nope');
  assert.is(nf.status, 404);
  assert.is(nf.json.error_type, 'NotFound');
  const get = await request(port, 'GET', '/embed');
  assert.is(get.status, 405);
  assert.is(get.headers.allow, 'POST');
  const post = await request(port, 'POST', '/health', {});
  assert.is(post.status, 405);
  assert.is(post.headers.allow, 'GET');
  assert.is((await request(port, 'GET', '/health?verbose=1')).status, 200, 'query strings are ignored');
});

test('createServer checks its arguments', () => {
  assert.throws(() => createServer({}, {}), (e) => e instanceof TypeError && /encoder/.test(e.message));
  assert.throws(() => createServer(enc, { maxInputLength: 257 }), (e) => e instanceof RangeError && /maxInputLength/.test(e.message));
  assert.throws(() => createServer(enc, { maxClientBatchSize: 0 }), (e) => e instanceof RangeError && /maxClientBatchSize/.test(e.message));
  assert.throws(() => createServer(enc, { maxQueueTokens: 1.5 }), (e) => e instanceof RangeError && /maxQueueTokens/.test(e.message));
  assert.throws(() => createServer(enc, { autoTruncate: 'yes' }), (e) => e instanceof TypeError && /autoTruncate/.test(e.message));
});

// ---- admission control -----------------------------------------------------------------------

test('429 with Retry-After past max concurrent requests; the admitted requests still succeed', async () => {
  const g = gatedEncoder();
  const { s, port: p } = await started(g, { maxConcurrentRequests: 2, retryAfterSeconds: 3 });
  try {
    const admitted = [request(p, 'POST', '/embed', { inputs: 'first' }), request(p, 'POST', '/embed', { inputs: 'second' })];
    await waitFor(() => g.waiting === 2, 'two requests in the encoder');
    const refused = await request(p, 'POST', '/embed', { inputs: 'third' });
    assert.is(refused.status, 429);
    assert.is(refused.headers['retry-after'], '3');
    assert.is(refused.json.error_type, 'Overloaded');
    assert.is((await request(p, 'GET', '/health')).status, 200, 'health is not an encode request');
    g.release();
    const done = await Promise.all(admitted);
    const expected = await enc.encode(['first', 'second'], { normalize: true });
    done.forEach((r, i) => {
      assert.is(r.status, 200);
      assert.equal(bitsOf(r.json[0]), bitsOfF32(expected.row(i)));
    });
    assert.is((await request(p, 'POST', '/embed', { inputs: 'third' })).status, 200, 'admitted again once the slots are free');
    assert.match((await request(p, 'GET', '/metrics')).text, 'sbert_rejected_total{limit="max_concurrent_requests"} 1');
  } finally {
    await s.close();
  }
});

test('429 past the queued-token limit; a request alone may exceed it', async () => {
  const g = gatedEncoder();
  const { s, port: p } = await started(g, { maxQueueTokens: 12 });
  try {
    const ten = 'a b c d e f g h'; // 10 tokens
    const first = request(p, 'POST', '/embed', { inputs: ten });
    await waitFor(() => g.waiting === 1, 'first request in the encoder');
    const refused = await request(p, 'POST', '/embed', { inputs: 'x y z' });
    assert.is(refused.status, 429);
    assert.is(refused.json.error_type, 'Overloaded');
    assert.match(refused.json.error, '10 tokens are queued (limit 12)');
    assert.is(refused.headers['retry-after'], '1');
    const fits = request(p, 'POST', '/embed', { inputs: '' }); // 2 tokens: 12 in all
    await waitFor(() => g.waiting === 2, 'second request in the encoder');
    g.release();
    assert.is((await first).status, 200);
    assert.is((await fits).status, 200);
    const alone = await request(p, 'POST', '/embed', { inputs: 'one two three four five six seven eight nine ten eleven' });
    assert.is(alone.status, 200, 'over the limit but nothing else queued');
  } finally {
    await s.close();
  }
});

test('a client that disconnects mid-request costs nothing: its slot and tokens come back, others are served', async () => {
  const g = gatedEncoder();
  const { s, port: p } = await started(g, { maxConcurrentRequests: 1 });
  try {
    let clientReq;
    const abandoned = request(p, 'POST', '/embed', { inputs: 'leaving' }, { onRequest: (r) => (clientReq = r) }).catch((e) => e);
    await waitFor(() => g.waiting === 1, 'request in the encoder');
    clientReq.destroy();
    assert.instance(await abandoned, Error);
    g.release();
    await waitFor(() => s.metrics.requests.get({ route: '/embed', status: '499' }) === 1, 'the abandoned request to finish');
    const next = await request(p, 'POST', '/embed', { inputs: 'staying' });
    assert.is(next.status, 200);
    const m = (await request(p, 'GET', '/metrics')).text;
    assert.match(m, 'sbert_queue_requests 0');
    assert.match(m, 'sbert_queue_tokens 0');
  } finally {
    await s.close();
  }
});

// ---- shutdown ------------------------------------------------------------------------------------

test('close() drains: in-flight requests are answered (Connection: close), new connections refused, then it resolves', async () => {
  const g = gatedEncoder();
  const { s, port: p } = await started(g, {});
  const texts = ['one', 'two', 'three'];
  // The order of events, not a sleep, shows that close() waits: it may not resolve before the
  // gate that holds the replies opens.
  const events = [];
  const inFlight = texts.map((t) => request(p, 'POST', '/embed', { inputs: t }));
  await waitFor(() => g.waiting === 3, 'three requests in the encoder');
  let closed = false;
  const closing = s.close().then(() => (closed = true, events.push('closed')));
  const refused = await request(p, 'GET', '/health').catch((e) => e);
  assert.instance(refused, Error);
  assert.is(refused.code, 'ECONNREFUSED');
  assert.is(closed, false, 'close() waits for the requests in flight');
  events.push('released');
  g.release();
  const replies = await Promise.all(inFlight);
  const expected = await enc.encode(texts, { normalize: true });
  replies.forEach((r, i) => {
    assert.is(r.status, 200);
    assert.is(r.headers.connection, 'close');
    assert.equal(bitsOf(r.json[0]), bitsOfF32(expected.row(i)));
  });
  await closing;
  assert.equal(events, ['released', 'closed']);
});

test('`sbert serve` answers, then exits 0 on SIGTERM', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--model', TINY, '--device', 'cpu', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    await waitFor(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.test(stdout), 'the server to listen', 15000);
    const p = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)[1]);
    const r = await request(p, 'POST', '/embed', { inputs: SENTENCES });
    assert.is(r.status, 200);
    const expected = await enc.encode(SENTENCES, { normalize: true });
    assert.equal(bitsOf(r.json[3]), bitsOfF32(expected.row(3)));
    child.kill('SIGTERM');
    const { code } = await Promise.race([exited, new Promise((_, rej) => setTimeout(() => rej(new Error('no exit within 10 s')), 10000))]);
    assert.is(code, 0, stderr);
    assert.match(stderr, 'SIGTERM');
    assert.match(stderr, 'stopped');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});


test('`sbert serve` without --model serves the bundled model; start-up failures are one line and exit 1', async () => {
  const def = await serveProcess(['--port', '0', '--device', 'cpu']);
  try {
    assert.ok(def.port, def.stderr);
    assert.match(def.stdout, 'default-en on cpu');
    const bundled = await SentenceEncoder.load({ device: 'cpu' });
    try {
      const r = await request(def.port, 'POST', '/embed', { inputs: SENTENCES[0] });
      assert.equal(bitsOf(r.json[0]), bitsOfF32((await bundled.encode(SENTENCES[0], { normalize: true })).row(0)));
    } finally {
      bundled.dispose();
    }
    // The port is now taken.
    const taken = await serveProcess(['--model', TINY, '--device', 'cpu', '--port', String(def.port)]);
    assert.is(taken.code, 1);
    assert.is(taken.stderr.trim().split('\n').length, 1, taken.stderr);
    assert.match(taken.stderr, `sbert serve: cannot listen on 127.0.0.1:${def.port}: the port is already in use`);
    assert.match(taken.stderr, '(EADDRINUSE)');
  } finally {
    def.child.kill('SIGTERM');
  }
  for (const [args, message] of [
    [['--host', '256.1.1.1'], "sbert serve: cannot listen on 256.1.1.1:0: '256.1.1.1' is not an address or a host name that resolves"],
    [['--model', path.join(TINY, 'nope')], 'sbert serve: cannot load the model: ERR_BAD_MODEL'],
  ]) {
    const r = await serveProcess(['--model', TINY, '--device', 'cpu', '--port', '0', ...args]);
    assert.is(r.code, 1, r.stderr);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
});

test('`sbert serve` argument errors exit 2 (numbers in decimal digits only, as every sbert command)', () => {
  const { spawnSync } = require('node:child_process');
  for (const args of [
    ['serve', '--model', TINY, '--port', 'abc'],
    ['serve', '--model', TINY, '--port', '70000'],
    ['serve', '--model', TINY, '--max-client-batch-size', '0'],
    ['serve', '--model', TINY, '--max-client-batch-size', '1e3'],
    ['serve', '--model', TINY, '--max-queue-tokens', '0x10'],
    ['serve', '--model', TINY, '--cors-allow-origin', 'example.com'],
    ['serve', '--model', TINY, '--device', 'tpu'],
    ['serve', '--bogus'],
  ]) {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10000 });
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, 'sbert serve:');
  }
});

test.run();
