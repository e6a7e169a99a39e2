/** Small file helpers shared by the weights loaders; every failure is an ERR_BAD_MODEL. */
import { lstat, readFile, stat } from 'fs/promises';
import { badModel } from '../errors';

export type JsonObject = Record<string, unknown>;

export async function fileExists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * Whether a directory entry exists at all (a dangling symlink, a directory or a loop counts):
 * a file that is there but cannot be read is an error, never the same as a missing one.
 */
export async function entryExists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

export async function dirExists(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/** Reads and parses a JSON file; `missing` is the reason given when it does not exist. */
export async function readJson(file: string, missing = 'file not found'): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw badModel(file, missing, err);
    throw badModel(file, `cannot read file (${code ?? (err as Error).message})`, err);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badModel(file, `invalid JSON (${(err as Error).message})`, err);
  }
}

export async function readJsonObject(file: string, missing?: string): Promise<JsonObject> {
  const v = await readJson(file, missing);
  if (!isObject(v)) throw badModel(file, `expected a JSON object, got ${kindOf(v)}`);
  return v;
}

export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

export function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}
