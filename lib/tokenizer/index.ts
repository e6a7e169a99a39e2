/**
 * BERT WordPiece tokenizer giving the ids Hugging Face `tokenizers` gives (BertNormalizer +
 * BertPreTokenizer + WordPiece + TemplateProcessing / BertProcessing / RobertaProcessing,
 * added tokens), with packed batch output for the engine (no padding, cuSeqlens).
 *
 *   const tok = await loadTokenizer(modelDir);        // tokenizer.json, else vocab.txt
 *   tok.encode('Hello world', { maxLength: 256 });    // { ids, typeIds }
 *   tok.encodeBatch(texts, { maxLength: 256 });       // { ids, typeIds, cuSeqlens }
 *
 * Character classes come from tables generated from the reference implementation
 * (test/fixtures/tokenizer/gen-unicode-tables.py), not from the JS engine's Unicode data.
 * Things to know:
 * - A lone UTF-16 surrogate (which HF cannot receive: Python refuses to encode it) is read as
 *   U+FFFD, as Node's UTF-8 encoding does; clean_text then removes it.
 * - maxLength counts special tokens, as HF truncation (and sentence-transformers) does. When
 *   it is smaller than the special tokens themselves, HF does not truncate (an unsigned
 *   wrap-around in tokenizers 0.23); that is reproduced, not "fixed".
 * - truncation / padding stored in tokenizer.json are ignored: pass maxLength.
 */
export { BertTokenizer } from './bert';
export type {
  TokenizerSpec,
  Encoding,
  BatchEncoding,
  EncodeOptions,
  BatchOptions,
  TruncationSide,
  TemplatePiece,
  PostProcessorSpec,
  DecoderSpec,
} from './bert';
export type { AddedTokenSpec } from './added';
export type { NormalizerOptions } from './unicode';
export { normalizeString } from './unicode';
export { loadTokenizer, loadTokenizerFromJson, loadTokenizerFromVocab } from './load';
export type { LoadOptions } from './load';
export { encodeBatchParallel, TokenizerPool } from './parallel';
export type { ParallelOptions, ParallelStats } from './parallel';
