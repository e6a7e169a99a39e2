/** The model of a spec: WordPiece, Unigram or BPE. */
import type { ModelSpec } from '../spec';
import { BpeModel } from './bpe';
import type { Model } from './model';
import { UnigramModel } from './unigram';
import { WordPieceModel } from './wordpiece';

export type { Model } from './model';

/** The Model of a spec (checked when parsed); `source` is named in its errors. */
export function buildModel(spec: ModelSpec, source: string): Model {
  switch (spec.type) {
    case 'WordPiece':
      return new WordPieceModel(spec, source);
    case 'Unigram':
      return new UnigramModel(spec, source);
    case 'BPE':
      return new BpeModel(spec, source);
  }
}
