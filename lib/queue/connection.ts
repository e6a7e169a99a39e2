/**
 * BullMQ, loaded only here and only when a queue function runs (it is an optional peer
 * dependency: `require('sbert-native')` never loads it), and the Redis connection: a URL or
 * ioredis options, checked up front so an unreachable Redis is one clear error within seconds
 * instead of a client retrying forever.
 */
import type * as BullMQ from 'bullmq';
import { SbertError } from '../errors';

/**
 * A Redis URL (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS) or ioredis
 * connection options (`{ host, port, password, tls, … }`; not a client instance: BullMQ opens
 * the connections it needs from these).
 */
export type RedisConnection = string | { host?: string; port?: number; [option: string]: unknown };

let cached: typeof BullMQ | undefined;

/** The bullmq major version this module is written and tested against. */
export const BULLMQ_MAJOR = 5;

/**
 * The bullmq module; SbertError ERR_MISSING_DEPENDENCY when it is not installed, or is not
 * bullmq 5 (bullmq 6 changed the client API this module uses).
 */
export function bullmq(): typeof BullMQ {
  if (cached) return cached;
  let version: string;
  try {
    version = (require('bullmq/package.json') as { version: string }).version;
    cached = require('bullmq') as typeof BullMQ;
  } catch (err) {
    throw new SbertError('ERR_MISSING_DEPENDENCY', `sbert-native/queue needs the 'bullmq' package, version ${BULLMQ_MAJOR} (an optional peer dependency): npm install bullmq@${BULLMQ_MAJOR}`, { cause: err });
  }
  if (Number(version.split('.')[0]) !== BULLMQ_MAJOR) {
    cached = undefined;
    throw new SbertError('ERR_MISSING_DEPENDENCY', `sbert-native/queue is built on bullmq ${BULLMQ_MAJOR}.x; this project has bullmq ${version}: npm install bullmq@${BULLMQ_MAJOR}`);
  }
  return cached;
}

/** ioredis options for BullMQ from a URL or options; TypeError naming `connection` when neither. */
export function connectionOptions(connection: RedisConnection): Record<string, unknown> {
  if (typeof connection === 'string') {
    let url: URL;
    try {
      url = new URL(connection);
    } catch {
      throw new TypeError(`connection must be a redis:// or rediss:// URL or ioredis options (got ${JSON.stringify(connection)})`);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new TypeError(`connection must be a redis:// or rediss:// URL (got ${JSON.stringify(redactUrl(connection))})`);
    }
    const db = url.pathname.replace(/^\//, '');
    if (db !== '' && !/^[0-9]+$/.test(db)) throw new TypeError(`connection: the URL's path must be a database number (got '${db}')`);
    return {
      host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
      port: url.port ? Number(url.port) : 6379,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(db ? { db: Number(db) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    };
  }
  if (connection === null || typeof connection !== 'object') throw new TypeError('connection must be a Redis URL or ioredis connection options');
  return { ...(connection as Record<string, unknown>) };
}

/** The connection as people should read it: the URL without its password, or host:port. */
export function describeConnection(connection: RedisConnection): string {
  if (typeof connection === 'string') return redactUrl(connection);
  const o = connection as { host?: string; port?: number; path?: string };
  return o.path ? `unix:${o.path}` : `redis://${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Anything with BullMQ's waitUntilReady / close / 'error' event (Queue, Worker, QueueEvents, FlowProducer). */
interface Connectable {
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * Resolves once `client` has reached Redis; otherwise closes it and throws SbertError
 * ERR_QUEUE_UNREACHABLE naming the URL and the last connection error, after `timeoutMs`.
 */
export async function connectOrFail(client: Connectable, connection: RedisConnection, timeoutMs: number): Promise<void> {
  let lastError: Error | undefined;
  const onError = (err: Error) => {
    lastError = err;
  };
  client.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([client.waitUntilReady().then(() => 'ready' as const, (err: Error) => err), timedOut]);
    if (outcome === 'ready') return;
    if (outcome instanceof Error) lastError = outcome;
  } finally {
    clearTimeout(timer);
  }
  // never wait long for a client that cannot connect to close
  await Promise.race([client.close().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
  throw new SbertError(
    'ERR_QUEUE_UNREACHABLE',
    `cannot reach Redis at ${describeConnection(connection)} within ${(timeoutMs / 1000).toFixed(1)} s${lastError ? ` (${lastError.message})` : ''}`,
  );
}
