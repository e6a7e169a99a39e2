/**
 * Loads the compiled addon and gives its surface types. The addon is looked for, in order, at
 * `$SBERT_NATIVE_ADDON`, the cmake-js build (`build/Release`), and the node-gyp CPU-only build
 * (`build-gyp/build/Release`). Nothing here runs at import time: the addon is loaded on first use
 * so that a missing build gives a clear error instead of a failed `require`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SbertError } from './errors';

export interface CudaDeviceInfo {
  index: number;
  name: string;
  /** e.g. "9.0" for H100/H200. */
  computeCapability: string;
  /** Bytes of device memory. */
  totalMemory: number;
  multiProcessorCount: number;
}

export interface BuildInfo {
  version: string;
  cuda: { compiled: boolean; runtimeVersion?: number; driverVersion?: number; status: string };
  cpu: { threads: number; hardwareConcurrency: number; avx2: boolean; avx512: boolean; gemmKernel: string };
  /** Path of the addon that was loaded. */
  addonPath: string;
}

/** A tensor handed to native code: raw little-endian bytes plus dtype and shape. */
export interface NativeTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

export interface NativeModelSpec {
  shape: {
    vocabSize: number;
    hiddenSize: number;
    numLayers: number;
    numHeads: number;
    intermediateSize: number;
    maxPositions: number;
    typeVocabSize: number;
    layerNormEps: number;
  };
  tensors: Record<string, NativeTensor>;
  pooling: string[];
  dense: { inFeatures: number; outFeatures: number; activation: string; weight: NativeTensor; bias?: NativeTensor }[];
  normalize: boolean;
  device: 'cpu' | 'cuda';
  deviceIndex: number;
  precision: 'fp16' | 'bf16' | 'fp32';
}

export interface NativeEncodeOptions {
  sentence: boolean;
  tokens: boolean;
  /** 'model' applies the model's Normalize module, 'force' always normalizes, 'none' never. */
  normalize: 'model' | 'force' | 'none';
  /** The caller's token budget: engines with activation buffers (CUDA) size them for it once. */
  reserveTokens?: number;
}

export interface NativeEngine {
  encode(
    ids: Int32Array,
    typeIds: Int32Array | null,
    cuSeqlens: Int32Array,
    options: NativeEncodeOptions,
  ): Promise<{ sentence?: Float32Array; tokens?: Float32Array }>;
  dispose(): void;
  readonly disposed: boolean;
  readonly deviceName: string;
  readonly memoryBytes: number;
  readonly sentenceDim: number;
}

export interface NativeAddon {
  buildInfo(): Omit<BuildInfo, 'addonPath'>;
  cudaDevices(): CudaDeviceInfo[];
  createEngine(spec: NativeModelSpec): Promise<NativeEngine>;
  createTrainer(spec: NativeModelSpec, options: NativeTrainerOptions): Promise<NativeTrainer>;
  [name: string]: unknown;
}

// ---- training (native/cpp/binding/trainer_binding.cc; used by lib/train) ----

/** The five sentence-transformers losses the native trainer implements. */
export type NativeLossName = 'softmax' | 'cosine' | 'triplet' | 'mnrl' | 'mse';

export interface NativeTrainerOptions {
  loss: NativeLossName;
  /** Texts per example; the batch's texts arrive example-major (text j of example e is e*k + j). */
  textsPerExample: number;
  numLabels?: number;
  margin?: number;
  scale?: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global gradient-norm clip; Infinity disables clipping. */
  maxGradNorm: number;
  dropout: boolean;
  seed: number;
  /** Softmax only: the classifier's initial values instead of the seeded nn.Linear init. */
  classifier?: { weight: Float32Array; bias: Float32Array };
}

export interface NativeTrainStep {
  ids: Int32Array;
  cuSeqlens: Int32Array;
  /** One per example: the cosine target, or the softmax class index. */
  labels?: Float32Array;
  /** mse: [examples, sentenceDim] target embeddings. */
  targets?: Float32Array;
  learningRate: number;
}

export interface NativeTrainer {
  /** One optimizer step: zero grads, forward, loss, backward, clip, AdamW. */
  step(batch: NativeTrainStep): Promise<{ loss: number; gradNorm: number }>;
  /** Eval-mode sentence embeddings with the current weights, [n, sentenceDim]. */
  encode(ids: Int32Array, cuSeqlens: Int32Array): Promise<Float32Array>;
  /** Snapshot of the model parameters (canonical names, PyTorch shapes, fp32); no loss parameters. */
  parameters(): Promise<{ name: string; shape: number[]; data: Float32Array }[]>;
  dispose(): void;
  readonly disposed: boolean;
  readonly sentenceDim: number;
}

let cached: { addon: NativeAddon; path: string } | undefined;

function candidates(): string[] {
  const root = path.resolve(__dirname, '..');
  const list: string[] = [];
  if (process.env.SBERT_NATIVE_ADDON) list.push(path.resolve(process.env.SBERT_NATIVE_ADDON));
  list.push(path.join(root, 'build', 'Release', 'sbert_native.node'));
  list.push(path.join(root, 'build', 'Debug', 'sbert_native.node'));
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

/** Re-throws a native error as SbertError when it carries one of our codes. */
export function wrapNativeError(err: unknown, stack?: string): unknown {
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && !(err instanceof TypeError) && !(err instanceof RangeError)) {
    const code = (err as unknown as { code: string }).code;
    const wrapped = new SbertError(code as SbertError['code'], err.message, { cause: err });
    if (stack) wrapped.stack = `${wrapped.name} [${code}]: ${err.message}\n${stack.split('\n').slice(1).join('\n')}`;
    return wrapped;
  }
  return err;
}
