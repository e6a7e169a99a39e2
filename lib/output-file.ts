/**
 * An output file written all at once or not at all: a temporary file is created beside the
 * target before any work starts (so a folder that is missing, read-only or not a real
 * filesystem is refused up front), filled when the result is ready, then renamed over the
 * target. A failed write removes the temporary file and leaves the target as it was, never a
 * partial file.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

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
    const tempPath = path.join(dir, `.${path.basename(resolved)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    try {
      return new PendingOutput(target, tempPath, await fs.promises.open(tempPath, 'wx'));
    } catch (err) {
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
  }
}
