/**
 * Writes a trained model as a complete sentence-transformers folder: the source folder's
 * layout and configuration (modules.json, config.json, sentence_bert_config.json, tokenizer
 * files, Pooling / Dense / Normalize configs) with the trained weights in model.safetensors
 * (the Transformer's, by the family's canonical names, and each Dense module's linear.weight /
 * linear.bias). A plain Hugging Face source folder gets the modules.json, sentence_bert_config
 * and 1_Pooling (mean) that sentence-transformers would save for it.
 *
 * The folder is assembled in a temporary sibling and renamed into place, so a failure or an
 * interrupt never leaves a half-written model at the destination. Every folder gets a README.md
 * model card (./model-card.ts), as sentence-transformers writes one. `enc.save` uses the same
 * writer with the source's weight files copied as they are (writeModelFolder, `weights: 'copy'`).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SbertError } from '../errors';
import { makeFolder } from '../output-file';
import { canonicalTensorName, readModelSafetensors, type ModelFamily, type ModelFolder } from '../weights';
import { FLOAT_DTYPES, numberToF16Bits, TensorToWrite, toFloat32, writeSafetensors, type Dtype } from '../weights/safetensors';
import { modelCard, type TrainingRecord } from './model-card';

/** A model parameter as the trainer hands it out: canonical name, PyTorch shape, fp32 values. */
export interface NamedParameter {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Storage dtype of the saved weights. */
export type SaveDtype = 'fp32' | 'fp16' | 'bf16';

/** Files of a Transformer module folder that describe the model besides its weights. */
export const TRANSFORMER_FILES = [
  'config.json',
  'sentence_bert_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'vocab.txt',
  'special_tokens_map.json',
  'added_tokens.json',
  // tokenizers of other families (byte-level BPE, SentencePiece)
  'vocab.json',
  'merges.txt',
  'sentencepiece.bpe.model',
  'spiece.model',
];

/** Weight files copied as they are when the weights did not change (`weights: 'copy'`). */
const WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin'];

/** Root files of a sentence-transformers folder kept as they are. */
const ROOT_FILES = ['modules.json', 'config_sentence_transformers.json'];

export const DTYPE_TAG: Record<SaveDtype, Dtype> = { fp32: 'F32', fp16: 'F16', bf16: 'BF16' };
export const TORCH_DTYPE: Record<SaveDtype, string> = { fp32: 'float32', fp16: 'float16', bf16: 'bfloat16' };

/** fp32 → bfloat16 bits, round to nearest even (NaN stays a quiet NaN), as torch's .to(bfloat16). */
function bf16Bits(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The tensor's bytes in the saved dtype. */
function encodeTensor(data: Float32Array, dtype: SaveDtype): ArrayBufferView {
  if (dtype === 'fp32') return data;
  const out = new Uint16Array(data.length);
  if (dtype === 'fp16') {
    for (let i = 0; i < data.length; i++) out[i] = numberToF16Bits(data[i]);
  } else {
    const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < data.length; i++) out[i] = bf16Bits(bits[i]);
  }
  return out;
}

/** The parameters as safetensors entries in the saved dtype, under their own names. */
export function tensorMap(params: readonly NamedParameter[], dtype: SaveDtype): Map<string, TensorToWrite> {
  const map = new Map<string, TensorToWrite>();
  for (const p of params) map.set(p.name, { dtype: DTYPE_TAG[dtype], shape: p.shape, data: encodeTensor(p.data, dtype) });
  return map;
}

/**
 * The base model's pooler (BERT, RoBERTa, MPNet; unused by sentence embeddings, so not trained)
 * copied from the source weights, so that transformers loads the saved model without newly
 * initialised weights.
 */
async function poolerParameters(transformerDir: string, family: ModelFamily, trained: readonly NamedParameter[]): Promise<NamedParameter[]> {
  const source = await readModelSafetensors(transformerDir);
  if (!source) return [];
  const out: NamedParameter[] = [];
  for (const [name, view] of source.tensors) {
    const canonical = canonicalTensorName(name, family);
    if (!canonical.startsWith('pooler.') || !FLOAT_DTYPES.has(view.dtype) || trained.some((p) => p.name === canonical)) continue;
    out.push({ name: canonical, shape: view.shape, data: toFloat32(view) });
  }
  return out;
}

/** Copies `from` to `to` (making `to`'s folder); a missing `from` is skipped. */
export async function copyIfExists(from: string, to: string): Promise<void> {
  try {
    await fs.promises.mkdir(path.dirname(to), { recursive: true });
    await fs.promises.copyFile(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Writes `value` as indented JSON (making the file's folder). */
export async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, JSON.stringify(value, null, 2) + '\n');
}

/** config.json with its dtype fields saying what model.safetensors now holds. */
async function writeTransformerConfig(from: string, to: string, dtype: SaveDtype): Promise<void> {
  const config = JSON.parse(await fs.promises.readFile(from, 'utf8')) as Record<string, unknown>;
  for (const key of ['torch_dtype', 'dtype']) if (key in config) config[key] = TORCH_DTYPE[dtype];
  await writeJson(to, config);
}

/**
 * What sentence-transformers writes for a plain Hugging Face folder it wrapped in Transformer
 * + mean Pooling (the classic layout, which every sentence-transformers version reads).
 */
async function writePlainModules(stage: string, folder: Omit<ModelFolder, 'weights'>): Promise<void> {
  await writeJson(path.join(stage, 'modules.json'), [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ]);
  await writeJson(path.join(stage, 'sentence_bert_config.json'), { max_seq_length: folder.maxSeqLength, do_lower_case: folder.doLowerCase });
  await writeJson(path.join(stage, '1_Pooling', 'config.json'), {
    word_embedding_dimension: folder.config.hiddenSize,
    pooling_mode_cls_token: false,
    pooling_mode_mean_tokens: true,
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
    pooling_mode_weightedmean_tokens: false,
    pooling_mode_lasttoken: false,
    include_prompt: true,
  });
}

/** Renames `stage` to `dest`; an existing empty `dest` folder is replaced. */
async function moveIntoPlace(stage: string, dest: string): Promise<void> {
  try {
    await fs.promises.rename(stage, dest);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EISDIR') throw err;
  }
  if ((await fs.promises.readdir(dest)).length > 0) {
    throw new SbertError('ERR_BAD_DATA', `${dest}: the output folder exists and is not empty; nothing was written there`);
  }
  await fs.promises.rmdir(dest);
  await fs.promises.rename(stage, dest);
}

/** Checks before training that `dir` can receive a model (absent, or an empty folder). */
export async function checkOutputDir(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.promises.readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const parent = path.dirname(path.resolve(dir));
      if (!fs.existsSync(parent)) throw new RangeError(`outputDir ${dir}: its parent folder ${parent} does not exist`);
      return;
    }
    if (code === 'ENOTDIR') throw new RangeError(`outputDir ${dir} is a file, not a folder`);
    throw err;
  }
  if (entries.length > 0) throw new RangeError(`outputDir ${dir} exists and is not empty (choose a new folder)`);
}

/** The weights to write: trained parameters in a dtype, or the source folder's files unchanged. */
export type FolderWeights = { params: readonly NamedParameter[]; dtype: SaveDtype } | 'copy';

export interface WriteFolderOptions {
  weights: FolderWeights;
  /** max_seq_length to record (default: the folder's). */
  maxSeqLength?: number;
  /** Where the model came from, for the model card (default: the folder). */
  source?: string;
  /** The sentence embedding's length, for the model card. */
  dimension: number;
  /** fit's settings and evaluations, for the model card. */
  training?: TrainingRecord;
}

/** Copies a module folder's weight files (and the shards its index lists) from `from` to `to`. */
async function copyWeightFiles(from: string, to: string): Promise<void> {
  for (const f of WEIGHT_FILES) await copyIfExists(path.join(from, f), path.join(to, f));
  let index: { weight_map?: Record<string, unknown> } | undefined;
  try {
    index = JSON.parse(await fs.promises.readFile(path.join(from, 'model.safetensors.index.json'), 'utf8'));
  } catch {
    index = undefined;
  }
  // The loader checked every shard name is a plain file name in this folder.
  const shards = new Set(Object.values(index?.weight_map ?? {}).filter((v): v is string => typeof v === 'string' && v === path.basename(v)));
  for (const shard of shards) await fs.promises.copyFile(path.join(from, shard), path.join(to, shard));
}

/** sentence_bert_config.json with max_seq_length set (the Transformer's settings). */
async function setMaxSeqLength(file: string, maxSeqLength: number): Promise<void> {
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await fs.promises.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  config.max_seq_length = maxSeqLength;
  await writeJson(file, config);
}

/**
 * Writes `folder` (its layout, configuration and tokenizer) to `outputDir` as a complete
 * sentence-transformers folder with the given weights and a README.md model card, atomically.
 * Returns the absolute output folder.
 */
export async function writeModelFolder(folder: Omit<ModelFolder, 'weights'>, outputDir: string, options: WriteFolderOptions): Promise<string> {
  const { weights } = options;
  if (weights !== 'copy' && !(weights.dtype in DTYPE_TAG)) throw new RangeError(`saveDtype must be 'fp32', 'fp16' or 'bf16' (got ${JSON.stringify(weights.dtype)})`);
  const maxSeqLength = options.maxSeqLength ?? folder.maxSeqLength;
  return writeStagedFolder(outputDir, async (stage) => {
    const transformerPath = folder.modules.find((m) => m.type === 'transformer')?.path ?? '';
    const denseIndex = new Map<string, number>();
    folder.modules.forEach((m) => {
      if (m.type === 'dense') denseIndex.set(m.path, denseIndex.size);
    });
    const transformerSrc = path.join(folder.dir, transformerPath);
    const transformerDst = path.join(stage, transformerPath);

    // Transformer: configuration and tokenizer files, then the weights.
    for (const f of TRANSFORMER_FILES) {
      if (f === 'config.json' && weights !== 'copy') await writeTransformerConfig(path.join(transformerSrc, f), path.join(transformerDst, f), weights.dtype);
      else if (f !== 'sentence_bert_config.json' || folder.layout !== 'plain') await copyIfExists(path.join(transformerSrc, f), path.join(transformerDst, f));
    }
    if (weights === 'copy') {
      await copyWeightFiles(transformerSrc, transformerDst);
    } else {
      const bert = weights.params.filter((p) => !p.name.startsWith('dense.'));
      const pooler = await poolerParameters(transformerSrc, folder.config.family, bert);
      await fs.promises.writeFile(path.join(transformerDst, 'model.safetensors'), writeSafetensors(tensorMap([...bert, ...pooler], weights.dtype), { format: 'pt' }));
    }

    if (folder.layout === 'plain') {
      await writePlainModules(stage, { ...folder, maxSeqLength });
    } else {
      if (maxSeqLength !== folder.maxSeqLength) await setMaxSeqLength(path.join(transformerDst, 'sentence_bert_config.json'), maxSeqLength);
      for (const f of ROOT_FILES) await copyIfExists(path.join(folder.dir, f), path.join(stage, f));
      // Every module of modules.json keeps its config (Dropout too, which the loader skips).
      const listed = JSON.parse(await fs.promises.readFile(path.join(folder.dir, 'modules.json'), 'utf8')) as { path?: unknown }[];
      for (const entry of listed) {
        if (typeof entry.path !== 'string' || entry.path === transformerPath) continue;
        await fs.promises.mkdir(path.join(stage, entry.path), { recursive: true });
        await copyIfExists(path.join(folder.dir, entry.path, 'config.json'), path.join(stage, entry.path, 'config.json'));
      }
      for (const m of folder.modules) {
        const j = m.type === 'dense' ? denseIndex.get(m.path) : undefined;
        if (j === undefined) continue;
        if (weights === 'copy') {
          await copyWeightFiles(path.join(folder.dir, m.path), path.join(stage, m.path));
          continue;
        }
        const prefix = `dense.${j}.`;
        const own = weights.params.filter((p) => p.name.startsWith(prefix)).map((p) => ({ ...p, name: p.name.slice(prefix.length) }));
        await fs.promises.writeFile(path.join(stage, m.path, 'model.safetensors'), writeSafetensors(tensorMap(own, weights.dtype), { format: 'pt' }));
      }
    }
    const card = modelCard({ folder, maxSeqLength, source: options.source ?? folder.dir, dimension: options.dimension, training: options.training });
    await fs.promises.writeFile(path.join(stage, 'README.md'), card);
  });
}

/**
 * Assembles a model folder in a temporary sibling of `outputDir` (`fill` writes into it) and
 * renames it into place, so a failure or an interrupt never leaves a half-written model at the
 * destination (the temporary folder is removed). Returns the absolute output folder.
 */
export async function writeStagedFolder(outputDir: string, fill: (stage: string) => Promise<void>): Promise<string> {
  const dest = path.resolve(outputDir);
  const stage = path.join(path.dirname(dest), `.${path.basename(dest)}.partial-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  // One level with a timeout (its parent is the destination's, checked before training): never
  // the recursive mkdir that loops forever on /proc.
  await makeFolder(stage);
  try {
    await fill(stage);
    await moveIntoPlace(stage, dest);
  } catch (err) {
    await fs.promises.rm(stage, { recursive: true, force: true });
    throw err;
  }
  return dest;
}

/**
 * Saves `params` (every model parameter by canonical name: BERT tensors and
 * `dense.{j}.linear.weight|bias`) with `folder`'s layout and configuration to `outputDir`,
 * atomically, with a model card (`training` adds fit's settings to it). Returns the absolute
 * output folder.
 */
export async function saveModelFolder(
  folder: Omit<ModelFolder, 'weights'>,
  params: readonly NamedParameter[],
  outputDir: string,
  dtype: SaveDtype = 'fp32',
  training?: TrainingRecord,
): Promise<string> {
  return writeModelFolder(folder, outputDir, { weights: { params, dtype }, dimension: folder.outputDimension, training });
}
