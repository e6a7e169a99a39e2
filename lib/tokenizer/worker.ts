/**
 * Worker thread of TokenizerPool: builds the tokenizer from the spec it is given and answers
 * { id, text, lens, maxLength, truncationSide } (the texts concatenated, with their lengths) with the packed
 * batch encoding, transferring the arrays back.
 */
import { readFileSync } from 'fs';
import { parentPort, workerData } from 'worker_threads';
import type { TokenizerSpec } from './spec';
import { Tokenizer } from './tokenizer';

interface Job {
  id: number;
  text: string;
  lens: Int32Array;
  maxLength?: number;
  truncationSide?: 'right' | 'left';
  /** Report this thread's CPU time for the job (benchmarks). */
  measure?: boolean;
}

/** CPU time of the calling thread in ns (Linux schedstat), or NaN. */
function threadCpuNs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

const tokenizer = new Tokenizer((workerData as { spec: TokenizerSpec }).spec);

parentPort!.on('message', (job: Job) => {
  try {
    const cpu0 = job.measure ? threadCpuNs() : 0;
    const texts: string[] = new Array(job.lens.length);
    let off = 0;
    for (let i = 0; i < job.lens.length; i++) {
      texts[i] = job.text.slice(off, off + job.lens[i]);
      off += job.lens[i];
    }
    const r = tokenizer.encodeBatch(texts, { maxLength: job.maxLength, truncationSide: job.truncationSide });
    const cpuNs = job.measure ? threadCpuNs() - cpu0 : undefined;
    parentPort!.postMessage({ id: job.id, ids: r.ids, typeIds: r.typeIds, cuSeqlens: r.cuSeqlens, cpuNs }, [
      r.ids.buffer as ArrayBuffer,
      r.typeIds.buffer as ArrayBuffer,
      r.cuSeqlens.buffer as ArrayBuffer,
    ]);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: (e as Error).message ?? String(e) });
  }
});
