// Test helpers for `sbert serve`: the CLI run until it listens, and an encoder whose calls wait at a gate.
'use strict';
const path = require('node:path');
const { spawn } = require('node:child_process');

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');

/** Runs `sbert serve ARGS` until it prints its address or exits; resolves { stdout, stderr, code, port, child }. */
function serveProcess(args, timeoutMs = 20000) {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '', code: undefined, port: undefined, child };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sbert serve ${args.join(' ')}: neither listening nor exited in ${timeoutMs} ms: ${out.stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      out.code = code;
      resolve(out);
    });
    child.stdout.on('data', () => {
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out.stdout);
      if (m && out.port === undefined) {
        clearTimeout(timer);
        out.port = Number(m[1]);
        resolve(out);
      }
    });
  });
}

/**
 * `model` behind a gate, to hold requests in flight (for 429s): its `method` calls
 * (encodeTokenIds for an encoder, predict for a cross-encoder) wait, counted in `waiting`,
 * until `release()`.
 */
function gated(model, method = 'encodeTokenIds') {
  let open;
  const gate = new Promise((r) => (open = r));
  const g = Object.create(model);
  g.waiting = 0;
  g[method] = async (...args) => {
    g.waiting++;
    await gate;
    g.waiting--;
    return model[method](...args);
  };
  g.release = () => open();
  return g;
}

module.exports = { serveProcess, gated };
