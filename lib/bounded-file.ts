/**
 * The one way sbert-native reads a file a user pointed it at (every file of a model folder,
 * the CLI's --input and training files): regular files only, and a size cap per kind of file.
 *
 * Why: `fs.readFile` on a FIFO waits forever for a writer, on /dev/zero or /dev/urandom it reads
 * until memory runs out, and on a 3 GB file named config.json it allocates 3 GB before the JSON
 * parser says no. Here the path is stat()ed first and anything that is not a regular file
 * (directory, FIFO, socket, character or block device) is refused before it is opened — opening
 * some devices has side effects of its own. The open itself uses O_NONBLOCK (a FIFO swapped in
 * after the stat then cannot block it) and the descriptor is fstat()ed again. The size is checked
 * against the kind's cap before a byte is read, and the read stops at the cap should the file
 * grow meanwhile (or report size 0 like the files in /proc do).
 *
 * Every refusal is an SbertError with the caller's code (ERR_BAD_MODEL for model files,
 * ERR_BAD_INPUT for the CLI's input, ERR_BAD_DATA for training data) naming the file and the cap.
 */
import * as fs from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { SbertError, SbertErrorCode } from './errors';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/**
 * The size cap of each kind of file. Generous for real models: the comments give the largest
 * real files of that kind we know of; the caps are there to refuse a device, a sparse file or a
 * mistake quickly, not to police model size.
 */
export const FILE_SIZE_LIMITS = Object.freeze({
  /** config.json of the Transformer and of Pooling / Dense modules (BERT's: 0.6 KB; with 20k id2label labels ~1 MB). */
  'config.json': 16 * MiB,
  /** Long chat templates and added_tokens_decoder tables keep these under ~2 MB. */
  'tokenizer_config.json': 64 * MiB,
  'modules.json': 16 * MiB,
  'sentence_bert_config.json': 16 * MiB,
  'config_sentence_transformers.json': 16 * MiB,
  /** The weight map of a sharded checkpoint (a few hundred KB for the largest models). */
  'model.safetensors.index.json': 64 * MiB,
  /** The largest real ones are ~35 MB (Gemma); V8 cannot hold a string over 512 MiB anyway. */
  'tokenizer.json': 256 * MiB,
  /** BERT's is 226 KB, multilingual ones ~1 MB. */
  'vocab.txt': 64 * MiB,
  /** One .safetensors file (its header is read alone first; its own cap is MAX_HEADER_BYTES). */
  weights: 512 * GiB,
  /** pytorch_model.bin is read into one buffer (BERT-large's is 1.3 GB). */
  'pytorch_model.bin': Math.min(16 * GiB, bufferConstants.MAX_LENGTH),
  /** `sbert encode --input` (2.5 million 100-character sentences). */
  input: 256 * MiB,
  /** `sbert train --train` and fit's data files (AllNLI as JSONL is ~100 MB). */
  'training data': 500 * MiB,
});

/** A kind of file, by the name its size cap goes under in messages. */
export type FileKind = keyof typeof FILE_SIZE_LIMITS;

/** "16 MiB", "3.0 GiB", "512 bytes". */
export function formatBytes(n: number): string {
  if (n >= GiB) return `${n % GiB === 0 ? n / GiB : (n / GiB).toFixed(1)} GiB`;
  if (n >= MiB) return `${n % MiB === 0 ? n / MiB : (n / MiB).toFixed(1)} MiB`;
  if (n >= KiB) return `${n % KiB === 0 ? n / KiB : (n / KiB).toFixed(1)} KiB`;
  return `${n} bytes`;
}

function refusal(code: SbertErrorCode, file: string, reason: string, cause?: unknown): SbertError {
  return new SbertError(code, `${file}: ${reason}`, cause === undefined ? undefined : { cause });
}

/** What a directory entry that is not a regular file is, in words; undefined for a regular file. */
function nonRegularKind(st: fs.Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a file';
}

function overLimit(kind: FileKind, size: number): string {
  return `is ${formatBytes(size)}, over the ${formatBytes(FILE_SIZE_LIMITS[kind])} limit for ${kind} files (not a ${kind} file?)`;
}

/** The reason an errno gives, for a message. */
function errnoReason(err: unknown, missing: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return missing;
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read: permission denied';
    case 'ELOOP':
      return 'cannot be read: a symlink loop';
    case 'ENOTDIR':
      return 'cannot be read: a part of its path is not a folder';
    case 'ENAMETOOLONG':
      return 'cannot be read: the path is too long';
    default:
      return `cannot be read (${code ?? (err as Error).message})`;
  }
}

/** What to do about a file: its kind (the cap), the error code, the reason when it is missing. */
export interface BoundedReadRules {
  kind: FileKind;
  code: SbertErrorCode;
  /** The reason given when the file does not exist (default 'file not found'). */
  missing?: string;
}

/** Flags for open(): never block on a FIFO, never become a terminal's controlling process. */
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;

/**
 * Checks what `file` is before opening it. Returns its size, or undefined when it does not exist
 * and `ifPresent` is set (a dangling symlink counts as present: it is refused).
 */
async function statRegular(file: string, rules: BoundedReadRules, ifPresent: boolean): Promise<fs.Stats | undefined> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      const link = await fs.promises.lstat(file).catch(() => undefined);
      if (link?.isSymbolicLink()) throw refusal(rules.code, file, 'is a symlink to a file that does not exist', err);
      if (ifPresent) return undefined;
    }
    throw refusal(rules.code, file, errnoReason(err, rules.missing ?? 'file not found'), err);
  }
  checkStats(file, st, rules);
  return st;
}

function checkStats(file: string, st: fs.Stats, rules: BoundedReadRules): void {
  const kind = nonRegularKind(st);
  if (kind !== undefined) throw refusal(rules.code, file, `is ${kind}, not a regular file`);
  if (st.size > FILE_SIZE_LIMITS[rules.kind]) throw refusal(rules.code, file, overLimit(rules.kind, st.size));
}

/** A regular file opened for reading within its kind's cap (see openBoundedFile). */
export class BoundedFile {
  private constructor(
    readonly file: string,
    /** The size fstat() gave when it was opened. */
    readonly size: number,
    private readonly handle: fs.promises.FileHandle,
    private readonly rules: BoundedReadRules,
  ) {}

  /** Opens `file` after checking it is a regular file within the cap of `rules.kind`. */
  static async open(file: string, rules: BoundedReadRules): Promise<BoundedFile> {
    const st = (await statRegular(file, rules, false))!;
    return BoundedFile.openChecked(file, st, rules);
  }

  /** Like open, but resolves to undefined when the file does not exist. */
  static async openIfPresent(file: string, rules: BoundedReadRules): Promise<BoundedFile | undefined> {
    const st = await statRegular(file, rules, true);
    return st === undefined ? undefined : BoundedFile.openChecked(file, st, rules);
  }

  private static async openChecked(file: string, st: fs.Stats, rules: BoundedReadRules): Promise<BoundedFile> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, OPEN_FLAGS);
    } catch (err) {
      throw refusal(rules.code, file, errnoReason(err, rules.missing ?? 'file not found'), err);
    }
    try {
      const now = await handle.stat();
      // Swapped for something else between the stat and the open (a FIFO, a bigger file)?
      checkStats(file, now, rules);
      if (now.ino !== st.ino || now.dev !== st.dev) throw refusal(rules.code, file, 'was replaced while being opened');
      return new BoundedFile(file, now.size, handle, rules);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Reads exactly `length` bytes at `position` into `into` (at `at`); a file that ends sooner
   * (cut while being read) is refused.
   */
  async readExactly(into: Uint8Array, at: number, length: number, position: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const n = Math.min(length - done, READ_CHUNK);
      const { bytesRead } = await this.handle.read(into, at + done, n, position + done);
      if (bytesRead === 0) {
        throw refusal(this.rules.code, this.file, `ends at byte ${position + done}, before the ${position + length} bytes it had when opened (cut while being read?)`);
      }
      done += bytesRead;
    }
  }

  /**
   * The whole file, read with few large reads. Reads past the size fstat() gave (a file that
   * grew, or a /proc file that says 0) but never past the cap.
   */
  async readAll(): Promise<Buffer> {
    const limit = FILE_SIZE_LIMITS[this.rules.kind];
    const first = Buffer.allocUnsafe(this.size);
    let filled = 0;
    while (filled < this.size) {
      const { bytesRead } = await this.handle.read(first, filled, Math.min(READ_CHUNK, this.size - filled), filled);
      if (bytesRead === 0) return first.subarray(0, filled); // cut while being read: what is there
      filled += bytesRead;
    }
    const more: Buffer[] = [];
    let total = filled;
    for (;;) {
      const chunk = Buffer.allocUnsafe(TAIL_CHUNK);
      const { bytesRead } = await this.handle.read(chunk, 0, TAIL_CHUNK, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) throw refusal(this.rules.code, this.file, `grew past the ${formatBytes(limit)} limit for ${this.rules.kind} files while being read`);
      more.push(chunk.subarray(0, bytesRead));
    }
    return more.length === 0 ? first : Buffer.concat([first, ...more], total);
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/** Large reads: fs.readFile's 512 KiB made loading a 90 MB model take ~330 ms instead of ~60 ms. */
const READ_CHUNK = 64 * MiB;
const TAIL_CHUNK = 64 * KiB;

/**
 * Reads a whole regular file within the cap of `rules.kind`.
 * @throws SbertError with `rules.code` naming the file: missing, not a regular file (directory,
 *   FIFO, socket, device), over the cap, unreadable
 */
export async function readBoundedFile(file: string, rules: BoundedReadRules): Promise<Buffer> {
  const f = await BoundedFile.open(file, rules);
  try {
    return await f.readAll();
  } finally {
    await f.close();
  }
}

/** Like readBoundedFile, but resolves to undefined when the file does not exist. */
export async function readBoundedFileIfPresent(file: string, rules: BoundedReadRules): Promise<Buffer | undefined> {
  const f = await BoundedFile.openIfPresent(file, rules);
  if (f === undefined) return undefined;
  try {
    return await f.readAll();
  } finally {
    await f.close();
  }
}

/**
 * The synchronous twin of readBoundedFile, for readers whose API is synchronous (training data
 * files). Same checks; blocks only for the read of a regular file within the cap.
 */
export function readBoundedFileSync(file: string, rules: BoundedReadRules): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw refusal(rules.code, file, errnoReason(err, rules.missing ?? 'file not found'), err);
  }
  checkStats(file, st, rules);
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_FLAGS);
  } catch (err) {
    throw refusal(rules.code, file, errnoReason(err, rules.missing ?? 'file not found'), err);
  }
  try {
    const now = fs.fstatSync(fd);
    checkStats(file, now, rules);
    if (now.ino !== st.ino || now.dev !== st.dev) throw refusal(rules.code, file, 'was replaced while being opened');
    // As BoundedFile.readAll: the size fstat() gave in one buffer, then whatever follows, to the cap.
    const limit = FILE_SIZE_LIMITS[rules.kind];
    const first = Buffer.allocUnsafe(now.size);
    let total = 0;
    while (total < now.size) {
      const n = fs.readSync(fd, first, total, Math.min(READ_CHUNK, now.size - total), total);
      if (n === 0) return first.subarray(0, total);
      total += n;
    }
    const more: Buffer[] = [];
    for (;;) {
      const chunk = Buffer.allocUnsafe(TAIL_CHUNK);
      const n = fs.readSync(fd, chunk, 0, TAIL_CHUNK, total);
      if (n === 0) break;
      total += n;
      if (total > limit) throw refusal(rules.code, file, `grew past the ${formatBytes(limit)} limit for ${rules.kind} files while being read`);
      more.push(chunk.subarray(0, n));
    }
    return more.length === 0 ? first : Buffer.concat([first, ...more], total);
  } finally {
    fs.closeSync(fd);
  }
}

/** UTF-8 text of a buffer, without a leading byte-order mark. */
export function utf8Text(buf: Buffer): string {
  const text = buf.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
