'use strict';
// Hugging Face Hub download into the shared cache, against a mock Hub on 127.0.0.1
// (test/helpers/mock-hub.js): which files are fetched, the cache layout Python uses, tokens
// and the CDN, redirects, resume, integrity, locks, offline mode and the errors.
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startMockHub, folderFiles, sha256, gitSha1 } = require('./helpers/mock-hub');
const { resolveModel, downloadModel, loadModelFolder } = require('../dist');
const { selectModelFiles } = require('../dist/hub');

const FIX = path.join(__dirname, 'fixtures');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-hub-'));
let seq = 0;
const freshCache = () => path.join(TMP, `cache-${++seq}`);

// Nothing may come from the user's environment: no real token, cache or endpoint.
for (const v of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_TOKEN_PATH', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'HF_ENDPOINT']) delete process.env[v];
process.env.HF_HOME = path.join(TMP, 'hf-home');

const TINY = folderFiles(path.join(FIX, 'tiny'));
const DECOYS = {
  'onnx/model.onnx': Buffer.from('onnx weights'),
  'openvino/openvino_model.xml': Buffer.from('<xml/>'),
  'openvino/openvino_model.bin': Buffer.from('openvino weights'),
  'pytorch_model.bin': Buffer.from('a .bin beside model.safetensors is never fetched'),
  'tf_model.h5': Buffer.from('tf'),
  'README.md': Buffer.from('# tiny'),
  'train_script.py': Buffer.from('print(1)'),
};
const TINY_NEEDED = ['1_Pooling/config.json', '2_Normalize/config.json', 'config.json', 'config_sentence_transformers.json',
  'model.safetensors', 'modules.json', 'sentence_bert_config.json', 'tokenizer.json', 'tokenizer_config.json'];

/** tiny's configs and tokenizer with pytorch_model.bin weights and a Dense module. */
function binRepoFiles() {
  const files = {};
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'sentence_bert_config.json', '1_Pooling/config.json']) files[f] = TINY[f];
  const modules = JSON.parse(TINY['modules.json']).slice(0, 2);
  modules.push({ idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' });
  files['modules.json'] = Buffer.from(JSON.stringify(modules));
  files['pytorch_model.bin'] = fs.readFileSync(path.join(FIX, 'pickle', 'tiny-f16', 'pytorch_model.bin'));
  files['2_Dense/config.json'] = fs.readFileSync(path.join(FIX, 'pickle', 'dense', 'config.json'));
  files['2_Dense/pytorch_model.bin'] = fs.readFileSync(path.join(FIX, 'pickle', 'dense', 'pytorch_model.bin'));
  files['2_Dense/onnx/model.onnx'] = Buffer.from('never');
  return files;
}

/** An XLM-R-style repo that ships only the SentencePiece model, no tokenizer.json. */
function spmOnlyFiles() {
  const files = { ...TINY };
  delete files['tokenizer.json'];
  files['sentencepiece.bpe.model'] = Buffer.from('a sentencepiece protobuf');
  return files;
}

let hub;
test.before(async () => {
  hub = await startMockHub({
    repos: {
      'org/tiny': { files: { ...TINY, ...DECOYS } },
      'org/bin-only': { files: binRepoFiles() },
      'org/private': { files: { ...TINY }, private: true },
      'org/gated': { files: { ...TINY }, gated: true },
      'org/broken': { files: { ...TINY }, missing: ['tokenizer.json'] },
      'old-org/tiny': { renamedTo: 'org/renamed' },
      'org/renamed': { files: { ...TINY } },
      'org/flaky': { files: { ...TINY } },
      'org/corrupt': { files: { ...TINY } },
      'org/race': { files: { ...TINY } },
      'org/spm-only': { files: spmOnlyFiles() },
    },
  });
  process.env.HF_ENDPOINT = hub.endpoint;
});
test.after(async () => {
  await hub.close();
  fs.rmSync(TMP, { recursive: true, force: true });
});

async function rejects(promise, code, ...needles) {
  try {
    await promise;
  } catch (err) {
    assert.is(err.code, code, err.stack);
    for (const n of needles) assert.ok(err.message.includes(n), `"${err.message}" should mention "${n}"`);
    return err;
  }
  return assert.unreachable(`expected ${code}`);
}

const fetched = (server = 'hub') => hub.requests.filter((r) => r.server === server);
const resolveGets = () => fetched().filter((r) => r.method === 'GET' && r.url.includes('/resolve/')).map((r) => r.url.replace(/^.*\/resolve\/[^/]+\//, '')).sort();

// ---- which files ---------------------------------------------------------------------------------

test('selectModelFiles: configs, tokenizer and one weights format per module folder, nothing else', () => {
  assert.equal(selectModelFiles(Object.keys({ ...TINY, ...DECOYS }), JSON.parse(TINY['modules.json'])).sort(), TINY_NEEDED);
  assert.equal(selectModelFiles(['config.json', 'pytorch_model.bin', 'vocab.txt', 'onnx/model.onnx'], undefined), ['config.json', 'vocab.txt', 'pytorch_model.bin']);
  assert.equal(
    selectModelFiles(['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'pytorch_model.bin', 'config.json'], undefined),
    ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'],
  );
  // The classic layout: the Transformer in a module folder, an old sentence_*_config.json.
  assert.equal(
    selectModelFiles(['modules.json', '0_BERT/config.json', '0_BERT/pytorch_model.bin', '0_BERT/vocab.txt', '0_BERT/sentence_bert_config.json', '1_Pooling/config.json', 'extra/model.safetensors'],
      [{ path: '0_BERT' }, { path: '1_Pooling' }]),
    ['modules.json', '0_BERT/config.json', '0_BERT/sentence_bert_config.json', '0_BERT/vocab.txt', '0_BERT/pytorch_model.bin', '1_Pooling/config.json'],
  );
});

// ---- a download and the cache layout ---------------------------------------------------------------

test('downloads only the needed files into the Python cache layout; the token never reaches the CDN', async () => {
  const cacheDir = freshCache();
  hub.clear();
  const events = [];
  const dir = await downloadModel('org/tiny', { cacheDir, token: hub.token, onProgress: (p) => events.push(p) });
  const commit = hub.repos['org/tiny'].commit;
  const storage = path.join(cacheDir, 'models--org--tiny');
  assert.is(dir, path.join(storage, 'snapshots', commit));
  assert.is(fs.readFileSync(path.join(storage, 'refs', 'main'), 'utf8'), commit);

  // Small files come from the Hub itself; the weights through a redirect to the CDN.
  assert.equal(resolveGets(), TINY_NEEDED.filter((f) => f !== 'model.safetensors'));
  const cdn = fetched('cdn');
  assert.is(cdn.length, 1);
  assert.is(cdn[0].url, `/blobs/${sha256(TINY['model.safetensors'])}?X-Amz-Signature=abc`);
  assert.is(cdn[0].authorization, undefined, 'authorization must not be sent to the CDN');
  assert.ok(fetched().every((r) => r.authorization === `Bearer ${hub.token}`));

  for (const f of TINY_NEEDED) {
    const pointer = path.join(dir, f);
    const link = fs.readlinkSync(pointer);
    const etag = f === 'model.safetensors' ? sha256(TINY[f]) : gitSha1(TINY[f]);
    assert.is(link, path.relative(path.dirname(pointer), path.join(storage, 'blobs', etag)), f); // relative, as Python makes them
    assert.ok(fs.readFileSync(pointer).equals(TINY[f]), f);
  }
  for (const f of Object.keys(DECOYS).concat(['tiny-reference.json'])) assert.not.ok(fs.existsSync(path.join(dir, f)), f);
  assert.equal(fs.readdirSync(path.join(storage, 'blobs')).length, TINY_NEEDED.length, 'no partial files left');

  const total = TINY_NEEDED.reduce((a, f) => a + TINY[f].length, 0) - TINY['modules.json'].length; // modules.json is fetched first
  const last = events[events.length - 1];
  assert.equal([last.bytes, last.totalBytes, last.filesDone, last.filesTotal], [total, total, TINY_NEEDED.length - 1, TINY_NEEDED.length - 1]);
  for (let i = 1; i < events.length; i++) assert.ok(events[i].bytes >= events[i - 1].bytes);

  const folder = await loadModelFolder(dir);
  assert.is(folder.outputDimension, 32);
});

test('a cached model: a branch costs one API call, a commit hash or offline none', async () => {
  const cacheDir = freshCache();
  const first = await downloadModel('org/tiny', { cacheDir });
  hub.clear();
  assert.is(await downloadModel('org/tiny', { cacheDir }), first);
  assert.equal(fetched().map((r) => r.url), ['/api/models/org/tiny/revision/main']);
  hub.clear();
  assert.is(await downloadModel('org/tiny', { cacheDir, revision: hub.repos['org/tiny'].commit }), first);
  assert.is(await downloadModel('org/tiny', { cacheDir, offline: true }), first);
  process.env.HF_HUB_OFFLINE = '1';
  try {
    assert.is(await resolveModel('org/tiny', { cacheDir }), first);
  } finally {
    delete process.env.HF_HUB_OFFLINE;
  }
  assert.is(hub.requests.length, 0);
});

test('the Hub unreachable (connection refused): the cached snapshot of the branch is used; uncached: ERR_HUB', async () => {
  const cacheDir = freshCache();
  const dir = await downloadModel('org/tiny', { cacheDir });
  // A port that was just free: nothing listens there, so the connection is refused.
  const server = require('node:http').createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const closed = `http://127.0.0.1:${server.address().port}`;
  await new Promise((r) => server.close(r));
  assert.is(await downloadModel('org/tiny', { cacheDir, endpoint: closed }), dir);
  await rejects(downloadModel('org/tiny', { cacheDir: freshCache(), endpoint: closed }), 'ERR_HUB', `cannot reach ${closed}`, 'ECONNREFUSED');
});

test('a model cached by Python (blobs, refs/main, relative symlinks; HF_HUB_CACHE) is used with no request', async () => {
  const cacheDir = freshCache();
  const commit = 'a'.repeat(40);
  const storage = path.join(cacheDir, 'models--sentence-transformers--tiny');
  for (const f of TINY_NEEDED) {
    const etag = f.endsWith('.safetensors') ? sha256(TINY[f]) : gitSha1(TINY[f]);
    fs.mkdirSync(path.join(storage, 'blobs'), { recursive: true });
    fs.writeFileSync(path.join(storage, 'blobs', etag), TINY[f]);
    const pointer = path.join(storage, 'snapshots', commit, f);
    fs.mkdirSync(path.dirname(pointer), { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(pointer), path.join(storage, 'blobs', etag)), pointer);
  }
  fs.mkdirSync(path.join(storage, 'refs'));
  fs.writeFileSync(path.join(storage, 'refs', 'main'), commit);
  fs.mkdirSync(path.join(cacheDir, '.locks', 'models--sentence-transformers--tiny'), { recursive: true });
  hub.clear();
  process.env.HF_HUB_CACHE = cacheDir;
  try {
    const dir = await resolveModel('sentence-transformers/tiny', { offline: true });
    assert.is(dir, path.join(storage, 'snapshots', commit));
    assert.is(await resolveModel('sentence-transformers/tiny', { revision: commit }), dir);
    assert.is((await loadModelFolder(dir)).outputDimension, 32);
  } finally {
    delete process.env.HF_HUB_CACHE;
  }
  assert.is(hub.requests.length, 0);
  // Offline and not cached: a clear error, still no request.
  await rejects(downloadModel('org/tiny', { cacheDir: freshCache(), offline: true }), 'ERR_HUB_OFFLINE', 'org/tiny@main', 'offline', 'refs/main');
  assert.is(hub.requests.length, 0);
});

test('a pytorch_model.bin-only model with a Dense module: the .bin files are fetched and load', async () => {
  const cacheDir = freshCache();
  hub.clear();
  const dir = await resolveModel('org/bin-only', { cacheDir });
  assert.equal(resolveGets(), ['1_Pooling/config.json', '2_Dense/config.json', 'config.json', 'modules.json', 'sentence_bert_config.json', 'tokenizer.json', 'tokenizer_config.json']);
  const blobs = fetched('cdn').map((r) => r.url.slice(7, 71)).sort();
  assert.equal(blobs, [sha256(binRepoFiles()['pytorch_model.bin']), sha256(binRepoFiles()['2_Dense/pytorch_model.bin'])].sort());
  const folder = await loadModelFolder(dir);
  assert.is(folder.outputDimension, 16);
});

// ---- tokens, errors, redirects -----------------------------------------------------------------------

test('private repo: 401 without a token says how to give one; HF_TOKEN and the token file under HF_HOME work', async () => {
  const err = await rejects(downloadModel('org/private', { cacheDir: freshCache() }), 'ERR_HUB_AUTH', 'org/private', '401', 'HF_TOKEN');
  assert.is(err.name, 'SbertError');
  await rejects(downloadModel('org/private', { cacheDir: freshCache(), token: 'hf_wrong' }), 'ERR_HUB_AUTH', 'the token that was sent has no access');
  process.env.HF_TOKEN = hub.token;
  try {
    assert.ok(fs.existsSync(await downloadModel('org/private', { cacheDir: freshCache() })));
    await rejects(downloadModel('org/private', { cacheDir: freshCache(), token: false }), 'ERR_HUB_AUTH'); // token: false sends none
  } finally {
    delete process.env.HF_TOKEN;
  }
  fs.mkdirSync(process.env.HF_HOME, { recursive: true });
  fs.writeFileSync(path.join(process.env.HF_HOME, 'token'), `${hub.token}\n`);
  try {
    assert.ok(fs.existsSync(await downloadModel('org/private', { cacheDir: freshCache() })));
  } finally {
    fs.rmSync(path.join(process.env.HF_HOME, 'token'));
  }
});

test('gated repo: ERR_HUB_AUTH naming the gate; unknown revision and repo: ERR_HUB_NOT_FOUND', async () => {
  await rejects(downloadModel('org/gated', { cacheDir: freshCache() }), 'ERR_HUB_AUTH', 'gated', 'GatedRepo');
  await rejects(downloadModel('org/gated', { cacheDir: freshCache(), token: 'hf_other' }), 'ERR_HUB_AUTH', '403', 'request access');
  await rejects(downloadModel('org/tiny', { cacheDir: freshCache(), revision: 'v9' }), 'ERR_HUB_NOT_FOUND', 'RevisionNotFound');
  await rejects(downloadModel('org/nope', { cacheDir: freshCache() }), 'ERR_HUB_NOT_FOUND', 'RepoNotFound');
});

test('404 EntryNotFound for a listed file: ERR_HUB_NOT_FOUND naming it, and .no_exist recorded as Python does', async () => {
  const cacheDir = freshCache();
  await rejects(downloadModel('org/broken', { cacheDir }), 'ERR_HUB_NOT_FOUND', 'org/broken/tokenizer.json', 'EntryNotFound');
  assert.ok(fs.existsSync(path.join(cacheDir, 'models--org--broken', '.no_exist', hub.repos['org/broken'].commit, 'tokenizer.json')));
});

test('a repo with only sentencepiece.bpe.model: ERR_BAD_MODEL naming tokenizer.json and the conversion, before any weights are fetched', async () => {
  const cacheDir = freshCache();
  hub.clear();
  await rejects(downloadModel('org/spm-only', { cacheDir }), 'ERR_BAD_MODEL', 'no tokenizer.json', 'sentencepiece.bpe.model', 'org/spm-only', 'save_pretrained');
  assert.not.ok(hub.requests.some((r) => r.url.includes('model.safetensors')), 'the weights were requested');
  // The same folder on disk (e.g. copied from Python's cache) says the same.
  const dir = path.join(TMP, 'spm-folder');
  for (const [f, bytes] of Object.entries(spmOnlyFiles())) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), bytes);
  }
  await rejects(loadModelFolder(dir), 'ERR_BAD_MODEL', 'no tokenizer.json', 'sentencepiece.bpe.model', 'save_pretrained');
});

test('renamed repo: relative redirects are followed with the token, the cache keeps the requested name', async () => {
  const cacheDir = freshCache();
  hub.clear();
  const dir = await downloadModel('old-org/tiny', { cacheDir, token: hub.token });
  assert.ok(dir.startsWith(path.join(cacheDir, 'models--old-org--tiny', 'snapshots')));
  const renamed = fetched().filter((r) => r.url.includes('/org/renamed/'));
  assert.ok(renamed.length > 0 && renamed.every((r) => r.authorization === `Bearer ${hub.token}`));
  assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(TINY['model.safetensors']));
});

// ---- resume, integrity, locks ---------------------------------------------------------------------------

test('a response cut off half-way is resumed with Range from the bytes received', async () => {
  const cacheDir = freshCache();
  const weights = TINY['model.safetensors'];
  hub.interruptOnce(weights);
  hub.clear();
  const dir = await downloadModel('org/flaky', { cacheDir });
  const gets = fetched('cdn');
  assert.is(gets.length, 2);
  assert.is(gets[0].range, undefined);
  const m = /^bytes=(\d+)-$/.exec(gets[1].range);
  assert.ok(m, `second request resumes: ${gets[1].range}`);
  assert.ok(Number(m[1]) >= weights.length >> 2 && Number(m[1]) <= weights.length >> 1, `resumed at ${m[1]}`);
  assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(weights));
});

test('a response that stalls is abandoned after HF_HUB_DOWNLOAD_TIMEOUT and resumed', async () => {
  const weights = TINY['model.safetensors'];
  hub.stallOnce(weights);
  hub.clear();
  process.env.HF_HUB_DOWNLOAD_TIMEOUT = '0.3';
  try {
    const dir = await downloadModel('org/flaky', { cacheDir: freshCache() });
    assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(weights));
  } finally {
    delete process.env.HF_HUB_DOWNLOAD_TIMEOUT;
  }
  const ranges = fetched('cdn').map((r) => r.range);
  assert.is(ranges.length, 2);
  assert.match(ranges[1], /^bytes=[1-9]\d*-$/);
});

test('paths from the Hub that leave the snapshot (.. in the file list or in modules.json) are never written', async () => {
  const cacheDir = freshCache();
  hub.repos['org/escape'] = {
    commit: 'e'.repeat(40),
    files: {
      ...TINY,
      'modules.json': Buffer.from(JSON.stringify([{ path: '', type: 'x.Transformer' }, { path: '../../../escaped', type: 'x.Dense' }])),
      '../../../escaped/config.json': Buffer.from('{}'),
    },
  };
  const dir = await downloadModel('org/escape', { cacheDir });
  assert.ok(fs.existsSync(path.join(dir, 'config.json')));
  const all = [];
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : all.push(path.join(d, e.name))));
  walk(TMP);
  assert.not.ok(all.some((f) => f.includes('escaped')), all.filter((f) => f.includes('escaped')).join());
});

test('a partial file left by an earlier run is resumed; wrong bytes are refused by the SHA-256 check', async () => {
  const cacheDir = freshCache();
  const weights = TINY['model.safetensors'];
  const blobs = path.join(cacheDir, 'models--org--flaky', 'blobs');
  fs.mkdirSync(blobs, { recursive: true });
  fs.writeFileSync(path.join(blobs, `${sha256(weights)}.sbert.incomplete`), weights.subarray(0, 1234));
  hub.clear();
  const dir = await downloadModel('org/flaky', { cacheDir });
  assert.equal(fetched('cdn').map((r) => r.range), ['bytes=1234-']);
  assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(weights));

  const bad = freshCache();
  hub.corruptOnce(weights);
  await rejects(downloadModel('org/corrupt', { cacheDir: bad }), 'ERR_HUB', 'org/corrupt/model.safetensors', sha256(weights));
  const left = fs.readdirSync(path.join(bad, 'models--org--corrupt', 'blobs'));
  assert.not.ok(left.some((f) => f.startsWith(sha256(weights))), `nothing of the bad download is kept: ${left}`);
});

test('two processes downloading the same model at once: each blob is fetched once, both get the snapshot', async () => {
  const cacheDir = freshCache();
  hub.clear();
  const script = `require(${JSON.stringify(path.join(__dirname, '..', 'dist'))}).downloadModel('org/race', { cacheDir: ${JSON.stringify(cacheDir)} })
    .then((d) => process.stdout.write(d), (e) => { process.stderr.write(String(e.stack)); process.exit(1); })`;
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let errOut = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (errOut += d));
  const exited = new Promise((r) => child.on('close', r));
  const [mine, mineToo] = await Promise.all([downloadModel('org/race', { cacheDir }), downloadModel('org/race', { cacheDir })]);
  assert.is(await exited, 0, errOut);
  assert.is(out, mine);
  assert.is(mineToo, mine);
  assert.is(fetched('cdn').length, 1, 'the weights blob was fetched once');
  assert.ok(fs.readFileSync(path.join(mine, 'model.safetensors')).equals(TINY['model.safetensors']));
  assert.equal(fs.readdirSync(path.join(cacheDir, '.locks', 'models--org--race')), [], 'locks released');
});

test('a lock left by a process that died is taken over', async () => {
  const cacheDir = freshCache();
  const locks = path.join(cacheDir, '.locks', 'models--org--race');
  fs.mkdirSync(locks, { recursive: true });
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => dead.on('close', r)); // its pid is now free
  const lockFile = path.join(locks, `${sha256(TINY['model.safetensors'])}.sbert.lock`);
  fs.writeFileSync(lockFile, JSON.stringify({ pid: dead.pid, host: os.hostname() }));
  const dir = await downloadModel('org/race', { cacheDir });
  assert.ok(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(TINY['model.safetensors']));
  assert.not.ok(fs.existsSync(lockFile));
});

// ---- names and paths ------------------------------------------------------------------------------------

test('resolveModel: an existing folder stays a folder; paths and invalid ids never reach the network', async () => {
  hub.clear();
  assert.is(await resolveModel(path.join(FIX, 'tiny')), path.join(FIX, 'tiny'));
  const rel = path.relative(process.cwd(), path.join(FIX, 'tiny'));
  assert.is(await resolveModel(rel), path.resolve(rel));
  await rejects(resolveModel('./no/such/folder'), 'ERR_BAD_MODEL', 'no such folder');
  await rejects(resolveModel('a/b/c'), 'ERR_BAD_MODEL');
  await rejects(resolveModel('bad name!'), 'ERR_BAD_MODEL', 'not a Hugging Face model id');
  await rejects(resolveModel(path.join(FIX, 'tiny', 'config.json')), 'ERR_BAD_MODEL', 'is a file');
  assert.is(hub.requests.length, 0);
  try {
    await downloadModel('org--x/y');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, TypeError);
  }
});

test('sbert download prints the snapshot folder; bytes go to the progress bar', async () => {
  const cacheDir = freshCache();
  const cli = path.join(__dirname, '..', 'dist', 'cli.js');
  const res = await new Promise((resolve) => {
    const c = spawn(process.execPath, [cli, 'download', 'org/tiny', '--cache-dir', cacheDir], { env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.is(res.code, 0, res.stderr);
  const bad = spawn(process.execPath, [cli, 'download', 'not an id'], { stdio: 'ignore' });
  assert.is(await new Promise((r) => bad.on('close', r)), 2);
  assert.is(res.stdout.trim(), path.join(cacheDir, 'models--org--tiny', 'snapshots', hub.repos['org/tiny'].commit));
  const { formatBytes } = require('../dist/hub/cli');
  assert.is(formatBytes(3_950_000), '4.0 MB');
  assert.is(formatBytes(999), '999 B');
  // The bar the command draws (forced here: stderr is not a terminal under the test runner).
  const { ProgressBar } = require('../dist/progress');
  let drawn = '';
  const bar = new ProgressBar('downloading 9 files', 4_000_000, { format: formatBytes, force: true, stream: { isTTY: false, write: (s) => (drawn += s) } });
  bar.update(4_000_000);
  bar.finish();
  assert.match(drawn, /^downloading 9 files \[#{30}\] 4\.0 MB\/4\.0 MB 100% \d+(\.\d)? [kMGT]?B\/s$/m);
});

test('SentenceEncoder.load(org/name) downloads into the cache and encodes as the local folder does', async () => {
  const { SentenceEncoder } = require('../dist');
  const cacheDir = freshCache();
  const seen = [];
  const byId = await SentenceEncoder.load('org/tiny', { cacheDir, device: 'cpu', onDownloadProgress: (p) => seen.push(p.file) });
  const local = await SentenceEncoder.load(path.join(FIX, 'tiny'), { device: 'cpu' });
  try {
    assert.ok(seen.includes('model.safetensors'), 'progress reports the weights file');
    const texts = ['A man is eating food.', 'hub'];
    assert.equal(Array.from((await byId.encode(texts)).data), Array.from((await local.encode(texts)).data));
  } finally {
    byId.dispose();
    local.dispose();
  }
});

test.run();
