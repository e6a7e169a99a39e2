// Runs a piece of a test in its own Node process with a wall-clock limit and memory limits, so a
// hang, a runaway allocation or a crash is a failed assertion instead of a stuck or killed suite.
//
//   const r = await runLimited(`const { SentenceEncoder } = require(ROOT + '/dist'); …; report({ … })`,
//                              { timeoutMs: 30000, addressSpaceMb: 3072 });
//   r.timedOut, r.status, r.signal, r.result (what the script passed to report()), r.stderr
//
// The script runs as a CommonJS module with ROOT (the package under test: SBERT_ROOT, else this
// checkout — so the same test can be pointed at another build, e.g. main before a fix) and
// report(value) (prints one RESULT line: JSON; call it once, at the end), plus a helper
// outcome(promise) → { ok, value } | { ok: false, name, code, message } for error assertions.
// Limits: `ulimit -v` (address space: Buffers and native allocations count, not only the V8
// heap) and --max-old-space-size (the V8 heap); the child's own peak RSS comes back as
// r.result.maxRssMb when the script reports through report().
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(process.env.SBERT_ROOT || path.join(__dirname, '..', '..'));

const PRELUDE = `
'use strict';
const ROOT = ${JSON.stringify(ROOT)};
// The child's own peak: VmHWM of /proc/self/status, the high-water mark of this process's memory
// since exec. getrusage's maxRSS is not: Linux carries it over from the parent across fork and
// exec, so a test process that had grown to 400 MB made every child report 400 MB.
function peakRssMb() {
  try {
    const m = /^VmHWM:\\s+(\\d+) kB/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'));
    if (m) return Math.round(Number(m[1]) / 1024);
  } catch {}
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
function report(value) {
  const maxRssMb = peakRssMb();
  process.stdout.write('\\nRESULT ' + JSON.stringify({ maxRssMb, value }) + '\\n');
}
async function outcome(promiseOrFn) {
  try {
    const value = await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
    return { ok: true, value: value === undefined ? null : typeof value === 'object' ? '[object]' : value };
  } catch (err) {
    return { ok: false, name: err && err.name, code: err && err.code, message: String(err && err.message).slice(0, 600), ctor: err && err.constructor && err.constructor.name };
  }
}
`;

/**
 * Runs `script` (see the file comment) in a limited child process.
 * @param {string} script
 * @param {{ timeoutMs?: number, addressSpaceMb?: number, heapMb?: number, env?: object, cwd?: string }} [options]
 * @returns {Promise<{ status: number|null, signal: string|null, timedOut: boolean, ms: number,
 *   stdout: string, stderr: string, result: any, maxRssMb: number|undefined }>}
 */
function runLimited(script, options = {}) {
  const { timeoutMs = 30000, addressSpaceMb = 3072, heapMb = 512, env = {}, cwd = os.tmpdir() } = options;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-limited-'));
  const file = path.join(dir, 'child.js');
  fs.writeFileSync(file, PRELUDE + script);
  return runLimitedCommand([process.execPath, `--max-old-space-size=${heapMb}`, file], { timeoutMs, addressSpaceMb, env, cwd }).then((r) => {
    fs.rmSync(dir, { recursive: true, force: true });
    return r;
  });
}

/**
 * Runs `argv` under `ulimit -v addressSpaceMb` with a wall-clock limit (SIGKILL when it runs
 * past it); `stdin` is written to its standard input, or `stdinFd` (an open file descriptor)
 * is its standard input; `onSpawn(child)` sees the process (to send it signals).
 */
function runLimitedCommand(argv, options = {}) {
  const { timeoutMs = 30000, addressSpaceMb = 3072, env = {}, cwd = os.tmpdir(), stdin, stdinFd, onSpawn } = options;
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', `ulimit -v ${addressSpaceMb * 1024} && exec "$@"`, 'sh', ...argv], {
      cwd,
      env: { ...process.env, ...env },
      stdio: [stdinFd ?? 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // a child that exits before reading its input
      child.stdin.end(stdin);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    if (onSpawn) onSpawn(child);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      let result;
      let maxRssMb;
      const m = /\nRESULT (.*)\n/.exec(stdout);
      if (m) ({ value: result, maxRssMb } = JSON.parse(m[1]));
      resolve({ status, signal, timedOut, ms: Date.now() - started, stdout, stderr, result, maxRssMb });
    });
  });
}

/** A one-line account of a limited run, for assertion messages. */
function describeRun(r) {
  const how = r.timedOut ? `killed after ${r.ms} ms (time limit)` : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  return `${how}; peak RSS ${r.maxRssMb ?? '?'} MB; stderr: ${r.stderr.trim().split('\n').slice(-4).join(' | ').slice(0, 600)}`;
}

module.exports = { ROOT, runLimited, runLimitedCommand, describeRun };
