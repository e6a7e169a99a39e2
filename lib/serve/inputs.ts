/**
 * A request's inputs → the packed token-id sequences the encoder runs (`encodeTokenIds`), with
 * the limits applied: each text is tokenized once, with the model's prompt before it and
 * lower-cased when the model lower-cases (exactly what `encode` runs), and checked against the
 * max input length — over it → 413 naming the input, or truncated at that length from the end
 * TEI's `truncation_direction` says when truncation is asked for (the special tokens stay, as
 * HF truncates). Token-id inputs are the model's input as given (special tokens included, no
 * prompt added); with a prompt they are decoded and re-tokenized after it, as TEI does.
 */
import type { SentenceEncoder } from '../encoder';
import { tooLarge } from './errors';
import type { InputItem, TruncationDirection } from './validate';

/** What of the encoder input preparation reads. */
export type InputEncoder = Pick<SentenceEncoder, 'tokenizer' | 'maxSeqLength' | 'model' | 'promptLength'>;

/** Packed sequences ready for `encodeTokenIds`, and what the response headers and metrics count. */
export interface PreparedInputs {
  ids: Int32Array;
  cuSeqlens: Int32Array;
  count: number;
  /** Tokens of all sequences (prompt and special tokens included). */
  tokens: number;
  /** Characters (code points) of the texts, and ids of the token-id inputs (TEI's compute_chars). */
  chars: number;
  /** Leading prompt tokens of every sequence (pooling leaves them out under include_prompt: false). */
  promptTokens: number;
}

export interface PrepareOptions {
  /** The prompt text put before every input ('' for none). */
  prompt: string;
  truncate: boolean;
  direction: TruncationDirection;
  /** Most tokens per sequence (≤ the model's max_seq_length). */
  maxInputLength: number;
  /** How errors name input i (e.g. `inputs[3]`). */
  field: (i: number) => string;
}

/** Unicode code points of `s` (TEI counts characters as Rust's chars()). */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function overLength(o: PrepareOptions, i: number): Error {
  const withPrompt = o.prompt ? ` with its prompt (${JSON.stringify(o.prompt)})` : '';
  return tooLarge(
    `Input validation error: \`${o.field(i)}\`${withPrompt} has more than ${o.maxInputLength} tokens, the maximum input length; set \`truncate: true\` to truncate it`,
  );
}

/** Characters of a text's end tokenized first for left truncation, per token kept (grows ×4 when too few). */
const LEFT_WINDOW_CHARS_PER_TOKEN = 16;
const WHITESPACE = /\s/;

/**
 * `text` tokenized and truncated to `limit` tokens from `direction`'s end. Right truncation
 * stops tokenizing at the limit. Left truncation needs the text's last tokens, so rather than
 * tokenizing all of a long text (up to the payload limit: seconds of the event loop) it
 * tokenizes a window at the end that starts at whitespace — whitespace ends every word piece,
 * and the normalizer works character by character, so the window's tokens are the last tokens
 * of the whole text — and widens the window until it holds more tokens than are kept.
 */
function truncated(enc: InputEncoder, text: string, limit: number, direction: TruncationDirection): Int32Array {
  const tok = enc.tokenizer;
  let source = text;
  if (direction === 'left') {
    for (let window = limit * LEFT_WINDOW_CHARS_PER_TOKEN; window < text.length; window *= 4) {
      let cut = text.length - window;
      while (cut < text.length && !WHITESPACE.test(text[cut])) cut++;
      if (cut >= text.length) continue;
      const tail = text.slice(cut);
      if (tok.encodeBatch([tail], { maxLength: limit + 1 }).ids.length > limit) {
        source = tail;
        break;
      }
    }
  }
  return tok.encodeBatch([source], { maxLength: limit, truncationSide: direction }).ids;
}

/** Tokenizes / checks / truncates `items` into packed sequences; see the file comment. */
export function prepareInputs(enc: InputEncoder, items: readonly InputItem[], o: PrepareOptions): PreparedInputs {
  const n = items.length;
  const limit = o.maxInputLength;
  const lower = enc.model.doLowerCase;
  // Texts to tokenize: text inputs, and token-id inputs that need the prompt put before them.
  const texts: string[] = [];
  const textIndex: number[] = [];
  let chars = 0;
  for (let i = 0; i < n; i++) {
    const item = items[i];
    if (typeof item === 'string') {
      chars += codePoints(item);
      const t = o.prompt + item;
      texts.push(lower ? t.toLowerCase() : t);
      textIndex.push(i);
    } else {
      chars += item.length;
      if (o.prompt) {
        const t = o.prompt + enc.tokenizer.decode(item, { skipSpecialTokens: true });
        texts.push(lower ? t.toLowerCase() : t);
        textIndex.push(i);
      }
    }
  }
  // One token past the limit is enough to tell an over-length input (tokenization stops there).
  const probe = texts.length > 0 ? enc.tokenizer.encodeBatch(texts, { maxLength: limit + 1 }) : undefined;
  let overLong: number[] | undefined;
  if (probe) {
    const cu = probe.cuSeqlens;
    for (let k = 0; k < texts.length; k++) {
      if (cu[k + 1] - cu[k] > limit) {
        if (!o.truncate) throw overLength(o, textIndex[k]);
        (overLong ??= []).push(k);
      }
    }
  }
  const promptTokens = o.prompt ? enc.promptLength(o.prompt) : 0;
  // The common case: every input a text that fits — the probe is the answer.
  if (probe && texts.length === n && !overLong) {
    return { ids: probe.ids, cuSeqlens: probe.cuSeqlens, count: n, tokens: probe.ids.length, chars, promptTokens };
  }
  // Otherwise each sequence on its own: truncated texts tokenized again at the limit.
  const sequences = new Array<Int32Array>(n);
  if (probe) {
    const cu = probe.cuSeqlens;
    for (let k = 0; k < texts.length; k++) sequences[textIndex[k]] = probe.ids.subarray(cu[k], cu[k + 1]);
    for (const k of overLong ?? []) sequences[textIndex[k]] = truncated(enc, texts[k], limit, o.direction);
  }
  let tokens = 0;
  for (let i = 0; i < n; i++) {
    const item = items[i];
    if (sequences[i] === undefined && typeof item !== 'string') {
      if (item.length > limit) {
        if (!o.truncate) throw overLength(o, i);
        sequences[i] = o.direction === 'left' ? item.subarray(item.length - limit) : item.subarray(0, limit);
      } else {
        sequences[i] = item;
      }
    }
    tokens += sequences[i].length;
  }
  const ids = new Int32Array(tokens);
  const cuSeqlens = new Int32Array(n + 1);
  for (let i = 0, t = 0; i < n; i++) {
    ids.set(sequences[i], t);
    t += sequences[i].length;
    cuSeqlens[i + 1] = t;
  }
  return { ids, cuSeqlens, count: n, tokens, chars, promptTokens };
}
