/**
 * Hub settings, resolved the way Python's huggingface_hub resolves them (constants.py,
 * utils/_auth.py) so both share one cache and one login: options first, then the environment
 * (`HF_ENDPOINT`, `HF_TOKEN`, `HF_HOME`, `HF_HUB_CACHE`, `HF_HUB_OFFLINE`, …), then the defaults.
 * Read at call time, not at import, so a process can change its environment between loads.
 */
import { readFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Options every Hub call accepts. */
export interface HubOptions {
  /** Branch, tag or commit hash (default `'main'`). */
  revision?: string;
  /** Cache folder (default `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`). */
  cacheDir?: string;
  /**
   * Access token for private and gated models (default `HF_TOKEN`, else the token file
   * `huggingface-cli login` writes: `HF_TOKEN_PATH` or `$HF_HOME/token`). `false`: send none.
   */
  token?: string | false;
  /** Use only the cache, never the network (default `HF_HUB_OFFLINE`). */
  offline?: boolean;
  /** Hub address (default `HF_ENDPOINT`, else `https://huggingface.co`). */
  endpoint?: string;
  /** Called as bytes arrive (see DownloadProgress). */
  onProgress?: (progress: DownloadProgress) => void;
}

/** Where a download stands; `totalBytes` counts only the files that are being fetched. */
export interface DownloadProgress {
  /** Repository path of the file being fetched. */
  file: string;
  fileBytes: number;
  fileSize: number;
  /** Bytes of all files fetched so far (resumed bytes included) and to fetch in all. */
  bytes: number;
  totalBytes: number;
  filesDone: number;
  filesTotal: number;
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';

const env = (name: string): string | undefined => {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
};

/** `~` and `$VAR` expansion, as Python's expanduser/expandvars do for these variables. */
function expand(p: string): string {
  const vars = p.replace(/\$(\w+)|\$\{(\w+)\}/g, (m, a, b) => process.env[a ?? b] ?? m);
  return vars === '~' || vars.startsWith('~/') ? path.join(os.homedir(), vars.slice(1)) : vars;
}

/** `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. */
export function hfHome(): string {
  return expand(env('HF_HOME') ?? path.join(env('XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache'), 'huggingface'));
}

/** The hub cache folder for these options. */
export function cacheDir(options: HubOptions = {}): string {
  if (options.cacheDir !== undefined) return path.resolve(expand(options.cacheDir));
  return path.resolve(expand(env('HF_HUB_CACHE') ?? env('HUGGINGFACE_HUB_CACHE') ?? path.join(hfHome(), 'hub')));
}

export function endpoint(options: HubOptions = {}): string {
  return (options.endpoint ?? env('HF_ENDPOINT') ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
}

const TRUE_VALUES = new Set(['1', 'ON', 'YES', 'TRUE']);

export function isOffline(options: HubOptions = {}): boolean {
  if (options.offline !== undefined) return options.offline;
  const v = env('HF_HUB_OFFLINE') ?? env('TRANSFORMERS_OFFLINE');
  return v !== undefined && TRUE_VALUES.has(v.toUpperCase());
}

/** The token to send, or undefined for none (utils/_auth.py: option, env, then the token file). */
export function token(options: HubOptions = {}): string | undefined {
  if (options.token === false) return undefined;
  const clean = (t: string | undefined): string | undefined => t?.replace(/[\r\n]/g, '').trim() || undefined;
  if (options.token !== undefined) return clean(options.token);
  const fromEnv = clean(env('HF_TOKEN') ?? env('HUGGING_FACE_HUB_TOKEN'));
  if (fromEnv) return fromEnv;
  try {
    return clean(readFileSync(expand(env('HF_TOKEN_PATH') ?? path.join(hfHome(), 'token')), 'utf8'));
  } catch {
    return undefined;
  }
}

/** How long a download may go without a byte before it is resumed (HF_HUB_DOWNLOAD_TIMEOUT, seconds; 10 as in Python). */
export function downloadTimeoutMs(): number {
  const s = Number(env('HF_HUB_DOWNLOAD_TIMEOUT') ?? 10);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 10_000;
}
