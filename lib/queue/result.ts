/**
 * A chunk's result as it travels through Redis: `SBQ1`, a 4-byte little-endian header length,
 * the JSON header, then the float32 rows (little-endian, row-major). The header carries the
 * payload's hash so the submitter takes nothing it cannot verify. With the folder transport the
 * worker has written the shard itself and the payload is empty.
 */
import { createHash } from 'node:crypto';

const MAGIC = Buffer.from('SBQ1', 'latin1');

export interface ChunkResultHeader {
  /** Rows in this chunk (= its sentences). */
  rows: number;
  /** Length of each row. */
  dim: number;
  dtype: 'float32';
  /** SHA-256 of the float32 payload (hex). */
  sha256: string;
  /** The model digest the worker encoded with. */
  modelDigest: string;
  /** The worker's engine device (e.g. 'cpu', 'cuda:0 (NVIDIA H100 80GB HBM3) fp16'). */
  device: string;
  /** host:pid of the worker. */
  worker: string;
  /** 'folder': the worker wrote this shard file into the output folder; the payload is empty. */
  shardFile?: string;
}

/** The SHA-256 (hex) of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The bytes of a float32 array as a Buffer view (no copy). */
export function floatBytes(data: Float32Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Header + payload as one Buffer for Redis. */
export function packResult(header: ChunkResultHeader, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(8 + json.length + payload.byteLength);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(json.length, 4);
  json.copy(out, 8);
  out.set(payload, 8 + json.length);
  return out;
}

/** Splits a packed result; throws Error naming what is wrong when it is not one. */
export function unpackResult(buf: Buffer): { header: ChunkResultHeader; payload: Buffer } {
  if (buf.length < 8 || !buf.subarray(0, 4).equals(MAGIC)) throw new Error('not a chunk result (bad magic)');
  const len = buf.readUInt32LE(4);
  if (8 + len > buf.length) throw new Error('chunk result header is cut short');
  const header = JSON.parse(buf.subarray(8, 8 + len).toString('utf8')) as ChunkResultHeader;
  return { header, payload: buf.subarray(8 + len) };
}
