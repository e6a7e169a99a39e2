/**
 * One submitter per job id: the submitter that collects a job's results holds a key in Redis
 * (SET NX with a time to live, renewed while it runs). A second submitter with the same job id
 * is refused once it has seen the holder renew the key; a holder that died lets go by itself
 * when the key expires, at once when it was a process on this same machine that no longer
 * exists — so a killed submitter restarted here resumes without waiting.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { SbertError } from '../errors';

/** The Redis commands the lock uses (an ioredis client). */
export interface LockClient {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<'OK' | null>;
  get(key: string): Promise<string | null>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

interface Holder {
  token: string;
  host: string;
  pid: number;
  output: string;
  renewedAt: number;
}

// Replace the value only while it is still `expected` (the holder's renewal, or a takeover from
// a dead holder); delete only our own value.
const REPLACE_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) else return false end`;
const DELETE_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The lock on one job id, held by this submitter until release(). */
export class OwnerLock {
  private timer: NodeJS.Timeout | undefined;
  private value: string;
  /** Set when a renewal found the key gone or someone else's: this submitter must stop. */
  lost: Error | undefined;

  private constructor(
    private readonly client: LockClient,
    private readonly key: string,
    private readonly holder: Holder,
    private readonly ttlMs: number,
  ) {
    this.value = JSON.stringify(holder);
  }

  /**
   * Takes the lock on `key` for a submitter writing to `output`.
   * @throws SbertError ERR_JOB_CONFLICT when a live submitter holds it (naming its host, pid and folder)
   */
  static async acquire(client: LockClient, key: string, what: string, output: string, ttlMs: number, onWait?: (message: string) => void): Promise<OwnerLock> {
    const holder: Holder = { token: randomBytes(12).toString('hex'), host: os.hostname(), pid: process.pid, output, renewedAt: Date.now() };
    const lock = new OwnerLock(client, key, holder, ttlMs);
    let seen: string | undefined;
    let announced = false;
    for (;;) {
      lock.value = JSON.stringify({ ...holder, renewedAt: Date.now() });
      if ((await client.set(key, lock.value, 'PX', ttlMs, 'NX')) === 'OK') break;
      const current = await client.get(key);
      if (current === null) continue; // expired between the two commands
      let other: Holder | undefined;
      try {
        other = JSON.parse(current) as Holder;
      } catch {
        other = undefined;
      }
      if (other && other.host === holder.host && !processExists(other.pid)) {
        // the previous submitter on this machine is gone: take over now
        if (await client.eval(REPLACE_IF, 1, key, current, lock.value, ttlMs)) break;
        continue;
      }
      const who = other ? `${other.host}:${other.pid} (writing to ${other.output})` : 'another submitter';
      if (seen !== undefined && current !== seen) {
        throw new SbertError('ERR_JOB_CONFLICT', `${what} is being collected by ${who}: one job id has one submitter and one output; wait for it or use another job id`);
      }
      if (!announced) {
        onWait?.(`${what} is held by ${who}; waiting up to ${(ttlMs / 1000).toFixed(0)} s to see whether it is still alive`);
        announced = true;
      }
      seen = current;
      await sleep(Math.max(50, Math.floor(ttlMs / 6)));
    }
    lock.timer = setInterval(() => void lock.renew(), Math.max(50, Math.floor(ttlMs / 3)));
    lock.timer.unref();
    return lock;
  }

  private async renew(): Promise<void> {
    const next = JSON.stringify({ ...this.holder, renewedAt: Date.now() });
    try {
      // renewed; or, when the key expired while Redis was out of reach and nobody took it, taken again
      const ok = (await this.client.eval(REPLACE_IF, 1, this.key, this.value, next, this.ttlMs)) || (await this.client.set(this.key, next, 'PX', this.ttlMs, 'NX')) === 'OK';
      if (ok) this.value = next;
      else if (!this.lost) this.lost = new SbertError('ERR_JOB_CONFLICT', `lost the lock on ${this.key} (it expired while Redis was out of reach, and another submitter may have taken the job)`);
    } catch {
      // Redis out of reach: the submitter's own outage handling decides; try again next tick
    }
  }

  /** Lets go of the lock (idempotent; a lock already lost is left alone). */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.client.eval(DELETE_IF, 1, this.key, this.value).catch(() => undefined);
  }
}
