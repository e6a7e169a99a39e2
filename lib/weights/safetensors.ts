/**
 * safetensors reader (https://github.com/huggingface/safetensors, format section).
 *
 * Layout: 8-byte little-endian u64 N, then N bytes of UTF-8 JSON (an object mapping tensor name
 * to `{dtype, shape, data_offsets: [begin, end]}` plus an optional `__metadata__` string map,
 * possibly right-padded with spaces), then the byte buffer. Offsets are relative to the start of
 * the byte buffer. Data is little-endian, row-major (C order).
 *
 * Everything is validated before a view is handed out: a file that parses here can be indexed
 * by native code without further bounds checks (every `bytes` lies inside the file, has exactly
 * product(shape) × itemsize bytes, and no two tensors overlap). Any problem is an SbertError with
 * code ERR_BAD_MODEL naming the file and the reason.
 */
import * as fs from 'fs';
import { open } from 'fs/promises';
import { SbertError, badModel } from '../errors';

export type Dtype =
  | 'F64' | 'F32' | 'F16' | 'BF16'
  | 'I64' | 'I32' | 'I16' | 'I8'
  | 'U64' | 'U32' | 'U16' | 'U8'
  | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

/** Bytes per element of each dtype the reader knows. */
export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = Object.freeze({
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1,
  U64: 8, U32: 4, U16: 2, U8: 1,
  BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
});

/** The float dtypes model weights may use. */
export const FLOAT_DTYPES: ReadonlySet<Dtype> = new Set<Dtype>(['F32', 'F16', 'BF16']);

export interface TensorView {
  name: string;
  dtype: Dtype;
  shape: number[];
  /**
   * Raw little-endian element data: a zero-copy subarray of the file buffer, or (for views of a
   * file read with `readSafetensorsLazy`) read synchronously from `file` on first access.
   */
  bytes: Uint8Array;
  /** Where the data lies in a file on disk, when the view was read lazily (see readSafetensorsLazy). */
  file?: { path: string; offset: number; byteLength: number };
}

export interface SafetensorsFile {
  tensors: Map<string, TensorView>;
  metadata: Record<string, string>;
  /** Bytes of the buffer the views point into (the whole file). */
  byteLength: number;
}

/** Largest JSON header accepted (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && hasOwn(DTYPE_SIZE, s);
}

/**
 * Reads a whole file into one Buffer with few large reads (fs.readFile reads 512 KiB at a time
 * through the thread pool, which made loading a 90 MB model take ~330 ms instead of ~60 ms).
 * Never blocks the event loop: every read is asynchronous.
 */
async function readWholeFile(file: string): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const buf = Buffer.allocUnsafe(st.size);
    const CHUNK = 64 << 20;
    let at = 0;
    while (at < st.size) {
      const { bytesRead } = await fh.read(buf, at, Math.min(CHUNK, st.size - at), at);
      if (bytesRead === 0) break; // the file shrank while being read
      at += bytesRead;
    }
    return at === st.size ? buf : buf.subarray(0, at);
  } finally {
    await fh.close();
  }
}

/**
 * Reads only the header of a safetensors file: the views know where their data lies
 * (`view.file`) and read it synchronously only if `bytes` is accessed. The engine and the
 * trainer read tensors straight from the file into their own storage, so loading a model never
 * holds the whole file in a JS buffer (on a machine where fresh memory is slow, that buffer was
 * a third of the load time and its full size in peak RSS).
 */
export async function readSafetensorsLazy(file: string): Promise<SafetensorsFile> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw badModel(file, 'file not found', err);
    throw badModel(file, `cannot read file (${code ?? (err as Error).message})`, err);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw badModel(file, 'is a directory, expected a .safetensors file');
    const size = st.size;
    const head = Buffer.alloc(Math.min(size, 8));
    await fh.read(head, 0, head.length, 0);
    let headerLen = 0;
    if (head.length === 8) {
      const n = head.readBigUInt64LE(0);
      headerLen = n > BigInt(MAX_HEADER_BYTES) || n > BigInt(size - 8) ? 0 : Number(n);
    }
    // The header (plus its 8-byte length) as a short image whose data section is empty; the
    // parser validates it against the real file size.
    const image = Buffer.alloc(8 + headerLen);
    head.copy(image, 0);
    if (headerLen > 0) await fh.read(image, 8, headerLen, 8);
    const parsed = parseSafetensors(image, file, size);
    const dataStart = 8 + headerLen;
    for (const view of parsed.tensors.values()) {
      const where = view.bytes as unknown as { begin: number; end: number };
      const ref = { path: file, offset: dataStart + where.begin, byteLength: where.end - where.begin };
      let cached: Uint8Array | undefined;
      Object.defineProperty(view, 'bytes', {
        enumerable: true,
        get: () => (cached ??= readRangeSync(ref.path, ref.offset, ref.byteLength)),
      });
      view.file = ref;
    }
    return parsed;
  } finally {
    await fh.close();
  }
}

function readRangeSync(file: string, offset: number, byteLength: number): Uint8Array {
  const out = Buffer.alloc(byteLength);
  const fd = fs.openSync(file, 'r');
  try {
    let at = 0;
    while (at < byteLength) {
      const n = fs.readSync(fd, out, at, byteLength - at, offset + at);
      if (n === 0) throw badModel(file, `file shrank while being read (tensor data at ${offset} + ${byteLength})`);
      at += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/** Reads a whole safetensors file into one Buffer and parses it. */
export async function readSafetensors(file: string): Promise<SafetensorsFile> {
  let buf: Buffer;
  try {
    buf = await readWholeFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw badModel(file, 'file not found', err);
    if (code === 'EISDIR') throw badModel(file, 'is a directory, expected a .safetensors file', err);
    throw badModel(file, `cannot read file (${code ?? (err as Error).message})`, err);
  }
  return parseSafetensors(buf, file);
}

/**
 * Parses a safetensors image held in memory. Tensor `bytes` are subarrays of `buf` (no copy), so
 * `buf` must not be modified while the views are in use.
 */
export function parseSafetensors(buf: Uint8Array, fileNameForErrors: string, fileSize?: number): SafetensorsFile {
  // fileSize (readSafetensorsLazy): `buf` holds only the header; views then carry their
  // [begin, end) data offsets in place of bytes, to be replaced by the caller.
  const file = fileNameForErrors;
  if (!(buf instanceof Uint8Array)) throw new TypeError('parseSafetensors: buf must be a Uint8Array');
  const total = fileSize ?? buf.byteLength;
  if (total < 8) {
    throw badModel(file, `not a safetensors file: ${total} bytes, shorter than the 8-byte header length`);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(total - 8)) {
    throw badModel(file, `safetensors header length ${n64} runs past the end of the file (${total} bytes): truncated or not a safetensors file`);
  }
  const headerLen = Number(n64);
  if (headerLen > MAX_HEADER_BYTES) {
    throw badModel(file, `safetensors header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (headerLen < 2) throw badModel(file, `safetensors header length ${headerLen} is too small for a JSON object`);
  const headerBytes = buf.subarray(8, 8 + headerLen);
  if (headerBytes[0] !== 0x7b /* { */) {
    throw badModel(file, 'safetensors header does not start with "{": not a safetensors file');
  }
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
    header = JSON.parse(text);
  } catch (err) {
    throw badModel(file, `safetensors header is not valid UTF-8 JSON (${(err as Error).message})`, err);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw badModel(file, 'safetensors header is not a JSON object');
  }

  const dataStart = 8 + headerLen;
  const dataLen = total - dataStart;
  const metadata: Record<string, string> = Object.create(null);
  const tensors = new Map<string, TensorView>();
  const spans: { begin: number; end: number; name: string }[] = [];

  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw badModel(file, `safetensors __metadata__ must be an object of strings, got ${describe(entry)}`);
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          throw badModel(file, `safetensors __metadata__ value for ${JSON.stringify(k)} must be a string, got ${describe(v)}`);
        }
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw badModel(file, `${where}: header entry must be an object, got ${describe(entry)}`);
    }
    const e = entry as Record<string, unknown>;
    if (!hasOwn(e, 'dtype')) throw badModel(file, `${where}: missing "dtype"`);
    if (!hasOwn(e, 'shape')) throw badModel(file, `${where}: missing "shape"`);
    if (!hasOwn(e, 'data_offsets')) throw badModel(file, `${where}: missing "data_offsets"`);
    const dtype = e.dtype;
    if (typeof dtype !== 'string') throw badModel(file, `${where}: "dtype" must be a string, got ${describe(dtype)}`);
    if (!isDtype(dtype)) {
      throw badModel(file, `${where}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    }
    const shapeRaw = e.shape;
    if (!Array.isArray(shapeRaw)) throw badModel(file, `${where}: "shape" must be an array, got ${describe(shapeRaw)}`);
    if (shapeRaw.length > 64) throw badModel(file, `${where}: "shape" has ${shapeRaw.length} dimensions`);
    let count = 1;
    const shape: number[] = [];
    for (const d of shapeRaw) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        throw badModel(file, `${where}: shape ${JSON.stringify(shapeRaw)} has a dimension that is not a non-negative integer`);
      }
      shape.push(d);
      count *= d;
      if (count > Number.MAX_SAFE_INTEGER) throw badModel(file, `${where}: shape ${JSON.stringify(shapeRaw)} is too large`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2) {
      throw badModel(file, `${where}: "data_offsets" must be an array [begin, end], got ${describe(offs)}`);
    }
    const [begin, end] = offs as unknown[];
    if (typeof begin !== 'number' || !Number.isSafeInteger(begin) || begin < 0 ||
        typeof end !== 'number' || !Number.isSafeInteger(end) || end < 0) {
      throw badModel(file, `${where}: data_offsets ${JSON.stringify(offs)} must be two non-negative integers`);
    }
    if (begin > end) throw badModel(file, `${where}: data_offsets [${begin}, ${end}] has begin > end`);
    if (end > dataLen) {
      throw badModel(file, `${where}: data_offsets [${begin}, ${end}] out of range: the data section has ${dataLen} bytes (file truncated?)`);
    }
    const expected = count * DTYPE_SIZE[dtype];
    if (end - begin !== expected) {
      throw badModel(file, `${where}: ${end - begin} bytes in data_offsets [${begin}, ${end}] but shape [${shape.join(', ')}] × ${dtype} (${DTYPE_SIZE[dtype]} bytes) needs ${expected}`);
    }
    spans.push({ begin, end, name });
    const bytes = fileSize === undefined ? buf.subarray(dataStart + begin, dataStart + end) : ({ begin, end } as unknown as Uint8Array);
    tensors.set(name, { name, dtype, shape, bytes });
  }

  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < spans.length; i++) {
    const p = spans[i - 1], c = spans[i];
    // Zero-sized tensors occupy no bytes and cannot overlap anything.
    if (c.begin < p.end && c.end > c.begin && p.end > p.begin) {
      throw badModel(file, `tensors ${JSON.stringify(p.name)} [${p.begin}, ${p.end}] and ${JSON.stringify(c.name)} [${c.begin}, ${c.end}] overlap`);
    }
  }
  return { tensors, metadata, byteLength: total };
}

// ---------------------------------------------------------------------------------------------
// Conversions

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bit-exact IEEE half → single (subnormals, ±0, ±inf and NaN payloads preserved). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal half: value = mant × 2^-24; normalize into a float32 normal.
  let e = 113; // float32 biased exponent of 2^-14, the scale of the leading mantissa bit 0x400
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** Converts one IEEE half bit pattern to a number (exact). */
export function f16ToNumber(h: number): number {
  const u = new Uint32Array([f16BitsToF32Bits(h)]);
  return new Float32Array(u.buffer)[0];
}

/** Converts one bfloat16 bit pattern to a number (exact). */
export function bf16ToNumber(h: number): number {
  const u = new Uint32Array([(h & 0xffff) << 16]);
  return new Float32Array(u.buffer)[0];
}

function elementCount(view: TensorView): number {
  return view.bytes.byteLength / DTYPE_SIZE[view.dtype];
}

/**
 * The tensor as float32. F32: a zero-copy view into the file buffer when it is 4-byte aligned
 * (do not write to it), otherwise a copy. F16 and BF16 are converted bit-exactly (every value,
 * NaN payloads included, is representable in float32). F64 is rounded to float32. Integer,
 * boolean and 8-bit float dtypes are rejected.
 */
export function toFloat32(view: TensorView): Float32Array {
  const n = elementCount(view);
  const b = view.bytes;
  switch (view.dtype) {
    case 'F32': {
      if (LITTLE_ENDIAN && b.byteOffset % 4 === 0) return new Float32Array(b.buffer, b.byteOffset, n);
      const out = new Float32Array(n);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
      return out;
    }
    case 'F16':
    case 'BF16': {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      const bf = view.dtype === 'BF16';
      for (let i = 0, j = 0; i < n; i++, j += 2) {
        const h = b[j] | (b[j + 1] << 8);
        bits[i] = bf ? (h << 16) >>> 0 : f16BitsToF32Bits(h);
      }
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    }
    default:
      throw new SbertError('ERR_BAD_MODEL', `tensor ${JSON.stringify(view.name)}: dtype ${view.dtype} cannot be converted to float32`);
  }
}

/** The tensor as int32 (I32 view/copy, or I64/I16/I8/U16/U8/BOOL converted; I64/U32/U64 range-checked). */
export function toInt32(view: TensorView): Int32Array {
  const n = elementCount(view);
  const b = view.bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Int32Array(n);
  const range = (v: bigint | number, i: number): number => {
    if (v < -2147483648 || v > 2147483647) {
      throw new SbertError('ERR_BAD_MODEL', `tensor ${JSON.stringify(view.name)}: element ${i} (${v}) does not fit in int32`);
    }
    return Number(v);
  };
  switch (view.dtype) {
    case 'I32':
      if (LITTLE_ENDIAN && b.byteOffset % 4 === 0) return new Int32Array(b.buffer, b.byteOffset, n);
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true);
      return out;
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = range(dv.getBigInt64(i * 8, true), i);
      return out;
    case 'U64':
      for (let i = 0; i < n; i++) out[i] = range(dv.getBigUint64(i * 8, true), i);
      return out;
    case 'U32':
      for (let i = 0; i < n; i++) out[i] = range(dv.getUint32(i * 4, true), i);
      return out;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, true);
      return out;
    case 'U16':
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(i * 2, true);
      return out;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      return out;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = b[i];
      return out;
    default:
      throw new SbertError('ERR_BAD_MODEL', `tensor ${JSON.stringify(view.name)}: dtype ${view.dtype} is not an integer type`);
  }
}

// ---------------------------------------------------------------------------------------------
// Writer (the trainer saves models with it; tests and benchmarks build fixtures with it)

export interface TensorToWrite {
  dtype: Dtype;
  shape: number[];
  /** Raw little-endian bytes, or a typed array whose bytes are used as they are. */
  data: ArrayBufferView;
}

/**
 * Serializes tensors into a safetensors image (header padded with spaces to a multiple of 8,
 * tensors laid out in insertion order). Sizes are checked against shapes.
 */
export function writeSafetensors(
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Buffer {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of entries) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const need = t.shape.reduce((a, d) => a * d, 1) * DTYPE_SIZE[t.dtype];
    if (bytes.byteLength !== need) {
      throw new RangeError(`writeSafetensors: tensor ${name} has ${bytes.byteLength} bytes, shape needs ${need}`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + need] };
    chunks.push(bytes);
    offset += need;
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((Buffer.byteLength(json) + 8) % 8)) % 8;
  json += ' '.repeat(pad);
  const hb = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + hb.byteLength + offset);
  out.writeBigUInt64LE(BigInt(hb.byteLength), 0);
  hb.copy(out, 8);
  let p = 8 + hb.byteLength;
  for (const c of chunks) {
    out.set(c, p);
    p += c.byteLength;
  }
  return out;
}

/** Converts a number to its IEEE half bit pattern (round to nearest even). For tests. */
export function numberToF16Bits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (r & 1))) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) r++;
  return sign | r;
}
