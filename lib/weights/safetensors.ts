/**
 * safetensors reader (https://github.com/huggingface/safetensors, format section).
 *
 * Layout: 8-byte little-endian u64 N, then N bytes of UTF-8 JSON (an object mapping tensor name
 * to `{dtype, shape, data_offsets: [begin, end]}` plus an optional `__metadata__` string map,
 * possibly right-padded with spaces), then the byte buffer. Offsets are relative to the start of
 * the byte buffer. Data is little-endian, row-major (C order).
 *
 * The 8-byte length and the JSON header are read and validated before any byte of the data
 * section: a file that parses here can be indexed by native code without further bounds checks
 * (every tensor — the `bytes` of a TensorView, the range of a TensorSource — lies inside the
 * file, has exactly product(shape) × itemsize bytes, and no two tensors overlap). Any problem is
 * an SbertError with code ERR_BAD_MODEL naming the file and the reason.
 */
import { BoundedFile } from '../bounded-file';
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

/** What every tensor of a weights file has: its name, element type and shape. */
export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
}

/** A tensor whose bytes are in memory. */
export interface TensorView extends TensorInfo {
  /** Raw little-endian element data, row-major (often a zero-copy view of a file buffer). */
  bytes: Uint8Array;
}

/**
 * A tensor whose bytes are still in a file: `byteLength` bytes at `offset` of `file`, already
 * validated against the file's size and the tensor's shape × dtype. Native code reads it
 * straight into its own storage (lib/weights/plan.ts hands it `file` + `offset`); JS code that
 * needs the bytes calls readTensorBytes.
 */
export interface TensorSource extends TensorInfo {
  file: string;
  offset: number;
  byteLength: number;
}

/** A model weight: in memory (TensorView) or in a file (TensorSource). */
export type WeightTensor = TensorView | TensorSource;

/** True when the tensor's bytes are in a file, not in memory. */
export function isTensorSource(t: WeightTensor): t is TensorSource {
  return typeof (t as TensorSource).file === 'string';
}

export interface SafetensorsFile<T extends WeightTensor = TensorView> {
  tensors: Map<string, T>;
  metadata: Record<string, string>;
  /** Bytes of the file(s) the tensors come from. */
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

const WEIGHTS_RULES = { kind: 'weights', code: 'ERR_BAD_MODEL' } as const;

/** A tensor of a parsed header: where its bytes lie in the data section. */
interface HeaderEntry extends TensorInfo {
  begin: number;
  end: number;
}

interface ParsedHeader {
  /** Where the data section starts in the file (8 + header length). */
  dataStart: number;
  entries: HeaderEntry[];
  metadata: Record<string, string>;
}

/**
 * The header length a file's first 8 bytes declare, checked against the file size and the
 * header cap before anything else is read.
 */
function headerLength(first8: Uint8Array, file: string, total: number): number {
  if (total < 8) {
    throw badModel(file, `not a safetensors file: ${total} bytes, shorter than the 8-byte header length`);
  }
  const n64 = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(total - 8)) {
    throw badModel(file, `safetensors header length ${n64} runs past the end of the file (${total} bytes): truncated or not a safetensors file`);
  }
  const headerLen = Number(n64);
  if (headerLen > MAX_HEADER_BYTES) {
    throw badModel(file, `safetensors header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (headerLen < 2) throw badModel(file, `safetensors header length ${headerLen} is too small for a JSON object`);
  return headerLen;
}

/**
 * Reads a safetensors file's 8-byte length and JSON header (and nothing else), validating every
 * entry against the file's size, so that no byte of the data section is read before the header
 * is known to be good.
 */
async function readHeader(f: BoundedFile): Promise<ParsedHeader> {
  const first8 = new Uint8Array(8);
  if (f.size >= 8) await f.readExactly(first8, 0, 8, 0);
  const headerLen = headerLength(first8, f.file, f.size);
  const headerBytes = new Uint8Array(headerLen);
  await f.readExactly(headerBytes, 0, headerLen, 8);
  return parseHeader(headerBytes, f.file, f.size);
}

/**
 * Reads only the header of a safetensors file: each tensor is a TensorSource saying where its
 * bytes lie in the file. The engine and the trainer read them straight into their own storage,
 * so loading a model never holds the whole file in a JS buffer (on a machine where fresh memory
 * is slow, that buffer was a third of the load time and its full size in peak RSS).
 */
export async function readSafetensorsLazy(file: string): Promise<SafetensorsFile<TensorSource>> {
  const f = await BoundedFile.open(file, WEIGHTS_RULES);
  try {
    const h = await readHeader(f);
    const tensors = new Map<string, TensorSource>();
    for (const e of h.entries) {
      tensors.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, file, offset: h.dataStart + e.begin, byteLength: e.end - e.begin });
    }
    return { tensors, metadata: h.metadata, byteLength: f.size };
  } finally {
    await f.close();
  }
}

/**
 * Reads a safetensors file into one Buffer: the header first (validated), then the data. Tensor
 * `bytes` are views of that buffer.
 */
export async function readSafetensors(file: string): Promise<SafetensorsFile> {
  const f = await BoundedFile.open(file, WEIGHTS_RULES);
  try {
    const h = await readHeader(f);
    // Only now, with a good header, the whole file (one buffer: the views share it).
    const buf = Buffer.allocUnsafe(f.size);
    await f.readExactly(buf, 0, f.size, 0);
    return viewsOf(buf, h, { tensors: new Map(), metadata: h.metadata, byteLength: f.size });
  } finally {
    await f.close();
  }
}

function viewsOf(buf: Uint8Array, h: ParsedHeader, out: SafetensorsFile): SafetensorsFile {
  for (const e of h.entries) {
    out.tensors.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, bytes: buf.subarray(h.dataStart + e.begin, h.dataStart + e.end) });
  }
  return out;
}

/**
 * The bytes of a weight: a TensorView's own, or a TensorSource's read from its file (a new
 * buffer of exactly `byteLength` bytes; a file cut since its header was read is ERR_BAD_MODEL).
 */
export async function readTensorBytes(t: WeightTensor): Promise<Uint8Array> {
  if (!isTensorSource(t)) return t.bytes;
  const f = await BoundedFile.open(t.file, WEIGHTS_RULES);
  try {
    const out = new Uint8Array(t.byteLength);
    await f.readExactly(out, 0, t.byteLength, t.offset);
    return out;
  } finally {
    await f.close();
  }
}

/**
 * Parses a safetensors image held in memory. Tensor `bytes` are subarrays of `buf` (no copy), so
 * `buf` must not be modified while the views are in use.
 */
export function parseSafetensors(buf: Uint8Array, fileNameForErrors: string): SafetensorsFile {
  const file = fileNameForErrors;
  if (!(buf instanceof Uint8Array)) throw new TypeError('parseSafetensors: buf must be a Uint8Array');
  const headerLen = headerLength(buf, file, buf.byteLength);
  const h = parseHeader(buf.subarray(8, 8 + headerLen), file, buf.byteLength);
  return viewsOf(buf, h, { tensors: new Map(), metadata: h.metadata, byteLength: buf.byteLength });
}

/**
 * Validates a safetensors JSON header (the bytes after the 8-byte length) against the size of
 * the whole file: every tensor lies inside the data section, has exactly product(shape) ×
 * itemsize bytes, and no two tensors overlap.
 */
function parseHeader(headerBytes: Uint8Array, file: string, total: number): ParsedHeader {
  const headerLen = headerBytes.byteLength;
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
  const entries: HeaderEntry[] = [];
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
    entries.push({ name, dtype, shape, begin, end });
  }

  // Zero-sized tensors occupy no bytes and cannot overlap anything; every other span must start
  // at or after the furthest end reached so far.
  const spans = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1, far = spans[0]; i < spans.length; i++) {
    const c = spans[i];
    if (c.begin < far.end) {
      throw badModel(file, `tensors ${JSON.stringify(far.name)} [${far.begin}, ${far.end}] and ${JSON.stringify(c.name)} [${c.begin}, ${c.end}] overlap`);
    }
    if (c.end > far.end) far = c;
  }
  return { dataStart, entries, metadata };
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
