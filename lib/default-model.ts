/**
 * The model bundled with the package: models/default-en, a small BERT distilled from the
 * Universal Sentence Encoder "lite" by tools/train-default-model.js (see its model card,
 * models/default-en/README.md). `SentenceEncoder.load()` with no folder, the name 'default',
 * `sbert encode` / `sbert demo` without `--model`, and `--model default` use it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SbertError } from './errors';

/** The name that selects the bundled model wherever a model folder is expected. */
export const DEFAULT_MODEL_NAME = 'default';

/**
 * The bundled model's folder (this file runs from dist/). Throws SbertError('ERR_BAD_MODEL')
 * when this installation has no bundled model (e.g. a build that left models/ out).
 */
export function defaultModelDir(): string {
  const dir = path.resolve(__dirname, '..', 'models', 'default-en');
  if (!fs.existsSync(path.join(dir, 'modules.json'))) {
    throw new SbertError('ERR_BAD_MODEL', `this installation of sbert-native has no bundled default model (${dir} is missing); pass a model folder or a Hugging Face id instead`);
  }
  return dir;
}

/** `model` itself, or the bundled model's folder when `model` is undefined or 'default'. */
export function resolveModelName(model: string | undefined): string {
  return model === undefined || model === DEFAULT_MODEL_NAME ? defaultModelDir() : model;
}
