/**
 * The addon's surface, typed once (native/cpp/binding/*.cc are the implementations; each
 * binding file's header comment documents its exports). Imported by lib/native/index.ts, which
 * loads the addon; every other module gets these types from lib/native.
 */
import type { SbertError } from '../errors';

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
  cpu: {
    threads: number;
    hardwareConcurrency: number;
    avx2: boolean;
    avx512: boolean;
    /** The fp32 GEMM micro-kernel: 'avx512', 'avx2-fma' or 'portable'. */
    gemmKernel: string;
    /** The CPU features the kernels use, as /proc/cpuinfo names them ('avx2 fma avx512f … amx_int8'), after SBERT_CPU_ISA. */
    features: string;
    /** The CPU precisions a load accepts here ('fp32' always; 'int8' with AVX2; 'bf16' with avx512_bf16). */
    precisions: ('fp32' | 'int8' | 'bf16')[];
    /** int8 GEMM paths that can run here (slowest first: portable, avx2, avx-vnni, avx512-vnni, amx-int8) and the one a load uses. */
    int8: { paths: string[]; best: string };
    /**
     * bf16 GEMM paths that can run here (incl. the fp32 emulations, which are not offered) and the
     * one a load uses; `supported` false (with the `missing` feature) when bf16 is refused.
     */
    bf16: { supported: boolean; paths: string[]; best: string; missing?: string };
    /** Why SBERT_CPU_ISA was refused (loads then fail with this message); absent when unset or honoured. */
    isaOverrideError?: string;
  };
  /** Path of the addon that was loaded. */
  addonPath: string;
}

/** What the optimizer needs to know about a parameter (no weight decay on biases and LayerNorm). */
export type NativeParamRole = 'embedding' | 'weight' | 'bias' | 'layernorm_weight' | 'layernorm_bias' | 'frozen';

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
    /** How token positions are numbered (engine/model_plan.h PositionIds). */
    positionIds: 'from_zero' | 'after_padding';
    paddingIdx: number;
    /** MPNet's relative attention bias: buckets (0: none) and max distance. */
    relativeBuckets: number;
    relativeMaxDistance: number;
  };
  params: NativeParam[];
  /** tokenType and relativeBias are -1 when the family has none. */
  embeddings: { word: number; position: number; tokenType: number; lnGamma: number; lnBeta: number; relativeBias: number };
  layers: {
    query: number; queryBias: number; key: number; keyBias: number; value: number; valueBias: number;
    attnOut: number; attnOutBias: number; attnLnGamma: number; attnLnBeta: number;
    ffnIn: number; ffnInBias: number; ffnOut: number; ffnOutBias: number; ffnLnGamma: number; ffnLnBeta: number;
  }[];
  pooling: string[];
  /** `bias` is -1 when the module has none. */
  /** dropoutBefore: training only, dropout on the module's input (a classification head's). */
  dense: { inFeatures: number; outFeatures: number; activation: string; weight: number; bias: number; dropoutBefore?: number }[];
  normalize: boolean;
  sentenceDim: number;
}

export interface NativeEngineOptions {
  spec: NativeModelSpec;
  device: 'cpu' | 'cuda';
  deviceIndex: number;
  /** Default: 'fp16' on CUDA, 'fp32' on the CPU; one the device cannot run rejects with ERR_UNSUPPORTED. */
  precision?: 'fp16' | 'bf16' | 'fp32' | 'int8';
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
  /** typeIds: token type (segment) ids, one per token (a cross-encoder's pairs); default all 0. */
  encode(args: NativeEncodeOptions & { ids: Int32Array; cuSeqlens: Int32Array; typeIds?: Int32Array }): Promise<{ sentence?: Float32Array; tokens?: Float32Array }>;
  dispose(): void;
  readonly disposed: boolean;
  readonly deviceName: string;
  /** The precision the engine computes its encoder Linears in. */
  readonly precision: 'fp16' | 'bf16' | 'fp32' | 'int8';
  readonly memoryBytes: number;
  readonly sentenceDim: number;
}

export interface NativeAddon {
  buildInfo(): Omit<BuildInfo, 'addonPath'>;
  cudaDevices(): CudaDeviceInfo[];
  createEngine(options: NativeEngineOptions): Promise<NativeEngine>;
  setErrorClass(cls: typeof SbertError): void;
  createTrainer(spec: NativeModelSpec, options: NativeTrainerOptions): Promise<NativeTrainer>;
  // similarity (similarity_binding.cc; lib/similarity.ts is the validated surface)
  similarityRows(options: { data: Float32Array; count: number; dim: number }): NativeRowsHandle;
  similarityMatrix(options: NativePairOptions): Promise<Float32Array>;
  topKSimilarity(
    options: NativePairOptions & { topK: number; device: 'cpu' | 'cuda'; deviceIndex: number },
  ): Promise<{ indices: Int32Array; scores: Float32Array; k: number }>;
  thresholdSimilarity(
    options: NativePairOptions & { threshold: number; minCount: number },
  ): Promise<{ rowPtr: Float64Array; indices: Int32Array; scores: Float32Array }>;
  similarityInfo(): { kernel: string; cudaMaxK: number };
  // hamming (hamming_binding.cc; lib/quantize.ts is the validated surface)
  hammingSearch(options: {
    queries: Uint8Array | Int8Array;
    queryCount: number;
    corpus: Uint8Array | Int8Array;
    corpusCount: number;
    rowBytes: number;
    topK: number;
  }): Promise<{ indices: Int32Array; distances: Int32Array; k: number }>;
  hammingInfo(): { kernel: string };
}

// ---- similarity (native/cpp/binding/similarity_binding.cc) ----

/** The score functions of the similarity kernels (lib/similarity.ts SimilarityFunction). */
export type NativeScoreFunction = 'cosine' | 'dot' | 'euclidean' | 'manhattan';

/** A native-owned copy of a matrix's rows (opaque; see similarityRows in similarity_binding.cc). */
export type NativeRowsHandle = { readonly __rows: unique symbol };

/** The pair of row sets every native similarity call scores, and how. */
export interface NativePairOptions {
  queries: NativeRowsHandle;
  corpus: NativeRowsHandle;
  /** [begin, end) of the handle's rows; default all. */
  queryRange?: [number, number];
  corpusRange?: [number, number];
  scoreFunction: NativeScoreFunction;
  names?: [string, string];
}

// ---- training (native/cpp/binding/trainer_binding.cc; used by lib/train) ----

/**
 * The losses the native trainer implements: five sentence-transformers bi-encoder losses on
 * sentence embeddings, and the two cross-encoder losses on a classification head's logits —
 * 'bce' (BCEWithLogitsLoss: one logit per pair, labels in [0, 1]) and 'cross_entropy'
 * (CrossEntropyLoss: numLabels >= 2 logits per pair, class-index labels), both with one text
 * (the packed pair) per example.
 */
export type NativeLossName = 'softmax' | 'cosine' | 'triplet' | 'mnrl' | 'mse' | NativeCrossEncoderLossName;

/** The native trainer's cross-encoder losses (see NativeLossName). */
export type NativeCrossEncoderLossName = 'bce' | 'cross_entropy';

export interface NativeTrainerOptions {
  loss: NativeLossName;
  /** Texts per example; the batch's texts arrive example-major (text j of example e is e*k + j). */
  textsPerExample: number;
  /** softmax: classes of its classifier (the cross-encoder losses take theirs from the model's head). */
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
  /** Token type (segment) ids, one per token (a cross-encoder's BERT pairs); absent: all 0. */
  typeIds?: Int32Array;
  /** One per example: the cosine target, the softmax / cross_entropy class index, or the bce target in [0, 1]. */
  labels?: Float32Array;
  /** mse: [examples, sentenceDim] target embeddings. */
  targets?: Float32Array;
  learningRate: number;
}

export interface NativeTrainer {
  /** One optimizer step: zero grads, forward, loss, backward, clip, AdamW. */
  step(batch: NativeTrainStep): Promise<{ loss: number; gradNorm: number }>;
  /** Eval-mode sentence embeddings (a cross-encoder's logits) with the current weights, [n, sentenceDim]. */
  encode(batch: { ids: Int32Array; cuSeqlens: Int32Array; typeIds?: Int32Array }): Promise<Float32Array>;
  /** Snapshot of the model parameters (canonical names, PyTorch shapes, fp32); no loss parameters. */
  parameters(): Promise<{ name: string; shape: number[]; data: Float32Array }[]>;
  dispose(): void;
  readonly disposed: boolean;
  readonly sentenceDim: number;
}
