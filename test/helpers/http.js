// Loopback HTTP client for the server tests: one request per connection (no agent), a hard
// timeout so a hung server fails the test instead of hanging it, the body as text and JSON.
'use strict';
const http = require('node:http');

/**
 * Sends one request to 127.0.0.1:port. `body`: an object (sent as JSON), a string or Buffer
 * (sent as is), or an array of chunks (sent chunked, without Content-Length). Resolves to
 * { status, headers, text, json } (json undefined when the body is not JSON).
 */
function request(port, method, path, body, { timeoutMs = 10000, headers = {}, onRequest } = {}) {
  return new Promise((resolve, reject) => {
    const chunks = Array.isArray(body) ? body : body === undefined ? [] : [typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)];
    const h = { 'Content-Type': 'application/json', ...headers };
    if (!Array.isArray(body)) h['Content-Length'] = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: h, agent: false }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(parts).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${method} ${path}: no response within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    onRequest?.(req);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

/** Resolves once `predicate()` is true (polled every 2 ms); rejects after `timeoutMs`. */
async function waitFor(predicate, what, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

module.exports = { request, waitFor };
