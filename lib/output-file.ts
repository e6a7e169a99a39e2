/**
 * Output files and folders.
 *
 * PendingOutput: an output file written all at once or not at all: a temporary file is created
 * beside the target before any work starts (so a folder that is missing, read-only or not a real
 * filesystem is refused up front), filled when the result is ready, then renamed over the
 * target. A failed write removes the temporary file and leaves the target as it was, never a
 * partial file; so does Ctrl-C (SIGINT) or SIGTERM while the command runs.
 *
 * outputFolderProblem: whether a folder can receive output at all — it must be (or be made in) a
 * real folder on a storage filesystem, not /proc, /sys or /dev (Node's recursive mkdir loops
 * forever on /proc), and every filesystem call is guarded by a timeout (a hung network mount
 * gives an error, not a command that never ends).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** How long one filesystem call on an output path may take before it is reported as hung. */
export const OUTPUT_FS_TIMEOUT_MS = 20_000;

/** Resolves like `op`, or rejects with an Error saying `what` did not answer in time. */
async function withTimeout<T>(op: Promise<T>, what: string, ms = OUTPUT_FS_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} did not answer within ${ms / 1000} s (a hung network filesystem?)`), { code: 'ETIMEDOUT' })), ms);
    timer.unref();
  });
  try {
    return await Promise.race([op, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Folders whose contents are kernel interfaces, not storage. */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

/** statfs() f_type of filesystems that are kernel interfaces (linux/magic.h), by name. */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x1cd1, 'devpts'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'], [0x74726163, 'tracefs'], [0x73636673, 'securityfs'], [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'], [0x62656570, 'configfs'], [0x65735543, 'fusectl'], [0x19800202, 'mqueue'],
  [0x42494e4d, 'binfmt_misc'], [0x6e736673, 'nsfs'], [0xf97cff8c, 'selinuxfs'], [0x73727279, 'rpc_pipefs'],
]);

function under(p: string, root: string): boolean {
  return p === root || p.startsWith(root + '/');
}

/**
 * Why `folder` cannot receive output files, or undefined when it can. `folder` may not exist
 * yet (its nearest existing ancestor is checked): it must not be a file, must not lie under
 * /proc, /sys or /dev (after resolving symlinks), nor on a kernel pseudo-filesystem. The message
 * starts with the folder's name (`/proc/self/x is under /proc, …`).
 */
export async function outputFolderProblem(folder: string): Promise<string | undefined> {
  const wanted = path.resolve(folder);
  let existing = wanted;
  let st: fs.Stats | undefined;
  for (;;) {
    try {
      st = await withTimeout(fs.promises.stat(existing), `stat ${existing}`);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ETIMEDOUT') return `${folder}: ${(err as Error).message}`;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return `${folder}: cannot be used (${code ?? (err as Error).message})`;
      const parent = path.dirname(existing);
      if (parent === existing) return `${folder}: no part of the path exists`;
      existing = parent;
    }
  }
  if (!st.isDirectory()) {
    return existing === wanted ? `${folder} is not a folder` : `${folder}: ${existing} is not a folder`;
  }
  let real: string;
  try {
    real = await withTimeout(fs.promises.realpath(existing), `realpath ${existing}`);
  } catch (err) {
    return `${folder}: ${(err as Error).message}`;
  }
  const root = PSEUDO_ROOTS.find((r) => under(real, r) || under(wanted, r));
  if (root !== undefined) return `${folder} is under ${root}, which holds kernel interfaces, not files: choose a folder on a disk`;
  try {
    const { type } = await withTimeout(fs.promises.statfs(existing), `statfs ${existing}`);
    const name = PSEUDO_FILESYSTEMS.get(type);
    if (name !== undefined) return `${folder} is on a ${name} filesystem (kernel interfaces, not files): choose a folder on a disk`;
  } catch (err) {
    return `${folder}: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * Creates one folder level (its parent must exist) with a timeout: never the recursive mkdir
 * that loops forever on /proc. Resolves to false when it already exists as a folder.
 */
export async function makeFolder(dir: string): Promise<boolean> {
  try {
    await withTimeout(fs.promises.mkdir(dir), `mkdir ${dir}`);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && (await withTimeout(fs.promises.stat(dir), `stat ${dir}`)).isDirectory()) return false;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Temporary files removed on SIGINT / SIGTERM

/** Temporary files of uncommitted outputs: removed if the process is interrupted. */
const pendingTempFiles = new Set<string>();
const CLEANUP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

function removePendingSync(): void {
  for (const file of pendingTempFiles) {
    try {
      fs.rmSync(file, { force: true });
    } catch {
      // nothing more can be done while the process goes down
    }
  }
  pendingTempFiles.clear();
}

/**
 * On SIGINT/SIGTERM: remove the temporary files, then — when no one else listens for the signal
 * (a command with its own handler, like `sbert train`, decides itself) — end the process the
 * way the signal would have.
 */
function onSignal(signal: NodeJS.Signals): void {
  removePendingSync();
  unwatchSignals();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

let watching = false;
function watchSignals(): void {
  if (watching) return;
  watching = true;
  for (const sig of CLEANUP_SIGNALS) process.on(sig, onSignal);
  process.on('exit', removePendingSync);
}

function unwatchSignals(): void {
  if (!watching) return;
  watching = false;
  for (const sig of CLEANUP_SIGNALS) process.removeListener(sig, onSignal);
  process.removeListener('exit', removePendingSync);
}

function track(tempPath: string): void {
  pendingTempFiles.add(tempPath);
  watchSignals();
}

function untrack(tempPath: string): void {
  pendingTempFiles.delete(tempPath);
  if (pendingTempFiles.size === 0) unwatchSignals();
}

/** The output could not be written; the message says which file and why (no stack needed). */
export class OutputFileError extends Error {}

/** The output file of a command, held as a temporary file until the result is complete. */
export class PendingOutput {
  private constructor(
    /** The path the caller asked for. */
    readonly target: string,
    private readonly tempPath: string,
    private handle: fs.promises.FileHandle | undefined,
  ) {}

  /** True once the target holds the result (the temporary file no longer exists). */
  private committed = false;

  /**
   * Creates the temporary file beside `target`.
   * @throws OutputFileError (naming `target`) when it cannot be written there
   */
  static async open(target: string): Promise<PendingOutput> {
    let stat: fs.Stats | undefined;
    try {
      stat = await fs.promises.stat(target);
    } catch {
      stat = undefined; // does not exist yet: the usual case
    }
    if (stat?.isDirectory()) throw new OutputFileError(`${target} is a directory`);
    const resolved = path.resolve(target);
    const dir = path.dirname(resolved);
    if (fs.existsSync(dir)) {
      const problem = await outputFolderProblem(dir);
      if (problem !== undefined) throw new OutputFileError(`cannot write ${target}: ${problem}`);
    }
    const tempPath = path.join(dir, `.${path.basename(resolved)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    try {
      // Tracked before it exists: a signal during the open must not leave it behind either.
      track(tempPath);
      return new PendingOutput(target, tempPath, await withTimeout(fs.promises.open(tempPath, 'wx'), `creating a file in ${dir}`));
    } catch (err) {
      untrack(tempPath);
      const e = err as NodeJS.ErrnoException;
      const dirExists = e.code === 'ENOENT' && fs.existsSync(dir);
      const why =
        e.code === 'ENOENT' && !dirExists ? `folder ${dir} does not exist` : e.code === 'ENOTDIR' ? `${dir} is not a folder` : `cannot create a file in ${dir} (${e.code ?? e.message})`;
      throw new OutputFileError(`cannot write ${target}: ${why}`);
    }
  }

  /**
   * Writes `data` to the temporary file and renames it over the target.
   * @throws OutputFileError when that fails (the temporary file is then removed)
   */
  async commit(data: Uint8Array | string): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new OutputFileError(`${this.target}: output already committed or discarded`);
    try {
      await handle.writeFile(data);
      await handle.close();
      this.handle = undefined;
      await fs.promises.rename(this.tempPath, this.target);
      this.committed = true;
      untrack(this.tempPath);
    } catch (err) {
      await this.discard();
      throw new OutputFileError(`cannot write ${this.target}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Removes the temporary file (idempotent; nothing to do after a commit). */
  async discard(): Promise<void> {
    if (this.committed) return;
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await handle.close().catch(() => undefined);
    await fs.promises.rm(this.tempPath, { force: true }).catch(() => undefined);
    untrack(this.tempPath);
  }
}
