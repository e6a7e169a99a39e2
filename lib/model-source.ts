/**
 * Where a model name points, decided before anything goes to the network — the one rule for
 * `SentenceEncoder.load`, `fit`/`TrainingSession` and the CLI's `--model`:
 *   - omitted or 'default': the bundled model (models/default-en);
 *   - an existing folder: that folder;
 *   - a path (`./x`, `/x`, `~/x`, `a/b/c`, `a\b`) that does not exist: an error naming the folder,
 *     with the closest folder beside it when there is one — never the Hub;
 *   - a bare name one typo away from a local folder or 'default' (`'defualt'`): an error with the
 *     suggestion, before any request;
 *   - other bare names as sentence-transformers resolves them: `'all-MiniLM-L6-v2'` →
 *     `sentence-transformers/all-MiniLM-L6-v2`, except the Hub's organisation-less legacy models
 *     (`bert-base-uncased`, …), which stay as they are;
 *   - `org/name`: that Hub id.
 * Hub failures say both what was looked for locally and what the Hub said; the offline error
 * says how to fill the cache.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SbertError } from './errors';
import { defaultModelDir, DEFAULT_MODEL_NAME } from './default-model';
import { isRepoId, resolveModel, type HubOptions } from './hub';
import { editDistance } from './options';

/** sentence-transformers' organisation for bare model names. */
export const ST_ORGANIZATION = 'sentence-transformers';

/**
 * sentence-transformers' `basic_transformer_models`: the Hub's old models without an
 * organisation, which a bare name keeps as it is (every other bare name gets
 * `sentence-transformers/` in front).
 */
const BASIC_TRANSFORMER_MODELS = new Set([
  'albert-base-v1', 'albert-base-v2', 'albert-large-v1', 'albert-large-v2', 'albert-xlarge-v1', 'albert-xlarge-v2',
  'albert-xxlarge-v1', 'albert-xxlarge-v2', 'bert-base-cased-finetuned-mrpc', 'bert-base-cased', 'bert-base-chinese',
  'bert-base-german-cased', 'bert-base-german-dbmdz-cased', 'bert-base-german-dbmdz-uncased', 'bert-base-multilingual-cased',
  'bert-base-multilingual-uncased', 'bert-base-uncased', 'bert-large-cased-whole-word-masking-finetuned-squad',
  'bert-large-cased-whole-word-masking', 'bert-large-cased', 'bert-large-uncased-whole-word-masking-finetuned-squad',
  'bert-large-uncased-whole-word-masking', 'bert-large-uncased', 'camembert-base', 'ctrl', 'distilbert-base-cased-distilled-squad',
  'distilbert-base-cased', 'distilbert-base-german-cased', 'distilbert-base-multilingual-cased', 'distilbert-base-uncased-distilled-squad',
  'distilbert-base-uncased-finetuned-sst-2-english', 'distilbert-base-uncased', 'distilgpt2', 'distilroberta-base', 'gpt2-large',
  'gpt2-medium', 'gpt2-xl', 'gpt2', 'openai-gpt', 'roberta-base-openai-detector', 'roberta-base', 'roberta-large-mnli',
  'roberta-large-openai-detector', 'roberta-large', 't5-11b', 't5-3b', 't5-base', 't5-large', 't5-small', 'transfo-xl-wt103',
  'xlm-clm-ende-1024', 'xlm-clm-enfr-1024', 'xlm-mlm-100-1280', 'xlm-mlm-17-1280', 'xlm-mlm-en-2048', 'xlm-mlm-ende-1024',
  'xlm-mlm-enfr-1024', 'xlm-mlm-enro-1024', 'xlm-mlm-tlm-xnli15-1024', 'xlm-mlm-xnli15-1024', 'xlm-roberta-base',
  'xlm-roberta-large-finetuned-conll02-dutch', 'xlm-roberta-large-finetuned-conll02-spanish',
  'xlm-roberta-large-finetuned-conll03-english', 'xlm-roberta-large-finetuned-conll03-german', 'xlm-roberta-large',
  'xlnet-base-cased', 'xlnet-large-cased',
]);

/** What a model name means: a local folder, or a Hub id (with the name as given, for messages). */
export type ModelSource = { kind: 'folder'; dir: string } | { kind: 'hub'; id: string; given: string };

const EXAMPLE_ID = 'sentence-transformers/all-MiniLM-L6-v2';

/** Sub-folders of `dir` (none when it cannot be read). */
function foldersIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
}

/** `./x`, `/x`, `~/x`, `C:\x`, `a\b` or `a/b/c`: meant as a path (sentence-transformers never sends these to the Hub either). */
function looksLikePath(name: string): boolean {
  return /^(\.{1,2}([/\\]|$)|[/\\~]|[A-Za-z]:[/\\])/.test(name) || name.includes('\\') || name.split('/').length > 2 || name.endsWith('/');
}

/** One edit away: a typo, not another model (all-MiniLM-L12-v2 is not a misspelt all-MiniLM-L6-v2). */
function typoOf(name: string, candidates: string[]): string | undefined {
  const fold = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  return candidates.find((c) => c !== name && editDistance(fold(name), fold(c)) <= 1);
}

function noFolder(message: string): SbertError {
  return new SbertError('ERR_BAD_MODEL', message);
}

/**
 * Where `name` points (see the module comment); throws ERR_BAD_MODEL for a missing folder, a
 * likely typo, or a name that is neither a folder nor a valid Hub id. Makes no request.
 */
export function modelSource(name: string | undefined): ModelSource {
  if (name === undefined || name === DEFAULT_MODEL_NAME) return { kind: 'folder', dir: defaultModelDir() };
  if (typeof name !== 'string' || name === '') throw new TypeError(`model must be a model folder, a Hugging Face id such as '${EXAMPLE_ID}', or 'default' (got ${JSON.stringify(name)})`);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(name);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) return { kind: 'folder', dir: path.resolve(name) };
  if (stat) throw noFolder(`${name} is a file; a model is a folder (sentence-transformers layout), a Hugging Face id such as '${EXAMPLE_ID}', or 'default'`);

  if (looksLikePath(name)) {
    const abs = path.resolve(name.replace(/^~(?=$|[/\\])/, process.env.HOME ?? '~'));
    const near = typoOf(path.basename(abs), foldersIn(path.dirname(abs)));
    const base = path.basename(abs);
    const hubHint = isRepoId(base) ? ` To download it from the Hugging Face Hub, pass its id (e.g. '${ST_ORGANIZATION}/${base}').` : '';
    throw noFolder(
      `no model folder at ${abs}${near ? `; did you mean ${path.join(path.dirname(name), near)}?` : '.'}` +
        `${hubHint} The model bundled with sbert-native is 'default'.`,
    );
  }
  if (!name.includes('/')) {
    const near = typoOf(name, [DEFAULT_MODEL_NAME, ...foldersIn(process.cwd())]);
    if (near !== undefined) {
      throw noFolder(`no local folder '${name}'; did you mean '${near}'? (a bare name that is not a folder is looked up on the Hugging Face Hub as '${ST_ORGANIZATION}/${name}')`);
    }
    const id = BASIC_TRANSFORMER_MODELS.has(name.toLowerCase()) ? name : `${ST_ORGANIZATION}/${name}`;
    if (!isRepoId(id)) throw noFolder(`no local folder '${name}', and '${id}' is not a valid Hugging Face model id`);
    return { kind: 'hub', id, given: name };
  }
  if (!isRepoId(name)) throw noFolder(`no local folder '${name}', and it is not a valid Hugging Face model id (org/name, letters, digits, '-', '_', '.')`);
  return { kind: 'hub', id: name, given: name };
}

/**
 * The local folder for `name`: the folder itself, or the Hub model's snapshot in the shared
 * cache (downloaded once). Hub errors keep their code and say what was tried.
 */
export async function resolveModelFolder(name: string | undefined, hub: HubOptions = {}): Promise<string> {
  const source = modelSource(name);
  if (source.kind === 'folder') return source.dir;
  try {
    return await resolveModel(source.id, hub);
  } catch (err) {
    if (!(err instanceof SbertError)) throw err;
    const mapped = source.id !== source.given ? ` (a bare name means '${source.id}', as in sentence-transformers)` : '';
    throw new SbertError(err.code, `no local folder '${source.given}', and the Hugging Face Hub did not give ${source.id}${mapped}: ${err.message}`, { cause: err });
  }
}
