/**
 * Tokenizers identical to Hugging Face `tokenizers` for the model families sentence-transformers
 * uses: WordPiece (BERT, MPNet, DistilBERT, bge/e5 BERTs), Unigram (XLM-R, multilingual-e5,
 * paraphrase-multilingual: Precompiled charsmap + Metaspace) and byte-level BPE (RoBERTa,
 * GPT-2 style), from tokenizer.json (or a BERT vocab.txt), with packed batch output for the
 * engine (no padding, cuSeqlens).
 *
 *   const tok = await loadTokenizer(modelDir);        // tokenizer.json, else vocab.txt
 *   tok.encode('Hello world', { maxLength: 256 });    // { ids, typeIds }
 *   tok.encodeBatch(texts, { maxLength: 256 });       // { ids, typeIds, cuSeqlens }
 *   tok.encodePairBatch([[q, doc]], { maxLength });   // cross-encoder pairs, longest-first
 *
 * Character classes and normalization data come from tables generated from the reference
 * implementation (tools/gen-unicode-tables.js, tools/reference/tokenizers/gen-unicode-classes.js), not from the JS engine's Unicode data.
 * Things to know:
 * - A lone UTF-16 surrogate (which HF cannot receive: Node's UTF-8 encoding turns it into
 *   U+FFFD) is read as U+FFFD.
 * - maxLength counts special tokens, as HF truncation (and sentence-transformers) does. When
 *   it is smaller than the special tokens themselves, HF does not truncate (an unsigned
 *   wrap-around in tokenizers 0.23); that is reproduced, not "fixed".
 * - truncation / padding stored in tokenizer.json are ignored: pass maxLength.
 * - Regexes of Replace / Split are Oniguruma regexes translated to JS; one JS cannot express
 *   is refused at load (ERR_UNSUPPORTED_TOKENIZER), as is any unknown component type.
 */
export { Tokenizer, BertTokenizer } from './tokenizer';
export type {
  Encoding,
  BatchEncoding,
  EncodeOptions,
  BatchOptions,
  PairOptions,
  PairBatchOptions,
  TruncationSide,
  TokenizerFamily,
} from './tokenizer';
export type {
  TokenizerSpec,
  ModelSpec,
  NormalizerSpec,
  PreTokenizerSpec,
  TemplatePiece,
  PostProcessorSpec,
  DecoderSpec,
  PatternSpec,
  SplitBehavior,
} from './spec';
export type { AddedTokenSpec } from './added';
export type { NormalizerOptions } from './unicode';
export { normalizeString } from './unicode';
export { loadTokenizer, loadTokenizerFromJson, loadTokenizerFromVocab } from './load';
export type { LoadOptions } from './load';
export { encodeBatchParallel, TokenizerPool } from './parallel';
export type { ParallelOptions, ParallelStats } from './parallel';
