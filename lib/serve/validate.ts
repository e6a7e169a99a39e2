/**
 * Request validation for every route, in the shapes TEI and OpenAI document (TEI's
 * router/src/http/types.rs; OpenAI's embeddings API). Each parser takes the parsed JSON body
 * and returns a typed request, or throws a 4xx HttpError that names the offending field;
 * nothing invalid ever reaches the encoder, so a bad request cannot fail or delay the good ones
 * it would have been batched with. Unknown fields are ignored (as TEI's serde structs and
 * OpenAI do). `prompt_name` is checked for its type here and against the model's prompts by
 * the server, which knows them.
 *
 * Inputs (TEI `Input`, OpenAI `input`) are a string, a list of token ids, or a list whose
 * items are strings or lists of token ids. Token ids must be integers in [0, vocabSize): an id
 * the model has no row for is refused here (400), never handed to the engine.
 */
import { badRequest, HttpError, tooLarge } from './errors';

/** One input: text to tokenize, or token ids as the model takes them. */
export type InputItem = string | Int32Array;

/** Which end truncation cuts (TEI's `truncation_direction`). */
export type TruncationDirection = 'left' | 'right';

/** The fields TEI's encode routes share. */
export interface EncodeFields {
  inputs: InputItem[];
  /** Whether `inputs` was one input rather than a list (TEI's `Input::Single`). */
  single: boolean;
  truncate: boolean | undefined;
  truncationDirection: TruncationDirection;
  /** One of the model's prompts (config_sentence_transformers.json), unchecked here. */
  promptName: string | undefined;
}

/** POST /embed (TEI): `{ inputs, normalize?, truncate?, truncation_direction?, prompt_name?, dimensions? }`. */
export interface EmbedRequest extends EncodeFields {
  normalize: boolean;
  dimensions: number | undefined;
}

/** POST /embed_all and /embed_sparse (TEI): `{ inputs, truncate?, truncation_direction?, prompt_name? }`. */
export type EmbedAllRequest = EncodeFields;

/** POST /v1/embeddings (OpenAI): `{ input, model?, encoding_format?, dimensions?, user? }`. */
export interface OpenAIRequest {
  inputs: InputItem[];
  single: boolean;
  encodingFormat: 'float' | 'base64';
  dimensions: number | undefined;
}

/** POST /similarity (TEI): `{ inputs: { source_sentence, sentences }, parameters? }`. */
export interface SimilarityRequest {
  source: string;
  sentences: string[];
  truncate: boolean | undefined;
  truncationDirection: TruncationDirection;
  /** `parameters.prompt_name` (or a top-level `prompt_name`), unchecked here. */
  promptName: string | undefined;
}

/** POST /tokenize (TEI): `{ inputs: string | string[], add_special_tokens? = true, prompt_name? }`. */
export interface TokenizeRequest {
  texts: string[];
  addSpecialTokens: boolean;
  promptName: string | undefined;
}

/** POST /decode (TEI): `{ ids: number[] | number[][], skip_special_tokens? = true }`. */
export interface DecodeRequest {
  ids: number[][];
  skipSpecialTokens: boolean;
}

type Json = Record<string, unknown>;

/** The request body as an object; 400 otherwise. */
export function requestObject(body: unknown): Json {
  return object(body, 'the request body');
}

function object(body: unknown, what: string): Json {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`${what} must be a JSON object (got ${describe(body)})`);
  }
  return body as Json;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}

function empty(field: string): HttpError {
  return new HttpError(400, 'Empty', `\`${field}\` cannot be empty`);
}

/**
 * A token-id list as an Int32Array; every element an integer in [0, vocabSize). `field` names
 * the list in errors (`inputs[3]`), an element as `field[k]`.
 */
function tokenIds(list: unknown[], field: string, vocabSize: number): Int32Array {
  if (list.length === 0) throw empty(field);
  const ids = new Int32Array(list.length);
  for (let k = 0; k < list.length; k++) {
    const v = list[k];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw badRequest(`\`${field}[${k}]\` must be an integer token id (got ${typeof v === 'number' ? String(v) : describe(v)})`);
    }
    if (v < 0 || v >= vocabSize) {
      throw badRequest(`\`${field}[${k}]\` = ${v} is not a token id of the model (ids are 0 to ${vocabSize - 1})`);
    }
    ids[k] = v;
  }
  return ids;
}

/**
 * TEI's `Input` / OpenAI's `input`: a string, a list of token ids (one input), or a non-empty
 * list of strings and token-id lists. More than `maxInputs` inputs → 413 (TEI's message).
 */
export function parseInputs(value: unknown, field: string, vocabSize: number, maxInputs: number): { inputs: InputItem[]; single: boolean } {
  if (typeof value === 'string') return { inputs: [value], single: true };
  if (value === undefined || value === null) throw badRequest(`\`${field}\` is required (a string, an array of strings, or token ids)`);
  if (!Array.isArray(value)) throw badRequest(`\`${field}\` must be a string, an array of strings, or token ids (got ${describe(value)})`);
  if (value.length === 0) throw empty(field);
  if (typeof value[0] === 'number') return { inputs: [tokenIds(value, field, vocabSize)], single: true };
  if (value.length > maxInputs) throw tooLarge(`batch size ${value.length} > maximum allowed batch size ${maxInputs}`);
  const inputs = new Array<InputItem>(value.length);
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if (typeof item === 'string') inputs[i] = item;
    else if (Array.isArray(item)) inputs[i] = tokenIds(item, `${field}[${i}]`, vocabSize);
    else throw badRequest(`\`${field}[${i}]\` must be a string or an array of token ids (got ${describe(item)})`);
  }
  return { inputs, single: false };
}

/** TEI's method label for an `inputs` value: one input (a string or one list of ids) or a batch. */
export function inputMethod(value: unknown): 'single' | 'batch' {
  return Array.isArray(value) && value.length > 0 && typeof value[0] !== 'number' ? 'batch' : 'single';
}

/** A string or a non-empty array of strings (no token ids), as a list. */
function textList(value: unknown, field: string, maxInputs: number): string[] {
  if (typeof value === 'string') return [value];
  if (value === undefined || value === null) throw badRequest(`\`${field}\` is required (a string or an array of strings)`);
  if (!Array.isArray(value)) throw badRequest(`\`${field}\` must be a string or an array of strings (got ${describe(value)})`);
  if (value.length === 0) throw empty(field);
  if (value.length > maxInputs) throw tooLarge(`batch size ${value.length} > maximum allowed batch size ${maxInputs}`);
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== 'string') throw badRequest(`\`${field}[${i}]\` must be a string (got ${describe(value[i])})`);
  }
  return value as string[];
}

function optionalBoolean(body: Json, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw badRequest(`\`${field}\` must be a boolean (got ${describe(v)})`);
  return v;
}

/** `prompt_name`: the name of one of the model's sentence-transformers prompts (a string or null). */
function optionalPromptName(body: Json): string | undefined {
  const v = body.prompt_name;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`\`prompt_name\` must be a string, the name of one of the model's prompts (got ${describe(v)})`);
  return v;
}

/** `truncation_direction`: 'Left' | 'Right' (TEI's serde also takes 'left' / 'right'); default right. */
function truncationDirection(body: Json): TruncationDirection {
  const v = body.truncation_direction;
  if (v === undefined || v === null || v === 'Right' || v === 'right') return 'right';
  if (v === 'Left' || v === 'left') return 'left';
  throw badRequest(`\`truncation_direction\` must be 'Left' or 'Right' (got ${typeof v === 'string' ? JSON.stringify(v) : describe(v)})`);
}

/** `dimensions`: an integer from 1 to the model's dimension, or null. */
function optionalDimensions(body: Json, maxDimensions: number): number | undefined {
  const d = body.dimensions;
  if (d === undefined || d === null) return undefined;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > maxDimensions) {
    throw badRequest(`\`dimensions\` must be an integer from 1 to ${maxDimensions}, the model's dimension (got ${JSON.stringify(d)})`);
  }
  return d;
}

/** The limits a parser needs: the vocabulary (token ids), inputs per request, the dimension. */
export interface ParseLimits {
  vocabSize: number;
  maxInputs: number;
  dimension: number;
}

function encodeFields(b: Json, limits: ParseLimits): EncodeFields {
  const { inputs, single } = parseInputs(b.inputs, 'inputs', limits.vocabSize, limits.maxInputs);
  return { inputs, single, truncate: optionalBoolean(b, 'truncate'), truncationDirection: truncationDirection(b), promptName: optionalPromptName(b) };
}

/** Validates a TEI /embed body. `normalize` defaults to true, as in TEI. */
export function parseEmbedRequest(body: unknown, limits: ParseLimits): EmbedRequest {
  const b = object(body, 'the request body');
  const f = encodeFields(b, limits);
  return {
    inputs: f.inputs,
    single: f.single,
    truncate: f.truncate,
    truncationDirection: f.truncationDirection,
    promptName: f.promptName,
    normalize: optionalBoolean(b, 'normalize') ?? true,
    dimensions: optionalDimensions(b, limits.dimension),
  };
}

/** Validates a TEI /embed_all or /embed_sparse body. */
export function parseEmbedAllRequest(body: unknown, limits: ParseLimits): EmbedAllRequest {
  return encodeFields(object(body, 'the request body'), limits);
}

/** Validates an OpenAI /v1/embeddings body; `model` and `user` may be any string (one model is served). */
export function parseOpenAIRequest(body: unknown, limits: ParseLimits): OpenAIRequest {
  const b = object(body, 'the request body');
  const { inputs, single } = parseInputs(b.input, 'input', limits.vocabSize, limits.maxInputs);
  for (const field of ['model', 'user']) {
    const v = b[field];
    if (v !== undefined && v !== null && typeof v !== 'string') throw badRequest(`\`${field}\` must be a string (got ${describe(v)})`);
  }
  const format = b.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw badRequest(`\`encoding_format\` must be 'float' or 'base64' (got ${JSON.stringify(format)})`);
  }
  return { inputs, single, encodingFormat: format, dimensions: optionalDimensions(b, limits.dimension) };
}

/**
 * Validates a TEI /similarity body: `{ inputs: { source_sentence, sentences }, parameters?:
 * { truncate?, truncation_direction?, prompt_name? } }`. The flat form `{ source_sentence,
 * sentences }` is taken too.
 */
export function parseSimilarityRequest(body: unknown, limits: Pick<ParseLimits, 'maxInputs'>): SimilarityRequest {
  const b = object(body, 'the request body');
  const inputs = b.inputs === undefined ? b : object(b.inputs, '`inputs`');
  const params = b.parameters === undefined || b.parameters === null ? {} : object(b.parameters, '`parameters`');
  const promptName = optionalPromptName(params) ?? optionalPromptName(b);
  const source = inputs.source_sentence;
  if (typeof source !== 'string') throw badRequest(`\`source_sentence\` must be a string (got ${describe(source)})`);
  if (!Array.isArray(inputs.sentences)) throw badRequest(`\`sentences\` must be an array of strings (got ${describe(inputs.sentences)})`);
  // The source sentence is an input too.
  const sentences = textList(inputs.sentences, 'sentences', limits.maxInputs - 1);
  const direction = params.truncation_direction !== undefined ? truncationDirection(params) : truncationDirection(b);
  return { source, sentences, truncate: optionalBoolean(params, 'truncate') ?? optionalBoolean(b, 'truncate'), truncationDirection: direction, promptName };
}

/** Whether a body sent to `POST /` is TEI's similarity shape rather than an embed request. */
export function isSimilarityBody(body: unknown): boolean {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const inputs = (body as Json).inputs;
  return inputs !== null && typeof inputs === 'object' && !Array.isArray(inputs) && 'source_sentence' in inputs;
}

/** Validates a TEI /tokenize body. */
export function parseTokenizeRequest(body: unknown, limits: Pick<ParseLimits, 'maxInputs'>): TokenizeRequest {
  const b = object(body, 'the request body');
  return {
    texts: textList(b.inputs, 'inputs', limits.maxInputs),
    addSpecialTokens: optionalBoolean(b, 'add_special_tokens') ?? true,
    promptName: optionalPromptName(b),
  };
}

/** Largest token id HF decodes (its ids are u32); larger ones cannot name any token. */
const MAX_DECODE_ID = 0xffffffff;

/**
 * Validates a TEI /decode body: `ids` is one list of token ids or a list of them (TEI reads
 * `[]` as one empty list). Any id in [0, 2^32) is taken, as HF's u32 ids: decode skips the ids
 * the vocabulary lacks.
 */
export function parseDecodeRequest(body: unknown, limits: Pick<ParseLimits, 'maxInputs'>): DecodeRequest {
  const b = object(body, 'the request body');
  const value = b.ids;
  if (value === undefined || value === null) throw badRequest('`ids` is required (token ids, or a list of lists of token ids)');
  if (!Array.isArray(value)) throw badRequest(`\`ids\` must be an array of token ids or of arrays of token ids (got ${describe(value)})`);
  const batch = value.length > 0 && Array.isArray(value[0]);
  const lists: unknown[] = batch ? value : [value];
  if (lists.length > limits.maxInputs) throw tooLarge(`batch size ${lists.length} > maximum allowed batch size ${limits.maxInputs}`);
  const ids = lists.map((list, i) => {
    const field = batch ? `ids[${i}]` : 'ids';
    if (!Array.isArray(list)) throw badRequest(`\`${field}\` must be an array of token ids (got ${describe(list)})`);
    for (let k = 0; k < list.length; k++) {
      const v: unknown = list[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_DECODE_ID) {
        throw badRequest(`\`${field}[${k}]\` must be an integer token id from 0 to 2^32 - 1 (got ${typeof v === 'number' ? String(v) : describe(v)})`);
      }
    }
    return list as number[];
  });
  return { ids, skipSpecialTokens: optionalBoolean(b, 'skip_special_tokens') ?? true };
}

/** POST /rerank (TEI): `{ query, texts, truncate?, truncation_direction?, raw_scores? = false, return_text? = false }`. */
export interface RerankRequest {
  query: string;
  texts: string[];
  truncate: boolean | undefined;
  truncationDirection: TruncationDirection;
  rawScores: boolean;
  returnText: boolean;
}

/** One input of POST /predict: a text, or a pair of texts (what a cross-encoder scores). */
export type PredictInput = readonly [string] | readonly [string, string];

/** POST /predict (TEI): `{ inputs, truncate?, truncation_direction?, raw_scores? = false }`. */
export interface PredictRequest {
  inputs: PredictInput[];
  /** Whether `inputs` was one input (a string, `[a]` or `[a, b]`) rather than a batch of them (TEI's PredictInput::Single). */
  single: boolean;
  truncate: boolean | undefined;
  truncationDirection: TruncationDirection;
  rawScores: boolean;
}

/**
 * Validates a TEI /rerank body. `texts` must be a non-empty array of strings (TEI: 400 Empty
 * "`texts` cannot be empty"; more than `maxInputs` → 413 with TEI's batch-size message). An
 * empty `query` is a valid string, as in TEI.
 */
export function parseRerankRequest(body: unknown, limits: Pick<ParseLimits, 'maxInputs'>): RerankRequest {
  const b = object(body, 'the request body');
  if (b.query === undefined || b.query === null) throw badRequest('`query` is required (a string)');
  if (typeof b.query !== 'string') throw badRequest(`\`query\` must be a string (got ${describe(b.query)})`);
  if (b.texts === undefined || b.texts === null) throw badRequest('`texts` is required (an array of strings)');
  if (!Array.isArray(b.texts)) throw badRequest(`\`texts\` must be an array of strings (got ${describe(b.texts)})`);
  const texts = textList(b.texts, 'texts', limits.maxInputs);
  return {
    query: b.query,
    texts,
    truncate: optionalBoolean(b, 'truncate'),
    truncationDirection: truncationDirection(b),
    rawScores: optionalBoolean(b, 'raw_scores') ?? false,
    returnText: optionalBoolean(b, 'return_text') ?? false,
  };
}

/** `[a]` or `[a, b]` of strings, else 400 naming `field`. */
function sequence(value: unknown, field: string): PredictInput {
  if (!Array.isArray(value) || value.length < 1 || value.length > 2) {
    throw badRequest(`\`${field}\` must be a text or a pair of texts: [string] or [string, string] (got ${Array.isArray(value) ? `an array of ${value.length}` : describe(value)})`);
  }
  for (let k = 0; k < value.length; k++) {
    if (typeof value[k] !== 'string') throw badRequest(`\`${field}[${k}]\` must be a string (got ${describe(value[k])})`);
  }
  return value as unknown as PredictInput;
}

/**
 * Validates a TEI /predict body. `inputs` as TEI reads it: a string (one text), `[a]` or
 * `[a, b]` of strings (one text or one pair), or a batch whose items are `[a]` or `[a, b]`
 * (more than `maxInputs` → 413).
 */
export function parsePredictRequest(body: unknown, limits: Pick<ParseLimits, 'maxInputs'>): PredictRequest {
  const b = object(body, 'the request body');
  const v = b.inputs;
  let inputs: PredictInput[];
  let single = true;
  if (typeof v === 'string') {
    inputs = [[v]];
  } else if (v === undefined || v === null) {
    throw badRequest('`inputs` is required (a string, a pair of strings [a, b], or a batch of [a] / [a, b])');
  } else if (!Array.isArray(v)) {
    throw badRequest(`\`inputs\` must be a string, a pair of strings [a, b], or a batch of [a] / [a, b] (got ${describe(v)})`);
  } else if (v.length === 0) {
    throw empty('inputs');
  } else if (typeof v[0] === 'string') {
    inputs = [sequence(v, 'inputs')];
  } else {
    single = false;
    if (v.length > limits.maxInputs) throw tooLarge(`batch size ${v.length} > maximum allowed batch size ${limits.maxInputs}`);
    inputs = v.map((item, i) => sequence(item, `inputs[${i}]`));
  }
  return { inputs, single, truncate: optionalBoolean(b, 'truncate'), truncationDirection: truncationDirection(b), rawScores: optionalBoolean(b, 'raw_scores') ?? false };
}
