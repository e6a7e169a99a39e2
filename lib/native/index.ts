/**
 * Loads the compiled addon and gives its surface types. The addon is looked for, in order, at
 * `$SBERT_NATIVE_ADDON`, the cmake-js build (`build/Release`), the CPU-only cmake-js build of
 * `npm run build:native:cpu` (`build-cpu/Release`), and the node-gyp CPU-only build
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

/** What the optimizer needs to know about a parameter (no weight decay on biases and LayerNorm). */
export type NativeParamRole = 'embedding' | 'weight' | 'bias' | 'layernorm_weight' | 'layernorm_bias';

/**
 * One model parameter: canonical name, PyTorch shape, file dtype, and where its bytes are — a
 * view in memory, or a file and byte offset that native code reads itself.
 */
export interface NativeParam {
  name: string;
  shape: number[];
  dtype: 'F32' | 'F16' | 'BF16';
  role: NativeParamRole;
  bytes?: Uint8Array;
  file?: string;
  offset?: number;
}

/**
 * The model plan (native/cpp/engine/model_plan.h), built by lib/weights/plan.ts: parameters
 * once, everything else by index into `params`.
 */
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
    hiddenDropout: number;
    attentionDropout: number;
  };
  params: NativeParam[];
  embeddings: { word: number; position: number; tokenType: number; lnGamma: number; lnBeta: number };
  layers: {
    query: number; queryBias: number; key: number; keyBias: number; value: number; valueBias: number;
    attnOut: number; attnOutBias: number; attnLnGamma: number; attnLnBeta: number;
    ffnIn: number; ffnInBias: number; ffnOut: number; ffnOutBias: number; ffnLnGamma: number; ffnLnBeta: number;
  }[];
  pooling: string[];
  /** `bias` is -1 when the module has none. */
  dense: { inFeatures: number; outFeatures: number; activation: string; weight: number; bias: number }[];
  normalize: boolean;
  sentenceDim: number;
}

export interface NativeEngineOptions {
  spec: NativeModelSpec;
  device: 'cpu' | 'cuda';
  deviceIndex: number;
  precision: 'fp16' | 'bf16' | 'fp32';
  /** Workspaces for up to this many tokens stay allocated between calls. */
  retainTokens: number;
}

export interface NativeEncodeOptions {
  sentence: boolean;
  tokens: boolean;
  /** L2-normalize even when the model has no Normalize module. */
  normalize: boolean;
  /**
   * Pooling leaves out the first N tokens of every sequence (a prompt under `include_prompt:
   * false`); token embeddings are not affected. Default 0.
   */
  poolSkipTokens?: number;
}

export interface NativeEngine {
  encode(args: NativeEncodeOptions & { ids: Int32Array; cuSeqlens: Int32Array }): Promise<{ sentence?: Float32Array; tokens?: Float32Array }>;
  dispose(): void;
  readonly disposed: boolean;
  readonly deviceName: string;
  readonly memoryBytes: number;
  readonly sentenceDim: number;
}

export interface NativeAddon {
  buildInfo(): Omit<BuildInfo, 'addonPath'>;
  cudaDevices(): CudaDeviceInfo[];
  createEngine(options: NativeEngineOptions): Promise<NativeEngine>;
  setErrorClass(cls: typeof SbertError): void;
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
