/**
 * tokenizer.json `model`: WordPiece, Unigram or BPE, checked the way HF reads them (and a
 * little stricter where HF would give ids the model was not trained with: vocabulary ids must
 * be 0…n-1, each once).
 */
import { badModel } from '../../errors';
import { wellFormed } from '../charclass';
import { Json, ParseCtx, bad, describe, isObj, quoted, unsupported } from '../json';
import { checkTokenId } from '../post-processor';
import type { ModelSpec } from '../spec';

/** A dense token -> id object (ids 0…n-1, each once): the tokens and ids, in file order. */
function denseVocab(v: unknown, file: string): { tokens: string[]; ids: number[] } {
  if (!isObj(v)) throw badModel(file, 'model.vocab is not an object');
  const tokens: string[] = [];
  const ids: number[] = [];
  // HF numbers a vocabulary 0…n-1 (its size is the entry count, added tokens follow at n); a
  // hole or a huge id would also make every id table that large.
  const size = Object.keys(v).length;
  const taken = new Uint8Array(size);
  for (const tok in v) {
    const id = checkTokenId(v[tok], size, file, `model.vocab[${quoted(tok)}]`);
    if (taken[id]) throw badModel(file, `model.vocab[${quoted(tok)}]: id ${id} is given to two tokens`);
    if (wellFormed(tok) !== tok) throw badModel(file, `model.vocab[${quoted(tok)}] is not valid Unicode (a lone surrogate)`);
    taken[id] = 1;
    tokens.push(tok);
    ids.push(id);
  }
  return { tokens, ids };
}

function optString(m: Json, key: string, file: string): string | null {
  const v = m[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw badModel(file, `model.${key} must be a string (got ${describe(v)})`);
  return v;
}

function optBool(m: Json, key: string, dflt: boolean, file: string): boolean {
  const v = m[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw badModel(file, `model.${key} must be a boolean (got ${describe(v)})`);
  return v;
}

function wordPiece(m: Json, file: string): ModelSpec {
  const vocab = denseVocab(m.vocab, file);
  if (m.max_input_chars_per_word !== undefined) {
    const v = m.max_input_chars_per_word;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw badModel(file, `model.max_input_chars_per_word must be a non-negative integer (got ${JSON.stringify(v)})`);
    }
  }
  for (const field of ['unk_token', 'continuing_subword_prefix'] as const) {
    if (m[field] !== undefined && typeof m[field] !== 'string') {
      throw badModel(file, `model.${field} must be a string (got ${JSON.stringify(m[field])})`);
    }
  }
  return {
    type: 'WordPiece',
    vocab,
    unkToken: typeof m.unk_token === 'string' ? m.unk_token : '[UNK]',
    continuingSubwordPrefix: typeof m.continuing_subword_prefix === 'string' ? m.continuing_subword_prefix : '##',
    maxInputCharsPerWord: (m.max_input_chars_per_word as number | undefined) ?? 100,
  };
}

function unigram(m: Json, file: string): ModelSpec {
  if (!Array.isArray(m.vocab)) throw badModel(file, `model.vocab must be a list of [piece, score] (got ${describe(m.vocab)})`);
  const n = m.vocab.length;
  const pieces: string[] = new Array(n);
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = m.vocab[i];
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'number' || !Number.isFinite(e[1])) {
      throw badModel(file, `model.vocab[${i}] must be [piece, score] (got ${describe(e)})`);
    }
    if (wellFormed(e[0]) !== e[0]) throw badModel(file, `model.vocab[${i}] piece ${quoted(e[0])} is not valid Unicode (a lone surrogate)`);
    pieces[i] = e[0];
    scores[i] = e[1];
  }
  let unkId = -1;
  if (m.unk_id !== undefined && m.unk_id !== null) {
    if (n === 0) throw badModel(file, 'model.vocab is empty but model.unk_id is set');
    unkId = checkTokenId(m.unk_id, n, file, 'model.unk_id');
  }
  return { type: 'Unigram', pieces, scores, unkId, byteFallback: optBool(m, 'byte_fallback', false, file) };
}

function bpe(m: Json, file: string, ctx: ParseCtx): ModelSpec {
  const vocab = denseVocab(m.vocab, file);
  if (m.dropout !== undefined && m.dropout !== null && m.dropout !== 0) {
    if (typeof m.dropout !== 'number' || !(m.dropout >= 0 && m.dropout <= 1)) throw badModel(file, `model.dropout must be a number in [0, 1] (got ${describe(m.dropout)})`);
    throw unsupported(ctx, `BPE with dropout ${m.dropout}`, 'BPE without dropout (dropout null or 0): dropout makes the ids random');
  }
  if (!Array.isArray(m.merges)) throw badModel(file, `model.merges must be a list (got ${describe(m.merges)})`);
  const merges: string[] = [];
  const prefix = optString(m, 'continuing_subword_prefix', file);
  m.merges.forEach((x: unknown, r: number) => {
    let a: unknown;
    let b: unknown;
    if (typeof x === 'string') {
      // the older "a b" form: exactly one space (HF's convert_merges_to_hashmap)
      const parts = x.split(' ');
      if (parts.length !== 2) throw badModel(file, `model.merges[${r}] ${quoted(x)} is not "a b"`);
      [a, b] = parts;
    } else if (Array.isArray(x) && x.length === 2) {
      [a, b] = x;
    }
    if (typeof a !== 'string' || typeof b !== 'string') throw badModel(file, `model.merges[${r}] must be "a b" or [a, b] (got ${describe(x)})`);
    if (prefix !== null && prefix.length > 0 && !b.startsWith(prefix)) {
      throw badModel(file, `model.merges[${r}]: ${quoted(b)} does not start with continuing_subword_prefix ${quoted(prefix)}`);
    }
    merges.push(a, b);
  });
  return {
    type: 'BPE',
    vocab,
    merges,
    unkToken: optString(m, 'unk_token', file),
    continuingSubwordPrefix: prefix,
    endOfWordSuffix: optString(m, 'end_of_word_suffix', file),
    fuseUnk: optBool(m, 'fuse_unk', false, file),
    byteFallback: optBool(m, 'byte_fallback', false, file),
    ignoreMerges: optBool(m, 'ignore_merges', false, file),
  };
}

/** The model of a tokenizer.json. */
export function parseModel(v: unknown, file: string): ModelSpec {
  const ctx: ParseCtx = { file, path: 'model', depth: 0 };
  if (!isObj(v)) throw badModel(file, 'no "model" object');
  // HF guesses an untyped model from its fields
  const type =
    v.type ??
    (isObj(v.vocab) && 'continuing_subword_prefix' in v && !('merges' in v)
      ? 'WordPiece'
      : isObj(v.vocab) && 'merges' in v
        ? 'BPE'
        : Array.isArray(v.vocab)
          ? 'Unigram'
          : undefined);
  switch (type) {
    case 'WordPiece':
      return wordPiece(v, file);
    case 'Unigram':
      return unigram(v, file);
    case 'BPE':
      return bpe(v, file, ctx);
    default:
      if (type === undefined) throw bad(ctx, 'has no "type" and its fields do not say which model it is');
      throw unsupported(ctx, type, 'WordPiece, Unigram, BPE');
  }
}
