'use strict';
// A real redis-server for the queue tests and benches: started on a free loopback port in a
// temporary folder (no fixed port, no system service), persisted with an append-only file so a
// restart keeps the queue, and removed afterwards. When the binary is missing this throws —
// the queue tests must fail, not skip (CI installs redis-server: see .ci/run).
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

/** The redis-server binary: $REDIS_SERVER, else the one on PATH, else Debian's /usr/bin one. */
function redisServerBinary() {
  if (process.env.REDIS_SERVER) {
    if (!fs.existsSync(process.env.REDIS_SERVER)) throw new Error(`REDIS_SERVER=${process.env.REDIS_SERVER} does not exist: the queue tests run against a real redis-server`);
    return process.env.REDIS_SERVER;
  }
  for (const dir of (process.env.PATH || '').split(path.delimiter).concat(['/usr/bin', '/usr/sbin'])) {
    const file = path.join(dir, 'redis-server');
    if (dir && fs.existsSync(file)) return file;
  }
  throw new Error(
    'redis-server was not found (PATH, /usr/bin): the queue tests run against a real Redis. ' +
      'Install it (Debian: apt-get install -y redis-server) or set REDIS_SERVER to the binary.',
  );
}

/** A free TCP port on 127.0.0.1 (the kernel picks it; a start that loses a race retries). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port and answers PING, or rejects after `ms`. */
async function waitForPing(port, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      let got = '';
      sock.setTimeout(500, () => { sock.destroy(); resolve(false); });
      sock.on('error', () => resolve(false));
      sock.on('connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => {
        got += d.toString();
        if (got.includes('\r\n')) {
          sock.destroy();
          resolve(got.startsWith('+PONG'));
        }
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

class RedisServer {
  constructor(binary, dir, port) {
    this.binary = binary;
    this.dir = dir;
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.child = undefined;
    this.log = '';
  }

  async start() {
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--protected-mode', 'yes',
      '--dir', this.dir, '--daemonize', 'no', '--save', '',
      // every write on disk before the reply, so a restart (or a SIGKILL) loses nothing
      '--appendonly', 'yes', '--appendfsync', 'always',
      '--logfile', '', '--loglevel', 'warning',
    ];
    const child = spawn(this.binary, args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const onOut = (d) => { this.log = (this.log + d.toString()).slice(-8000); };
    child.stdout.on('data', onOut);
    child.stderr.on('data', onOut);
    const exited = new Promise((_, reject) => child.once('exit', (code, sig) => reject(new Error(`redis-server exited (${code ?? sig}) at start: ${this.log}`))));
    exited.catch(() => undefined);
    await Promise.race([waitForPing(this.port, 10000), exited]);
    return this;
  }

  /** Stops the server (SIGTERM: it finishes its writes) and waits for it to exit. */
  async stop() {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  }

  /** Stops the server, waits `downMs` (clients see it gone), starts it again on the same port and data. */
  async restart(downMs = 0) {
    await this.stop();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.start();
  }

  /** Stops the server and removes its folder. */
  async close() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts a redis-server on a free loopback port in a new temporary folder. Returns
 * { url, port, dir, restart(downMs), stop(), close() } — close() stops it and removes the folder.
 */
async function startRedis() {
  const binary = redisServerBinary();
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) throw new Error(`${binary} --version failed: ${version.stderr || version.error}`);
  let lastErr;
  for (let attempt = 0; attempt < 5; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbert-redis-'));
    const server = new RedisServer(binary, dir, await freePort());
    try {
      return await server.start();
    } catch (err) {
      lastErr = err; // most likely the port was taken between freePort() and the start
      await server.close();
    }
  }
  throw lastErr;
}

module.exports = { startRedis, redisServerBinary, freePort };
