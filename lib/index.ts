/**
 * sbert-native: Sentence-BERT embeddings for Node.js. Load a sentence-transformers model folder,
 * encode sentences on the GPU (CUDA) or the CPU, and compare them with cosine similarity.
 *
 * ```ts
 * import { SentenceEncoder, semanticSearch } from 'sbert-native';
 * const enc = await SentenceEncoder.load(); // the bundled model; or a folder, or a Hub id
 * const emb = await enc.encode(['A man is eating food.', 'A man is eating pasta.']);
 * ```
 * STS evaluation, the GloVe baseline and plots are in `sbert-native/eval`, loaded only by
 * those who import it.
 */
import { loadNative, native, type BuildInfo, type CudaDeviceInfo } from './native';

export { SentenceEncoder } from './encoder';
export type { Device, EncodeOptions, FloatEncodeOptions, LoadOptions, Precision, QuantizedEncodeOptions, QuantizedPrecision, SentenceEncodeOptions, TokenIdBatch, TokenIdBatchInfo, TokenIdEncodeOptions } from './encoder';
export { CrossEncoder } from './cross-encoder';
export type { CrossEncoderActivation, CrossEncoderLoadOptions, PredictOptions, RankHit, RankOptions } from './cross-encoder';
export { Embeddings } from './embeddings';
export type { EmbeddingsLike } from './embeddings';
export { SbertError } from './errors';
export type { SbertErrorCode } from './errors';
export { loadTokenizer, BertTokenizer, Tokenizer } from './tokenizer';
export { loadModelFolder, loadCrossEncoderFolder } from './weights';
export { defaultModelDir, DEFAULT_MODEL_NAME } from './default-model';
export type { ModelFolder } from './weights';
export * from './similarity';
export { createServer, EmbeddingServer, type ServeEncoder, type ServeReranker, type ServeModels, type ServeOptions } from './serve';
// issue 15: models by id from the Hugging Face Hub, into the cache shared with Python.
export { resolveModel, downloadModel } from './hub';
export type { HubOptions, DownloadProgress } from './hub';
export { quantizeEmbeddings, hammingSearch, hammingInfo } from './quantize';
export type { QuantizationPrecision, QuantizedArrays, QuantizedEmbeddings, QuantizeOptions, HammingHit, HammingSearchOptions } from './quantize';
export { fit, TrainingSession, readTrainingFile, loadStsbTrain } from './train';
export type { FitOptions, FitResult, FitProgress, FitEvaluation, LossName, TrainExample, SaveDtype, TrainingRunOptions, TrainingProgress, TrainingRunResult } from './train';
// issue 24: cross-encoder training (sentence-transformers' CrossEncoder.fit), saved as a Hugging Face folder.
export { fitCrossEncoder, CrossEncoderTrainingSession } from './train';
export type { CrossEncoderFitOptions, CrossEncoderFitResult, CrossEncoderFitProgress, CrossEncoderEvaluation, CrossEncoderLossName, CrossEncoderSessionOptions } from './train';
export type { BuildInfo, CudaDeviceInfo } from './native';

/**
 * What this installation was built with: the package version, whether the CUDA engine is
 * compiled in (and the CUDA runtime version), and the CPU features the kernels use.
 */
export function buildInfo(): BuildInfo {
  const { addon, path } = loadNative();
  return { ...addon.buildInfo(), addonPath: path };
}

/**
 * The CUDA devices this process can use; `[]` on a machine without a GPU or driver, or when the
 * CUDA engine is not compiled in. Never throws for a missing GPU.
 */
export function cudaDevices(): CudaDeviceInfo[] {
  return native().cudaDevices();
}
