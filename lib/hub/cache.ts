/**
 * The Hugging Face cache layout, shared with Python's huggingface_hub (file_download.py):
 *
 *   <cache>/models--org--name/blobs/<etag>                 file contents, named by ETag
 *                            /refs/<revision>              the commit a branch/tag resolved to
 *                            /snapshots/<commit>/<path>    relative symlink → ../../blobs/<etag>
 *                            /.no_exist/<commit>/<path>    empty: the Hub said the file is absent
 *   <cache>/.locks/models--org--name/<etag>.sbert.lock     our download lock (see FileLock)
 *
 * Every write is a temporary file renamed into place, so a reader (or a Python process) never
 * sees a half-written ref, blob or link.
 */
import { randomBytes } from 'crypto';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';

export const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** `models--org--name` (repo_folder_name in huggingface_hub). */
export function repoFolderName(repoId: string): string {
  return ['models', ...repoId.split('/')].join('--');
}

export class RepoCache {
  readonly storage: string;
  readonly locks: string;

  constructor(readonly cacheDir: string, readonly repoId: string) {
    this.storage = path.join(cacheDir, repoFolderName(repoId));
    this.locks = path.join(cacheDir, '.locks', repoFolderName(repoId));
  }

  snapshot(commit: string): string {
    return path.join(this.storage, 'snapshots', commit);
  }

  pointer(commit: string, file: string): string {
    return path.join(this.snapshot(commit), ...file.split('/'));
  }

  blob(etag: string): string {
    return path.join(this.storage, 'blobs', etag);
  }

  /** The commit a revision names: itself when it is a commit hash, else refs/<revision>. */
  async commitFor(revision: string): Promise<string | undefined> {
    if (COMMIT_HASH.test(revision)) return revision;
    try {
      const commit = (await fsp.readFile(path.join(this.storage, 'refs', ...revision.split('/')), 'utf8')).trim();
      return COMMIT_HASH.test(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records refs/<revision> → commit (nothing for a commit hash, nothing when unchanged). */
  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    const ref = path.join(this.storage, 'refs', ...revision.split('/'));
    if ((await this.commitFor(revision)) === commit) return;
    await writeAtomic(ref, commit);
  }

  /** Records that the Hub has no `file` at `commit` (what Python caches after an EntryNotFound). */
  async writeNoExist(commit: string, file: string): Promise<void> {
    await writeAtomic(path.join(this.storage, '.no_exist', commit, ...file.split('/')), '');
  }

  /** snapshots/<commit>/<file> → the blob, as a relative symlink (a copy where links fail). */
  async link(commit: string, file: string, etag: string): Promise<void> {
    const dst = this.pointer(commit, file);
    const src = this.blob(etag);
    await fsp.mkdir(path.dirname(dst), { recursive: true });
    const tmp = `${dst}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await fsp.symlink(path.relative(path.dirname(dst), src), tmp);
    } catch (err) {
      // Windows without the symlink privilege: a copy, as huggingface_hub does.
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
      await fsp.copyFile(src, tmp);
    }
    await fsp.rename(tmp, dst);
  }
}

/** Writes `content` to `file` through a temporary file and a rename. */
export async function writeAtomic(file: string, content: string | Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await fsp.writeFile(tmp, content);
  await fsp.rename(tmp, file);
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.stat(p);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A lock file created with O_EXCL, holding `{pid, host}` and touched every few seconds while
 * held. Node has no flock(2), so a lock whose owner died is recognised as stale (same host and
 * the pid is gone, or not touched for STALE_MS) and taken over. Python's own locks are separate
 * files (`<etag>.lock`, held with flock and never deleted); the cache stays correct between the
 * two because every blob is written to a private temporary file and renamed into place.
 */
export class FileLock {
  static readonly STALE_MS = 30_000;
  static readonly TOUCH_MS = 5_000;
  private timer?: NodeJS.Timeout;

  private constructor(readonly file: string) {}

  /** Waits for the lock (checking `done()` between tries: when it is true, no lock is needed). */
  static async acquire(file: string, done: () => Promise<boolean>): Promise<FileLock | undefined> {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const me = JSON.stringify({ pid: process.pid, host: os.hostname() });
    for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
      try {
        const fh = await fsp.open(file, 'wx');
        await fh.writeFile(me);
        await fh.close();
        const lock = new FileLock(file);
        lock.timer = setInterval(() => {
          const now = new Date();
          fsp.utimes(file, now, now).catch(() => undefined);
        }, FileLock.TOUCH_MS);
        lock.timer.unref();
        return lock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (await done()) return undefined;
      if (await FileLock.isStale(file)) {
        await fsp.rm(file, { force: true });
        continue;
      }
      await sleep(wait);
    }
  }

  private static async isStale(file: string): Promise<boolean> {
    try {
      const [text, st] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
      if (Date.now() - st.mtimeMs > FileLock.STALE_MS) return true;
      const owner = JSON.parse(text) as { pid?: number; host?: string };
      if (owner.host !== os.hostname() || typeof owner.pid !== 'number') return false;
      try {
        process.kill(owner.pid, 0);
        return false;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH';
      }
    } catch {
      return false; // being written or just removed: look again
    }
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await fsp.rm(this.file, { force: true });
  }
}
