/**
 * How a cross-encoder's pairs become token ids — one function for CrossEncoder.predict and the
 * cross-encoder trainer, so a model is trained on exactly the inputs it is later scored on: the
 * tokenizer's pair template (`[CLS] a [SEP] b [SEP]`, `<s> a </s></s> b </s>`), longest-first
 * truncation to `maxLength` (special tokens included), and token type ids only where
 * transformers' tokenizer hands them to the model (BERT's segment embeddings; RoBERTa, MPNet and
 * DistilBERT tokenizers give none, so those run with all type 0).
 */
import type { PackedIds } from './token-budget';
import type { Tokenizer, TruncationSide } from './tokenizer';
import type { EncoderConfig } from './weights';

/**
 * The pairs packed for the engine or the trainer (`truncationSide`: which end of the longer text
 * truncation cuts; default 'right', as Hugging Face). Throws TypeError naming `pairs[i]` when an
 * entry is not a [string, string] pair.
 */
export function encodeCrossEncoderPairs(
  tokenizer: Tokenizer,
  config: EncoderConfig,
  pairs: readonly (readonly [string, string])[],
  maxLength: number,
  truncationSide: TruncationSide = 'right',
): PackedIds {
  const enc = tokenizer.encodePairBatch(pairs as Array<[string, string]>, { maxLength, truncationSide });
  return config.family === 'bert' ? enc : { ids: enc.ids, cuSeqlens: enc.cuSeqlens };
}
