/**
 * Embeddings to response bytes, exactly and fast. JSON numbers are written as the shortest
 * decimal that reads back (parsed as a double, rounded to float32) to the same float32 bits —
 * what TEI's serde_json prints for an f32, about half the characters of the widened double's
 * repr — straight into a byte buffer: a 32 × 384 response is 12,288 numbers, and making a JS
 * string for each (String(v), JSON.stringify) costs as much main-thread time as the encoder's
 * own work for such a request. -0 is written as `-0` (JSON.stringify would print 0). Base64 is
 * the float32 bytes little-endian, as OpenAI's `encoding_format: 'base64'` gives them.
 */
import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';
/** Powers of ten exactly representable as doubles (10^0 … 10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const ZERO = 48;
const MINUS = 45;
const DOT = 46;

/** Appends JSON text to a growing byte buffer; `float32` writes one number (see the file comment). */
export class JsonWriter {
  private buf: Buffer;
  private len = 0;

  constructor(capacity = 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Appends text as is (UTF-8). */
  raw(text: string): this {
    this.ensure(Buffer.byteLength(text));
    this.len += this.buf.write(text, this.len, 'utf8');
    return this;
  }

  /**
   * Appends float32 `v` as the shortest decimal (at most 9 significant digits, enough for any
   * float32) that reads back to it; null for NaN/±Infinity, as JSON.stringify. A candidate
   * `m / 10^k` (integer m, k ≤ 22) is checked by computing that quotient in double arithmetic,
   * which rounds exactly as parsing the decimal does. Values outside [1e-13, 1e8) — far outside
   * an embedding's range — are written with the double's own shortest repr, also exact.
   */
  float32(v: number): this {
    this.ensure(32);
    const b = this.buf;
    if (v === 0) {
      if (Object.is(v, -0)) b[this.len++] = MINUS;
      b[this.len++] = ZERO;
      return this;
    }
    const a = Math.abs(v);
    if (!(a >= 1e-13 && a < 1e8)) return this.raw(Number.isFinite(v) ? String(v) : 'null');
    // Decimal exponent: 10^e <= a < 10^(e+1) (log10 can be off by one near powers of ten).
    let e = Math.floor(Math.log10(a));
    if ((e >= 0 ? POW10[e] : 1 / POW10[-e]) > a) e--;
    else if ((e + 1 >= 0 ? POW10[e + 1] : 1 / POW10[-e - 1]) <= a) e++;
    // If d digits read back, so do d + 1: walk down from 9 while they still do.
    let m = -1;
    let k = 0;
    for (let digits = 9; digits >= 1; digits--) {
      const kk = digits - 1 - e;
      if (kk < 0 || kk > 22) break;
      const mm = Math.round(a * POW10[kk]);
      if (Math.fround(mm / POW10[kk]) !== a) break;
      m = mm;
      k = kk;
    }
    if (m < 0) return this.raw(String(v));
    // m < 2^31 here (at most 9 digits, or 10^9 after rounding up): integer ops are exact.
    m |= 0;
    while (k > 0 && m % 10 === 0) {
      m = (m / 10) | 0;
      k--;
    }
    let nd = 1;
    for (let t = m; t >= 10; t = (t / 10) | 0) nd++;
    if (v < 0) b[this.len++] = MINUS;
    // Layout: digits with a dot k places from the right, or "0.000ddd" when k >= nd.
    const lead = k >= nd ? k - nd + 2 : 0; // "0." plus leading zeros
    const total = lead + nd + (k > 0 && k < nd ? 1 : 0);
    let pos = this.len + total - 1;
    for (let i = 0; i < nd; i++) {
      if (k > 0 && k < nd && i === k) b[pos--] = DOT;
      b[pos--] = ZERO + (m % 10);
      m = (m / 10) | 0;
    }
    if (lead > 0) {
      b[this.len] = ZERO;
      b[this.len + 1] = DOT;
      for (let i = 2; i < lead; i++) b[this.len + i] = ZERO;
    }
    this.len += total;
    return this;
  }

  /** Appends `values[start, start+length)` as a JSON array. */
  floatArray(values: Float32Array, start = 0, length = values.length - start): this {
    this.ensure(2);
    this.buf[this.len++] = 0x5b; // [
    for (let i = 0; i < length; i++) {
      if (i > 0) {
        this.ensure(1);
        this.buf[this.len++] = 0x2c; // ,
      }
      this.float32(values[start + i]);
    }
    this.ensure(1);
    this.buf[this.len++] = 0x5d; // ]
    return this;
  }

  /** The bytes written so far (a view of the writer's buffer). */
  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** `values[start, start+length)` as a JSON array string. */
export function floatArrayJson(values: Float32Array, start = 0, length = values.length - start): string {
  return new JsonWriter(16 * length + 2).floatArray(values, start, length).finish().toString('latin1');
}

/** `count` rows of `dim` values as JSON `[[…],…]` bytes (TEI's /embed response). */
export function rowsJson(data: Float32Array, count: number, dim: number): Buffer {
  const w = new JsonWriter(count * dim * 12 + 16).raw('[');
  for (let i = 0; i < count; i++) {
    if (i > 0) w.raw(',');
    w.floatArray(data, i * dim, dim);
  }
  return w.raw(']').finish();
}

/**
 * OpenAI's embeddings response — `{ object: 'list', data: [{ object: 'embedding', index,
 * embedding }], model, usage }` — for `count` rows of `dim` values, each row as a JSON array
 * or (`base64`) its float32 bytes.
 */
export function openAIEmbeddingsJson(data: Float32Array, count: number, dim: number, base64: boolean, model: string, tokens: number): Buffer {
  const w = new JsonWriter(base64 ? count * (dim * 4 * 1.34 + 64) + 256 : count * dim * 12 + count * 48 + 256).raw('{"object":"list","data":[');
  for (let i = 0; i < count; i++) {
    w.raw(i > 0 ? `,{"object":"embedding","index":${i},"embedding":` : `{"object":"embedding","index":${i},"embedding":`);
    if (base64) w.raw(`"${floatArrayBase64(data, i * dim, dim)}"`);
    else w.floatArray(data, i * dim, dim);
    w.raw('}');
  }
  return w.raw(`],"model":${JSON.stringify(model)},"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}}`).finish();
}

/** Per-sequence token embeddings as JSON `[[[…],…],…]` (TEI's /embed_all response). */
export function tokenRowsJson(rows: readonly { data: Float32Array; count: number; dim: number }[]): Buffer {
  let values = 0;
  for (const r of rows) values += r.count * r.dim;
  const w = new JsonWriter(values * 12 + rows.length * 4 + 16).raw('[');
  rows.forEach((r, s) => {
    if (s > 0) w.raw(',');
    w.raw('[');
    for (let i = 0; i < r.count; i++) {
      if (i > 0) w.raw(',');
      w.floatArray(r.data, i * r.dim, r.dim);
    }
    w.raw(']');
  });
  return w.raw(']').finish();
}

/** `values[start, start+length)` as base64 of its float32 bytes, little-endian. */
export function floatArrayBase64(values: Float32Array, start: number, length: number): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset + start * 4, length * 4);
  if (LITTLE_ENDIAN) return bytes.toString('base64');
  return Buffer.from(bytes).swap32().toString('base64');
}
