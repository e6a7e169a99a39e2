/**
 * Request validation for the three encode endpoints, in the shapes TEI and OpenAI document. Each
 * parser takes the parsed JSON body and returns a typed request, or throws a 400 HttpError that
 * names the offending field; nothing invalid ever reaches the encoder, so a bad request cannot
 * fail or delay the good ones it would have been batched with. Unknown fields are ignored (as
 * TEI's serde structs and OpenAI do). `prompt_name` is checked for its type here and against
 * the model's prompts by the server, which knows them.
 */
import { badRequest, HttpError } from './errors';

/** POST /embed (TEI): `{ inputs, normalize?, truncate?, prompt_name? }`. */
export interface EmbedRequest {
  texts: string[];
  normalize: boolean;
  truncate: boolean | undefined;
  /** One of the model's prompts (config_sentence_transformers.json), unchecked here. */
  promptName: string | undefined;
}

/** POST /v1/embeddings (OpenAI): `{ input, model?, encoding_format?, dimensions? }`. */
export interface OpenAIRequest {
  texts: string[];
  encodingFormat: 'float' | 'base64';
  dimensions: number | undefined;
}

/** POST /similarity (TEI): `{ inputs: { source_sentence, sentences }, parameters? }`. */
export interface SimilarityRequest {
  source: string;
  sentences: string[];
  truncate: boolean | undefined;
  /** `parameters.prompt_name` (or a top-level `prompt_name`), unchecked here. */
  promptName: string | undefined;
}

type Json = Record<string, unknown>;

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

/** A string or a non-empty array of strings, as a list; `field` names it in errors. */
function textList(value: unknown, field: string): string[] {
  if (typeof value === 'string') return [value];
  if (value === undefined) throw badRequest(`\`${field}\` is required (a string or an array of strings)`);
  if (!Array.isArray(value)) throw badRequest(`\`${field}\` must be a string or an array of strings (got ${describe(value)})`);
  if (value.length === 0) throw new HttpError(400, 'Empty', `\`${field}\` cannot be empty`);
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== 'string') {
      throw badRequest(`\`${field}[${i}]\` must be a string (got ${describe(value[i])}); token-id inputs are not supported`);
    }
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

/** Validates a TEI /embed body. `normalize` defaults to true, as in TEI. */
export function parseEmbedRequest(body: unknown): EmbedRequest {
  const b = object(body, 'the request body');
  return {
    texts: textList(b.inputs, 'inputs'),
    normalize: optionalBoolean(b, 'normalize') ?? true,
    truncate: optionalBoolean(b, 'truncate'),
    promptName: optionalPromptName(b),
  };
}

/** Validates an OpenAI /v1/embeddings body; `dimensions` must be 1..`maxDimensions`. */
export function parseOpenAIRequest(body: unknown, maxDimensions: number): OpenAIRequest {
  const b = object(body, 'the request body');
  const texts = textList(b.input, 'input');
  if (b.model !== undefined && b.model !== null && typeof b.model !== 'string') throw badRequest(`\`model\` must be a string (got ${describe(b.model)})`);
  const format = b.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw badRequest(`\`encoding_format\` must be 'float' or 'base64' (got ${JSON.stringify(format)})`);
  }
  let dimensions: number | undefined;
  if (b.dimensions !== undefined && b.dimensions !== null) {
    const d = b.dimensions;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > maxDimensions) {
      throw badRequest(`\`dimensions\` must be an integer from 1 to ${maxDimensions}, the model's dimension (got ${JSON.stringify(d)})`);
    }
    dimensions = d;
  }
  return { texts, encodingFormat: format, dimensions };
}

/**
 * Validates a TEI /similarity body: `{ inputs: { source_sentence, sentences }, parameters?:
 * { truncate?, prompt_name? } }`. The flat form `{ source_sentence, sentences }` is taken too.
 */
export function parseSimilarityRequest(body: unknown): SimilarityRequest {
  const b = object(body, 'the request body');
  const inputs = b.inputs === undefined ? b : object(b.inputs, '`inputs`');
  const params = b.parameters === undefined || b.parameters === null ? {} : object(b.parameters, '`parameters`');
  const promptName = optionalPromptName(params) ?? optionalPromptName(b);
  const source = inputs.source_sentence;
  if (typeof source !== 'string') throw badRequest(`\`source_sentence\` must be a string (got ${describe(source)})`);
  if (!Array.isArray(inputs.sentences)) throw badRequest(`\`sentences\` must be an array of strings (got ${describe(inputs.sentences)})`);
  const sentences = textList(inputs.sentences, 'sentences');
  return { source, sentences, truncate: optionalBoolean(params, 'truncate') ?? optionalBoolean(b, 'truncate'), promptName };
}
