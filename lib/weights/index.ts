/** Model loading: safetensors, BERT config and weights, sentence-transformers modules. */
export * from './safetensors';
export * from './config';
export * from './bert';
export * from './modules';
export * from './folder';
export * from './plan';
