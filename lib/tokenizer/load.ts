/**
 * Loading a BERT tokenizer from a model folder: tokenizer.json when present (what it can do
 * is decided from its content: normalizer / pre_tokenizer / model / post_processor types),
 * else vocab.txt + tokenizer_config.json, built the way transformers converts a slow
 * BertTokenizer into a fast one.
 */
import * as path from 'path';
import { readBoundedFileIfPresent } from '../bounded-file';
import { SbertError, badModel } from '../errors';
import { AddedTokenSpec } from './added';
import { BertTokenizer, DecoderSpec, PostProcessorSpec, TemplatePiece, TokenizerSpec } from './bert';
import { NormalizerOptions } from './unicode';

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
function checkSpecialTokens(tok: BertTokenizer, options: LoadOptions, file: string): BertTokenizer {
  if (options.requireSpecialTokens === true && tok.numSpecialTokens() === 0) {
    throw badModel(
      file,
      'post_processor adds no special tokens ([CLS]/[SEP]): an empty sentence would have no tokens; ' +
        'a BERT tokenizer.json has a TemplateProcessing or BertProcessing post_processor',
    );
  }
  return tok;
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unsupported(file: string, what: string, type: unknown, supported: string): SbertError {
  return new SbertError(
    'ERR_UNSUPPORTED_TOKENIZER',
    `${file}: ${what} type "${String(type)}" is not supported (supported: ${supported})`,
  );
}

function bool(v: unknown, dflt: boolean): boolean {
  return typeof v === 'boolean' ? v : dflt;
}

/** A model_max_length that means something (transformers writes 1e30 for "none"). */
function saneMaxLength(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 1e9 ? v : undefined;
}

/** A token for an error message: quoted, and cut when long. */
function quoted(tok: string): string {
  const q = JSON.stringify(tok);
  return q.length > 60 ? q.slice(0, 57) + '…"' : q;
}

/**
 * A token id the way HF reads one (a u32) that must also name a token that exists: an integer
 * in [0, size). Without this a 1.5 becomes 1 and 2^32 + 101 becomes 101 in the Int32Array of ids.
 */
function checkTokenId(v: unknown, size: number, file: string, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= size) {
    throw badModel(file, `${what}: id ${JSON.stringify(v)} is not a token id of this vocabulary (integers 0 to ${size - 1})`);
  }
  return v;
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

// ------------------------------------------------------------------ tokenizer.json

function parseNormalizer(n: unknown, file: string): NormalizerOptions | null {
  if (n === null || n === undefined) return null;
  if (!isObj(n)) throw badModel(file, 'normalizer is not an object');
  if (n.type === 'Sequence') {
    const list = n.normalizers;
    if (!Array.isArray(list)) throw badModel(file, 'normalizer Sequence without a normalizers list');
    if (list.length === 0) return null;
    if (list.length === 1) return parseNormalizer(list[0], file);
    const types = list.map((x) => (isObj(x) ? x.type : typeof x)).join(', ');
    throw unsupported(file, 'normalizer', `Sequence[${types}]`, 'BertNormalizer');
  }
  if (n.type !== 'BertNormalizer') throw unsupported(file, 'normalizer', n.type, 'BertNormalizer');
  const lowercase = bool(n.lowercase, true);
  return {
    cleanText: bool(n.clean_text, true),
    handleChineseChars: bool(n.handle_chinese_chars, true),
    // strip_accents: null follows lowercase
    stripAccents: typeof n.strip_accents === 'boolean' ? n.strip_accents : lowercase,
    lowercase,
  };
}

function checkPreTokenizer(p: unknown, file: string): void {
  if (!isObj(p)) {
    throw unsupported(file, 'pre_tokenizer', p === null || p === undefined ? 'none' : typeof p, 'BertPreTokenizer');
  }
  if (p.type === 'Sequence' && Array.isArray(p.pretokenizers) && p.pretokenizers.length === 1) {
    checkPreTokenizer(p.pretokenizers[0], file);
    return;
  }
  if (p.type === 'Sequence') {
    const list = Array.isArray(p.pretokenizers) ? p.pretokenizers : [];
    const types = list.map((x) => (isObj(x) ? x.type : typeof x)).join(', ');
    throw unsupported(file, 'pre_tokenizer', `Sequence[${types}]`, 'BertPreTokenizer');
  }
  if (p.type !== 'BertPreTokenizer') throw unsupported(file, 'pre_tokenizer', p.type, 'BertPreTokenizer');
}

function idOf(vocab: Map<string, number>, added: AddedTokenSpec[], tok: string): number | undefined {
  for (const a of added) if (a.content === tok) return a.id;
  return vocab.get(tok);
}

/** A type id as HF reads one (u32), kept to what an Int32Array holds. */
function checkTypeId(v: unknown, file: string, what: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
    throw badModel(file, `${what}: type_id ${JSON.stringify(v)} is not a non-negative integer`);
  }
  return v;
}

/**
 * The post-processor's templates; every special token id is checked against `size` (model
 * vocabulary plus added tokens), so a bad id is refused here rather than at the first encode.
 */
function parsePostProcessor(
  p: unknown,
  file: string,
  vocab: Map<string, number>,
  added: AddedTokenSpec[],
  size: number,
): PostProcessorSpec | null {
  if (p === null || p === undefined) return null;
  if (!isObj(p)) throw badModel(file, 'post_processor is not an object');
  const special = (pair: unknown, what: string): { id: number; tok: string } => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') {
      throw badModel(file, `post_processor.${what} must be [token, id]`);
    }
    return { tok: pair[0], id: checkTokenId(pair[1], size, file, `post_processor.${what} ${quoted(pair[0])}`) };
  };
  const sp = (t: { id: number; tok: string }, typeId: number): TemplatePiece => ({
    kind: 'special',
    ids: [t.id],
    tokens: [t.tok],
    typeId,
  });
  switch (p.type) {
    case 'Sequence': {
      const list = Array.isArray(p.processors) ? p.processors : [];
      const parsed = list.filter((x) => !(isObj(x) && x.type === 'ByteLevel'));
      if (parsed.length === 0) return null;
      if (parsed.length === 1) return parsePostProcessor(parsed[0], file, vocab, added, size);
      const types = list.map((x) => (isObj(x) ? x.type : typeof x)).join(', ');
      throw unsupported(file, 'post_processor', `Sequence[${types}]`, 'TemplateProcessing, BertProcessing, RobertaProcessing');
    }
    case 'BertProcessing': {
      const cls = special(p.cls, 'cls');
      const sep = special(p.sep, 'sep');
      return {
        single: [sp(cls, 0), { kind: 'sequence', seq: 0, typeId: 0 }, sp(sep, 0)],
        pair: [sp(cls, 0), { kind: 'sequence', seq: 0, typeId: 0 }, sp(sep, 0), { kind: 'sequence', seq: 1, typeId: 1 }, sp(sep, 1)],
      };
    }
    case 'RobertaProcessing': {
      const cls = special(p.cls, 'cls');
      const sep = special(p.sep, 'sep');
      return {
        single: [sp(cls, 0), { kind: 'sequence', seq: 0, typeId: 0 }, sp(sep, 0)],
        pair: [
          sp(cls, 0),
          { kind: 'sequence', seq: 0, typeId: 0 },
          sp(sep, 0),
          sp(sep, 0),
          { kind: 'sequence', seq: 1, typeId: 0 },
          sp(sep, 0),
        ],
      };
    }
    case 'TemplateProcessing': {
      const specials = isObj(p.special_tokens) ? p.special_tokens : {};
      const parseTpl = (tpl: unknown, what: string): TemplatePiece[] => {
        if (!Array.isArray(tpl)) throw badModel(file, `post_processor ${what} template is not a list`);
        return tpl.map((piece): TemplatePiece => {
          if (isObj(piece) && isObj(piece.SpecialToken)) {
            const name = piece.SpecialToken.id;
            const typeId = checkTypeId(piece.SpecialToken.type_id, file, `post_processor ${what} template, ${quoted(String(name))}`);
            const def = typeof name === 'string' ? specials[name] : undefined;
            if (isObj(def) && Array.isArray(def.ids)) {
              const where = `post_processor.special_tokens[${quoted(String(name))}].ids`;
              return {
                kind: 'special',
                ids: def.ids.map((id, k) => checkTokenId(id, size, file, `${where}[${k}]`)),
                tokens: Array.isArray(def.tokens) ? def.tokens.map(String) : [String(name)],
                typeId,
              };
            }
            const id = typeof name === 'string' ? idOf(vocab, added, name) : undefined;
            if (id === undefined) throw badModel(file, `post_processor special token ${String(name)} is unknown`);
            return { kind: 'special', ids: [id], tokens: [String(name)], typeId };
          }
          if (isObj(piece) && isObj(piece.Sequence)) {
            const which = piece.Sequence.id;
            if (which !== 'A' && which !== 'B') throw badModel(file, `post_processor sequence id ${String(which)}`);
            return { kind: 'sequence', seq: which === 'A' ? 0 : 1, typeId: checkTypeId(piece.Sequence.type_id, file, `post_processor ${what} template, sequence ${which}`) };
          }
          throw badModel(file, `post_processor ${what} template has an unknown piece ${JSON.stringify(piece)}`);
        });
      };
      const single = parseTpl(p.single, 'single');
      const pair = parseTpl(p.pair, 'pair');
      if (single.filter((x) => x.kind === 'sequence').length !== 1) {
        throw badModel(file, 'post_processor single template must hold sequence A once');
      }
      return { single, pair };
    }
    default:
      throw unsupported(file, 'post_processor', p.type, 'TemplateProcessing, BertProcessing, RobertaProcessing');
  }
}

function parseDecoder(d: unknown): DecoderSpec {
  if (d === null || d === undefined) return { type: 'none' };
  if (isObj(d) && d.type === 'WordPiece') {
    return { type: 'WordPiece', prefix: typeof d.prefix === 'string' ? d.prefix : '##', cleanup: bool(d.cleanup, true) };
  }
  return { type: 'unsupported', name: isObj(d) ? String(d.type) : typeof d };
}

/** Build a tokenizer from the parsed content of a tokenizer.json. */
export function loadTokenizerFromJson(
  json: unknown,
  options: LoadOptions & { file?: string; tokenizerConfig?: unknown } = {},
): BertTokenizer {
  const file = options.file ?? 'tokenizer.json';
  if (!isObj(json)) throw badModel(file, 'not a JSON object');
  const model = json.model;
  if (!isObj(model)) throw badModel(file, 'no "model" object');
  const modelType = model.type ?? (isObj(model.vocab) && 'continuing_subword_prefix' in model ? 'WordPiece' : undefined);
  if (modelType !== 'WordPiece') throw unsupported(file, 'model', modelType, 'WordPiece');
  if (!isObj(model.vocab)) throw badModel(file, 'model.vocab is not an object');

  const tokens: string[] = [];
  const ids: number[] = [];
  const vocab = new Map<string, number>();
  const v = model.vocab;
  // HF numbers a WordPiece vocabulary 0…n-1 (its size is the entry count, added tokens
  // follow at n); a hole or a huge id would also make every id table that large.
  const vocabSize = Object.keys(v).length;
  const taken = new Uint8Array(vocabSize);
  for (const tok in v) {
    const id = checkTokenId(v[tok], vocabSize, file, `model.vocab[${quoted(tok)}]`);
    if (taken[id]) throw badModel(file, `model.vocab[${quoted(tok)}]: id ${id} is given to two tokens`);
    taken[id] = 1;
    tokens.push(tok);
    ids.push(id);
    vocab.set(tok, id);
  }
  if (model.max_input_chars_per_word !== undefined) {
    const m = model.max_input_chars_per_word;
    if (typeof m !== 'number' || !Number.isSafeInteger(m) || m < 0) {
      throw badModel(file, `model.max_input_chars_per_word must be a non-negative integer (got ${JSON.stringify(m)})`);
    }
  }
  for (const field of ['unk_token', 'continuing_subword_prefix'] as const) {
    if (model[field] !== undefined && typeof model[field] !== 'string') {
      throw badModel(file, `model.${field} must be a string (got ${JSON.stringify(model[field])})`);
    }
  }
  const normalizer = parseNormalizer(json.normalizer, file);
  checkPreTokenizer(json.pre_tokenizer, file);

  const added: AddedTokenSpec[] = [];
  const addedIds = new AddedIds(vocab, vocabSize, file);
  if (json.added_tokens !== undefined && json.added_tokens !== null) {
    if (!Array.isArray(json.added_tokens)) throw badModel(file, 'added_tokens is not a list');
    json.added_tokens.forEach((t: unknown, k: number) => {
      if (!isObj(t) || typeof t.content !== 'string' || typeof t.id !== 'number') {
        throw badModel(file, `added_tokens[${k}] is not {id, content, …} (got ${JSON.stringify(t).slice(0, 80)})`);
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
  const postProcessor = parsePostProcessor(json.post_processor, file, vocab, added, addedIds.next);
  const cfg = isObj(options.tokenizerConfig) ? options.tokenizerConfig : {};
  const spec: TokenizerSpec = {
    vocab: { tokens, ids },
    unkToken: typeof model.unk_token === 'string' ? model.unk_token : '[UNK]',
    continuingSubwordPrefix:
      typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '##',
    maxInputCharsPerWord: (model.max_input_chars_per_word as number | undefined) ?? 100,
    normalizer,
    addedTokens: added,
    postProcessor,
    decoder: parseDecoder(json.decoder),
    modelMaxLength: options.modelMaxLength ?? saneMaxLength(cfg.model_max_length),
    source: file,
  };
  return new BertTokenizer(spec);
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
): BertTokenizer {
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
  const normalizer: NormalizerOptions = {
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
  return new BertTokenizer({
    vocab: { tokens: lines, ids },
    unkToken: unk,
    continuingSubwordPrefix: '##',
    maxInputCharsPerWord: 100,
    normalizer,
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
export async function loadTokenizer(dir: string, options: LoadOptions = {}): Promise<BertTokenizer> {
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
    throw badModel(dir, 'no tokenizer.json or vocab.txt in the folder');
  }
  return loadTokenizerFromVocab(vocabText, config, { ...options, file: vocabFile });
}
