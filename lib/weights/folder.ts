/**
 * loadModelFolder: the single entry point that turns a sentence-transformers (or plain Hugging
 * Face BERT) folder into everything the encoder needs — validated config, module chain with
 * Dense weights, maximum sequence length, tokenizer and encoder weight views.
 */
import * as path from 'path';
import { badModel, SbertError } from '../errors';
import { checkOptions } from '../options';
import { loadTokenizer, BertTokenizer } from '../tokenizer';
import { encoderTensors } from './encoder-tensors';
import { BertConfig } from './config';
import {
  DenseModuleConfig,
  loadModulesConfig,
  ModulesConfig,
  NormalizeModuleConfig,
  PoolingModuleConfig,
  TransformerModuleConfig,
} from './modules';
import { FLOAT_DTYPES, readSafetensors, readSafetensorsLazy, SafetensorsFile, TensorSource, TensorView, WeightTensor } from './safetensors';
import { entryExists, fileExists, isObject, kindOf, readJsonObjectIfPresent } from './util';
import { PYTORCH_WEIGHTS_NAME, readPytorchModelWeights } from './torch-pickle'; // issue 15 (hub helper)

/** A Dense module with its weights (in memory, or in a file: see WeightTensor). */
export interface DenseModuleSpec<T extends WeightTensor = WeightTensor> extends Omit<DenseModuleConfig, 'bias'> {
  /** `linear.weight`, `[outFeatures, inFeatures]` (PyTorch layout). */
  weight: T;
  /** `linear.bias`, `[outFeatures]`; absent when the layer has no bias. */
  bias?: T;
  /**
   * The parameters' names as the model saves them, when not a sentence-transformers Dense
   * module's (`dense.{j}.linear.*`): a cross-encoder's classification head (`classifier.weight`).
   */
  paramNames?: { weight: string; bias?: string };
  /**
   * Training only: dropout on the module's input with this probability — a cross-encoder
   * head's own dropout (see ClassificationHead.headDropout). Absent for sentence-transformers
   * Dense modules, which have none.
   */
  dropoutBefore?: number;
}

export type ModuleSpec<T extends WeightTensor = WeightTensor> = TransformerModuleConfig | PoolingModuleConfig | DenseModuleSpec<T> | NormalizeModuleConfig;

export interface LoadFolderOptions {
  /**
   * Read only the headers of the .safetensors weights (the encoder's and the Dense modules'):
   * their tensors are then TensorSources (file, offset, byteLength) that native code reads
   * straight from the file. The encoder and the trainer use this. (pytorch_model.bin weights are
   * in memory either way.)
   */
  lazyWeights?: boolean;
}

/** sentence-transformers' SimilarityFunction names → ours. */
const SIMILARITY_FNS: Record<string, 'cosine' | 'dot' | 'euclidean' | 'manhattan'> = {
  cosine: 'cosine',
  dot: 'dot',
  dot_product: 'dot',
  euclidean: 'euclidean',
  manhattan: 'manhattan',
};

/**
 * The model's own options from config_sentence_transformers.json, with sentence-transformers'
 * defaults when the file or a key is absent or null: `similarity_fn_name` ('cosine'),
 * `prompts` ({}), `default_prompt_name` (none; must name a prompt).
 */
async function readStOptions(root: string): Promise<Pick<ModelFolder, 'similarityFnName' | 'prompts' | 'defaultPromptName'>> {
  const out: Pick<ModelFolder, 'similarityFnName' | 'prompts' | 'defaultPromptName'> = { similarityFnName: 'cosine', prompts: {} };
  const file = path.join(root, 'config_sentence_transformers.json');
  const cfg = await readJsonObjectIfPresent(file);
  if (cfg === undefined) return out;
  const v = cfg.similarity_fn_name;
  if (v !== undefined && v !== null) {
    if (typeof v !== 'string' || !Object.prototype.hasOwnProperty.call(SIMILARITY_FNS, v)) {
      throw badModel(file, `"similarity_fn_name" must be one of ${Object.keys(SIMILARITY_FNS).join(', ')}, got ${kindOf(v)}`);
    }
    out.similarityFnName = SIMILARITY_FNS[v];
  }
  const prompts = cfg.prompts;
  if (prompts !== undefined && prompts !== null) {
    if (!isObject(prompts)) throw badModel(file, `"prompts" must be an object of strings, got ${kindOf(prompts)}`);
    const map: Record<string, string> = Object.create(null);
    for (const [name, text] of Object.entries(prompts)) {
      if (typeof text !== 'string') throw badModel(file, `prompt ${JSON.stringify(name)} must be a string, got ${kindOf(text)}`);
      map[name] = text;
    }
    out.prompts = map;
  }
  const d = cfg.default_prompt_name;
  if (d !== undefined && d !== null) {
    if (typeof d !== 'string' || !Object.prototype.hasOwnProperty.call(out.prompts, d)) {
      throw badModel(file, `"default_prompt_name" ${JSON.stringify(d)} names no entry of "prompts" (${Object.keys(out.prompts).join(', ') || 'none'})`);
    }
    out.defaultPromptName = d;
  }
  return out;
}

/** A loaded model folder; `T` says where its weights are (see LoadFolderOptions.lazyWeights). */
export interface ModelFolder<T extends WeightTensor = WeightTensor> {
  /** Absolute model folder. */
  dir: string;
  layout: ModulesConfig['layout'];
  config: BertConfig;
  modules: ModuleSpec<T>[];
  maxSeqLength: number;
  doLowerCase: boolean;
  /** Dimension of the sentence embedding the module chain produces. */
  outputDimension: number;
  /** The model's similarity function (config_sentence_transformers.json `similarity_fn_name`). */
  similarityFnName: 'cosine' | 'dot' | 'euclidean' | 'manhattan';
  /** Named prompts (config_sentence_transformers.json `prompts`), e.g. { query: 'query: ' }. */
  prompts: Record<string, string>;
  /** The prompt used when encode names none (`default_prompt_name`). */
  defaultPromptName?: string;
  tokenizer: BertTokenizer;
  weights: {
    /** The family's canonical tensor names (see encoderTensors) → the tensors. */
    tensors: Map<string, T>;
    /** Bytes of the weight files (encoder and Dense weights), held in memory or not. */
    memoryBytes: number;
  };
  notices: string[];
}

/** The command line offered when a folder has PyTorch pickles but no safetensors. */
export function conversionHint(dir: string): string {
  const d = JSON.stringify(dir).slice(1, -1).replace(/'/g, "\\'");
  return (
    'sbert-native reads model.safetensors and pytorch_model.bin (the latter with a restricted unpickler that never runs code). Convert once with ' +
    `python -c "from sentence_transformers import SentenceTransformer as S; S('${d}').save('${d}-safetensors', safe_serialization=True)"` +
    ' (or load it with transformers and call save_pretrained(out, safe_serialization=True))'
  );
}

const OTHER_FORMATS = ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack', 'model.onnx', 'onnx/model.onnx', 'rust_model.ot'];

/** Why a folder has no model.safetensors, as an error. */
async function missingSafetensors(dir: string, rootForHint: string): Promise<SbertError> {
  const file = path.join(dir, 'model.safetensors');
  const present: string[] = [];
  for (const f of OTHER_FORMATS) if (await fileExists(path.join(dir, f))) present.push(f);
  if (present.includes('pytorch_model.bin')) {
    return badModel(file, `missing; only pytorch_model.bin is present. ${conversionHint(rootForHint)}`);
  }
  if (present.length > 0) {
    return badModel(file, `missing; only ${present.join(', ')} ${present.length > 1 ? 'are' : 'is'} present. ${conversionHint(rootForHint)}`);
  }
  return badModel(file, 'missing: no model weights (model.safetensors) in this folder');
}

/**
 * model.safetensors, or the shards listed by model.safetensors.index.json, merged into one
 * tensor map; with `lazy`, headers only (TensorSources). Returns undefined when neither exists
 * (anything at those names that is not a readable regular file is refused, not taken for absent).
 */
export async function readModelSafetensors(dir: string, lazy?: false): Promise<SafetensorsFile<TensorView> | undefined>;
export async function readModelSafetensors(dir: string, lazy: true): Promise<SafetensorsFile<TensorSource> | undefined>;
export async function readModelSafetensors(dir: string, lazy: boolean): Promise<SafetensorsFile<WeightTensor> | undefined>;
export async function readModelSafetensors(dir: string, lazy = false): Promise<SafetensorsFile<WeightTensor> | undefined> {
  const read: (file: string) => Promise<SafetensorsFile<WeightTensor>> = lazy ? readSafetensorsLazy : readSafetensors;
  const single = path.join(dir, 'model.safetensors');
  if (await entryExists(single)) return read(single);
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  const index = await readJsonObjectIfPresent(indexFile);
  if (index === undefined) return undefined;
  const map = index.weight_map;
  if (!isObject(map)) throw badModel(indexFile, `"weight_map" must be an object, got ${kindOf(map)}`);
  const shards = new Set<string>();
  for (const [name, f] of Object.entries(map)) {
    if (typeof f !== 'string' || f === '' || f !== path.basename(f) || f === '..' || f === '.') {
      throw badModel(indexFile, `weight_map entry for ${JSON.stringify(name)} must be a file name in this folder, got ${kindOf(f)}`);
    }
    shards.add(f);
  }
  const merged: SafetensorsFile<WeightTensor> = { tensors: new Map(), metadata: Object.create(null), byteLength: 0 };
  for (const shard of [...shards].sort()) {
    const st = await read(path.join(dir, shard));
    merged.byteLength += st.byteLength;
    Object.assign(merged.metadata, st.metadata);
    for (const [name, view] of st.tensors) {
      if (merged.tensors.has(name)) throw badModel(path.join(dir, shard), `tensor ${JSON.stringify(name)} is also in another shard`);
      merged.tensors.set(name, view);
    }
  }
  return merged;
}

/** The weights of a module folder: .safetensors (headers only when `lazy`), else pytorch_model.bin. */
export async function readModuleWeights(dir: string, root: string, lazy: boolean): Promise<{ st: SafetensorsFile<WeightTensor>; file: string }> {
  // issue 15 (hub helper): a pytorch_model.bin is read by the restricted unpickler (never runs code).
  const safe = await readModelSafetensors(dir, lazy);
  const st = safe ?? (await readPytorchModelWeights(dir));
  if (st === undefined) throw await missingSafetensors(dir, root);
  return { st, file: path.join(dir, safe ? 'model.safetensors' : PYTORCH_WEIGHTS_NAME) };
}

async function loadDense(root: string, m: DenseModuleConfig, lazy: boolean): Promise<{ spec: DenseModuleSpec; bytes: number }> {
  const { st, file } = await readModuleWeights(path.join(root, m.path), root, lazy);
  const get = (name: string, shape: number[]): WeightTensor => {
    const v = st.tensors.get(name);
    if (v === undefined) throw badModel(file, `missing tensor ${name} (shape [${shape.join(', ')}])`);
    if (!FLOAT_DTYPES.has(v.dtype)) throw badModel(file, `tensor ${name} has dtype ${v.dtype}; weights must be F32, F16 or BF16`);
    if (v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
      throw badModel(file, `tensor ${name} has shape [${v.shape.join(', ')}], expected [${shape.join(', ')}] from the Dense config.json`);
    }
    return v;
  };
  const { bias: hasBias, ...rest } = m;
  const spec: DenseModuleSpec = { ...rest, weight: get('linear.weight', [m.outFeatures, m.inFeatures]) };
  if (hasBias) spec.bias = get('linear.bias', [m.outFeatures]);
  else if (st.tensors.has('linear.bias')) throw badModel(file, 'has linear.bias but the Dense config.json says "bias": false');
  return { spec, bytes: st.byteLength };
}

/**
 * The tokenizer must not give an id the model's embedding table does not have (a tokenizer
 * with fewer tokens than vocab_size is normal: models pad their tables).
 */
export function checkTokenizerFitsModel(tokenizer: BertTokenizer, config: BertConfig, configFile: string): void {
  const maxId = tokenizer.maxTokenId;
  if (maxId >= config.vocabSize) {
    throw badModel(
      tokenizer.spec.source,
      `the tokenizer has token ids up to ${maxId} (${maxId + 1} ids) but ${configFile} says vocab_size ${config.vocabSize}: ` +
        'the tokenizer does not belong to this model (or config.json was edited)',
    );
  }
}

/**
 * Loads a model folder: modules.json chain (or Transformer + mean pooling for a plain Hugging
 * Face folder), config.json, model.safetensors (BERT encoder), Dense weights, tokenizer.
 * Every problem is an SbertError with code ERR_BAD_MODEL naming the file and the reason.
 */
export async function loadModelFolder(dir: string, options?: LoadFolderOptions & { lazyWeights?: false }): Promise<ModelFolder<TensorView>>;
export async function loadModelFolder(dir: string, options: LoadFolderOptions): Promise<ModelFolder>;
export async function loadModelFolder(dir: string, options: LoadFolderOptions = {}): Promise<ModelFolder> {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('loadModelFolder: dir must be a non-empty string');
  checkOptions(options, { lazyWeights: 'boolean' }, { fn: 'loadModelFolder' });
  const root = path.resolve(dir);
  const mc = await loadModulesConfig(root);
  const notices = [...mc.notices];

  const lazy = options.lazyWeights === true;
  const { st, file: weightsFile } = await readModuleWeights(mc.transformerDir, root, lazy);
  const tensors = encoderTensors(st, mc.config, weightsFile);
  let memoryBytes = st.byteLength;

  const modules: ModuleSpec[] = [];
  for (const m of mc.modules) {
    if (m.type === 'dense') {
      const { spec, bytes } = await loadDense(root, m, lazy);
      modules.push(spec);
      memoryBytes += bytes;
    } else {
      modules.push({ ...m });
    }
  }

  // sentence-transformers hands max_seq_length to the tokenizer as its model_max_length; do the
  // same so tokenizer.modelMaxLength agrees with maxSeqLength.
  // requireSpecialTokens: the engine cannot run the empty sequence a tokenizer without
  // [CLS]/[SEP] gives for '' (refused here, not at the first empty sentence)
  const tokenizer = await loadTokenizer(mc.transformerDir, { modelMaxLength: mc.maxSeqLength, requireSpecialTokens: true });
  checkTokenizerFitsModel(tokenizer, mc.config, path.join(mc.transformerDir, 'config.json'));
  const maxSeqLength = mc.maxSeqLength;

  return {
    dir: root,
    layout: mc.layout,
    config: mc.config,
    modules,
    maxSeqLength,
    doLowerCase: mc.doLowerCase,
    outputDimension: mc.outputDimension,
    ...(await readStOptions(root)),
    tokenizer,
    weights: { tensors, memoryBytes },
    notices,
  };
}
