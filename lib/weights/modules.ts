/**
 * sentence-transformers module configuration: modules.json, sentence_bert_config.json,
 * `*_Pooling/config.json`, `*_Dense/config.json`, `*_Normalize`, in both the classic layout
 * (`sentence_transformers.models.Pooling`, `pooling_mode_*_tokens` booleans, max_seq_length in
 * sentence_bert_config.json) and the sentence-transformers 6 layout
 * (`sentence_transformers.base.modules.transformer.Transformer`,
 * `sentence_transformers.sentence_transformer.modules.pooling.Pooling`, `pooling_mode: "mean"`,
 * max length in tokenizer_config.json). Reads configuration only, never weights.
 */
import * as path from 'path';
import { badModel } from '../errors';
import { BertConfig, loadBertConfig } from './config';
import { dirExists, entryExists, fileExists, isObject, isPositiveInt, JsonObject, kindOf, readJson, readJsonObject, readJsonObjectIfPresent } from './util';

export type PoolingMode = 'cls' | 'max' | 'mean' | 'mean_sqrt_len_tokens' | 'weightedmean' | 'lasttoken';

export const POOLING_MODES: readonly PoolingMode[] = ['cls', 'max', 'mean', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken'];

export type DenseActivation = 'identity' | 'tanh' | 'relu' | 'gelu' | 'sigmoid';

export interface TransformerModuleConfig {
  type: 'transformer';
  /** Module folder relative to the model folder ('' = the model folder itself). */
  path: string;
  maxSeqLength: number;
  doLowerCase: boolean;
}
export interface PoolingModuleConfig {
  type: 'pooling';
  path: string;
  wordEmbeddingDimension: number;
  /** In the order sentence-transformers concatenates the pooled vectors. */
  modes: PoolingMode[];
  /** Whether prompt tokens are pooled too (`include_prompt`, default true). */
  includePrompt: boolean;
  outputDimension: number;
}
export interface DenseModuleConfig {
  type: 'dense';
  path: string;
  inFeatures: number;
  outFeatures: number;
  activation: DenseActivation;
  /** Whether the layer has a bias vector. */
  bias: boolean;
}
export interface NormalizeModuleConfig {
  type: 'normalize';
  path: string;
}
export type ModuleConfig = TransformerModuleConfig | PoolingModuleConfig | DenseModuleConfig | NormalizeModuleConfig;

export interface ModulesConfig {
  /** 'sentence-transformers' when modules.json exists, 'plain' for a bare Hugging Face folder. */
  layout: 'sentence-transformers' | 'plain';
  modules: ModuleConfig[];
  /** Absolute folder of the Transformer module (config.json, tokenizer, model.safetensors). */
  transformerDir: string;
  config: BertConfig;
  maxSeqLength: number;
  /**
   * Where maxSeqLength came from: sentence_bert_config.json (max_seq_length or a
   * processor_kwargs/tokenizer_args model_max_length), the tokenizer's model_max_length, or
   * max_position_embeddings alone when neither gives one.
   */
  maxSeqLengthSource: 'sentence_bert_config' | 'tokenizer' | 'max_position_embeddings';
  doLowerCase: boolean;
  /** Dimension of the final sentence embedding. */
  outputDimension: number;
  notices: string[];
}

export interface LoadModulesOptions {
  /**
   * The tokenizer's model_max_length when the caller already knows it; used only when
   * tokenizer_config.json does not give one.
   */
  tokenizerModelMaxLength?: number;
}

// torch activation class name → our activation. Dense.load instantiates the class with no
// arguments, so GELU is the exact erf form (approximate='none').
const ACTIVATIONS: Record<string, DenseActivation> = {
  Identity: 'identity',
  Tanh: 'tanh',
  ReLU: 'relu',
  GELU: 'gelu',
  Sigmoid: 'sigmoid',
};

const LEGACY_POOLING_KEYS: [string, PoolingMode][] = [
  // The order sentence-transformers concatenates legacy boolean modes in (Pooling.forward).
  ['pooling_mode_cls_token', 'cls'],
  ['pooling_mode_max_tokens', 'max'],
  ['pooling_mode_mean_tokens', 'mean'],
  ['pooling_mode_mean_sqrt_len_tokens', 'mean_sqrt_len_tokens'],
  ['pooling_mode_weightedmean_tokens', 'weightedmean'],
  ['pooling_mode_lasttoken', 'lasttoken'],
];

const SUPPORTED_TYPES = 'Transformer, Pooling, Dense, Normalize';

type ModuleKind = 'transformer' | 'pooling' | 'dense' | 'normalize' | 'dropout';

/** Maps a modules.json `type` to a module kind, or undefined when unsupported. */
export function moduleKind(type: string): ModuleKind | undefined {
  if (!type.startsWith('sentence_transformers.')) return undefined;
  const cls = type.slice(type.lastIndexOf('.') + 1);
  switch (cls) {
    case 'Transformer':
    case 'BERT': // sentence-transformers < 1.0 wrapped BERT in models.BERT with the same files
      return 'transformer';
    case 'Pooling':
      return 'pooling';
    case 'Dense':
      return 'dense';
    case 'Normalize':
      return 'normalize';
    case 'Dropout':
      return 'dropout';
    default:
      return undefined;
  }
}

/** Maps a Dense `activation_function` (e.g. `torch.nn.modules.activation.Tanh`). */
export function parseDenseActivation(v: unknown, file: string): DenseActivation {
  if (v === undefined) return 'tanh'; // Dense's default
  if (v === null) return 'identity'; // Dense(activation_function=None) is Identity
  if (typeof v !== 'string') throw badModel(file, `"activation_function" must be a string, got ${kindOf(v)}`);
  const cls = v.slice(v.lastIndexOf('.') + 1);
  if (v.startsWith('torch.') && Object.prototype.hasOwnProperty.call(ACTIVATIONS, cls)) return ACTIVATIONS[cls];
  throw badModel(file, `activation_function ${JSON.stringify(v)} is not supported (supported: ${Object.keys(ACTIVATIONS).map((k) => 'torch.nn.' + k).join(', ')})`);
}

/**
 * Pooling config (either form) → modes in concatenation order. sentence-transformers 6 keeps
 * `pooling_mode` (a string or a list, concatenated in list order); older versions write one
 * boolean per mode, concatenated as cls, max, mean, mean_sqrt_len_tokens, weightedmean,
 * lasttoken. When `pooling_mode` is present the booleans are ignored; when no mode at all is
 * enabled the result is mean (both as sentence-transformers 6 does).
 */
export function parsePoolingModes(cfg: JsonObject, file: string): PoolingMode[] {
  const pm = cfg.pooling_mode;
  if (pm !== undefined && pm !== null) {
    const list = typeof pm === 'string' ? [pm] : pm;
    if (!Array.isArray(list)) throw badModel(file, `"pooling_mode" must be a string or a list of strings, got ${kindOf(pm)}`);
    if (list.length === 0) throw badModel(file, '"pooling_mode" is an empty list');
    return list.map((m) => {
      const s = typeof m === 'string' ? m.toLowerCase() : m;
      if (typeof s !== 'string' || !(POOLING_MODES as readonly string[]).includes(s)) {
        throw badModel(file, `unknown pooling mode ${typeof m === 'string' ? JSON.stringify(m) : kindOf(m)} (supported: ${POOLING_MODES.join(', ')})`);
      }
      return s as PoolingMode;
    });
  }
  const modes: PoolingMode[] = [];
  for (const [key, mode] of LEGACY_POOLING_KEYS) {
    const v = cfg[key];
    if (v === undefined || v === null || v === false) continue;
    if (v !== true) throw badModel(file, `"${key}" must be true or false, got ${kindOf(v)}`);
    modes.push(mode);
  }
  return modes.length > 0 ? modes : ['mean'];
}

function parsePoolingConfig(cfg: JsonObject, file: string, modPath: string): PoolingModuleConfig {
  const dimKey = cfg.embedding_dimension !== undefined ? 'embedding_dimension' : 'word_embedding_dimension';
  const dim = cfg[dimKey];
  if (dim === undefined) throw badModel(file, 'missing "word_embedding_dimension" (or "embedding_dimension")');
  if (!isPositiveInt(dim)) throw badModel(file, `"${dimKey}" must be a positive integer, got ${kindOf(dim)}`);
  const modes = parsePoolingModes(cfg, file);
  const ip = cfg.include_prompt;
  if (ip !== undefined && ip !== null && typeof ip !== 'boolean') {
    throw badModel(file, `"include_prompt" must be true or false, got ${kindOf(ip)}`);
  }
  return {
    type: 'pooling',
    path: modPath,
    wordEmbeddingDimension: dim,
    modes,
    includePrompt: ip !== false,
    outputDimension: modes.length * dim,
  };
}

function parseDenseConfig(cfg: JsonObject, file: string, modPath: string): DenseModuleConfig {
  const inF = cfg.in_features, outF = cfg.out_features;
  if (!isPositiveInt(inF)) throw badModel(file, `"in_features" must be a positive integer, got ${kindOf(inF)}`);
  if (!isPositiveInt(outF)) throw badModel(file, `"out_features" must be a positive integer, got ${kindOf(outF)}`);
  const bias = cfg.bias ?? true;
  if (typeof bias !== 'boolean') throw badModel(file, `"bias" must be true or false, got ${kindOf(bias)}`);
  if (cfg.use_residual === true) throw badModel(file, '"use_residual": true (a residual Dense) is not supported');
  for (const key of ['module_input_name', 'module_output_name']) {
    const v = cfg[key];
    if (v !== undefined && v !== null && v !== 'sentence_embedding') {
      throw badModel(file, `"${key}" ${JSON.stringify(v)} is not supported: only Dense layers on the sentence embedding are`);
    }
  }
  return { type: 'dense', path: modPath, inFeatures: inF, outFeatures: outF, activation: parseDenseActivation(cfg.activation_function, file), bias };
}

/** A module path from modules.json, checked to stay inside the model folder. */
function resolveModulePath(p: unknown, file: string, idx: number): string {
  if (p === undefined || p === null) return '';
  if (typeof p !== 'string') throw badModel(file, `module ${idx}: "path" must be a string, got ${kindOf(p)}`);
  const norm = path.normalize(p.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (norm === '.' || norm === '') return '';
  if (path.isAbsolute(norm) || norm === '..' || norm.startsWith('../')) {
    throw badModel(file, `module ${idx}: path ${JSON.stringify(p)} points outside the model folder`);
  }
  return norm;
}

/** tokenizer_config.json `model_max_length`, or undefined (HF then means "no limit"). */
export async function tokenizerModelMaxLength(transformerDir: string): Promise<number | undefined> {
  const file = path.join(transformerDir, 'tokenizer_config.json');
  const cfg = await readJsonObjectIfPresent(file);
  if (cfg === undefined) return undefined;
  const v = cfg.model_max_length;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !(v > 0)) throw badModel(file, `"model_max_length" must be a positive number, got ${kindOf(v)}`);
  return v;
}

function optionalMaxLength(v: unknown, file: string, key: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isPositiveInt(v)) throw badModel(file, `"${key}" must be a positive integer, got ${kindOf(v)}`);
  return v;
}

const warnedPlain = new Set<string>();

/**
 * Reads the module configuration of a model folder (no weights). `config` is the folder's BERT
 * config; when omitted it is read from the Transformer module's config.json.
 */
export async function loadModulesConfig(dir: string, config?: BertConfig, options: LoadModulesOptions = {}): Promise<ModulesConfig> {
  const root = path.resolve(dir);
  if (!(await dirExists(root))) {
    throw badModel(dir, (await fileExists(root)) ? 'not a directory (expected a model folder)' : 'model folder not found');
  }
  const notices: string[] = [];
  const modulesFile = path.join(root, 'modules.json');

  // ---- the list of modules
  let entries: { kind: ModuleKind; path: string; type: string }[];
  let layout: ModulesConfig['layout'];
  if (await entryExists(modulesFile)) {
    // Present but not a readable regular file (dangling link, directory, FIFO, loop) → readJson
    // refuses it: treating it as absent would silently drop the model's Normalize and Dense modules.
    layout = 'sentence-transformers';
    const list = await readJson(modulesFile);
    if (!Array.isArray(list)) throw badModel(modulesFile, `expected a JSON array of modules, got ${kindOf(list)}`);
    if (list.length === 0) throw badModel(modulesFile, 'lists no modules');
    entries = list.map((m, i) => {
      if (!isObject(m)) throw badModel(modulesFile, `module ${i} must be an object, got ${kindOf(m)}`);
      if (typeof m.type !== 'string') throw badModel(modulesFile, `module ${i}: "type" must be a string, got ${kindOf(m.type)}`);
      const kind = moduleKind(m.type);
      if (kind === undefined) {
        throw badModel(modulesFile, `module ${i}: unsupported module type ${JSON.stringify(m.type)} (supported: ${SUPPORTED_TYPES})`);
      }
      return { kind, path: resolveModulePath(m.path, modulesFile, i), type: m.type };
    });
  } else {
    // A bare Hugging Face folder: sentence-transformers builds Transformer + mean Pooling for it.
    layout = 'plain';
    entries = [
      { kind: 'transformer', path: '', type: 'Transformer' },
      { kind: 'pooling', path: '', type: 'Pooling' },
    ];
    const msg = `${root}: no modules.json, so this is a plain Hugging Face model and not a sentence-transformers folder; using mean pooling as sentence-transformers does`;
    notices.push(msg);
    if (!warnedPlain.has(root)) {
      warnedPlain.add(root);
      process.emitWarning(msg, { code: 'SBERT_NO_MODULES_JSON' });
    }
  }

  // ---- the Transformer module: always first, exactly once
  const tIdx = entries.findIndex((e) => e.kind === 'transformer');
  if (tIdx < 0) throw badModel(modulesFile, 'has no Transformer module');
  if (tIdx !== 0) throw badModel(modulesFile, `module 0 must be the Transformer, found ${JSON.stringify(entries[0].type)}`);
  if (entries.filter((e) => e.kind === 'transformer').length > 1) throw badModel(modulesFile, 'has more than one Transformer module');
  const transformerDir = path.join(root, entries[0].path);
  if (!(await dirExists(transformerDir))) throw badModel(transformerDir, 'Transformer module folder not found');
  const cfg = config ?? (await loadBertConfig(transformerDir));

  // sentence_bert_config.json (Transformer settings). Classic: {max_seq_length, do_lower_case}.
  // sentence-transformers 6: {transformer_task, modality_config, ...} and no max_seq_length.
  let sbert: JsonObject = {};
  const sbertFile = path.join(transformerDir, 'sentence_bert_config.json');
  if (layout === 'sentence-transformers') sbert = (await readJsonObjectIfPresent(sbertFile)) ?? {};
  const task = sbert.transformer_task;
  if (task !== undefined && task !== null && task !== 'feature-extraction') {
    throw badModel(sbertFile, `transformer_task ${JSON.stringify(task)} is not supported (only "feature-extraction")`);
  }
  const doLowerCase = sbert.do_lower_case ?? false;
  if (typeof doLowerCase !== 'boolean') throw badModel(sbertFile, `"do_lower_case" must be true or false, got ${kindOf(doLowerCase)}`);

  /*
   * Maximum sequence length, exactly as sentence-transformers derives it:
   *  - `max_seq_length` in sentence_bert_config.json (classic layout) wins. ST passes it to the
   *    tokenizer as model_max_length, overriding tokenizer_config.json (all-MiniLM-L6-v2: 256,
   *    while its tokenizer says 512).
   *  - else a model_max_length in the config's `processor_kwargs` (ST 6) / `tokenizer_args`
   *    (ST ≤ 5), which also overrides the tokenizer's.
   *  - else the tokenizer's model_max_length (tokenizer_config.json; where ST 6 keeps it) capped
   *    at config.max_position_embeddings: ST ≤ 5 sets
   *    max_seq_length = min(max_position_embeddings, tokenizer.model_max_length), ST 6 caps
   *    tokenizer.model_max_length the same way. No model_max_length at all (HF then uses
   *    VERY_LARGE_INTEGER) gives max_position_embeddings.
   * We additionally cap every case at max_position_embeddings: a longer explicit value would
   * make the reference index past the position-embedding table and fail, so no valid output
   * changes; a notice says when that cap applies.
   */
  const explicit =
    optionalMaxLength(sbert.max_seq_length, sbertFile, 'max_seq_length') ??
    optionalMaxLength(isObject(sbert.processor_kwargs) ? sbert.processor_kwargs.model_max_length : undefined, sbertFile, 'processor_kwargs.model_max_length') ??
    optionalMaxLength(isObject(sbert.tokenizer_args) ? sbert.tokenizer_args.model_max_length : undefined, sbertFile, 'tokenizer_args.model_max_length');
  let maxSeqLength: number;
  let maxSeqLengthSource: ModulesConfig['maxSeqLengthSource'];
  if (explicit !== undefined) {
    maxSeqLengthSource = 'sentence_bert_config';
    maxSeqLength = explicit;
    if (explicit > cfg.maxSequenceLength) {
      maxSeqLength = cfg.maxSequenceLength;
      notices.push(`${sbertFile}: max_seq_length ${explicit} exceeds the ${cfg.maxSequenceLength} positions the model can number (max_position_embeddings ${cfg.maxPositionEmbeddings}${cfg.positionIds === 'after_padding' ? `, counted after padding index ${cfg.paddingIdx}` : ''}); using ${maxSeqLength}`);
    }
  } else {
    const tok = (await tokenizerModelMaxLength(transformerDir)) ?? options.tokenizerModelMaxLength;
    maxSeqLengthSource = tok === undefined ? 'max_position_embeddings' : 'tokenizer';
    maxSeqLength = tok === undefined ? cfg.maxSequenceLength : Math.min(cfg.maxSequenceLength, Math.floor(tok));
    if (maxSeqLength < 1) throw badModel(path.join(transformerDir, 'tokenizer_config.json'), `model_max_length ${tok} is less than 1`);
  }

  // ---- the chain after the Transformer
  const modules: ModuleConfig[] = [{ type: 'transformer', path: entries[0].path, maxSeqLength, doLowerCase }];
  let dim = cfg.hiddenSize;
  let pooled = false;
  let normalized = false;
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i];
    // Module folders are not checked for existence: Normalize and Dropout save no files, so Hub
    // repositories (git keeps no empty folders) often lack them; Pooling and Dense report their
    // missing config.json instead.
    const modDir = path.join(root, e.path);
    const cfgFile = path.join(modDir, 'config.json');
    switch (e.kind) {
      case 'transformer':
        break; // rejected above
      case 'dropout':
        // Dropout is the identity at inference time.
        notices.push(`${modulesFile}: module ${i} (${e.type}) is a no-op at inference and is skipped`);
        break;
      case 'pooling': {
        if (pooled) throw badModel(modulesFile, `module ${i}: a second Pooling module is not supported`);
        let p: PoolingModuleConfig;
        if (layout === 'plain') {
          p = { type: 'pooling', path: '', wordEmbeddingDimension: dim, modes: ['mean'], includePrompt: true, outputDimension: dim };
        } else {
          p = parsePoolingConfig(await readJsonObject(cfgFile, 'missing the Pooling config.json'), cfgFile, e.path);
        }
        if (p.wordEmbeddingDimension !== dim) {
          throw badModel(cfgFile, `pooling dimension ${p.wordEmbeddingDimension} does not match the transformer hidden_size ${dim}`);
        }
        modules.push(p);
        dim = p.outputDimension;
        pooled = true;
        break;
      }
      case 'dense': {
        if (!pooled) throw badModel(modulesFile, `module ${i}: a Dense module before Pooling (on token embeddings) is not supported`);
        if (normalized) throw badModel(modulesFile, `module ${i}: a Dense module after Normalize is not supported (the engine runs Transformer → Pooling → Dense* → Normalize)`);
        const d = parseDenseConfig(await readJsonObject(cfgFile, 'missing the Dense config.json'), cfgFile, e.path);
        if (d.inFeatures !== dim) {
          throw badModel(cfgFile, `in_features ${d.inFeatures} does not match the ${dim}-dimensional output of the previous module`);
        }
        modules.push(d);
        dim = d.outFeatures;
        break;
      }
      case 'normalize':
        if (!pooled) throw badModel(modulesFile, `module ${i}: a Normalize module before Pooling is not supported`);
        // A second Normalize is the identity on unit vectors: run it once.
        if (!normalized) modules.push({ type: 'normalize', path: e.path });
        normalized = true;
        break;
    }
  }
  if (!pooled) {
    throw badModel(modulesFile, 'has no Pooling module: the model outputs token embeddings, not sentence embeddings');
  }
  return { layout, modules, transformerDir, config: cfg, maxSeqLength, maxSeqLengthSource, doLowerCase, outputDimension: dim, notices };
}
