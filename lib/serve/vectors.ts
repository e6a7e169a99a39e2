/**
 * Embeddings to response bytes, exactly. A float32 widened to a double and printed with
 * JavaScript's shortest round-trip repr parses back (as a double, then rounded to float32) to
 * the same bits, so `[[…]]` JSON carries the encoder's values exactly; the one value plain
 * `JSON.stringify` would change is -0 (it prints 0), so it is written as `-0` here. Base64 is the
 * float32 bytes little-endian, as OpenAI's `encoding_format: 'base64'` gives them.
 */
import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

/** One number as JSON that reads back to the same float32 bits (null for NaN/±Infinity, as JSON.stringify). */
function numberJson(v: number): string {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  return Number.isFinite(v) ? String(v) : 'null';
}

/** `values[start, start+length)` as a JSON array. */
export function floatArrayJson(values: Float32Array, start = 0, length = values.length - start): string {
  if (length === 0) return '[]';
  let s = '[' + numberJson(values[start]);
  for (let i = 1; i < length; i++) s += ',' + numberJson(values[start + i]);
  return s + ']';
}

/** `count` rows of `dim` values as a JSON array of arrays (TEI's /embed response). */
export function rowsJson(data: Float32Array, count: number, dim: number): string {
  const rows = new Array<string>(count);
  for (let i = 0; i < count; i++) rows[i] = floatArrayJson(data, i * dim, dim);
  return '[' + rows.join(',') + ']';
}

/** `values[start, start+length)` as base64 of its float32 bytes, little-endian. */
export function floatArrayBase64(values: Float32Array, start: number, length: number): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset + start * 4, length * 4);
  if (LITTLE_ENDIAN) return bytes.toString('base64');
  return Buffer.from(bytes).swap32().toString('base64');
}

/**
 * The first `dims` values of each row, L2-normalized again (OpenAI's `dimensions`: shortened
 * embeddings come back unit length; sentence-transformers' `truncate_dim` then normalize). The
 * norm is summed in double precision; a zero row stays zero.
 */
export function shortenRows(data: Float32Array, count: number, dim: number, dims: number): Float32Array {
  const out = new Float32Array(count * dims);
  for (let r = 0; r < count; r++) {
    let sum = 0;
    for (let i = 0; i < dims; i++) sum += data[r * dim + i] * data[r * dim + i];
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let i = 0; i < dims; i++) out[r * dims + i] = data[r * dim + i] * scale;
  }
  return out;
}
