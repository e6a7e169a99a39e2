/** Small file helpers shared by the weights loaders; every failure is an ERR_BAD_MODEL. */
import { lstat, stat } from 'fs/promises';
import * as path from 'path';
import { FILE_SIZE_LIMITS, FileKind, readBoundedFile, readBoundedFileIfPresent, utf8Text } from '../bounded-file';
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

/** The kind (size cap) of a model folder's JSON file, from its name. */
export function jsonFileKind(file: string): FileKind {
  const base = path.basename(file);
  return Object.prototype.hasOwnProperty.call(FILE_SIZE_LIMITS, base) ? (base as FileKind) : 'config.json';
}

function parseJsonText(file: string, buf: Buffer): unknown {
  try {
    return JSON.parse(utf8Text(buf));
  } catch (err) {
    throw badModel(file, `invalid JSON (${(err as Error).message})`, err);
  }
}

/**
 * Reads and parses a JSON file of a model folder through the bounded reader (regular files
 * within the cap of their kind only); `missing` is the reason given when it does not exist.
 */
export async function readJson(file: string, missing = 'file not found'): Promise<unknown> {
  return parseJsonText(file, await readBoundedFile(file, { kind: jsonFileKind(file), code: 'ERR_BAD_MODEL', missing }));
}

export async function readJsonObject(file: string, missing?: string): Promise<JsonObject> {
  const v = await readJson(file, missing);
  if (!isObject(v)) throw badModel(file, `expected a JSON object, got ${kindOf(v)}`);
  return v;
}

/**
 * A JSON object file that may be absent: undefined when there is no such entry; anything there
 * that is not a readable regular file (a FIFO, a directory, a dangling symlink) is refused
 * rather than taken for absent.
 */
export async function readJsonObjectIfPresent(file: string): Promise<JsonObject | undefined> {
  const buf = await readBoundedFileIfPresent(file, { kind: jsonFileKind(file), code: 'ERR_BAD_MODEL' });
  if (buf === undefined) return undefined;
  const v = parseJsonText(file, buf);
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
