// lib/bounded-file.ts, the one reader for files a user points sbert-native at: what it reads
// (regular files, whole, also past a size of 0 as /proc reports), what it refuses (each kind of
// non-regular entry, files over their kind's cap, growth past the cap) and how it names them.
// The defects it fixes are tested end to end, in limited child processes, in reliability.test.js.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { FILE_SIZE_LIMITS, formatBytes, readBoundedFile, readBoundedFileIfPresent, readBoundedFileSync, utf8Text } = require('../dist/bounded-file');

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-bounded-'));
const rules = (kind, code = 'ERR_BAD_MODEL') => ({ kind, code });

/** Both readers' outcome on `file`: the bytes, or the error's code and message. */
async function both(file, r) {
  const run = async (fn) => {
    try {
      return { bytes: await fn() };
    } catch (err) {
      return { code: err.code, name: err.name, message: err.message };
    }
  };
  return [await run(() => readBoundedFile(file, r)), await run(() => readBoundedFileSync(file, r))];
}

test('a regular file is read whole by the async and the sync reader, BOM dropped by utf8Text', async () => {
  const file = path.join(TMP, 'a.json');
  const content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"ünïcödé": 1}'), Buffer.alloc(200000, 0x20)]);
  fs.writeFileSync(file, content);
  for (const got of await both(file, rules('config.json'))) assert.equal(got.bytes, content);
  assert.is(utf8Text(content).slice(0, 14), '{"ünïcödé": 1}');
  const empty = path.join(TMP, 'empty.txt');
  fs.writeFileSync(empty, '');
  for (const got of await both(empty, rules('vocab.txt'))) assert.is(got.bytes.length, 0);
});

test('a regular file that says size 0 (/proc) is read to its end', async () => {
  for (const got of await both('/proc/self/status', rules('config.json'))) assert.match(got.bytes.toString(), /^Name:/);
});

test('directories, FIFOs, sockets, devices, dangling symlinks and loops are refused with the caller\'s code, naming the file', async () => {
  const fifo = path.join(TMP, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const dangling = path.join(TMP, 'dangling');
  fs.symlinkSync(path.join(TMP, 'nowhere'), dangling);
  const loop = path.join(TMP, 'loop');
  fs.symlinkSync(loop, loop);
  const sock = path.join(TMP, 'sock');
  const server = require('node:net').createServer().listen(sock);
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    for (const [file, re] of [
      [TMP, /is a directory, not a regular file/],
      [fifo, /is a FIFO \(named pipe\), not a regular file/],
      [sock, /is a socket, not a regular file/],
      ['/dev/null', /is a character device, not a regular file/],
      [dangling, /is a symlink to a file that does not exist|file not found/],
      [loop, /symlink loop/],
      [path.join(TMP, 'missing'), /file not found/],
    ]) {
      for (const got of await both(file, rules('config.json', 'ERR_BAD_INPUT'))) {
        assert.is(got.code, 'ERR_BAD_INPUT', `${file}: ${got.message}`);
        assert.ok(got.message.startsWith(`${file}: `), got.message);
        assert.match(got.message, re);
      }
    }
  } finally {
    server.close();
  }
  // IfPresent: only a missing entry is "absent"; a FIFO or a dangling symlink is there and refused.
  assert.is(await readBoundedFileIfPresent(path.join(TMP, 'missing'), rules('config.json')), undefined);
  for (const file of [fifo, dangling]) {
    const err = await readBoundedFileIfPresent(file, rules('config.json')).then(() => undefined, (e) => e);
    assert.is(err && err.code, 'ERR_BAD_MODEL', file);
  }
});

test('a file over its kind\'s cap is refused from its size, naming the size, the cap and the kind', async () => {
  const big = path.join(TMP, 'big.json');
  fs.writeFileSync(big, '{');
  fs.truncateSync(big, FILE_SIZE_LIMITS['config.json'] + 1);
  for (const got of await both(big, rules('config.json'))) {
    assert.is(got.code, 'ERR_BAD_MODEL');
    assert.match(got.message, /is 16\.0 MiB, over the 16 MiB limit for config\.json files/);
  }
  assert.is(formatBytes(3 * 2 ** 30), '3 GiB');
  assert.is(formatBytes(1536), '1.5 KiB');
  assert.is(formatBytes(512), '512 bytes');
});

test.after(() => fs.rmSync(TMP, { recursive: true, force: true }));

test.run();
