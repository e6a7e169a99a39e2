/** Hugging Face Hub client: models by id into the shared Hugging Face cache (issue 15). */
export { downloadModel, resolveModel, isRepoId } from './download';
export { selectModelFiles } from './files';
export { cacheDir as hubCacheDir } from './settings';
export type { DownloadProgress, HubOptions } from './settings';
