/**
 * Which model a job is embedded with, in a form that can be compared across machines: a worker
 * refuses a chunk whose model is not its own, so one manifest never mixes models. The folder's
 * path differs from machine to machine, so the comparison is on `digest`, a hash of the model
 * folder's files (not of its model card); `id` and `revision` are what people read.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_MODEL_NAME, defaultModelDir } from '../default-model';
import { isRepoId, resolveModel } from '../hub';

export interface ModelIdentity {
  /** The model as named: a Hub id, the folder given, or 'sbert-native/default-en' for the bundled model. */
  id: string;
  /** The Hub commit of the snapshot, the package version for the bundled model, else null. */
  revision: string | null;
  /** 'sha256:…' over the folder's files (paths and contents; *.md and dot-files left out). */
  digest: string;
}

/** The package version (the bundled model's revision). */
function packageVersion(): string {
  return (require('../../package.json') as { version: string }).version;
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Files under `dir` (following symbolic links, as the Hub cache's snapshots are made of them), sorted. */
async function modelFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = (await fsp.readdir(path.join(dir, rel))).sort();
  for (const name of entries) {
    // model cards and dot-files (.gitattributes, .cache) say nothing about the numbers
    if (name.startsWith('.') || name.toLowerCase().endsWith('.md')) continue;
    const relName = rel ? `${rel}/${name}` : name;
    const stat = await fsp.stat(path.join(dir, relName));
    if (stat.isDirectory()) out.push(...(await modelFiles(dir, relName)));
    else if (stat.isFile()) out.push(relName);
  }
  return out;
}

/** Digests already computed in this process, valid while the files' sizes and times are the same. */
const digests = new Map<string, { stamp: string; digest: string }>();

/** The digest of a model folder (see ModelIdentity.digest). */
export async function modelFolderDigest(dir: string): Promise<string> {
  const files = await modelFiles(dir);
  const stats = await Promise.all(files.map((rel) => fsp.stat(path.join(dir, rel))));
  const stamp = JSON.stringify(files.map((rel, i) => [rel, stats[i].size, stats[i].mtimeMs]));
  const known = digests.get(dir);
  if (known?.stamp === stamp) return known.digest;
  const hash = createHash('sha256');
  for (const rel of files) hash.update(`${rel}\0${await fileSha256(path.join(dir, rel))}\n`);
  const digest = `sha256:${hash.digest('hex')}`;
  digests.set(dir, { stamp, digest });
  return digest;
}

/**
 * Resolves a model name as SentenceEncoder.load does ('default' or undefined: the bundled model;
 * a folder; else a Hub id, from the shared cache or downloaded once) and identifies it.
 */
export async function resolveModelIdentity(model: string | undefined): Promise<{ dir: string; identity: ModelIdentity }> {
  if (model !== undefined && (typeof model !== 'string' || model.length === 0)) throw new TypeError('model must be a non-empty string (a folder, a Hub id or \'default\')');
  let dir: string;
  let id: string;
  let revision: string | null = null;
  if (model === undefined || model === DEFAULT_MODEL_NAME) {
    dir = defaultModelDir();
    id = 'sbert-native/default-en';
    revision = packageVersion();
  } else if (!existsSync(model) && isRepoId(model)) {
    dir = await resolveModel(model);
    id = model;
  } else {
    dir = path.resolve(model);
    id = model;
  }
  // A Hub cache snapshot: …/models--org--name/snapshots/<commit>
  const snapshot = /[\\/]snapshots[\\/]([0-9a-f]{40})[\\/]?$/.exec(dir);
  if (snapshot) revision = snapshot[1];
  return { dir, identity: { id, revision, digest: await modelFolderDigest(dir) } };
}
