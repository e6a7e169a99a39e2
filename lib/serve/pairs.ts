/**
 * A request's text pairs → what the server needs before handing them to the cross-encoder
 * (CrossEncoder.predict tokenizes and truncates them itself): each pair's token count, checked
 * against the reranker's max length. Over it → 413 naming the pair (`texts[3]`), unless
 * truncation is asked for, which CrossEncoder does as Hugging Face does (longest first, from the
 * end `truncation_direction` says, special tokens kept) — so a pair the server lets through is
 * scored exactly as `ce.predict` / `ce.rank` score it. Tokenizing one token past the limit is
 * enough to tell an over-length pair (longest-first truncation keeps exactly the limit).
 */
import type { CrossEncoder } from '../cross-encoder';
import { tooLarge } from './errors';
import { codePoints } from './inputs';
import type { TruncationDirection } from './validate';

/** What of the cross-encoder pair preparation reads. */
export type PairEncoder = Pick<CrossEncoder, 'tokenizer' | 'maxLength'>;

/** The pairs' token counts (after truncation), for admission, metrics and TEI's headers. */
export interface PreparedPairs {
  count: number;
  /** Tokens of each pair as the model will see it (special tokens included, after truncation). */
  lengths: Int32Array;
  /** Tokens of all pairs. */
  tokens: number;
  /** Characters (code points) of both texts of every pair (TEI's compute_chars). */
  chars: number;
}

export interface PreparePairsOptions {
  truncate: boolean;
  direction: TruncationDirection;
  /** How errors name pair i (e.g. `texts[3]`). */
  field: (i: number) => string;
  /** What the second text is called in the over-length message ('the query'). */
  partner: string;
}

/** Measures `pairs` and refuses an over-length one unless truncating; see the file comment. */
export function preparePairs(enc: PairEncoder, pairs: ReadonlyArray<readonly [string, string]>, o: PreparePairsOptions): PreparedPairs {
  const limit = enc.maxLength;
  const count = pairs.length;
  const probe = enc.tokenizer.encodePairBatch(pairs as Array<[string, string]>, { maxLength: limit + 1, truncationSide: o.direction });
  const cu = probe.cuSeqlens;
  const lengths = new Int32Array(count);
  let tokens = 0;
  let chars = 0;
  for (let i = 0; i < count; i++) {
    let n = cu[i + 1] - cu[i];
    if (n > limit) {
      if (!o.truncate) {
        throw tooLarge(
          `Input validation error: \`${o.field(i)}\` with ${o.partner} has more than ${limit} tokens, the reranker's maximum input length; set \`truncate: true\` to truncate it`,
        );
      }
      n = limit;
    }
    lengths[i] = n;
    tokens += n;
    chars += codePoints(pairs[i][0]) + codePoints(pairs[i][1]);
  }
  return { count, lengths, tokens, chars };
}
