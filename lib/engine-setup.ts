/**
 * What every model class does before it has an engine: check the load options shared by
 * SentenceEncoder and CrossEncoder (device, precision, token budget, Hub), resolve the device,
 * fetch the model folder, and create the native engine with the caller's stack on its errors.
 * One place, so a new load option or device rule is a one-place change for every model kind.
 */
import type { HubOptions } from './hub';
import { resolveModelFolder } from './model-source';
import { native, withCallerStack, type NativeEngine, type NativeModelSpec } from './native';
import { describeValue, type OptionSpec } from './options';
import { SbertError } from './errors';
import { isPrecision, type Precision } from './precision';
import { checkBatchTokens, CPU_BATCH_TOKENS, CPU_LOW_PRECISION_BATCH_TOKENS, CUDA_BATCH_TOKENS } from './token-budget';

export type Device = 'auto' | 'cpu' | 'cuda' | `cuda:${number}`;
export type { Precision } from './precision';

/** The load options every model kind takes. */
export interface EngineLoadOptions extends Pick<HubOptions, 'revision' | 'cacheDir' | 'token' | 'offline' | 'endpoint'> {
  /** Hub downloads only: called as bytes arrive. */
  onDownloadProgress?: HubOptions['onProgress'];
  /** 'auto' (default) uses the first CUDA device when there is one, else the CPU. */
  device?: Device;
  /**
   * The precision the engine computes the encoder's Linear layers in; default: the device's
   * own (fp16 on a GPU, fp32 on the CPU).
   * - GPU: 'fp16', 'bf16' or 'fp32' storage, fp32 accumulation.
   * - CPU: 'fp32'; 'int8' (weights quantized per output channel at load, activations per token
   *   at run time, int32 dot products: AVX512-VNNI / AVX-VNNI / AVX2 / AMX; needs AVX2) or
   *   'bf16' (AMX or AVX512-BF16; needs avx512_bf16). Attention, LayerNorm, GELU, pooling and
   *   the Dense modules / heads stay fp32. Their accuracy and speed are measured in the README.
   * A precision this device cannot run rejects with ERR_UNSUPPORTED naming what is missing
   * ('fp16' on the CPU, 'int8' on a GPU, bf16 without avx512_bf16, int8 without AVX2).
   * The model's `precision` and each result's `computePrecision` say what was used.
   */
  precision?: Precision;
  /**
   * Default token budget of one native call (sum of sequence lengths, special tokens included;
   * 8,192 on the CPU — 2,048 in int8 and bf16, whose faster GEMMs make larger calls
   * memory-bound — and 65,536 on a GPU). The engine also keeps workspaces for this many tokens
   * between calls; a call asking for more releases its larger workspaces after.
   */
  batchTokens?: number;
}

/** The checks of {@link EngineLoadOptions}' keys, for checkOptions (extended by each model kind). */
export const ENGINE_LOAD_OPTIONS: OptionSpec = {
  device: 'string',
  precision: 'any',
  batchTokens: 'any',
  revision: 'string',
  cacheDir: 'string',
  token: (v, name) => {
    if (v !== false && typeof v !== 'string') throw new TypeError(`${name} must be a string or false (got ${describeValue(v)})`);
  },
  offline: 'boolean',
  endpoint: 'string',
  onDownloadProgress: 'function',
};

/** sentence-transformers' Python names for the same options. */
export const ENGINE_LOAD_ALIASES = { batchSize: 'batchTokens', cacheFolder: 'cacheDir', localFilesOnly: 'offline', useAuthToken: 'token' };

/** Resolves a device string to the engine kind and index; throws when it cannot be used. */
export function resolveDevice(device: Device): { kind: 'cpu' | 'cuda'; index: number } {
  if (device === 'cpu') return { kind: 'cpu', index: 0 };
  const addon = native();
  const cudaDevices = addon.cudaDevices();
  if (device === 'auto') return cudaDevices.length > 0 ? { kind: 'cuda', index: 0 } : { kind: 'cpu', index: 0 };
  const m = /^cuda(?::(\d+))?$/.exec(String(device));
  if (!m) throw new RangeError(`options.device must be 'auto', 'cpu', 'cuda' or 'cuda:N' (got ${JSON.stringify(device)})`);
  const index = m[1] === undefined ? 0 : Number(m[1]);
  if (!addon.buildInfo().cuda.compiled) {
    throw new SbertError(
      'ERR_NO_CUDA',
      `device '${device}': this addon was built without the CUDA engine (the prebuilt addon has it; or reinstall with SBERT_CUDA=ON npm install --build-from-source) — use device: 'cpu' or 'auto'`,
    );
  }
  if (index >= cudaDevices.length) {
    throw new SbertError(
      'ERR_NO_CUDA',
      cudaDevices.length === 0
        ? `device '${device}': no NVIDIA GPU/driver found (CUDA says: ${addon.buildInfo().cuda.status}) — use device: 'cpu', or 'auto' to take a GPU when there is one`
        : `device '${device}' was asked for but only ${cudaDevices.length} CUDA device(s) exist`,
    );
  }
  return { kind: 'cuda', index };
}

/** The engine settings a load resolved: where it runs, in what precision, with what default budget. */
export interface EngineSetup {
  device: { kind: 'cpu' | 'cuda'; index: number };
  /** The precision asked of the engine (undefined: the device's default). */
  precision: Precision | undefined;
  /**
   * The precision the engine computes in: `precision`, else the device's default (fp16 on a GPU,
   * fp32 on the CPU). The engine refuses at creation what it cannot run (ERR_UNSUPPORTED).
   */
  computePrecision: Precision;
  batchTokens: number;
}

/**
 * Checks the value ranges of the shared load options (their keys and types are checked by
 * checkOptions with {@link ENGINE_LOAD_OPTIONS}) and resolves the device. Throws before any
 * download or allocation.
 */
export function engineSetup(options: EngineLoadOptions): EngineSetup {
  const precision = options.precision;
  if (precision !== undefined && !isPrecision(precision)) {
    throw new RangeError(
      `options.precision must be 'fp32', 'int8' or 'bf16' on the CPU, 'fp16', 'bf16' or 'fp32' on a GPU (got ${JSON.stringify(precision)})`,
    );
  }
  const device = resolveDevice(options.device ?? 'auto');
  const computePrecision = precision ?? (device.kind === 'cuda' ? 'fp16' : 'fp32');
  const defaultBudget = device.kind === 'cuda' ? CUDA_BATCH_TOKENS
    : computePrecision === 'int8' || computePrecision === 'bf16' ? CPU_LOW_PRECISION_BATCH_TOKENS : CPU_BATCH_TOKENS;
  const batchTokens = checkBatchTokens(options.batchTokens ?? defaultBudget, 'options.batchTokens');
  return { device, precision, computePrecision, batchTokens };
}

/** The local folder of `name` (a folder, 'default'/undefined, or a Hub id fetched into the shared cache). */
export function fetchModelFolder(name: string | undefined, options: EngineLoadOptions): Promise<string> {
  return resolveModelFolder(name, {
    revision: options.revision, cacheDir: options.cacheDir, token: options.token, offline: options.offline,
    endpoint: options.endpoint, onProgress: options.onDownloadProgress,
  });
}

/** Creates the engine for `spec`; its errors carry the frames of the load call that asked (`callerStack`). */
export async function startEngine(spec: NativeModelSpec, setup: EngineSetup, callerStack: string | undefined): Promise<NativeEngine> {
  try {
    return await native().createEngine({
      spec,
      device: setup.device.kind,
      deviceIndex: setup.device.index,
      // The device's default when not given; one it cannot run rejects with ERR_UNSUPPORTED.
      ...(setup.precision !== undefined ? { precision: setup.precision } : {}),
      // Workspaces for the default budget stay allocated between calls (see EngineLoadOptions).
      retainTokens: setup.batchTokens,
    });
  } catch (err) {
    throw withCallerStack(err, callerStack);
  }
}
