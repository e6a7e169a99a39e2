/**
 * The Hub's HTTP protocol as huggingface_hub speaks it (file_download.py, utils/_http.py):
 * `GET {endpoint}/api/models/{repo}/revision/{rev}` for the commit and file list, `HEAD` then
 * `GET {endpoint}/{repo}/resolve/{commit}/{file}` for a file. Relative redirects (a renamed
 * repository) are followed with the token; an absolute redirect to another host (the CDN) is
 * followed without the `authorization` header, which must never leave the Hub's origin.
 * Errors carry the Hub's `X-Error-Code` / `X-Error-Message` into an SbertError.
 */
import { SbertError } from '../errors';

/** What a HEAD of a resolve URL says about a file. */
export interface FileMetadata {
  /** X-Repo-Commit. */
  commit: string;
  /** X-Linked-Etag (LFS: the SHA-256) or ETag (git: the blob SHA-1), without quotes or W/. */
  etag: string;
  /** X-Linked-Size or Content-Length. */
  size: number;
  /** Where to GET the bytes: the CDN location of a redirect, else the (renamed) resolve URL. */
  location: string;
}

const VERSION = (() => {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

export const USER_AGENT = `sbert-native/${VERSION}; node/${process.versions.node}`;
const MAX_REDIRECTS = 10;
const METADATA_TIMEOUT_MS = 10_000;

/** Request headers for the Hub: user agent, identity encoding (real sizes), bearer token. */
export function hubHeaders(token: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-encoding': 'identity', ...extra };
  if (token) h.authorization = `Bearer ${token}`;
  return h;
}

/** The headers to send to `url`: without the token when it is not on the Hub's origin. */
export function headersFor(url: string, hubOrigin: string, headers: Record<string, string>): Record<string, string> {
  if (new URL(url).origin === hubOrigin) return headers;
  const { authorization: _dropped, ...rest } = headers;
  return rest;
}

/** Wraps fetch's network failures (refused, reset, DNS, timeout) as ERR_HUB with the cause. */
export async function send(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'manual' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw Object.assign(new SbertError('ERR_HUB', `${what}: cannot reach ${new URL(url).origin} (${why})`, { cause: err }), { network: true });
  }
}

/** True for the ERR_HUB thrown when the Hub could not be reached at all (try the cache). */
export function isNetworkError(err: unknown): boolean {
  return err instanceof SbertError && (err as { network?: boolean }).network === true;
}

/**
 * Sends a request and follows redirects: relative ones (same host) keep the headers, absolute
 * ones to another origin drop the token. With `stopAtAbsolute`, an absolute redirect is
 * returned instead of followed (a HEAD wants its X-Linked-* headers).
 */
export async function request(
  url: string,
  init: { method: string; headers: Record<string, string>; signal?: AbortSignal },
  hubOrigin: string,
  what: string,
  stopAtAbsolute = false,
): Promise<{ response: Response; url: string }> {
  let current = url;
  for (let i = 0; i <= MAX_REDIRECTS; i++) {
    const response = await send(current, { method: init.method, headers: headersFor(current, hubOrigin, init.headers), signal: init.signal }, what);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status > 399 || location === null) return { response, url: current };
    const relative = !/^[a-z][a-z0-9+.-]*:/i.test(location) && !location.startsWith('//');
    if (!relative && stopAtAbsolute) return { response, url: current };
    await response.body?.cancel();
    current = new URL(location, current).toString();
  }
  throw new SbertError('ERR_HUB', `${what}: more than ${MAX_REDIRECTS} redirects from ${url}`);
}

/** Turns a Hub error response into the SbertError a user can act on. */
export async function hubError(response: Response, repoId: string, what: string, tokenSent: boolean): Promise<SbertError> {
  const code = response.headers.get('x-error-code');
  const message = response.headers.get('x-error-message') ?? (await response.text().catch(() => '')).slice(0, 200);
  await response.body?.cancel().catch(() => undefined);
  const detail = `${response.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  const tokenHelp = tokenSent
    ? 'the token that was sent has no access: check it, or request access on the model page if the model is gated'
    : 'no token was sent: set HF_TOKEN (or run `huggingface-cli login`, or pass { token }) for a private or gated model';
  if (code === 'GatedRepo') {
    return new SbertError('ERR_HUB_AUTH', `${what}: ${repoId} is a gated model (${detail}); ${tokenHelp}`);
  }
  if (code === 'EntryNotFound') return new SbertError('ERR_HUB_NOT_FOUND', `${what}: no such file in ${repoId} (${detail})`);
  if (code === 'RevisionNotFound') return new SbertError('ERR_HUB_NOT_FOUND', `${what}: no such revision of ${repoId} (${detail})`);
  if (response.status === 401 || response.status === 403 || code === 'RepoNotFound') {
    const kind = response.status === 404 ? 'ERR_HUB_NOT_FOUND' : 'ERR_HUB_AUTH';
    return new SbertError(kind, `${what}: ${repoId} was not found or needs a token (${detail}); ${tokenHelp}`);
  }
  if (response.status === 404) return new SbertError('ERR_HUB_NOT_FOUND', `${what}: not found (${detail})`);
  return new SbertError('ERR_HUB', `${what}: the Hub answered ${detail}`);
}

/** `GET /api/models/{repo}/revision/{rev}`: the commit and the repository's file list. */
export async function repoInfo(
  endpoint: string,
  repoId: string,
  revision: string,
  token: string | undefined,
): Promise<{ commit: string; files: string[] }> {
  const url = `${endpoint}/api/models/${repoId}/revision/${encodeURIComponent(revision)}`;
  const what = `${repoId}@${revision}`;
  const { response } = await request(url, { method: 'GET', headers: hubHeaders(token, { accept: 'application/json' }), signal: AbortSignal.timeout(METADATA_TIMEOUT_MS) }, new URL(endpoint).origin, what);
  if (!response.ok) throw await hubError(response, repoId, what, token !== undefined);
  let body: { sha?: unknown; siblings?: unknown };
  try {
    body = (await response.json()) as typeof body;
  } catch (err) {
    throw new SbertError('ERR_HUB', `${what}: the Hub's answer is not JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof body.sha !== 'string' || !/^[0-9a-f]{40}$/.test(body.sha) || !Array.isArray(body.siblings)) {
    throw new SbertError('ERR_HUB', `${what}: the Hub's answer has no commit "sha" and "siblings" list`);
  }
  const files = body.siblings
    .map((s) => (s !== null && typeof s === 'object' ? (s as { rfilename?: unknown }).rfilename : undefined))
    .filter((f): f is string => typeof f === 'string');
  return { commit: body.sha, files };
}

const normalizeEtag = (etag: string | null): string | undefined => etag?.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;

/** `HEAD {endpoint}/{repo}/resolve/{commit}/{file}` (get_hf_file_metadata). */
export async function fileMetadata(
  endpoint: string,
  repoId: string,
  commit: string,
  file: string,
  token: string | undefined,
): Promise<FileMetadata> {
  const url = `${endpoint}/${repoId}/resolve/${encodeURIComponent(commit)}/${file.split('/').map(encodeURIComponent).join('/')}`;
  const what = `${repoId}/${file}`;
  const { response, url: finalUrl } = await request(url, { method: 'HEAD', headers: hubHeaders(token), signal: AbortSignal.timeout(METADATA_TIMEOUT_MS) }, new URL(endpoint).origin, what, true);
  if (response.status >= 400) throw await hubError(response, repoId, what, token !== undefined);
  const h = response.headers;
  const redirected = response.status >= 300;
  const repoCommit = h.get('x-repo-commit');
  const etag = normalizeEtag(h.get('x-linked-etag') ?? h.get('etag'));
  const size = Number(h.get('x-linked-size') ?? (redirected ? null : h.get('content-length')));
  if (!repoCommit) throw new SbertError('ERR_HUB', `${what}: no X-Repo-Commit header; is ${endpoint} a Hugging Face Hub (or is a proxy in the way)?`);
  if (!etag) throw new SbertError('ERR_HUB', `${what}: no ETag header, so the download cannot be checked`);
  // The ETag names the blob file: nothing but a plain file name is accepted.
  if (!/^[\w.+-]{1,200}$/.test(etag) || etag.includes('..')) throw new SbertError('ERR_HUB', `${what}: ETag ${JSON.stringify(etag.slice(0, 80))} is not a valid blob name`);
  if (!Number.isSafeInteger(size) || size < 0 || (redirected && h.get('x-linked-size') === null)) {
    throw new SbertError('ERR_HUB', `${what}: no file size (X-Linked-Size or Content-Length)`);
  }
  const location = redirected ? new URL(h.get('location') as string, finalUrl).toString() : finalUrl;
  return { commit: repoCommit, etag, size, location };
}
