/**
 * The corpus of a bulk job: read and checked whole before anything is enqueued (a bad line is
 * refused as `file:line`), then cut into ordered chunks, each with the hash of its sentences so a
 * worker can prove it encodes exactly what the submitter read.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SbertError } from '../errors';

export type CorpusFormat = 'txt' | 'jsonl';

export interface Corpus {
  /** The file as given. */
  file: string;
  format: CorpusFormat;
  /** SHA-256 of the file's bytes. */
  sha256: string;
  sentences: string[];
}

/** One chunk of the corpus: sentences [start, end) and the hash of their texts (chunkHash). */
export interface ChunkPlan {
  index: number;
  start: number;
  end: number;
  sha256: string;
}

function badLine(file: string, line: number, why: string): SbertError {
  return new SbertError('ERR_BAD_INPUT', `${file}:${line}: ${why}`);
}

/** The format a corpus file name says: .txt (one sentence a line) or .jsonl. */
export function corpusFormat(file: string): CorpusFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.txt') return 'txt';
  if (ext === '.jsonl') return 'jsonl';
  throw new SbertError('ERR_BAD_INPUT', `${file}: the input must be a .txt file (one sentence a line) or a .jsonl file (a JSON string or {"text": ...} a line)`);
}

/** Lines of a text the way `sbert encode` reads them: \n, \r\n or \r ends a line; a final line end ends the last line. */
function splitLines(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split(/\r\n|\n|\r/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The 1-based line of the first byte sequence that is not UTF-8. */
function firstInvalidUtf8Line(bytes: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return line;
}

/**
 * Reads and checks a corpus file: `.txt` is UTF-8, one sentence a line (an empty line is the
 * empty sentence); `.jsonl` has a JSON string or an object with a string `text` on every line.
 * @throws SbertError ERR_BAD_INPUT naming the file (and `file:line` for a bad line) when it is
 *   missing, unreadable, not UTF-8, has a bad line, or holds no sentence
 */
export async function readCorpus(file: string): Promise<Corpus> {
  const format = corpusFormat(file);
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SbertError('ERR_BAD_INPUT', `${file}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a folder' : `cannot be read (${e.code ?? e.message})`}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw badLine(file, firstInvalidUtf8Line(bytes), 'not valid UTF-8');
  }
  const lines = splitLines(text);
  let sentences: string[];
  if (format === 'txt') {
    sentences = lines;
  } else {
    sentences = lines.map((line, i) => {
      if (line.trim() === '') throw badLine(file, i + 1, 'empty line (every line must be a JSON string or an object with a string "text")');
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw badLine(file, i + 1, `not valid JSON (${(err as Error).message})`);
      }
      if (typeof value === 'string') return value;
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { text?: unknown }).text === 'string') {
        return (value as { text: string }).text;
      }
      throw badLine(file, i + 1, 'expected a JSON string or an object with a string "text"');
    });
  }
  if (sentences.length === 0) throw new SbertError('ERR_BAD_INPUT', `${file}: holds no sentence`);
  return { file, format, sha256, sentences };
}

/** The hash of a chunk's texts (SHA-256 of their JSON array): submitters and workers agree on it. */
export function chunkHash(texts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(texts)).digest('hex');
}

/** Cuts `sentences` into ordered chunks of `chunkSize` (the last may be shorter). */
export function planChunks(sentences: readonly string[], chunkSize: number): ChunkPlan[] {
  const chunks: ChunkPlan[] = [];
  for (let start = 0, index = 0; start < sentences.length; start += chunkSize, index++) {
    const end = Math.min(sentences.length, start + chunkSize);
    chunks.push({ index, start, end, sha256: chunkHash(sentences.slice(start, end)) });
  }
  return chunks;
}
