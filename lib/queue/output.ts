/**
 * The output folder of a bulk job: `job.json` (which job it belongs to), one `.npy` shard per
 * chunk, `shards.jsonl` (a journal: one line per shard written, appended after the shard is in
 * place), and at the end `manifest.json`. Shards are written to a temporary name and renamed,
 * so a shard either exists whole or not at all; the journal lets a restarted submitter skip
 * what is done without re-reading every shard. A folder holding another job is refused.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SbertError } from '../errors';
import { npyBytes } from '../npy';
import type { ModelIdentity } from './model-identity';
import { sha256Hex } from './result';

export const JOB_FILE = 'job.json';
export const JOURNAL_FILE = 'shards.jsonl';
export const MANIFEST_FILE = 'manifest.json';
/** The format tag of job.json and manifest.json. */
export const OUTPUT_FORMAT = 'sbert-native/embed-job@1';

/** What job.json holds: enough to tell whether a rerun is the same job. */
export interface JobFile {
  format: typeof OUTPUT_FORMAT;
  jobId: string;
  /** Hash of everything that decides the numbers: model digest, encode options, chunk hashes. */
  planDigest: string;
  createdAt: string;
}

/** One written shard (a line of shards.jsonl, an entry of the manifest). */
export interface ShardEntry {
  index: number;
  file: string;
  /** Rows [start, end) of the input (0-based, end exclusive). */
  rows: [number, number];
  /** SHA-256 of the chunk's sentences (see chunkHash). */
  inputSha256: string;
  /** SHA-256 of the .npy file. */
  sha256: string;
  /** The engine device that encoded it. */
  device: string;
  /** host:pid of the worker. */
  worker: string;
}

/** A line of shards.jsonl: the shard and its row length. */
type JournalLine = ShardEntry & { dim: number };

/** manifest.json: the job's result. */
export interface EmbedJobManifest {
  format: typeof OUTPUT_FORMAT;
  jobId: string;
  queue: string;
  model: ModelIdentity;
  /** Length of each row. */
  dimension: number;
  dtype: 'float32';
  /** Total rows = sentences of the input, in input order across the shards. */
  rows: number;
  chunkSize: number;
  encodeOptions: Record<string, unknown>;
  input: { file: string; format: string; sha256: string };
  /** How results travelled from the workers: 'redis' or 'folder'. */
  transport: 'redis' | 'folder';
  shards: ShardEntry[];
  createdAt: string;
  completedAt: string;
}

/** The shard file name of chunk `index` of `chunks` (zero-padded so names sort in row order). */
export function shardFileName(index: number, chunks: number): string {
  return `shard-${String(index).padStart(Math.max(5, String(chunks - 1).length), '0')}.npy`;
}

/** Writes bytes to `dir/name` whole or not at all (temporary file + rename). */
export async function writeFileAtomic(dir: string, name: string, data: Uint8Array | string): Promise<void> {
  const temp = path.join(dir, `.${name}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await fs.promises.open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, path.join(dir, name));
  } catch (err) {
    await fs.promises.rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** The .npy bytes of `rows × dim` float32 values given as raw little-endian bytes. */
export function shardBytes(payload: Uint8Array, rows: number, dim: number): Buffer {
  // copy into an aligned Float32Array (a Buffer slice of a Redis reply may be at any offset)
  const floats = new Float32Array(rows * dim);
  new Uint8Array(floats.buffer).set(payload.subarray(0, floats.byteLength));
  return npyBytes(floats, [rows, dim]);
}

/**
 * The shape and data offset of a float32 .npy file from its first bytes (format 1.0, C order,
 * as npyBytes writes it); undefined when they are not such a header.
 */
export function npyFloat32Header(head: Uint8Array): { shape: number[]; dataOffset: number } | undefined {
  const buf = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY' || buf[6] !== 1) return undefined;
  const dataOffset = 10 + buf.readUInt16LE(8);
  if (buf.length < dataOffset) return undefined;
  const header = buf.toString('latin1', 10, dataOffset);
  const m = /'descr': '<f4', 'fortran_order': False, 'shape': \(([0-9, ]*)\)/.exec(header);
  if (!m) return undefined;
  const shape = m[1].split(',').map((x) => x.trim()).filter((x) => x !== '').map(Number);
  return { shape, dataOffset };
}

/** Whether `file` is a float32 .npy file of exactly rows × dim, whole. */
async function isWholeShard(file: string, rows: number, dim: number): Promise<boolean> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, 'r');
    const head = Buffer.alloc(256);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const info = npyFloat32Header(head.subarray(0, bytesRead));
    const { size } = await handle.stat();
    return info !== undefined && info.shape.length === 2 && info.shape[0] === rows && info.shape[1] === dim && size === info.dataOffset + rows * dim * 4;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.promises.readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function conflict(message: string): SbertError {
  return new SbertError('ERR_JOB_CONFLICT', message);
}

/**
 * Checks (without writing) that `dir` can hold job `jobId`: missing, empty, or already this
 * job's. Resolves to its manifest when the job is complete there.
 * @throws SbertError ERR_JOB_CONFLICT when the folder holds something else or another job
 */
export async function inspectOutput(dir: string, jobId: string, planDigest: string): Promise<EmbedJobManifest | undefined> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return undefined;
    if (e.code === 'ENOTDIR') throw conflict(`output ${dir} is a file, not a folder`);
    throw conflict(`output ${dir} cannot be read (${e.code ?? e.message})`);
  }
  if (names.length === 0) return undefined;
  let job: JobFile | undefined;
  try {
    job = await readJson<JobFile>(path.join(dir, JOB_FILE));
  } catch {
    job = undefined;
  }
  if (!job || job.format !== OUTPUT_FORMAT) {
    throw conflict(`output folder ${dir} is not empty and holds no sbert-native job (no valid ${JOB_FILE}): choose an empty or new folder`);
  }
  if (job.jobId !== jobId) throw conflict(`output folder ${dir} belongs to job '${job.jobId}', not '${jobId}': choose another folder`);
  if (job.planDigest !== planDigest) {
    throw conflict(`output folder ${dir} holds job '${jobId}' made from other input, model, chunk size or encode options: use another --job-id or folder`);
  }
  const manifest = await readJson<EmbedJobManifest>(path.join(dir, MANIFEST_FILE)).catch(() => undefined);
  return manifest?.format === OUTPUT_FORMAT && manifest.jobId === jobId ? manifest : undefined;
}

/** An output folder claimed by this submitter (after inspectOutput and the Redis owner lock). */
export class OutputFolder {
  private constructor(readonly dir: string) {}

  /** Creates the folder and its job.json when missing. */
  static async claim(dir: string, jobId: string, planDigest: string): Promise<OutputFolder> {
    await fs.promises.mkdir(dir, { recursive: true });
    if (!fs.existsSync(path.join(dir, JOB_FILE))) {
      const job: JobFile = { format: OUTPUT_FORMAT, jobId, planDigest, createdAt: new Date().toISOString() };
      await writeFileAtomic(dir, JOB_FILE, JSON.stringify(job, null, 2) + '\n');
    }
    return new OutputFolder(dir);
  }

  /** The creation time recorded in job.json. */
  async createdAt(): Promise<string> {
    return (await readJson<JobFile>(path.join(this.dir, JOB_FILE)))?.createdAt ?? new Date().toISOString();
  }

  /**
   * The shards already written: journal entries whose file is in place with the size its rows
   * need. A torn last journal line (a crash mid-append) is ignored; a shard file the journal
   * does not name (a crash between rename and append) is simply written again under its name.
   */
  async writtenShards(): Promise<{ shards: Map<number, ShardEntry>; dim: number | undefined }> {
    const done = new Map<number, ShardEntry>();
    let dim: number | undefined;
    let text = '';
    try {
      text = await fs.promises.readFile(path.join(this.dir, JOURNAL_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let entry: JournalLine;
      try {
        entry = JSON.parse(line) as JournalLine;
      } catch {
        continue;
      }
      if (await isWholeShard(path.join(this.dir, entry.file), entry.rows[1] - entry.rows[0], entry.dim)) {
        const { dim: entryDim, ...shard } = entry;
        done.set(entry.index, shard);
        dim = entryDim;
      }
    }
    return { shards: done, dim };
  }

  /** Writes a shard from the float32 payload and records it in the journal. */
  async writeShard(entry: Omit<ShardEntry, 'sha256'>, payload: Uint8Array, dim: number): Promise<ShardEntry> {
    const bytes = shardBytes(payload, entry.rows[1] - entry.rows[0], dim);
    await writeFileAtomic(this.dir, entry.file, bytes);
    return this.record({ ...entry, sha256: sha256Hex(bytes) }, dim);
  }

  /** Takes a shard a worker wrote into the folder (folder transport), checking its contents. */
  async adoptShard(entry: Omit<ShardEntry, 'sha256'>, payloadSha256: string, dim: number): Promise<ShardEntry> {
    const bytes = await fs.promises.readFile(path.join(this.dir, entry.file));
    const rows = entry.rows[1] - entry.rows[0];
    const info = npyFloat32Header(bytes);
    const whole = info !== undefined && info.shape[0] === rows && info.shape[1] === dim && bytes.length === info.dataOffset + rows * dim * 4;
    if (!whole || sha256Hex(bytes.subarray(info.dataOffset)) !== payloadSha256) {
      throw new Error(`${entry.file} in ${this.dir} does not hold the rows the worker reported`);
    }
    return this.record({ ...entry, sha256: sha256Hex(bytes) }, dim);
  }

  private async record(entry: ShardEntry, dim: number): Promise<ShardEntry> {
    const line: JournalLine = { ...entry, dim };
    await fs.promises.appendFile(path.join(this.dir, JOURNAL_FILE), JSON.stringify(line) + '\n');
    return entry;
  }

  /** Writes manifest.json (the job's last step). */
  async writeManifest(manifest: EmbedJobManifest): Promise<void> {
    await writeFileAtomic(this.dir, MANIFEST_FILE, JSON.stringify(manifest, null, 2) + '\n');
  }
}

/** This machine's name and process, as `host:pid`. */
export function processTag(): string {
  return `${os.hostname()}:${process.pid}`;
}
