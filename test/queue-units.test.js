// sbert-native/queue without Redis: the subpath export and what the core import leaves out,
// corpus reading (bad lines named as file:line), chunk planning and hashes, the result blob,
// job ids, encode options a bulk job may use, the Redis URL, and the output folder's rules.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { rejects } = require('./helpers/rejects');

const root = path.join(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-queue-units-'));
const q = require('../dist/queue');
const { SbertError } = require('../dist');
const { checkJobId, chunkJobId, chunkIndexOf, parentJobId } = require('../dist/queue/ids');
const { checkQueueEncodeOptions } = require('../dist/queue/job-data');
const { connectionOptions, describeConnection } = require('../dist/queue/connection');
const { packResult, unpackResult, sha256Hex } = require('../dist/queue/result');
const { inspectOutput, OutputFolder, shardFileName, npyFloat32Header } = require('../dist/queue/output');
const { npyBytes } = require('../dist/npy');

function write(name, content) {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return file;
}

test("require('sbert-native') loads neither bullmq nor the queue; 'sbert-native/queue' loads bullmq only when used", () => {
  const code = `
    const loaded = () => Object.keys(require.cache).filter((f) => /[\\\\/]node_modules[\\\\/](bullmq|ioredis)[\\\\/]|[\\\\/]dist[\\\\/]queue[\\\\/]/.test(f)).length;
    require('sbert-native');
    const core = loaded();
    const queue = require('sbert-native/queue');
    const afterImport = Object.keys(require.cache).filter((f) => /[\\\\/]node_modules[\\\\/]bullmq[\\\\/]/.test(f)).length;
    console.log(JSON.stringify({ core, afterImport, file: require.resolve('sbert-native/queue'), types: ['submitEmbedJob', 'runEmbedWorker', 'loadEmbedOutput'].map((k) => typeof queue[k]) }));
  `;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  assert.is(got.core, 0, 'the core import loads no bullmq, ioredis or dist/queue module');
  assert.is(got.afterImport, 0, 'importing sbert-native/queue does not load bullmq yet');
  assert.is(got.file, path.join(root, 'dist', 'queue', 'index.js'));
  assert.equal(got.types, ['function', 'function', 'function']);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  assert.ok(fs.existsSync(path.join(root, pkg.exports['./queue'].types)));
  assert.equal(pkg.typesVersions['*'].queue, ['dist/queue/index.d.ts']);
  assert.ok(pkg.peerDependencies.bullmq && pkg.peerDependenciesMeta.bullmq.optional === true, 'bullmq is an optional peer dependency');
  assert.ok(pkg.devDependencies.bullmq, 'bullmq is a devDependency (the tests use it)');
  assert.not.ok(pkg.dependencies.bullmq, 'bullmq is not a dependency');
});

test('bullmq other than 5.x is refused with a clear message (bullmq 6 changed the client API)', () => {
  const { BULLMQ_MAJOR } = require('../dist/queue/connection');
  assert.is(BULLMQ_MAJOR, 5);
  assert.is(Number(require('bullmq/package.json').version.split('.')[0]), BULLMQ_MAJOR, 'the devDependency is the supported major');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  assert.match(pkg.peerDependencies.bullmq, /^\^5\./);
  // a process whose bullmq says 6.x: the first queue call is refused, naming what to install
  const code = `
    const file = require.resolve('bullmq/package.json');
    require.cache[file] = { id: file, filename: file, loaded: true, exports: { version: '6.7.6' } };
    const { bullmq } = require('./dist/queue/connection');
    try { bullmq(); console.log('accepted'); } catch (err) { console.log(err.code + ' ' + err.message); }
  `;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' });
  assert.is(r.stdout.trim(), 'ERR_MISSING_DEPENDENCY sbert-native/queue is built on bullmq 5.x; this project has bullmq 6.7.6: npm install bullmq@5', r.stderr);
});

test('readCorpus: .txt lines as sbert encode reads them (empty line = empty sentence, CRLF, BOM)', async () => {
  const file = write('a.txt', '\ufeffone\r\ntwo\n\nfour\n');
  const c = await q.readCorpus(file);
  assert.equal(c.sentences, ['one', 'two', '', 'four']);
  assert.is(c.format, 'txt');
  assert.is(c.sha256, sha256Hex(fs.readFileSync(file)));
  assert.equal((await q.readCorpus(write('b.txt', 'no final newline'))).sentences, ['no final newline']);
});

test('readCorpus: .jsonl takes JSON strings and {"text": ...} objects', async () => {
  const c = await q.readCorpus(write('a.jsonl', '"plain"\n{"text": "object", "id": 7}\n"\\u00e9t\\u00e9"\n'));
  assert.equal(c.sentences, ['plain', 'object', 'été']);
});

test('readCorpus refuses bad input, naming file:line', async () => {
  const missing = path.join(tmp, 'missing.txt');
  let err = await rejects(q.readCorpus(missing), SbertError, /missing\.txt: no such file/, 'missing');
  assert.is(err.code, 'ERR_BAD_INPUT');
  const jsonl = write('bad.jsonl', '"ok"\n{"text": "ok"}\n{"txt": "no text"}\n');
  err = await rejects(q.readCorpus(jsonl), SbertError, /bad\.jsonl:3: expected a JSON string or an object with a string "text"/, 'jsonl field');
  assert.is(err.code, 'ERR_BAD_INPUT');
  await rejects(q.readCorpus(write('bad2.jsonl', '"ok"\n{not json\n')), SbertError, /bad2\.jsonl:2: not valid JSON/, 'jsonl syntax');
  await rejects(q.readCorpus(write('bad3.jsonl', '"ok"\n\n"ok"\n')), SbertError, /bad3\.jsonl:2: empty line/, 'jsonl empty line');
  await rejects(q.readCorpus(write('bad4.jsonl', '"ok"\n42\n')), SbertError, /bad4\.jsonl:2:/, 'jsonl number');
  const latin1 = path.join(tmp, 'latin1.txt');
  fs.writeFileSync(latin1, Buffer.concat([Buffer.from('fine\nalso fine\ncaf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  await rejects(q.readCorpus(latin1), SbertError, /latin1\.txt:3: not valid UTF-8/, 'not UTF-8');
  await rejects(q.readCorpus(write('empty.txt', '')), SbertError, /empty\.txt: holds no sentence/, 'empty');
  await rejects(q.readCorpus(write('corpus.csv', 'a\n')), SbertError, /\.txt file .* or a \.jsonl file/, 'extension');
  fs.mkdirSync(path.join(tmp, 'folder.txt'));
  await rejects(q.readCorpus(path.join(tmp, 'folder.txt')), SbertError, /folder\.txt: is a folder/, 'a folder');
});

test('planChunks: ordered, contiguous, the last one shorter; hashes follow the texts', () => {
  const s = Array.from({ length: 10 }, (_, i) => `s${i}`);
  const chunks = q.planChunks(s, 4);
  assert.equal(chunks.map((c) => [c.index, c.start, c.end]), [[0, 0, 4], [1, 4, 8], [2, 8, 10]]);
  assert.is(chunks[1].sha256, q.chunkHash(['s4', 's5', 's6', 's7']));
  assert.is.not(q.chunkHash(['a', 'b']), q.chunkHash(['ab']), 'boundaries between texts count');
  assert.is.not(q.chunkHash(['a', 'b']), q.chunkHash(['b', 'a']), 'order counts');
  assert.equal(q.planChunks(['x'], 1024).map((c) => [c.start, c.end]), [[0, 1]]);
});

test('result blob: header and payload round-trip; a foreign blob is refused', () => {
  const rows = new Float32Array([1, -2.5, 3.25, Number.MIN_VALUE, -0, 7]);
  const payload = Buffer.from(rows.buffer);
  const header = { rows: 2, dim: 3, dtype: 'float32', sha256: sha256Hex(payload), modelDigest: 'sha256:x', device: 'cpu', worker: 'h:1' };
  const { header: h, payload: p } = unpackResult(packResult(header, payload));
  assert.equal(h, header);
  assert.ok(p.equals(payload));
  assert.throws(() => unpackResult(Buffer.from('nope')), /not a chunk result/);
  assert.throws(() => unpackResult(Buffer.concat([Buffer.from('SBQ1'), Buffer.from([255, 0, 0, 0])])), /cut short/);
});

test('job ids: letters, digits, _.- only; chunk ids cannot meet across jobs', () => {
  assert.is(checkJobId('nightly-2024.06_01'), 'nightly-2024.06_01');
  for (const bad of ['', 'a:b', 'a#1', 'a b', '-a', '12345', 'x'.repeat(101)]) assert.throws(() => checkJobId(bad), RangeError, bad);
  assert.throws(() => checkJobId(5), TypeError);
  assert.is(chunkJobId('job', 3), 'job#3');
  assert.is(chunkIndexOf('job', 'job#3'), 3);
  assert.is(chunkIndexOf('job', 'job-1#3'), undefined);
  assert.is(chunkIndexOf('job', parentJobId('job')), undefined);
});

test('encode options: only those whose rows do not depend on the chunking', () => {
  assert.equal(checkQueueEncodeOptions({ promptName: 'query', normalize: true }), { normalize: true, promptName: 'query' });
  assert.equal(checkQueueEncodeOptions({ precision: 'float32', outputValue: 'sentence_embedding' }), {});
  assert.throws(() => checkQueueEncodeOptions({ precision: 'int8' }), /encodeOptions\.precision cannot be used in a bulk job.*ranges would depend on the chunks/);
  assert.throws(() => checkQueueEncodeOptions({ outputValue: 'token_embeddings' }), RangeError);
  assert.throws(() => checkQueueEncodeOptions({ truncateDim: 0 }), /encodeOptions\.truncateDim must be a positive integer/);
  assert.throws(() => checkQueueEncodeOptions({ normalize: 'yes' }), TypeError);
  assert.throws(() => checkQueueEncodeOptions([]), TypeError);
});

test('Redis URLs become ioredis options; passwords never appear in messages', () => {
  assert.equal(connectionOptions('redis://127.0.0.1:6390'), { host: '127.0.0.1', port: 6390 });
  assert.equal(connectionOptions('rediss://u:p%40ss@cache.local/2'), { host: 'cache.local', port: 6379, username: 'u', password: 'p@ss', db: 2, tls: {} });
  assert.equal(connectionOptions({ host: 'h', port: 1 }), { host: 'h', port: 1 });
  assert.throws(() => connectionOptions('http://x'), /redis:\/\/ or rediss:\/\//);
  assert.throws(() => connectionOptions('redis://h/abc'), /database number/);
  assert.throws(() => connectionOptions(42), TypeError);
  assert.is(describeConnection('redis://u:secret@h:1/0'), 'redis://u:***@h:1/0');
});

test('output folder: new, empty or the same job only; shards written whole and journaled', async () => {
  const dir = path.join(tmp, 'out');
  assert.is(await inspectOutput(dir, 'job', 'plan'), undefined, 'a missing folder is fine');
  fs.mkdirSync(dir);
  assert.is(await inspectOutput(dir, 'job', 'plan'), undefined, 'an empty folder is fine');
  const folder = await OutputFolder.claim(dir, 'job', 'plan');
  assert.is(await inspectOutput(dir, 'job', 'plan'), undefined, 'the same job resumes');
  let err = await rejects(inspectOutput(dir, 'other', 'plan'), SbertError, /belongs to job 'job', not 'other'/, 'other job');
  assert.is(err.code, 'ERR_JOB_CONFLICT');
  await rejects(inspectOutput(dir, 'job', 'other-plan'), SbertError, /made from other input, model, chunk size or encode options/, 'other plan');
  const stranger = path.join(tmp, 'stranger');
  fs.mkdirSync(stranger);
  fs.writeFileSync(path.join(stranger, 'notes.txt'), 'mine');
  err = await rejects(inspectOutput(stranger, 'job', 'plan'), SbertError, /not empty and holds no sbert-native job/, 'not empty');
  assert.is(err.code, 'ERR_JOB_CONFLICT');
  await rejects(inspectOutput(path.join(stranger, 'notes.txt'), 'job', 'plan'), SbertError, /is a file, not a folder/, 'a file');

  const rows = new Float32Array([1, 2, 3, 4, 5, 6]);
  const entry = await folder.writeShard({ index: 0, file: shardFileName(0, 3), rows: [0, 2], inputSha256: 'in', device: 'cpu', worker: 'w' }, Buffer.from(rows.buffer), 3);
  const bytes = fs.readFileSync(path.join(dir, 'shard-00000.npy'));
  assert.ok(bytes.equals(npyBytes(rows, [2, 3])), 'the shard is the .npy of the rows');
  assert.is(entry.sha256, sha256Hex(bytes));
  assert.equal(npyFloat32Header(bytes).shape, [2, 3]);
  // a torn journal line and a cut shard are not counted as written
  fs.appendFileSync(path.join(dir, 'shards.jsonl'), '{"index": 1, "file": "shard-0');
  fs.writeFileSync(path.join(dir, 'shard-00002.npy'), bytes.subarray(0, bytes.length - 4));
  fs.appendFileSync(path.join(dir, 'shards.jsonl'), '\n' + JSON.stringify({ ...entry, index: 2, file: 'shard-00002.npy', dim: 3 }) + '\n');
  const { shards, dim } = await folder.writtenShards();
  assert.equal([...shards.keys()], [0]);
  assert.is(dim, 3);
  assert.is(shardFileName(7, 250000), 'shard-000007.npy');
});

test('model identity: the digest follows the files that make the numbers, not the folder path or the model card', async () => {
  const { modelFolderDigest, resolveModelIdentity } = require('../dist/queue/model-identity');
  const a = path.join(tmp, 'model-a');
  const b = path.join(tmp, 'model-b');
  fs.cpSync(path.join(__dirname, 'fixtures', 'tiny'), a, { recursive: true });
  fs.cpSync(a, b, { recursive: true });
  const digest = await modelFolderDigest(a);
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  assert.is(await modelFolderDigest(b), digest, 'the same files elsewhere');
  fs.writeFileSync(path.join(b, 'README.md'), '# a model card changes no number');
  assert.is(await modelFolderDigest(b), digest, 'a model card is left out');
  const config = path.join(b, 'config.json');
  fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/\}\s*$/, ', "note": 1}\n'));
  assert.is.not(await modelFolderDigest(b), digest, 'a changed file is another model');
  const { identity } = await resolveModelIdentity(a);
  assert.equal(identity, { id: a, revision: null, digest });
  const bundled = await resolveModelIdentity('default');
  assert.is(bundled.identity.id, 'sbert-native/default-en');
  assert.is(bundled.identity.revision, JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  assert.is(bundled.dir, path.join(root, 'models', 'default-en'));
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test.run();
