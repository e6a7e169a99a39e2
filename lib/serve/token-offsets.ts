/**
 * /tokenize answers each token with the span of the input it came from (TEI's SimpleToken:
 * `start` / `stop` are UTF-8 byte offsets, `text` the input's bytes between them; special tokens
 * have `text` = the token and null offsets). The tokenizer gives ids and word pieces but not
 * offsets, so they are recovered here by alignment: every character of the input is normalized
 * on its own (the WordPiece normalizer works character by character: clean-up, CJK spacing,
 * accent stripping, lower-casing), remembering which input bytes each normalized character came
 * from, and the pieces are matched against that stream in order — a `##` piece continues the
 * word, [UNK] stands for a whole word (up to whitespace or punctuation), whitespace between
 * pieces is skipped. Where a piece does not match (a tokenizer this does not model, an added
 * token that matched across normalization, a Unigram or BPE tokenizer), that token and the rest
 * get null offsets and `text` = the token itself: never a wrong span. When the tokenizer gives
 * offsets itself, this file goes away.
 */
import type { BertTokenizer, NormalizerOptions } from '../tokenizer';
import { normalizeString } from '../tokenizer';

/** TEI's SimpleToken. */
export interface SimpleToken {
  id: number;
  text: string;
  special: boolean;
  start: number | null;
  stop: number | null;
}

/** The normalized text as UTF-16 units, each with the input byte span it came from. */
interface NormalizedStream {
  units: string;
  starts: Int32Array;
  stops: Int32Array;
}

function utf8Length(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** What the alignment needs to know of a WordPiece tokenizer; undefined for another kind. */
interface WordPieceParts {
  /** null: no normalizer. */
  normalizer: NormalizerOptions | null;
  unkToken: string;
  continuingSubwordPrefix: string;
}

/**
 * The WordPiece parts of `tok`'s spec, read defensively: a flat BERT spec (normalizer options,
 * unk token and subword prefix at the top) or a component spec (`normalizer: { type:
 * 'BertNormalizer', options }`, `model: { type: 'WordPiece', … }`). Anything else — another
 * model, another normalizer — has no alignment here (null offsets).
 */
function wordPieceParts(tok: BertTokenizer): WordPieceParts | undefined {
  const spec = tok.spec as unknown as Record<string, unknown>;
  const model = (spec.model ?? spec) as Record<string, unknown>;
  if (spec.model !== undefined && model.type !== 'WordPiece') return undefined;
  if (typeof model.unkToken !== 'string' || typeof model.continuingSubwordPrefix !== 'string') return undefined;
  const n = spec.normalizer as Record<string, unknown> | null | undefined;
  let normalizer: NormalizerOptions | null;
  if (n === null || n === undefined) normalizer = null;
  else if (n.type === 'BertNormalizer') normalizer = n.options as NormalizerOptions;
  else if (n.type === undefined && typeof n.lowercase === 'boolean') normalizer = n as unknown as NormalizerOptions;
  else return undefined;
  return { normalizer, unkToken: model.unkToken, continuingSubwordPrefix: model.continuingSubwordPrefix };
}

function normalizedStream(text: string, norm: NormalizerOptions | null): NormalizedStream {
  let units = '';
  const starts: number[] = [];
  const stops: number[] = [];
  let byte = 0;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    let ch = text[i];
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        ch = text.slice(i, i + 2);
        i++;
      }
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      cp = 0xfffd; // a lone surrogate is written as U+FFFD (3 bytes), as Node encodes it
    }
    const size = utf8Length(cp);
    let out: string;
    if (!norm) out = ch;
    else if (cp < 0x80 && cp >= 0x20 && cp !== 0x7f) out = norm.lowercase && cp >= 65 && cp <= 90 ? String.fromCharCode(cp + 32) : ch;
    else out = normalizeString(ch, norm);
    for (let k = 0; k < out.length; k++) {
      starts.push(byte);
      stops.push(byte + size);
    }
    units += out;
    byte += size;
  }
  return { units, starts: Int32Array.from(starts), stops: Int32Array.from(stops) };
}

const WHITESPACE = /\s/u;
/** BertPreTokenizer's punctuation: ASCII symbol ranges and Unicode P* (what splits words). */
const PUNCTUATION = /[!-/:-@[-`{-~]|\p{P}/u;

/**
 * The tokens of `text` for /tokenize: ids as `tokenizer.encode(text, { addSpecialTokens })`
 * gives them, each with its input span (see the file comment). `original`: the text before the
 * model's own lower-casing (sentence-transformers' do_lower_case), whose bytes `text` reports
 * when lower-casing kept every character's length.
 */
export function tokensWithOffsets(tok: BertTokenizer, text: string, addSpecialTokens: boolean, original = text): SimpleToken[] {
  const ids = tok.encode(text, { addSpecialTokens });
  const seq = addSpecialTokens ? tok.encode(text, { addSpecialTokens: false }).ids : ids.ids;
  const pieces = tok.tokenize(text);
  // Where the text's own tokens sit among the special ones the template adds.
  let at = 0;
  if (addSpecialTokens) {
    const all = ids.ids;
    at = -1;
    for (let p = 0; p + seq.length <= all.length && at < 0; p++) {
      let same = true;
      for (let k = 0; k < seq.length && same; k++) same = all[p + k] === seq[k];
      if (same) at = p;
    }
  }
  const parts = wordPieceParts(tok);
  const aligned = parts && at >= 0 && pieces.length === seq.length ? align(tok, parts, text, pieces, seq) : [];
  const bytes = Buffer.byteLength(original) === Buffer.byteLength(text) ? Buffer.from(original, 'utf8') : Buffer.from(text, 'utf8');
  const out: SimpleToken[] = [];
  for (let i = 0; i < ids.ids.length; i++) {
    const id = ids.ids[i];
    const k = i - at;
    if (at < 0 || k < 0 || k >= seq.length) {
      out.push({ id, text: tok.idToToken(id) ?? '', special: true, start: null, stop: null });
      continue;
    }
    const span = aligned[k];
    if (span) out.push({ id, text: bytes.subarray(span[0], span[1]).toString('utf8'), special: false, start: span[0], stop: span[1] });
    else out.push({ id, text: pieces[k], special: false, start: null, stop: null });
  }
  return out;
}

/** Byte spans of the pieces, in order; stops at the first piece that does not match. */
function align(tok: BertTokenizer, parts: WordPieceParts, text: string, pieces: readonly string[], ids: Int32Array): Array<[number, number]> {
  const stream = normalizedStream(text, parts.normalizer);
  const u = stream.units;
  const prefix = parts.continuingSubwordPrefix;
  const unk = parts.unkToken;
  const spans: Array<[number, number]> = [];
  let pos = 0;
  for (let k = 0; k < pieces.length; k++) {
    let piece = pieces[k];
    const continues = prefix.length > 0 && piece.startsWith(prefix) && piece.length > prefix.length;
    if (!continues) while (pos < u.length && WHITESPACE.test(u[pos])) pos++;
    else piece = piece.slice(prefix.length);
    let end: number;
    if (pieces[k] === unk && tok.idToToken(ids[k]) === unk) {
      // [UNK] stands for the whole word: one punctuation character, or up to the next one / whitespace.
      end = pos;
      if (end < u.length && PUNCTUATION.test(u[end])) end++;
      else while (end < u.length && !WHITESPACE.test(u[end]) && !PUNCTUATION.test(u[end])) end++;
      if (end === pos) return spans;
    } else {
      if (piece.length === 0 || u.startsWith(piece, pos) === false) return spans;
      end = pos + piece.length;
    }
    spans.push([stream.starts[pos], stream.stops[end - 1]]);
    pos = end;
  }
  return spans;
}
