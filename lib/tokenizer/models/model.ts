/** What every model module (WordPiece, Unigram, BPE) provides. */
import type { IdBuffer } from '../ids';

export interface Model {
  /** Append the ids of one pre-token (non-empty, well-formed UTF-16) to `out`. */
  tokenize(piece: string, out: IdBuffer): void;
  /** The id of a vocabulary token, or -1. */
  tokenToId(token: string): number;
  /** Every (token, id) of the vocabulary. */
  forEachToken(fn: (token: string, id: number) => void): void;
}
