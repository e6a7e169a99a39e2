/** Model loading: safetensors, BERT config and weights, sentence-transformers modules. */
export * from './safetensors';
export * from './config';
export * from './encoder-tensors';
export { FAMILIES, SUPPORTED_MODEL_TYPES, sinusoidalPositionTable } from './families';
export * from './modules';
export * from './folder';
export * from './plan';
export * from './cross-encoder-folder';
