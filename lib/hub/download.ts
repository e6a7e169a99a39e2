/**
 * downloadModel / resolveModel: a model id (`org/name`) becomes a local snapshot folder in the
 * shared Hugging Face cache, downloading only the files the model needs. A model Python's
 * huggingface_hub already cached is used as is, with no network call when the revision is a
 * commit hash or when offline; what we download is laid out exactly as Python lays it out.
 */
import { createHash } from 'crypto';
import { createReadStream, promises as fsp } from 'fs';
import * as path from 'path';
import { badModel, SbertError } from '../errors';
import { checkOptions } from '../options';
import { COMMIT_HASH, exists, FileLock, RepoCache } from './cache';
import { missingFromSnapshot, selectModelFiles, transformerFolder } from './files';
import { missingTokenizerReason } from '../tokenizer/missing';
import { FileMetadata, fileMetadata, hubError, hubHeaders, isNetworkError, repoInfo, request } from './http';
import * as settings from './settings';
import type { DownloadProgress, HubOptions } from './settings';

/** huggingface_hub's validate_repo_id: `name` or `namespace/name`, letters, digits, `-_.`. */
const REPO_ID = /^(?:[\w][\w.-]{0,95}\/)?[\w][\w.-]{0,95}$/;

/** True for a string that is a valid Hub model id. */
export function isRepoId(s: string): boolean {
  return REPO_ID.test(s) && !s.includes('--') && !s.includes('..') && !/[.-]$/.test(s) && !/[.-]\//.test(s);
}

/** Attempts per file when the connection drops mid-body (each resumes with Range). */
const MAX_ATTEMPTS = 5;

/** Aggregates per-file byte counts into DownloadProgress events. */
class ProgressTracker {
  bytes = 0;
  filesDone = 0;
  constructor(readonly totalBytes: number, readonly filesTotal: number, private readonly callback?: (p: DownloadProgress) => void) {}
  report(file: string, fileBytes: number, fileSize: number, delta: number): void {
    this.bytes += delta;
    this.callback?.({ file, fileBytes, fileSize, bytes: this.bytes, totalBytes: this.totalBytes, filesDone: this.filesDone, filesTotal: this.filesTotal });
  }
}

/** The hash an ETag promises: SHA-256 for LFS files, the git blob SHA-1 for the others. */
async function checkEtag(file: string, etag: string, size: number, what: string): Promise<void> {
  let hash;
  if (/^[0-9a-f]{64}$/.test(etag)) hash = createHash('sha256');
  else if (/^[0-9a-f]{40}$/.test(etag)) hash = createHash('sha1').update(`blob ${size}\0`);
  else return; // an opaque ETag (a mirror): the size check is all there is
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const got = hash.digest('hex');
  if (got !== etag) throw new SbertError('ERR_HUB', `${what}: the downloaded bytes hash to ${got}, not the ETag ${etag}; the partial file was removed, run again`);
}

/**
 * Fetches one blob into `<blob>.sbert.incomplete`, resuming what an earlier attempt or process
 * left there with `Range`, checks size and hash, and renames it to the blob.
 */
async function fetchBlob(repoId: string, file: string, meta: FileMetadata, blob: string, hubOrigin: string, token: string | undefined, progress: ProgressTracker): Promise<void> {
  const what = `${repoId}/${file}`;
  const partial = `${blob}.sbert.incomplete`;
  await fsp.mkdir(path.dirname(blob), { recursive: true });
  let have = 0;
  try {
    have = (await fsp.stat(partial)).size;
  } catch {
    have = 0;
  }
  if (have > meta.size) {
    await fsp.truncate(partial, 0);
    have = 0;
  }
  progress.report(file, have, meta.size, have);
  let lastError: unknown;
  const stallMs = settings.downloadTimeoutMs();
  for (let attempt = 0; attempt < MAX_ATTEMPTS && have < meta.size; attempt++) {
    const headers = hubHeaders(token, have > 0 ? { range: `bytes=${have}-` } : {});
    // Aborted when no byte arrives for stallMs (huggingface_hub's read timeout), then resumed.
    const stall = new AbortController();
    const arm = (): NodeJS.Timeout => setTimeout(() => stall.abort(new Error(`no data for ${stallMs} ms`)), stallMs);
    let timer = arm();
    const alive = (): void => {
      clearTimeout(timer);
      timer = arm();
    };
    let response: Response;
    try {
      ({ response } = await request(meta.location, { method: 'GET', headers, signal: stall.signal }, hubOrigin, what));
    } catch (err) {
      clearTimeout(timer);
      if (!isNetworkError(err)) throw err;
      lastError = err; // refused or reset before the body: try again
      continue;
    }
    if (response.status === 416 && have > 0) {
      clearTimeout(timer);
      await response.body?.cancel();
      break; // nothing left to send: the size check below decides
    }
    if (!response.ok) {
      clearTimeout(timer);
      throw await hubError(response, repoId, what, token !== undefined);
    }
    if (have > 0 && response.status !== 206) {
      // The server ignored Range: start over rather than append the whole file again.
      progress.report(file, 0, meta.size, -have);
      have = 0;
    }
    const fh = await fsp.open(partial, have > 0 ? 'a' : 'w');
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        alive();
        await fh.write(chunk);
        have += chunk.byteLength;
        progress.report(file, have, meta.size, chunk.byteLength);
        if (have > meta.size) break;
      }
    } catch (err) {
      lastError = err; // connection dropped mid-body: resume from what was written
    } finally {
      clearTimeout(timer);
      await fh.close();
    }
  }
  if (have !== meta.size) {
    if (have > meta.size) await fsp.rm(partial, { force: true });
    throw new SbertError('ERR_HUB', `${what}: received ${have} of ${meta.size} bytes after ${MAX_ATTEMPTS} attempts${lastError ? ` (${(lastError as Error).message})` : ''}; run again to resume`, { cause: lastError });
  }
  try {
    await checkEtag(partial, meta.etag, meta.size, what);
  } catch (err) {
    await fsp.rm(partial, { force: true });
    throw err;
  }
  await fsp.rename(partial, blob);
}

/** Downloads one file of the snapshot (under the per-blob lock) and links it into the snapshot. */
async function downloadFile(cache: RepoCache, commit: string, file: string, meta: FileMetadata, hubOrigin: string, token: string | undefined, progress: ProgressTracker): Promise<void> {
  const blob = cache.blob(meta.etag);
  if (!(await exists(blob))) {
    const lock = await FileLock.acquire(path.join(cache.locks, `${meta.etag}.sbert.lock`), () => exists(blob));
    try {
      if (!(await exists(blob))) await fetchBlob(cache.repoId, file, meta, blob, hubOrigin, token, progress);
    } finally {
      await lock?.release();
    }
  }
  await cache.link(commit, file, meta.etag);
}

/** The snapshot for a revision from the cache alone, or why there is none. */
async function cachedSnapshot(cache: RepoCache, revision: string): Promise<{ dir?: string; why: string }> {
  const commit = await cache.commitFor(revision);
  if (commit === undefined) return { why: `no cached commit for revision ${JSON.stringify(revision)} (no refs/${revision})` };
  const dir = cache.snapshot(commit);
  const missing = await missingFromSnapshot(dir);
  if (missing.length > 0) return { why: `snapshot ${commit} lacks ${missing.join(', ')}` };
  return { dir, why: '' };
}

function checkDownloadArgs(repoId: unknown, options: HubOptions): asserts repoId is string {
  if (typeof repoId !== 'string' || !isRepoId(repoId)) {
    throw new TypeError(`downloadModel: repoId must be a Hugging Face model id such as "sentence-transformers/all-MiniLM-L6-v2", got ${JSON.stringify(repoId)}`);
  }
  if (options === null || typeof options !== 'object') throw new TypeError('downloadModel: options must be an object');
  checkOptions(options, { revision: 'any', cacheDir: 'string', token: 'any', offline: 'boolean', endpoint: 'string', onProgress: 'any' }, { fn: 'downloadModel' });
  if (options.revision !== undefined && (typeof options.revision !== 'string' || options.revision === '' || options.revision.includes('..'))) {
    throw new TypeError('downloadModel: options.revision must be a branch, tag or commit hash');
  }
  if (options.token !== undefined && options.token !== false && typeof options.token !== 'string') {
    throw new TypeError('downloadModel: options.token must be a string or false');
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new TypeError('downloadModel: options.onProgress must be a function');
  }
}

/**
 * Downloads the files a sentence-transformers model needs from the Hugging Face Hub into the
 * shared cache and resolves to the snapshot folder (`…/models--org--name/snapshots/<commit>`).
 * Files already in the cache are not fetched again; offline (`offline` or `HF_HUB_OFFLINE`), or
 * for a commit hash already cached, no request is made. Errors: ERR_HUB_AUTH (private or gated:
 * a token is needed), ERR_HUB_NOT_FOUND, ERR_HUB_OFFLINE (offline and not cached), ERR_HUB.
 */
export async function downloadModel(repoId: string, options: HubOptions = {}): Promise<string> {
  checkDownloadArgs(repoId, options);
  const revision = options.revision ?? settings.DEFAULT_REVISION;
  const cache = new RepoCache(settings.cacheDir(options), repoId);

  if (settings.isOffline(options)) {
    const cached = await cachedSnapshot(cache, revision);
    if (cached.dir) return cached.dir;
    throw new SbertError(
      'ERR_HUB_OFFLINE',
      `${repoId}@${revision}: offline mode (HF_HUB_OFFLINE or { offline: true }) and not in the cache ${cache.cacheDir}: ${cached.why}. ` +
        `To fill the cache, run \`npx sbert download ${repoId}\` once where the Hub is reachable, with the same HF_HUB_CACHE / HF_HOME ` +
        '(or copy a model folder here and pass its path)',
    );
  }
  if (COMMIT_HASH.test(revision)) {
    const cached = await cachedSnapshot(cache, revision);
    if (cached.dir) return cached.dir;
  }

  const endpoint = settings.endpoint(options);
  const hubOrigin = new URL(endpoint).origin;
  const token = settings.token(options);
  let info: { commit: string; files: string[] };
  try {
    info = await repoInfo(endpoint, repoId, revision, token);
  } catch (err) {
    // The Hub cannot be reached: a cached snapshot of this revision still serves (as in Python).
    if (isNetworkError(err)) {
      const cached = await cachedSnapshot(cache, revision);
      if (cached.dir) return cached.dir;
    }
    throw err;
  }
  const { commit, files: repoFiles } = info;
  await cache.writeRef(revision, commit);

  const pending: { file: string; meta: FileMetadata }[] = [];
  const metadata = async (file: string): Promise<FileMetadata> => {
    try {
      return await fileMetadata(endpoint, repoId, commit, file, token);
    } catch (err) {
      if (err instanceof SbertError && err.code === 'ERR_HUB_NOT_FOUND' && /EntryNotFound/.test(err.message)) await cache.writeNoExist(commit, file);
      throw err;
    }
  };
  // modules.json decides which module folders to take, so it comes first.
  let modulesJson: unknown;
  if (repoFiles.includes('modules.json')) {
    const pointer = cache.pointer(commit, 'modules.json');
    if (!(await exists(pointer))) {
      await downloadFile(cache, commit, 'modules.json', await metadata('modules.json'), hubOrigin, token, new ProgressTracker(0, 0));
    }
    try {
      modulesJson = JSON.parse(await fsp.readFile(pointer, 'utf8'));
    } catch (err) {
      throw badModel(pointer, `modules.json is not valid JSON (${(err as Error).message})`, err);
    }
  }
  // A repository without a tokenizer we read is refused before any weights are fetched.
  const tokenizerFolder = transformerFolder(modulesJson);
  const inFolder = new Set(repoFiles.filter((f) => (tokenizerFolder ? f.startsWith(`${tokenizerFolder}/`) && !f.slice(tokenizerFolder.length + 1).includes('/') : !f.includes('/'))).map((f) => f.slice(f.lastIndexOf('/') + 1)));
  const noTokenizer = missingTokenizerReason(inFolder, `${repoId}${tokenizerFolder ? `/${tokenizerFolder}` : ''} (revision ${commit.slice(0, 12)})`);
  if (noTokenizer !== undefined) throw new SbertError('ERR_BAD_MODEL', noTokenizer);
  for (const file of selectModelFiles(repoFiles, modulesJson)) {
    if (!(await exists(cache.pointer(commit, file)))) pending.push({ file, meta: await metadata(file) });
  }
  const progress = new ProgressTracker(pending.reduce((a, p) => a + p.meta.size, 0), pending.length, options.onProgress);
  for (const { file, meta } of pending) {
    await downloadFile(cache, commit, file, meta, hubOrigin, token, progress);
    progress.filesDone++;
    progress.report(file, meta.size, meta.size, 0);
  }
  return cache.snapshot(commit);
}

/** True for strings that can only be meant as a path (never sent to the Hub). */
function looksLikePath(s: string): boolean {
  return path.isAbsolute(s) || /^[.~]/.test(s) || s.includes('\\') || s.split('/').length > 2;
}

/**
 * A model folder for `nameOrPath`: an existing folder is returned as is (absolute); a Hub id
 * (`org/name`) is downloaded into (or found in) the shared Hugging Face cache with
 * downloadModel. Anything else is ERR_BAD_MODEL.
 */
export async function resolveModel(nameOrPath: string, options: HubOptions = {}): Promise<string> {
  if (typeof nameOrPath !== 'string' || nameOrPath === '') throw new TypeError('resolveModel: nameOrPath must be a non-empty string');
  try {
    const st = await fsp.stat(nameOrPath);
    if (st.isDirectory()) return path.resolve(nameOrPath);
    throw badModel(nameOrPath, 'is a file; expected a model folder or a Hugging Face model id');
  } catch (err) {
    if (err instanceof SbertError) throw err;
  }
  if (looksLikePath(nameOrPath) || !isRepoId(nameOrPath)) {
    throw badModel(nameOrPath, 'no such folder, and not a Hugging Face model id (org/name)');
  }
  return downloadModel(nameOrPath, options);
}
