/**
 * Loading a tokenizer from a model folder: tokenizer.json when present (what it is made of is
 * read from its content: model, normalizer, pre_tokenizer, post_processor, decoder, added
 * tokens), else vocab.txt + tokenizer_config.json, built the way transformers converts a slow
 * BertTokenizer into a fast one.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { readBoundedFileIfPresent } from '../bounded-file';
import { SbertError, badModel } from '../errors';
import { AddedTokenSpec } from './added';
import { parseDecoder } from './decoders';
import { Json, isObj, bool, quoted } from './json';
import { parseModel } from './models/parse';
import { parseNormalizer } from './normalizers';
import { parsePostProcessor } from './post-processor';
import { parsePreTokenizer } from './pre-tokenizers';
import type { PostProcessorSpec, TemplatePiece, TokenizerSpec } from './spec';
import { missingTokenizerReason } from './missing';
import { Tokenizer } from './tokenizer';

export interface LoadOptions {
  /** Overrides tokenizer_config.json's model_max_length. */
  modelMaxLength?: number;
  /**
   * Refuse (ERR_BAD_MODEL) a tokenizer that adds no special token around a text, e.g. a
   * tokenizer.json whose post_processor is null. HF accepts one (an empty text then has no
   * tokens at all); a model loader that cannot run an empty sequence sets this so the folder
   * is refused at load rather than at the first empty sentence.
   */
  requireSpecialTokens?: boolean;
}

/** The check LoadOptions.requireSpecialTokens asks for. */
function checkSpecialTokens(tok: Tokenizer, options: LoadOptions, file: string): Tokenizer {
  if (options.requireSpecialTokens === true && tok.numSpecialTokens() === 0) {
    throw badModel(
      file,
      'post_processor adds no special tokens ([CLS]/[SEP], <s>/</s>): an empty sentence would have no tokens; ' +
        'a sentence-transformers tokenizer.json has a TemplateProcessing, BertProcessing or RobertaProcessing post_processor',
    );
  }
  return tok;
}

/** A model_max_length that means something (transformers writes 1e30 for "none"). */
function saneMaxLength(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 1e9 ? v : undefined;
}

/**
 * Ids of added tokens as HF gives them (AddedVocabulary::add_tokens): a token already in the
 * model vocabulary keeps its vocabulary id; a new one takes the next id after the vocabulary
 * and the added tokens before it. HF ignores the id written in the file (it only warns), so a
 * file whose id disagrees would give ids the model was not trained with: it is refused.
 */
class AddedIds {
  /** The next id a new added token gets; after all tokens: the full vocabulary size. */
  next: number;
  private readonly byContent = new Map<string, number>();

  constructor(
    private readonly vocab: Map<string, number>,
    vocabSize: number,
    private readonly file: string,
  ) {
    this.next = vocabSize;
  }

  /** The id of added token `content`; `given` (the file's id, if it states one) must equal it. */
  assign(content: string, given: unknown, where: string): number {
    let id = this.byContent.get(content) ?? this.vocab.get(content);
    const isNew = id === undefined;
    if (id === undefined) id = this.next;
    if (given !== undefined && given !== id) {
      throw badModel(
        this.file,
        `${where}: added token ${quoted(content)} has id ${JSON.stringify(given)}, but Hugging Face tokenizers ` +
          (isNew
            ? `gives it id ${id} (added tokens not in the vocabulary take the ids after it, in order)`
            : `gives it its vocabulary id ${id}`),
      );
    }
    if (isNew) this.next++;
    this.byContent.set(content, id);
    return id;
  }
}

function idOf(vocab: Map<string, number>, added: AddedTokenSpec[], tok: string): number | undefined {
  for (const a of added) if (a.content === tok) return a.id;
  return vocab.get(tok);
}

// ------------------------------------------------------------------ tokenizer.json

/**
 * Build a tokenizer from the parsed content of a tokenizer.json (any model family).
 * @throws SbertError ERR_BAD_MODEL for a malformed file, ERR_UNSUPPORTED_TOKENIZER for a
 *   component this package does not implement; both name the file and the component
 */
export function loadTokenizerFromJson(
  json: unknown,
  options: LoadOptions & { file?: string; tokenizerConfig?: unknown } = {},
): Tokenizer {
  const file = options.file ?? 'tokenizer.json';
  if (!isObj(json)) throw badModel(file, 'not a JSON object');
  const model = parseModel(json.model, file);
  const vocab = new Map<string, number>();
  let vocabSize: number;
  if (model.type === 'Unigram') {
    model.pieces.forEach((p, i) => vocab.set(p, i));
    vocabSize = model.pieces.length;
  } else {
    model.vocab.tokens.forEach((t, i) => vocab.set(t, model.vocab.ids[i]));
    vocabSize = model.vocab.tokens.length;
  }
  const normalizer = parseNormalizer(json.normalizer, { file, path: 'normalizer', depth: 0 });
  const preTokenizer = parsePreTokenizer(json.pre_tokenizer, { file, path: 'pre_tokenizer', depth: 0 });

  const added: AddedTokenSpec[] = [];
  const addedIds = new AddedIds(vocab, vocabSize, file);
  if (json.added_tokens !== undefined && json.added_tokens !== null) {
    if (!Array.isArray(json.added_tokens)) throw badModel(file, 'added_tokens is not a list');
    json.added_tokens.forEach((t: unknown, k: number) => {
      if (!isObj(t) || typeof t.content !== 'string' || typeof t.id !== 'number') {
        throw badModel(file, `added_tokens[${k}] is not {id, content, …}`);
      }
      if (t.content.length === 0) return; // HF skips empty added tokens
      const special = bool(t.special, false);
      added.push({
        id: addedIds.assign(t.content, t.id, `added_tokens[${k}]`),
        content: t.content,
        singleWord: bool(t.single_word, false),
        lstrip: bool(t.lstrip, false),
        rstrip: bool(t.rstrip, false),
        normalized: bool(t.normalized, !special),
        special,
      });
    });
  }
  const postProcessor = parsePostProcessor(json.post_processor, file, (tok) => idOf(vocab, added, tok), addedIds.next);
  const cfg = isObj(options.tokenizerConfig) ? options.tokenizerConfig : {};
  const spec: TokenizerSpec = {
    model,
    normalizer,
    preTokenizer,
    addedTokens: added,
    postProcessor,
    decoder: parseDecoder(json.decoder, { file, path: 'decoder', depth: 0 }),
    modelMaxLength: options.modelMaxLength ?? saneMaxLength(cfg.model_max_length),
    source: file,
  };
  return new Tokenizer(spec);
}

// ------------------------------------------------------------------ vocab.txt

/** Token text of a tokenizer_config.json special token entry (string or AddedToken dict). */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

const WORDPIECE_CLASSES = /^(Bert|DistilBert|Electra|MPNet|Funnel|Lxmert|Layout[Ll][Mm]|MobileBert|SqueezeBert|RetriBert|TokenizersBackend|PreTrainedTokenizerFast)/;

/**
 * Build a tokenizer from vocab.txt content and tokenizer_config.json (parsed; may be {}),
 * as transformers' BertTokenizerFast does from a slow BertTokenizer: BertNormalizer
 * (do_lower_case, tokenize_chinese_chars, strip_accents), BertPreTokenizer, WordPiece
 * ("##", 100 chars), [CLS] A [SEP] / [CLS] A [SEP] B [SEP] (MPNet: <s> A </s></s> B </s>).
 */
export function loadTokenizerFromVocab(
  vocabText: string,
  config: unknown = {},
  options: LoadOptions & { file?: string } = {},
): Tokenizer {
  const file = options.file ?? 'vocab.txt';
  if (typeof vocabText !== 'string') throw badModel(file, 'vocabulary is not text');
  const cfg = isObj(config) ? config : {};
  const cls = typeof cfg.tokenizer_class === 'string' ? cfg.tokenizer_class : undefined;
  if (cls !== undefined && !WORDPIECE_CLASSES.test(cls)) {
    throw new SbertError(
      'ERR_UNSUPPORTED_TOKENIZER',
      `${file}: tokenizer_class "${cls}" is not a WordPiece (BERT-style) tokenizer and there is no tokenizer.json`,
    );
  }
  const lines = vocabText.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw badModel(file, 'empty vocabulary');
  const ids: number[] = new Array(lines.length);
  const vocab = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].endsWith('\r')) lines[i] = lines[i].slice(0, -1);
    ids[i] = i;
    vocab.set(lines[i], i);
  }
  const isMpnet = cls !== undefined && /^MPNet/.test(cls);
  const d = isMpnet
    ? { unk: '[UNK]', sep: '</s>', pad: '<pad>', cls: '<s>', mask: '<mask>', bos: '<s>', eos: '</s>' }
    : { unk: '[UNK]', sep: '[SEP]', pad: '[PAD]', cls: '[CLS]', mask: '[MASK]', bos: undefined, eos: undefined };
  const unk = tokenContent(cfg.unk_token) ?? d.unk;
  const sep = tokenContent(cfg.sep_token) ?? d.sep;
  const pad = tokenContent(cfg.pad_token) ?? d.pad;
  const clsTok = tokenContent(cfg.cls_token) ?? d.cls;
  const mask = tokenContent(cfg.mask_token) ?? d.mask;

  // special tokens: added_tokens_decoder when present, else the named special tokens
  const added: AddedTokenSpec[] = [];
  const addedIds = new AddedIds(vocab, lines.length, file);
  const addToken = (content: string, id: number | undefined, t: Json = {}, where = 'special tokens') => {
    if (!content || added.some((a) => a.content === content)) return;
    added.push({
      id: addedIds.assign(content, id, where),
      content,
      singleWord: bool(t.single_word, false),
      lstrip: bool(t.lstrip, false),
      rstrip: bool(t.rstrip, false),
      normalized: bool(t.normalized, false),
      special: bool(t.special, true),
    });
  };
  if (isObj(cfg.added_tokens_decoder)) {
    const entries = Object.entries(cfg.added_tokens_decoder).sort((a, b) => Number(a[0]) - Number(b[0]));
    for (const [idStr, t] of entries) {
      if (isObj(t) && typeof t.content === 'string') addToken(t.content, Number(idStr), t, `tokenizer_config.json added_tokens_decoder["${idStr}"]`);
    }
  }
  for (const name of ['unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token', 'bos_token', 'eos_token']) {
    const v = cfg[name];
    const content = tokenContent(v);
    if (content !== undefined) addToken(content, undefined, isObj(v) ? v : {});
  }
  // [UNK], [SEP] and [CLS] (as tokenizer_config.json names them) must be lines of vocab.txt:
  // otherwise they would get ids past the vocabulary, and a missing [UNK] would make every
  // unknown word an error at encode time rather than a refusal here.
  for (const [role, tok] of [['unknown', unk], ['separator', sep], ['classification', clsTok]] as const) {
    if (!vocab.has(tok)) {
      throw badModel(file, `the ${role} token ${quoted(tok)} is missing from the vocabulary (${lines.length} lines): not a BERT vocab.txt, or tokenizer_config.json names the wrong special tokens`);
    }
  }
  for (const tok of [unk, sep, pad, clsTok, mask]) if (vocab.has(tok)) addToken(tok, undefined);
  if (Array.isArray(cfg.additional_special_tokens)) {
    for (const v of cfg.additional_special_tokens) {
      const content = tokenContent(v);
      if (content !== undefined) addToken(content, undefined, isObj(v) ? v : {});
    }
  }

  const lowercase = bool(cfg.do_lower_case, true);
  const normalizer = {
    cleanText: true,
    handleChineseChars: bool(cfg.tokenize_chinese_chars, true),
    stripAccents: typeof cfg.strip_accents === 'boolean' ? cfg.strip_accents : lowercase,
    lowercase,
  };
  const idFor = (tok: string) => {
    const id = idOf(vocab, added, tok);
    if (id === undefined) throw badModel(file, `special token "${tok}" is not in the vocabulary`);
    return id;
  };
  const clsId = idFor(clsTok);
  const sepId = idFor(sep);
  const sp = (tok: string, id: number, typeId: number): TemplatePiece => ({ kind: 'special', ids: [id], tokens: [tok], typeId });
  const A: TemplatePiece = { kind: 'sequence', seq: 0, typeId: 0 };
  const postProcessor: PostProcessorSpec = isMpnet
    ? {
        single: [sp(clsTok, clsId, 0), A, sp(sep, sepId, 0)],
        pair: [sp(clsTok, clsId, 0), A, sp(sep, sepId, 0), sp(sep, sepId, 0), { kind: 'sequence', seq: 1, typeId: 0 }, sp(sep, sepId, 0)],
      }
    : {
        single: [sp(clsTok, clsId, 0), A, sp(sep, sepId, 0)],
        pair: [sp(clsTok, clsId, 0), A, sp(sep, sepId, 0), { kind: 'sequence', seq: 1, typeId: 1 }, sp(sep, sepId, 1)],
      };
  return new Tokenizer({
    model: { type: 'WordPiece', vocab: { tokens: lines, ids }, unkToken: unk, continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 },
    normalizer: { type: 'BertNormalizer', options: normalizer },
    preTokenizer: { type: 'BertPreTokenizer' },
    addedTokens: added,
    postProcessor,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    modelMaxLength: options.modelMaxLength ?? saneMaxLength(cfg.model_max_length),
    source: file,
  });
}

// ------------------------------------------------------------------ folders

/**
 * The file's text, or undefined when it does not exist. Read through the bounded reader: a
 * FIFO, a device or a file over its kind's cap is ERR_BAD_MODEL, never a hang or a huge read.
 */
async function readIfExists(file: string, kind: 'tokenizer.json' | 'tokenizer_config.json' | 'vocab.txt'): Promise<string | undefined> {
  const buf = await readBoundedFileIfPresent(file, { kind, code: 'ERR_BAD_MODEL' });
  return buf === undefined ? undefined : buf.toString('utf8');
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badModel(file, `is not valid JSON (${(e as Error).message})`, e);
  }
}

/**
 * Load the tokenizer of a model folder: tokenizer.json when present, else vocab.txt with
 * tokenizer_config.json.
 */
export async function loadTokenizer(dir: string, options: LoadOptions = {}): Promise<Tokenizer> {
  if (typeof dir !== 'string') throw new TypeError(`dir is not a string (got ${typeof dir})`);
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object (got ${options === null ? 'null' : typeof options})`);
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  const cfgText = await readIfExists(cfgFile, 'tokenizer_config.json');
  const config = cfgText === undefined ? {} : parseJson(cfgText, cfgFile);
  const tjFile = path.join(dir, 'tokenizer.json');
  const tjText = await readIfExists(tjFile, 'tokenizer.json');
  if (tjText !== undefined) {
    const tok = loadTokenizerFromJson(parseJson(tjText, tjFile), { ...options, file: tjFile, tokenizerConfig: config });
    return checkSpecialTokens(tok, options, tjFile);
  }
  const vocabFile = path.join(dir, 'vocab.txt');
  const vocabText = await readIfExists(vocabFile, 'vocab.txt');
  if (vocabText === undefined) {
    let names = new Set<string>();
    try {
      names = new Set(await fsp.readdir(dir));
    } catch {
      /* an unreadable folder: the plain reason */
    }
    throw badModel(dir, missingTokenizerReason(names, 'the folder') ?? 'no tokenizer.json or vocab.txt in the folder');
  }
  return loadTokenizerFromVocab(vocabText, config, { ...options, file: vocabFile });
}
