'use strict';
// A Hugging Face Hub on 127.0.0.1 for the hub tests, with the headers the real one sends
// (huggingface_hub's file_download.py and utils/_http.py read them):
//   GET  /api/models/{org}/{name}/revision/{rev}     {id, sha, siblings: [{rfilename}]}
//   HEAD/GET /{org}/{name}/resolve/{rev}/{path}      small files: 200, ETag = git blob SHA-1;
//        LFS files (weights): 302 to the second "CDN" server with X-Linked-Etag = SHA-256,
//        X-Linked-Size; X-Repo-Commit on every answer
//   errors: 401 (private repo without the token), 401/403 X-Error-Code GatedRepo,
//           404 X-Error-Code EntryNotFound / RevisionNotFound / RepoNotFound
//   renamed repos: 307 with a relative Location to the new name
// The CDN server answers GET /blobs/{sha256} with Range support, and can drop a response
// half-way (interruptOnce), stall half-way (stallOnce) or serve wrong bytes (corruptOnce). Every request is recorded with its
// authorization and range headers. Nothing listens on anything but 127.0.0.1.
const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const LFS_FILE = /\.(safetensors|bin|onnx|h5|msgpack|ot)$/;

/** The files of a folder (recursively) as { 'a/b.json': Buffer }. */
function folderFiles(dir, prefix = '') {
  const out = {};
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, folderFiles(path.join(dir, e.name), rel));
    else out[rel] = fs.readFileSync(path.join(dir, e.name));
  }
  return out;
}

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const gitSha1 = (b) => crypto.createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

/**
 * Starts the Hub and its CDN. `repos`: { 'org/name': { files, commit?, private?, gated?,
 * renamedTo?, missing?: [paths listed but answered 404] } }; `token`: the one valid token.
 */
async function startMockHub({ repos, token = 'hf_test_token' }) {
  const requests = [];
  const blobs = new Map(); // sha256 → Buffer
  const interrupt = new Set();
  const corrupt = new Set();
  const stall = new Set();
  for (const [id, repo] of Object.entries(repos)) {
    repo.commit = repo.commit ?? crypto.createHash('sha1').update(id).digest('hex');
    for (const b of Object.values(repo.files ?? {})) blobs.set(sha256(b), b);
  }
  const record = (server, req) => {
    const r = { server, method: req.method, url: decodeURIComponent(req.url), authorization: req.headers.authorization, range: req.headers.range };
    requests.push(r);
    return r;
  };
  const fail = (res, status, code, message, extra = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...(code ? { 'x-error-code': code } : {}), 'x-error-message': message, ...extra });
    res.end(JSON.stringify({ error: message }));
  };

  const cdn = http.createServer((req, res) => {
    record('cdn', req);
    const m = /^\/blobs\/([0-9a-f]{64})/.exec(req.url);
    const body = m && blobs.get(m[1]);
    if (!body) return fail(res, 404, null, 'no such blob');
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) start = Number(range[1]);
    if (start >= body.length && range) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` });
      return res.end();
    }
    let data = body.subarray(start);
    if (corrupt.delete(m[1])) data = Buffer.from(data).fill(0x55, 0, Math.min(16, data.length));
    res.writeHead(range ? 206 : 200, {
      'content-length': data.length,
      'content-type': 'application/octet-stream',
      ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (req.method === 'HEAD') return res.end();
    if (stall.delete(m[1])) {
      res.write(data.subarray(0, data.length >> 1)); // then nothing more: the client must give up and resume
      return;
    }
    if (interrupt.delete(m[1])) {
      // Half the body, then the connection drops (what a flaky network does).
      res.write(data.subarray(0, data.length >> 1), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    res.end(data);
  });
  const cdnUrl = await listen(cdn);

  const hub = http.createServer((req, res) => {
    const r = record('hub', req);
    const url = new URL(req.url, 'http://x');
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const api = parts[0] === 'api' && parts[1] === 'models';
    const [org, name, verb, rev, ...rest] = api ? parts.slice(2) : parts;
    const id = `${org}/${name}`;
    const repo = repos[id];
    if (!repo || !((api && verb === 'revision') || (!api && verb === 'resolve'))) return fail(res, 404, 'RepoNotFound', 'Repository not found');
    if (repo.renamedTo) {
      const to = url.pathname.replace(`/${org}/${name}/`, `/${repo.renamedTo}/`);
      res.writeHead(307, { location: to });
      return res.end();
    }
    const authorized = r.authorization === `Bearer ${token}`;
    if (repo.private && !authorized) return fail(res, 401, null, 'Invalid username or password.');
    if (rev !== 'main' && rev !== repo.commit) return fail(res, 404, 'RevisionNotFound', 'Invalid rev id: ' + rev);
    const commit = { 'x-repo-commit': repo.commit };
    if (api) {
      res.writeHead(200, { 'content-type': 'application/json', ...commit });
      return res.end(JSON.stringify({ id, modelId: id, sha: repo.commit, private: Boolean(repo.private), siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })) }));
    }
    if (repo.gated && !authorized) {
      return fail(res, r.authorization ? 403 : 401, 'GatedRepo', 'Access to model ' + id + ' is restricted.', commit);
    }
    const file = rest.join('/');
    const body = repo.files[file];
    if (!body || (repo.missing ?? []).includes(file)) return fail(res, 404, 'EntryNotFound', 'Entry not found', commit);
    if (LFS_FILE.test(file)) {
      const sha = sha256(body);
      res.writeHead(302, {
        location: `${cdnUrl}/blobs/${sha}?X-Amz-Signature=abc`,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(body.length),
        etag: `"${gitSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize ${body.length}\n`))}"`,
        ...commit,
      });
      return res.end();
    }
    res.writeHead(200, { etag: `"${gitSha1(body)}"`, 'content-length': body.length, 'content-type': 'text/plain', ...commit });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  const endpoint = await listen(hub);

  return {
    endpoint,
    cdn: cdnUrl,
    token,
    requests,
    repos,
    /** The next CDN GET of this content sends half its bytes, then drops the connection. */
    interruptOnce: (content) => interrupt.add(sha256(content)),
    /** The next CDN GET of this content sends half its bytes, then nothing (the connection stays open). */
    stallOnce: (content) => stall.add(sha256(content)),
    /** The next CDN GET of this content starts with 16 wrong bytes. */
    corruptOnce: (content) => corrupt.add(sha256(content)),
    clear: () => requests.splice(0),
    close: () => Promise.all([hub, cdn].map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); }))),
  };
}

module.exports = { startMockHub, folderFiles, sha256, gitSha1 };
