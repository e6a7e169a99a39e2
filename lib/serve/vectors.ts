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

const LOG10_2 = 0.3010299956639812;
const F32 = new Float32Array(1);
const F32_BITS = new Uint32Array(F32.buffer);
/** "00" … "99" as ASCII pairs: digits are written two at a time. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = ZERO + ((i / 10) | 0);
  DIGIT_PAIRS[2 * i + 1] = ZERO + (i % 10);
}

/** Writes integer n (0 ≤ n < 2^31) at b[pos…] in decimal, zero-padded to `width` digits; returns the end. */
function writeDigits(b: Buffer, pos: number, n: number, width: number): number {
  let digits = 1;
  for (let t = n; t >= 10; t = (t / 10) | 0) digits++;
  if (digits < width) digits = width;
  let at = pos + digits - 1;
  let left = digits;
  while (left >= 2) {
    const q = (n / 100) | 0;
    const r = n - q * 100;
    b[at] = DIGIT_PAIRS[2 * r + 1];
    b[at - 1] = DIGIT_PAIRS[2 * r];
    at -= 2;
    left -= 2;
    n = q;
  }
  if (left === 1) b[at] = ZERO + n;
  return pos + digits;
}

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
   * an embedding's range — and numbers that are not float32 are written with the double's own
   * shortest repr, also exact.
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
    if (!(a >= 1e-13 && a < 1e8) || Math.fround(v) !== v) return this.raw(Number.isFinite(v) ? String(v) : 'null');
    // Decimal exponent, 10^e <= a < 10^(e+1), from the binary one: 2^b <= a < 2^(b+1) gives
    // floor(b·log10 2) or one more (a is normal: float32 subnormals are far below 1e-13).
    F32[0] = a;
    let e = Math.floor((((F32_BITS[0] >>> 23) & 0xff) - 127) * LOG10_2);
    if ((e + 1 >= 0 ? POW10[e + 1] : 1 / POW10[-e - 1]) <= a) e++;
    // Nine digits always read back to a float32; if d digits do, so do d + 1: walk down from 8
    // while they still do.
    let k = 8 - e;
    let m = Math.round(a * POW10[k]);
    for (let kk = k - 1; kk >= 0; kk--) {
      const mm = Math.round(a * POW10[kk]);
      if (Math.fround(mm / POW10[kk]) !== a) break;
      m = mm;
      k = kk;
    }
    // m < 2^31 here (at most 9 digits, or 10^9 after rounding up): integer ops are exact.
    m |= 0;
    while (k > 0 && m % 10 === 0) {
      m = (m / 10) | 0;
      k--;
    }
    if (v < 0) b[this.len++] = MINUS;
    if (k === 0) {
      this.len = writeDigits(b, this.len, m, 0);
      return this;
    }
    // Integer part, the dot, then k fraction digits (leading zeros included).
    const whole = (m / POW10[k]) | 0;
    this.len = writeDigits(b, this.len, whole, 0);
    b[this.len++] = DOT;
    this.len = writeDigits(b, this.len, m - whole * POW10[k], k);
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
