/**
 * Just enough of the ZIP format (PKWARE APPNOTE 6.3) to read the archives torch.save writes since
 * PyTorch 1.6: the central directory (ZIP64 included, for checkpoints over 4 GiB), stored
 * entries as zero-copy views into the file buffer, deflated entries inflated (torch never
 * compresses, but a re-zipped checkpoint may be). Every offset is bounds-checked; problems are
 * ERR_BAD_MODEL naming the file.
 */
import { inflateRawSync } from 'zlib';
import { badModel } from '../errors';

export interface ZipEntry {
  name: string;
  /** The uncompressed size the central directory declares (what data() returns, or refuses). */
  size: number;
  /** Bytes the entry takes in the archive. */
  compressedSize: number;
  /** 0 stored, 8 deflated. */
  method: number;
  /**
   * The entry's bytes: a view into the archive buffer for stored entries, a copy when inflated.
   * Inflating never produces more than `size` bytes (a longer stream is refused); callers check
   * `size` against what they expect before calling this.
   */
  data(): Uint8Array;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;

/** True when the buffer starts like a ZIP archive (a local file header). */
export function looksLikeZip(buf: Uint8Array): boolean {
  return buf.byteLength >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

/** The archive's entries by name, from its central directory. */
export function readZipEntries(buf: Uint8Array, file: string): Map<string, ZipEntry> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const len = buf.byteLength;
  // The end-of-central-directory record is in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let p = len - 22; p >= Math.max(0, len - 22 - 0xffff); p--) {
    if (dv.getUint32(p, true) === EOCD_SIG) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw badModel(file, 'zip archive without an end-of-central-directory record (truncated download?)');
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== ZIP64_LOCATOR_SIG) throw badModel(file, 'zip64 archive without its locator');
    const rec = safeU64(dv, loc + 8, file);
    if (rec + 56 > len || dv.getUint32(rec, true) !== ZIP64_EOCD_SIG) throw badModel(file, 'zip64 end-of-central-directory record out of range');
    count = safeU64(dv, rec + 32, file);
    cdSize = safeU64(dv, rec + 40, file);
    cdOffset = safeU64(dv, rec + 48, file);
  }
  if (cdOffset + cdSize > len) throw badModel(file, `zip central directory [${cdOffset}, ${cdOffset + cdSize}) runs past the end of the file (${len} bytes)`);

  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder('utf-8');
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > len || dv.getUint32(p, true) !== CENTRAL_SIG) throw badModel(file, `zip central directory entry ${i} is damaged`);
    const method = dv.getUint16(p + 10, true);
    let compressed = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > len) throw badModel(file, `zip central directory entry ${i} runs past the end of the file`);
    const name = decoder.decode(buf.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: the 8-byte values replace the 0xffffffff ones, in this order.
    for (let e = p + 46 + nameLen, end = e + extraLen; e + 4 <= end;) {
      const id = dv.getUint16(e, true);
      const sz = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) { size = safeU64(dv, q, file); q += 8; }
        if (compressed === 0xffffffff) { compressed = safeU64(dv, q, file); q += 8; }
        if (local === 0xffffffff) { local = safeU64(dv, q, file); q += 8; }
      }
      e += 4 + sz;
    }
    p += 46 + nameLen + extraLen + commentLen;
    if (local + 30 > len || dv.getUint32(local, true) !== LOCAL_SIG) throw badModel(file, `zip entry ${JSON.stringify(name)}: local header out of range or damaged`);
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (start + compressed > len) throw badModel(file, `zip entry ${JSON.stringify(name)}: ${compressed} bytes at ${start} run past the end of the file (${len} bytes; truncated download?)`);
    const raw = buf.subarray(start, start + compressed);
    if (method !== 0 && method !== 8) throw badModel(file, `zip entry ${JSON.stringify(name)}: compression method ${method} is not supported (only stored and deflate)`);
    if (method === 0 && compressed !== size) throw badModel(file, `zip entry ${JSON.stringify(name)}: stored entry with sizes ${compressed} and ${size}`);
    entries.set(name, {
      name,
      size,
      compressedSize: compressed,
      method,
      data(): Uint8Array {
        if (method === 0) return raw;
        let out: Buffer;
        try {
          out = inflateRawSync(raw, { maxOutputLength: size });
        } catch (err) {
          throw badModel(file, `zip entry ${JSON.stringify(name)}: cannot inflate (${(err as Error).message})`, err);
        }
        if (out.byteLength !== size) throw badModel(file, `zip entry ${JSON.stringify(name)}: inflated to ${out.byteLength} bytes, expected ${size}`);
        return out;
      },
    });
  }
  return entries;
}

function safeU64(dv: DataView, at: number, file: string): number {
  if (at + 8 > dv.byteLength) throw badModel(file, 'zip64 field runs past the end of the file');
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw badModel(file, `zip64 field ${v} is too large`);
  return Number(v);
}
