/**
 * encodeBatch split across worker threads for large batches. Each worker holds its own copy
 * of the tokenizer (built from the same spec); the calling thread tokenizes one share itself.
 * Texts travel as one concatenated string plus lengths (one memcpy instead of a structured
 * clone per string); ids come back as transferred buffers and are packed in order, so the
 * result is exactly what encodeBatch returns.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Tokenizer, BatchEncoding, TruncationSide } from './tokenizer';

export interface ParallelOptions {
  /** Threads in all, the calling one included (default: available cores, at most 8). */
  threads?: number;
  maxLength?: number;
  /** Which end truncation removes (default 'right'). */
  truncationSide?: TruncationSide;
  /** Index of texts[0] in the caller's list; error messages name texts[indexOffset + i]. */
  indexOffset?: number;
  /** Below this many texts, encodeBatch runs on the calling thread alone (default 2048). */
  minBatch?: number;
  /** Measure per-thread CPU time (Linux; benchmarks): see TokenizerPool.lastStats. */
  measure?: boolean;
}

/** CPU time each thread spent on the last measured call (ms; NaN where unavailable). */
export interface ParallelStats {
  callerCpuMs: number;
  workerCpuMs: number[];
}

/** CPU time of the calling thread in ns (Linux schedstat), or NaN. */
function threadCpuNs(): number {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/** Relative share of the calling thread (workers: 1). */
const MAIN_SHARE = 0.75;

interface Reply {
  id: number;
  ids?: Int32Array;
  typeIds?: Int32Array;
  cuSeqlens?: Int32Array;
  cpuNs?: number;
  error?: string;
}

function defaultThreads(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, n));
}

/** A set of worker threads holding one tokenizer each. Workers do not keep the process alive. */
export class TokenizerPool {
  readonly tokenizer: Tokenizer;
  private workers: Worker[] = [];
  private pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private busy = 0;
  /** Filled by encodeBatch({ measure: true }). */
  lastStats: ParallelStats | null = null;

  constructor(tokenizer: Tokenizer) {
    this.tokenizer = tokenizer;
  }

  private ensure(count: number): void {
    while (this.workers.length < count) {
      const w = new Worker(path.join(__dirname, 'worker.js'), { workerData: { spec: this.tokenizer.spec } });
      w.on('message', (r: Reply) => {
        const p = this.pending.get(r.id);
        if (!p) return;
        this.pending.delete(r.id);
        this.release();
        if (r.error !== undefined) p.reject(new Error(r.error));
        else p.resolve(r);
      });
      w.on('error', (e) => this.failAll(e));
      w.on('exit', (code) => {
        if (this.workers.includes(w)) this.failAll(new Error(`tokenizer worker exited with code ${code}`));
      });
      w.unref();
      this.workers.push(w);
    }
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.close();
  }


  private release(): void {
    if (--this.busy === 0) for (const w of this.workers) w.unref();
  }

  private run(worker: Worker, texts: string[], maxLength: number | undefined, truncationSide: TruncationSide | undefined, measure: boolean): Promise<Reply> {
    const lens = new Int32Array(texts.length);
    for (let i = 0; i < texts.length; i++) lens[i] = texts[i].length;
    const text = texts.join('');
    const id = this.nextId++;
    if (this.busy++ === 0) for (const w of this.workers) w.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, text, lens, maxLength, truncationSide, measure }, [lens.buffer]);
    });
  }

  /** Same result as tokenizer.encodeBatch(texts, { maxLength, truncationSide, indexOffset }). */
  async encodeBatch(texts: string[], options?: ParallelOptions): Promise<BatchEncoding> {
    const tok = this.tokenizer;
    if (!Array.isArray(texts)) throw new TypeError(`texts is not an array (got ${texts === null ? 'null' : typeof texts})`);
    if (options === null || (options !== undefined && typeof options !== 'object')) {
      throw new TypeError(`options must be an object (got ${options === null ? 'null' : typeof options})`);
    }
    const opts = options ?? {};
    const batchOpts = { maxLength: opts.maxLength, indexOffset: opts.indexOffset, truncationSide: opts.truncationSide };
    // validate options on this thread so errors are thrown, not rejected from a worker
    tok.encodeBatch([], batchOpts);
    const offset = opts.indexOffset ?? 0;
    for (let i = 0; i < texts.length; i++) {
      if (typeof texts[i] !== 'string') {
        const t = texts[i] as unknown;
        throw new TypeError(`texts[${offset + i}] is not a string (got ${t === null ? 'null' : Array.isArray(t) ? 'array' : typeof t})`);
      }
    }
    const threads = Math.max(1, Math.floor(opts.threads ?? defaultThreads()));
    const minBatch = opts.minBatch ?? 2048;
    if (threads === 1 || texts.length < minBatch) return tok.encodeBatch(texts, batchOpts);
    this.ensure(threads - 1);
    // split by characters so shares take about the same time; this thread also copies the
    // workers' texts out (about a quarter of the cost of tokenizing them), so it takes less
    let totalChars = 0;
    for (const t of texts) totalChars += t.length;
    const weights = [MAIN_SHARE, ...new Array(threads - 1).fill(1)];
    const wsum = weights.reduce((a, b) => a + b, 0);
    const bounds = [0];
    let acc = 0;
    let cum = weights[0];
    for (let i = 0; i < texts.length && bounds.length < threads; i++) {
      acc += texts[i].length;
      if (acc >= (totalChars * cum) / wsum) {
        bounds.push(i + 1);
        cum += weights[bounds.length - 1];
      }
    }
    while (bounds.length < threads) bounds.push(texts.length);
    bounds.push(texts.length);
    // shares 1.. go to workers, share 0 stays here
    const measure = opts.measure === true;
    const cpu0 = measure ? threadCpuNs() : 0;
    const jobs: Promise<Reply>[] = [];
    for (let k = 1; k < threads; k++) {
      jobs.push(this.run(this.workers[k - 1], texts.slice(bounds[k], bounds[k + 1]), opts.maxLength, opts.truncationSide, measure));
    }
    const mine = tok.encodeBatch(texts.slice(bounds[0], bounds[1]), { maxLength: opts.maxLength, truncationSide: opts.truncationSide });
    let callerNs = measure ? threadCpuNs() - cpu0 : NaN;
    const parts: BatchEncoding[] = [mine];
    const replies = await Promise.all(jobs);
    for (const r of replies) {
      parts.push({ ids: r.ids!, typeIds: r.typeIds!, cuSeqlens: r.cuSeqlens! });
    }
    const cpu1 = measure ? threadCpuNs() : 0;
    let total = 0;
    for (const p of parts) total += p.ids.length;
    const ids = new Int32Array(total);
    const typeIds = new Int32Array(total);
    const cu = new Int32Array(texts.length + 1);
    let off = 0;
    let row = 0;
    for (const p of parts) {
      ids.set(p.ids, off);
      typeIds.set(p.typeIds, off);
      const n = p.cuSeqlens.length - 1;
      for (let i = 1; i <= n; i++) cu[row + i] = p.cuSeqlens[i] + off;
      row += n;
      off += p.ids.length;
    }
    if (measure) {
      callerNs += threadCpuNs() - cpu1;
      this.lastStats = { callerCpuMs: callerNs / 1e6, workerCpuMs: replies.map((r) => (r.cpuNs ?? NaN) / 1e6) };
    }
    return { ids, typeIds, cuSeqlens: cu };
  }

  /** Terminate the workers (the pool can be used again; it starts new ones). */
  close(): void {
    const ws = this.workers;
    this.workers = [];
    for (const p of this.pending.values()) p.reject(new Error('tokenizer pool closed'));
    this.pending.clear();
    this.busy = 0;
    for (const w of ws) void w.terminate();
  }
}

const pools = new WeakMap<Tokenizer, TokenizerPool>();

/**
 * encodeBatch on several threads (a pool per tokenizer, created on first use). Same result
 * as tokenizer.encodeBatch(texts, { maxLength }).
 */
export function encodeBatchParallel(
  tokenizer: Tokenizer,
  texts: string[],
  opts: ParallelOptions = {},
): Promise<BatchEncoding> {
  let pool = pools.get(tokenizer);
  if (!pool) {
    pool = new TokenizerPool(tokenizer);
    pools.set(tokenizer, pool);
  }
  return pool.encodeBatch(texts, opts);
}
