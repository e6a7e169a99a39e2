/**
 * loadEmbedOutput: a finished job's rows as one Embeddings, in input order, after checking each
 * shard against the manifest (its hash, shape and row range).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Embeddings } from '../embeddings';
import { SbertError } from '../errors';
import { MANIFEST_FILE, npyFloat32Header, OUTPUT_FORMAT, type EmbedJobManifest } from './output';
import { sha256Hex } from './result';

/**
 * Reads `dir/manifest.json` and its shards.
 * @throws SbertError ERR_BAD_DATA when the manifest is missing or a shard does not match it
 */
export async function loadEmbedOutput(dir: string): Promise<{ manifest: EmbedJobManifest; embeddings: Embeddings }> {
  let manifest: EmbedJobManifest;
  try {
    manifest = JSON.parse(await fs.promises.readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as EmbedJobManifest;
  } catch (err) {
    throw new SbertError('ERR_BAD_DATA', `${path.join(dir, MANIFEST_FILE)}: ${(err as Error).message}`);
  }
  if (manifest.format !== OUTPUT_FORMAT) throw new SbertError('ERR_BAD_DATA', `${dir}: manifest format ${JSON.stringify(manifest.format)} is not ${OUTPUT_FORMAT}`);
  const { rows, dimension } = manifest;
  const data = new Float32Array(rows * dimension);
  const bytes = new Uint8Array(data.buffer);
  let next = 0;
  for (const shard of manifest.shards) {
    const file = path.join(dir, shard.file);
    const buf = await fs.promises.readFile(file);
    const [start, end] = shard.rows;
    const info = npyFloat32Header(buf);
    if (start !== next || end <= start) throw new SbertError('ERR_BAD_DATA', `${file}: rows [${start}, ${end}) do not follow row ${next}`);
    if (sha256Hex(buf) !== shard.sha256) throw new SbertError('ERR_BAD_DATA', `${file}: does not match its hash in the manifest`);
    if (!info || info.shape[0] !== end - start || info.shape[1] !== dimension || buf.length !== info.dataOffset + (end - start) * dimension * 4) {
      throw new SbertError('ERR_BAD_DATA', `${file}: not a float32 .npy of ${end - start} × ${dimension}`);
    }
    bytes.set(buf.subarray(info.dataOffset), start * dimension * 4);
    next = end;
  }
  if (next !== rows) throw new SbertError('ERR_BAD_DATA', `${dir}: the shards hold ${next} rows, the manifest says ${rows}`);
  return { manifest, embeddings: new Embeddings(data, rows, dimension) };
}
