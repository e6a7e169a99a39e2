/**
 * loadCrossEncoderFolder: a Hugging Face sequence-classification folder (what
 * sentence-transformers' CrossEncoder loads: `BertForSequenceClassification`,
 * `XLMRobertaForSequenceClassification`, `MPNetForSequenceClassification`,
 * `DistilBertForSequenceClassification`, …) turned into what the engine runs: the family's
 * encoder, then the family's classification head on the first token — out(act(dense(h_0))), as
 * transformers computes it — giving `numLabels` logits per pair.
 *
 * The score activation is sentence-transformers' rule: config.json
 * `sentence_transformers.activation_fn`, else the older `sbert_ce_default_activation_function`,
 * else Sigmoid for one label and Identity for several. max_length: tokenizer_config.json's
 * model_max_length capped at the positions the model can number (as sentence-transformers
 * truncates with the tokenizer's limit). A sentence-transformers bi-encoder folder (modules.json
 * with a Pooling module) is refused with a pointer to SentenceEncoder.
 *
 * A base model (no classification head: `bert-base-uncased`, `xlm-roberta-base`, a bi-encoder's
 * transformer) loads for training with `newHead: { numLabels }`, as sentence-transformers'
 * `CrossEncoder(base, num_labels=N)`: the head tensors the checkpoint lacks are created as
 * transformers initialises them (Linear weights normal(0, initializer_range), biases 0, seeded),
 * those it has (BERT's pretrained pooler) are kept; labels LABEL_0…, activation by the rule above.
 */
import * as path from 'path';
import { badModel } from '../errors';
import { loadTokenizer, type Tokenizer } from '../tokenizer';
import { parseEncoderConfig, type EncoderConfig } from './config';
import { ConfigReader } from './config-reader';
import { canonicalTensorName, encoderTensors } from './encoder-tensors';
import { FAMILIES } from './families';
import { checkTokenizerFitsModel, readModuleWeights, type DenseModuleSpec, type ModelFolder } from './folder';
import { tokenizerModelMaxLength } from './modules';
import { FLOAT_DTYPES, type WeightTensor } from './safetensors';
import { fileExists, isObject, kindOf, readJson } from './util';

/** Score activations a cross-encoder config may name (torch.nn module names, as ST stores them). */
export type CrossEncoderActivation = 'identity' | 'sigmoid' | 'tanh' | 'relu' | 'softmax';

/** The torch.nn class names sentence-transformers stores for each score activation (config.json). */
export const CROSS_ENCODER_ACTIVATIONS: Readonly<Record<string, CrossEncoderActivation>> = {
  'torch.nn.modules.linear.Identity': 'identity',
  'torch.nn.modules.activation.Sigmoid': 'sigmoid',
  'torch.nn.modules.activation.Tanh': 'tanh',
  'torch.nn.modules.activation.ReLU': 'relu',
  'torch.nn.modules.activation.Softmax': 'softmax',
};

export interface CrossEncoderFolder {
  /** Absolute model folder. */
  dir: string;
  config: EncoderConfig;
  /** Logits per pair (config.json id2label / num_labels). */
  numLabels: number;
  /** Label names by index (config.json id2label), when the config has them. */
  labels: string[];
  /** The default score activation (see the file comment). */
  activation: CrossEncoderActivation;
  /** Pairs are truncated (longest first) to this many tokens, special tokens included. */
  maxLength: number;
  tokenizer: Tokenizer;
  /**
   * The engine's view: the encoder's tensors, Pooling (first token), the head as two Dense
   * modules under their checkpoint names — what buildNativeSpec turns into a plan.
   */
  model: ModelFolder;
  notices: string[];
}

/** config.json's label count: num_labels, else the size of id2label, else transformers' default 2. */
function labelsOf(json: Record<string, unknown>, file: string): string[] {
  const id2label = json.id2label;
  const n = json.num_labels;
  if (isObject(id2label)) {
    const count = Object.keys(id2label).length;
    if (n !== undefined && n !== count) throw badModel(file, `"num_labels" ${String(n)} disagrees with the ${count} entries of "id2label"`);
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const name = id2label[String(i)];
      if (typeof name !== 'string') throw badModel(file, `"id2label" must map 0..${count - 1} to names (missing or bad entry ${i})`);
      out.push(name);
    }
    return out;
  }
  if (n !== undefined) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1 << 16) throw badModel(file, `"num_labels" must be a positive integer, got ${kindOf(n)}`);
    return Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  }
  return ['LABEL_0', 'LABEL_1'];
}

function activationOf(json: Record<string, unknown>, file: string, numLabels: number): CrossEncoderActivation {
  const st = json.sentence_transformers;
  const named = isObject(st) && typeof st.activation_fn === 'string' ? st.activation_fn
    : typeof json.sbert_ce_default_activation_function === 'string' ? json.sbert_ce_default_activation_function : undefined;
  if (named === undefined) return numLabels === 1 ? 'sigmoid' : 'identity';
  // Own keys only: a name such as "constructor" must not find Object.prototype's.
  const a = Object.prototype.hasOwnProperty.call(CROSS_ENCODER_ACTIVATIONS, named) ? CROSS_ENCODER_ACTIVATIONS[named] : undefined;
  if (a === undefined) throw badModel(file, `score activation ${JSON.stringify(named)} is not supported (supported: ${Object.keys(CROSS_ENCODER_ACTIVATIONS).join(', ')})`);
  return a;
}

/** Loads a sequence-classification folder for CrossEncoder. Every problem is ERR_BAD_MODEL naming the file. */
/** A new classification head for a base model (see the file comment). */
export interface NewHeadOptions {
  /** Logits per pair of the head (1: a score, e.g. for the bce loss; 2+: classes). */
  numLabels: number;
  /** Seeds the initialisation of the created tensors (default 42). */
  seed?: number;
}

export interface LoadCrossEncoderFolderOptions {
  lazyWeights?: boolean;
  maxLength?: number;
  /** Create the classification head tensors the checkpoint lacks (training a base model). */
  newHead?: NewHeadOptions;
}

/** A 32-bit seeded generator (mulberry32) and its standard normals (Box–Muller). */
function seededNormals(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** An F32 tensor in memory: normal(0, std) values, or zeros when std is 0. */
function initTensor(name: string, shape: number[], std: number, normal: () => number): WeightTensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  if (std > 0) for (let i = 0; i < values.length; i++) values[i] = std * normal();
  return { name, dtype: 'F32', shape, bytes: new Uint8Array(values.buffer) };
}

function checkNewHead(newHead: NewHeadOptions): void {
  if (newHead === null || typeof newHead !== 'object') throw new TypeError('options.newHead must be an object { numLabels, seed? }');
  const { numLabels, seed } = newHead;
  if (!Number.isSafeInteger(numLabels) || numLabels < 1 || numLabels > 1 << 16) {
    throw new RangeError(`numLabels must be an integer from 1 to 65536 (got ${String(numLabels)})`);
  }
  if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < 0)) throw new RangeError(`the seed must be a non-negative integer (got ${String(seed)})`);
}

export async function loadCrossEncoderFolder(dir: string, options: LoadCrossEncoderFolderOptions = {}): Promise<CrossEncoderFolder> {
  const newHead = options.newHead;
  if (newHead !== undefined) checkNewHead(newHead);
  if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty string');
  const root = path.resolve(dir);
  const configFile = path.join(root, 'config.json');
  if (!(await fileExists(configFile)) && (await fileExists(path.join(root, 'modules.json')))) {
    throw badModel(root, 'has a modules.json but no config.json at its root: a sentence-transformers bi-encoder folder — load it with SentenceEncoder.load; a cross-encoder is a Hugging Face sequence-classification folder');
  }
  const json = await readJson(configFile, 'missing config.json (the Hugging Face model configuration)');
  if (!isObject(json)) throw badModel(configFile, `expected a JSON object, got ${kindOf(json)}`);
  const config = parseEncoderConfig(json, configFile);
  const family = FAMILIES[config.family];
  const archs = Array.isArray(json.architectures) ? json.architectures.filter((a): a is string => typeof a === 'string') : [];
  // A modules.json marks a sentence-transformers folder: it only shapes the error messages.
  const isBiEncoder = await fileExists(path.join(root, 'modules.json'));
  if (newHead === undefined && archs.length > 0 && !archs.some((a) => a.endsWith('ForSequenceClassification'))) {
    throw badModel(configFile, `architectures ${JSON.stringify(archs)} are not a sequence classifier: a cross-encoder is a …ForSequenceClassification model` +
      (isBiEncoder ? ' (this folder is a sentence-transformers bi-encoder: load it with SentenceEncoder.load)' : '') +
      '; to train a new head on this base model, pass numLabels to fitCrossEncoder / CrossEncoderTrainingSession.create');
  }

  const { st, file: weightsFile } = await readModuleWeights(root, root, options.lazyWeights === true);
  const tensors = encoderTensors(st, config, weightsFile);
  // The head, by its checkpoint names (a base-model prefix such as 'bert.' on BERT's pooler).
  const head = family.classificationHead;
  const byCanonical = new Map<string, WeightTensor>();
  for (const [name, t] of st.tensors) byCanonical.set(canonicalTensorName(name, config.family), t);
  const H = config.hiddenSize;
  const find = (name: string): WeightTensor | undefined => byCanonical.get(canonicalTensorName(name, config.family));
  // With a new head, the checkpoint's labels count only when it has the head's output layer.
  const keepsHeadOutput = newHead === undefined || find(head.out.weight) !== undefined;
  const labels = keepsHeadOutput ? labelsOf(json, configFile) : Array.from({ length: newHead.numLabels }, (_, i) => `LABEL_${i}`);
  const numLabels = labels.length;
  if (newHead !== undefined && numLabels !== newHead.numLabels) {
    throw badModel(weightsFile, `numLabels ${newHead.numLabels} does not match the ${numLabels} labels of the classification head this checkpoint has (config.json id2label / num_labels): train it as it is, without numLabels`);
  }
  const activation = activationOf(json, configFile, numLabels);
  const initStd = newHead === undefined ? 0 : new ConfigReader(json, configFile, { initializer_range: 0.02 }).probability('initializer_range');
  const normal = seededNormals(newHead?.seed ?? 42);
  const created: string[] = [];
  const get = (name: string, shape: number[]): WeightTensor => {
    let t = find(name);
    if (t === undefined && newHead !== undefined) {
      // transformers' _init_weights for a Linear: normal(0, initializer_range) weight, zero bias.
      t = initTensor(name, shape, shape.length === 2 ? initStd : 0, normal);
      created.push(name);
    }
    if (t === undefined) {
      throw badModel(weightsFile, `missing tensor ${name} (shape [${shape.join(', ')}]) of the classification head` +
        (isBiEncoder ? ': this folder is a sentence-transformers bi-encoder — load it with SentenceEncoder.load' : ': is this a …ForSequenceClassification checkpoint?') +
        ' (to train a new head on a base model, pass numLabels)');
    }
    if (!FLOAT_DTYPES.has(t.dtype)) throw badModel(weightsFile, `tensor ${name} has dtype ${t.dtype}; weights must be F32, F16 or BF16`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw badModel(weightsFile, `tensor ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] from config.json (${numLabels} label${numLabels === 1 ? '' : 's'})`);
    }
    return t;
  };
  const headDropout = head.headDropout(new ConfigReader(json, configFile, {}), config);
  const dense: DenseModuleSpec = {
    type: 'dense', path: '', inFeatures: H, outFeatures: H, activation: head.activation,
    weight: get(head.dense.weight, [H, H]), bias: get(head.dense.bias, [H]),
    paramNames: { weight: head.dense.weight, bias: head.dense.bias },
    ...(headDropout.beforeDense > 0 ? { dropoutBefore: headDropout.beforeDense } : {}),
  };
  const out: DenseModuleSpec = {
    type: 'dense', path: '', inFeatures: H, outFeatures: numLabels, activation: 'identity',
    weight: get(head.out.weight, [numLabels, H]), bias: get(head.out.bias, [numLabels]),
    paramNames: { weight: head.out.weight, bias: head.out.bias },
    ...(headDropout.beforeOut > 0 ? { dropoutBefore: headDropout.beforeOut } : {}),
  };

  const notices: string[] = [];
  if (created.length > 0) notices.push(`new classification head: ${created.join(', ')} initialised (normal(0, ${initStd}) weights, zero biases, seed ${newHead?.seed ?? 42}); train it before use`);
  const tokLimit = await tokenizerModelMaxLength(root);
  let maxLength = tokLimit === undefined ? config.maxSequenceLength : Math.min(config.maxSequenceLength, Math.floor(tokLimit));
  if (options.maxLength !== undefined) {
    if (!Number.isInteger(options.maxLength) || options.maxLength < 1) throw new RangeError(`options.maxLength must be a positive integer (got ${String(options.maxLength)})`);
    if (options.maxLength > config.maxSequenceLength) {
      throw new RangeError(`options.maxLength ${options.maxLength} exceeds the ${config.maxSequenceLength} positions the model can number`);
    }
    maxLength = options.maxLength;
  }
  const tokenizer = await loadTokenizer(root, { modelMaxLength: maxLength, requireSpecialTokens: true });
  checkTokenizerFitsModel(tokenizer, config, configFile);

  const model: ModelFolder = {
    dir: root,
    layout: 'plain',
    config,
    modules: [
      { type: 'transformer', path: '', maxSeqLength: maxLength, doLowerCase: false },
      { type: 'pooling', path: '', wordEmbeddingDimension: H, modes: ['cls'], includePrompt: true, outputDimension: H },
      dense,
      out,
    ],
    maxSeqLength: maxLength,
    doLowerCase: false,
    outputDimension: numLabels,
    similarityFnName: 'cosine',
    prompts: {},
    tokenizer,
    weights: { tensors, memoryBytes: st.byteLength },
    notices,
  };
  return { dir: root, config, numLabels, labels, activation, maxLength, tokenizer, model, notices };
}
