/**
 * The plain-data description of a tokenizer: what load.ts makes of a tokenizer.json (or of a
 * vocab.txt), already validated. It holds only JSON-like data and typed arrays, so it can be
 * sent to worker threads (parallel.ts) and turned back into the same tokenizer there.
 *
 * Each component mirrors one Hugging Face `tokenizers` component; the field names follow
 * tokenizer.json where they mean the same thing.
 */
import type { AddedTokenSpec } from './added';
import type { NormalizerOptions } from './unicode';

/** How a split pre-tokenizer treats the delimiters it finds (HF SplitDelimiterBehavior). */
export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** A pattern of Replace / Split: a literal string or an Oniguruma regex. */
export type PatternSpec = { string: string } | { regex: string };

export type NormalizerSpec =
  | { type: 'Sequence'; normalizers: NormalizerSpec[] }
  | { type: 'BertNormalizer'; options: NormalizerOptions }
  | { type: 'NFC' | 'NFD' | 'NFKC' | 'NFKD' | 'Lowercase' | 'StripAccents' | 'Nmt' | 'ByteLevel' }
  | { type: 'Strip'; left: boolean; right: boolean }
  | { type: 'Replace'; pattern: PatternSpec; content: string }
  | { type: 'Prepend'; prepend: string }
  /** The sentencepiece charsmap blob (decoded from base64). */
  | { type: 'Precompiled'; charsmap: Uint8Array };

export type PreTokenizerSpec =
  | { type: 'Sequence'; pretokenizers: PreTokenizerSpec[] }
  | { type: 'BertPreTokenizer' | 'Whitespace' | 'WhitespaceSplit' }
  | { type: 'Punctuation'; behavior: SplitBehavior }
  | { type: 'Digits'; individualDigits: boolean }
  | { type: 'CharDelimiterSplit'; delimiter: string }
  | { type: 'Split'; pattern: PatternSpec; behavior: SplitBehavior; invert: boolean }
  | { type: 'Metaspace'; replacement: string; prependScheme: 'always' | 'first' | 'never'; split: boolean }
  | { type: 'ByteLevel'; addPrefixSpace: boolean; useRegex: boolean };

export type ModelSpec =
  | {
      type: 'WordPiece';
      /** tokens[i] has id ids[i] (ids are 0…n-1). */
      vocab: { tokens: string[]; ids: number[] };
      unkToken: string;
      continuingSubwordPrefix: string;
      maxInputCharsPerWord: number;
    }
  | {
      type: 'Unigram';
      /** Piece i has id i and log-probability scores[i]. */
      pieces: string[];
      scores: Float64Array;
      /** -1: none (an unknown character is then an error, as in HF). */
      unkId: number;
      byteFallback: boolean;
    }
  | {
      type: 'BPE';
      vocab: { tokens: string[]; ids: number[] };
      /** Merge rank r joins merges[2r] and merges[2r + 1]. */
      merges: string[];
      unkToken: string | null;
      continuingSubwordPrefix: string | null;
      endOfWordSuffix: string | null;
      fuseUnk: boolean;
      byteFallback: boolean;
      ignoreMerges: boolean;
    };

/** One element of a post-processing template. */
export type TemplatePiece =
  | { kind: 'special'; ids: number[]; tokens: string[]; typeId: number }
  | { kind: 'sequence'; seq: 0 | 1; typeId: number };

export interface PostProcessorSpec {
  single: TemplatePiece[];
  pair: TemplatePiece[];
}

export type DecoderSpec =
  | { type: 'none' }
  | { type: 'Sequence'; decoders: DecoderSpec[] }
  | { type: 'WordPiece'; prefix: string; cleanup: boolean }
  | { type: 'Metaspace'; replacement: string; prependScheme: 'always' | 'first' | 'never' }
  | { type: 'ByteLevel' | 'Fuse' | 'ByteFallback' }
  | { type: 'BPEDecoder'; suffix: string }
  | { type: 'Replace'; pattern: PatternSpec; content: string }
  | { type: 'Strip'; content: string; start: number; stop: number }
  /** Loaded, but decode() refuses it (encoding does not need a decoder). */
  | { type: 'unsupported'; name: string };

/** Everything a tokenizer is made of; plain data, so it can be sent to worker threads. */
export interface TokenizerSpec {
  model: ModelSpec;
  /** null: no normalizer. */
  normalizer: NormalizerSpec | null;
  /** null: no pre-tokenizer (the whole text is one word). */
  preTokenizer: PreTokenizerSpec | null;
  addedTokens: AddedTokenSpec[];
  /** null: no special tokens are added. */
  postProcessor: PostProcessorSpec | null;
  decoder: DecoderSpec;
  modelMaxLength?: number;
  /** Named in error messages. */
  source: string;
}
