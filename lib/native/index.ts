/**
 * The one place that loads the compiled addon and types it (./types.ts): no other module
 * declares addon types or casts the addon. The addon is looked for, in order, at
 * `$SBERT_NATIVE_ADDON`, the cmake-js build (`build/Release`), the CPU-only cmake-js build of
 * `npm run build:native:cpu` (`build-cpu/Release`), the node-gyp CPU-only build
 * (`build-gyp/build/Release`), and last the prebuilt addon the package ships
 * (`prebuilds/<platform>-<arch>/node.napi.<libc>.node`, made by `npm run prebuild`), chosen by
 * node-gyp-build's rules (platform, arch, libc, N-API) when this Node has the N-API version it
 * was built for. A source build therefore wins over the prebuilt. Nothing here runs at import
 * time: the addon is loaded on first use so that a missing build gives a clear error instead of
 * a failed `require`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SbertError } from '../errors';
import type { NativeAddon } from './types';

export type * from './types';

let cached: { addon: NativeAddon; path: string } | undefined;

/** The N-API version the addon is compiled against (NAPI_VERSION in CMakeLists.txt / binding.gyp). */
const NAPI_VERSION = 8;

/**
 * The shipped prebuilt for this machine as node-gyp-build resolves it among `prebuilds/`, or
 * why there is none (a line for the "tried" list).
 */
function prebuilt(root: string): { file: string } | { why: string } {
  if (!fs.existsSync(path.join(root, 'prebuilds'))) return { why: `${path.join(root, 'prebuilds')} (not found: no prebuilt addons in this copy)` };
  if (Number(process.versions.napi) < NAPI_VERSION) return { why: `prebuilds/ (this Node has N-API ${process.versions.napi}; they need ${NAPI_VERSION})` };
  // node-gyp-build would look in build/ first (tried above); PREBUILDS_ONLY, read when it is
  // first loaded, makes it resolve among prebuilds/ only.
  const before = process.env.PREBUILDS_ONLY;
  process.env.PREBUILDS_ONLY = '1';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    return { file: nodeGypBuild.path(root) };
  } catch (err) {
    return { why: `prebuilds/ (${String((err as Error).message).split('\n')[0]})` };
  } finally {
    if (before === undefined) delete process.env.PREBUILDS_ONLY;
    else process.env.PREBUILDS_ONLY = before;
  }
}

function candidates(): { files: string[]; notes: string[] } {
  const root = path.resolve(__dirname, '..', '..');
  const files: string[] = [];
  if (process.env.SBERT_NATIVE_ADDON) files.push(path.resolve(process.env.SBERT_NATIVE_ADDON));
  files.push(path.join(root, 'build', 'Release', 'sbert_native.node'));
  files.push(path.join(root, 'build', 'Debug', 'sbert_native.node'));
  files.push(path.join(root, 'build-cpu', 'Release', 'sbert_native.node'));
  files.push(path.join(root, 'build-gyp', 'build', 'Release', 'sbert_native.node'));
  const notes: string[] = [];
  if (!process.env.SBERT_NATIVE_ADDON) {
    const p = prebuilt(root);
    if ('file' in p) {
      if (!files.includes(p.file)) files.push(p.file);
    } else {
      notes.push(p.why);
    }
  }
  return { files, notes };
}

/** The loaded addon (loaded once). Throws ERR_NATIVE with the paths tried when none loads. */
export function loadNative(): { addon: NativeAddon; path: string } {
  if (cached) return cached;
  const tried: string[] = [];
  const { files, notes } = candidates();
  for (const file of files) {
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
  tried.push(...notes);
  throw new SbertError(
    'ERR_NATIVE',
    'the sbert-native addon is not built or failed to load: reinstall with `npm install --build-from-source` ' +
      `(or run \`npm run build:native\` in a checkout).\nTried:\n  ${tried.join('\n  ')}`,
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
