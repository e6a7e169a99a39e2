/**
 * The one place that loads the compiled addon and types it (./types.ts): no other module
 * declares addon types or casts the addon. The addon is looked for, in order, at
 * `$SBERT_NATIVE_ADDON`, the cmake-js build (`build/Release`), the CPU-only cmake-js build of
 * `npm run build:native:cpu` (`build-cpu/Release`), and the node-gyp CPU-only build
 * (`build-gyp/build/Release`). Nothing here runs at import time: the addon is loaded on first use
 * so that a missing build gives a clear error instead of a failed `require`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SbertError } from '../errors';
import type { NativeAddon } from './types';

export type * from './types';

let cached: { addon: NativeAddon; path: string } | undefined;

function candidates(): string[] {
  const root = path.resolve(__dirname, '..', '..');
  const list: string[] = [];
  if (process.env.SBERT_NATIVE_ADDON) list.push(path.resolve(process.env.SBERT_NATIVE_ADDON));
  list.push(path.join(root, 'build', 'Release', 'sbert_native.node'));
  list.push(path.join(root, 'build', 'Debug', 'sbert_native.node'));
  list.push(path.join(root, 'build-cpu', 'Release', 'sbert_native.node'));
  list.push(path.join(root, 'build-gyp', 'build', 'Release', 'sbert_native.node'));
  return list;
}

/** The loaded addon (loaded once). Throws ERR_NATIVE with the paths tried when none loads. */
export function loadNative(): { addon: NativeAddon; path: string } {
  if (cached) return cached;
  const tried: string[] = [];
  for (const file of candidates()) {
    if (!fs.existsSync(file)) {
      tried.push(`${file} (not found)`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const addon = require(file) as NativeAddon;
      addon.setErrorClass(SbertError);
      cached = { addon, path: file };
      return cached;
    } catch (err) {
      tried.push(`${file} (${(err as Error).message})`);
      if (process.env.SBERT_NATIVE_ADDON) break;
    }
  }
  throw new SbertError(
    'ERR_NATIVE',
    `the sbert-native addon is not built or failed to load; run \`npm run build:native\`.\nTried:\n  ${tried.join('\n  ')}`,
  );
}

/** The addon's exports. */
export function native(): NativeAddon {
  return loadNative().addon;
}

/**
 * Points a native error's stack at the JS caller (captured with `new Error().stack` before the
 * native call, as sharp does): errors from worker threads otherwise have no JS frames.
 */
export function withCallerStack(err: unknown, stack: string | undefined): unknown {
  if (stack && err instanceof SbertError) {
    err.stack = `${err.name} [${err.code}]: ${err.message}\n${stack.split('\n').slice(1).join('\n')}`;
  }
  return err;
}
