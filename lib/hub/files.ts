/**
 * Which files of a repository a sentence-transformers model needs: modules.json and the configs
 * at the root, the tokenizer files, and in the root and every module folder named by
 * modules.json its config and weights — model.safetensors (or its index and shards), else
 * pytorch_model.bin. Never onnx/, openvino/, TF/Flax/Rust weights, READMEs or a .bin beside a
 * safetensors file.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';

/** Configuration and tokenizer files taken from the root and from each module folder. */
const SMALL_FILES = new Set([
  'modules.json',
  'config.json',
  'config_sentence_transformers.json',
  'sentence_bert_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.txt',
]);

/** A `sentence_*_config.json` of an older sentence-transformers version (e.g. sentence_distilbert_config.json). */
const SENTENCE_CONFIG = /^sentence_\w+_config\.json$/;

export const SAFETENSORS = 'model.safetensors';
export const SAFETENSORS_INDEX = 'model.safetensors.index.json';
export const PYTORCH_BIN = 'pytorch_model.bin';

export interface ModuleEntry {
  path: string;
  type?: string;
}

/**
 * True for a relative repository path that stays inside the snapshot folder: the Hub's file
 * list and modules.json are remote input, and a `..` in them must not write outside the cache.
 */
export function isSafeRepoPath(p: string): boolean {
  return p !== '' && !p.startsWith('/') && !p.includes('\\') && !p.includes('\0') && p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** The module folders a modules.json names (`''` for the root), or just the root without one. */
export function moduleFolders(modulesJson: unknown): string[] {
  const folders = new Set<string>(['']);
  if (Array.isArray(modulesJson)) {
    for (const m of modulesJson as ModuleEntry[]) {
      if (!m || typeof m.path !== 'string') continue;
      const folder = m.path.replace(/^\.\/+|\/+$/g, '');
      if (folder === '' || isSafeRepoPath(folder)) folders.add(folder);
    }
  }
  return [...folders];
}

const dirOf = (f: string): string => (f.includes('/') ? f.slice(0, f.lastIndexOf('/')) : '');
const baseOf = (f: string): string => f.slice(f.lastIndexOf('/') + 1);

/** The folder of the Transformer module (where its tokenizer is): modules.json's, else the root. */
export function transformerFolder(modulesJson: unknown): string {
  if (!Array.isArray(modulesJson)) return '';
  const m = (modulesJson as ModuleEntry[]).find((e) => typeof e?.type === 'string' && /Transformer$/.test(e.type));
  const folder = typeof m?.path === 'string' ? m.path.replace(/^\.\/+|\/+$/g, '') : '';
  return folder === '' || isSafeRepoPath(folder) ? folder : '';
}

/** The weights to fetch from one folder's file names (safetensors first). */
function weightsIn(names: Set<string>): string[] {
  if (names.has(SAFETENSORS)) return [SAFETENSORS];
  if (names.has(SAFETENSORS_INDEX)) return [SAFETENSORS_INDEX, ...[...names].filter((n) => n.endsWith('.safetensors')).sort()];
  if (names.has(PYTORCH_BIN)) return [PYTORCH_BIN];
  return [];
}

/** The files to download out of a repository listing, given its modules.json (if any). */
export function selectModelFiles(repoFiles: readonly string[], modulesJson: unknown): string[] {
  const byFolder = new Map<string, Set<string>>();
  for (const f of repoFiles) {
    if (!isSafeRepoPath(f)) continue;
    const d = dirOf(f);
    if (!byFolder.has(d)) byFolder.set(d, new Set());
    byFolder.get(d)!.add(baseOf(f));
  }
  const out: string[] = [];
  for (const folder of moduleFolders(modulesJson)) {
    const names = byFolder.get(folder);
    if (!names) continue;
    const join = (n: string): string => (folder ? `${folder}/${n}` : n);
    for (const n of [...names].sort()) if (SMALL_FILES.has(n) || SENTENCE_CONFIG.test(n)) out.push(join(n));
    for (const n of weightsIn(names)) out.push(join(n));
  }
  return out;
}

async function listFolder(dir: string): Promise<Set<string>> {
  try {
    return new Set(await fsp.readdir(dir));
  } catch {
    return new Set();
  }
}

/**
 * What a cached snapshot lacks to be loaded without the network: the root config, a tokenizer
 * and weights for the Transformer, weights for each Dense module. Empty when it is usable.
 */
export async function missingFromSnapshot(snapshot: string): Promise<string[]> {
  const root = await listFolder(snapshot);
  if (root.size === 0) return ['the snapshot folder'];
  let modules: ModuleEntry[] = [];
  if (root.has('modules.json')) {
    try {
      const parsed = JSON.parse(await fsp.readFile(path.join(snapshot, 'modules.json'), 'utf8')) as unknown;
      if (Array.isArray(parsed)) modules = parsed as ModuleEntry[];
    } catch {
      return ['a readable modules.json'];
    }
  }
  const needs: { folder: string; tokenizer: boolean }[] = [{ folder: transformerFolder(modules), tokenizer: true }];
  for (const m of modules) {
    if (typeof m?.type === 'string' && /Dense$/.test(m.type) && typeof m.path === 'string') needs.push({ folder: m.path, tokenizer: false });
  }
  const missing: string[] = [];
  for (const { folder, tokenizer } of needs) {
    const names = await listFolder(path.join(snapshot, folder));
    const where = folder ? `${folder}/` : '';
    if (!names.has('config.json')) missing.push(`${where}config.json`);
    if (weightsIn(names).length === 0) missing.push(`${where}${SAFETENSORS} (or ${PYTORCH_BIN})`);
    if (tokenizer && !names.has('tokenizer.json') && !names.has('vocab.txt')) missing.push(`${where}tokenizer.json (or vocab.txt)`);
  }
  return missing;
}
