/**
 * Writes a trained cross-encoder as the Hugging Face sequence-classification folder
 * sentence-transformers' CrossEncoder.save writes (transformers' save_pretrained plus the
 * tokenizer), which CrossEncoder.load, sentence-transformers and transformers'
 * AutoModelForSequenceClassification read:
 *
 *   config.json        the source's, with architectures (…ForSequenceClassification), id2label /
 *                      label2id, torch_dtype of the saved weights, and the score activation as
 *                      sentence-transformers >= 4 stores it: "sentence_transformers":
 *                      {"activation_fn": "torch.nn.modules.activation.Sigmoid", …} (the older
 *                      sbert_ce_default_activation_function key is dropped, as ST drops it)
 *   model.safetensors  every trained tensor under the task model's checkpoint name: the base
 *                      model's under its prefix ('bert.embeddings…', 'roberta.encoder…',
 *                      'mpnet.…', 'distilbert.transformer…'; BERT's pooler too: 'bert.pooler…')
 *                      and the head's as the task model names it ('classifier.weight',
 *                      'classifier.dense…' / 'classifier.out_proj…', 'pre_classifier…')
 *   tokenizer files    copied; tokenizer_config.json's model_max_length set to the max length
 *                      the model was trained with (sentence-transformers saves the tokenizer's)
 *   README.md          a model card
 *
 * The folder is assembled in a temporary sibling and renamed into place (save.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expectedEncoderTensors, FAMILIES, CROSS_ENCODER_ACTIVATIONS, type CrossEncoderActivation, type EncoderConfig } from '../weights';
import { writeSafetensors } from '../weights/safetensors';
import { crossEncoderModelCard, type CrossEncoderTrainingRecord } from './model-card';
import { copyIfExists, DTYPE_TAG, TORCH_DTYPE, TRANSFORMER_FILES, tensorMap, writeJson, writeStagedFolder, type NamedParameter, type SaveDtype } from './save';

export type { CrossEncoderTrainingRecord } from './model-card';

/** What the writer needs of the source: its folder, configuration, labels, activation, max length. */
export interface CrossEncoderSaveSource {
  dir: string;
  config: EncoderConfig;
  labels: readonly string[];
  activation: CrossEncoderActivation;
  maxLength: number;
}

/** transformers' sequence-classification class of each model_type we train. */
const SEQUENCE_CLASSIFIERS: Record<string, string> = {
  bert: 'BertForSequenceClassification',
  roberta: 'RobertaForSequenceClassification',
  'xlm-roberta': 'XLMRobertaForSequenceClassification',
  camembert: 'CamembertForSequenceClassification',
  mpnet: 'MPNetForSequenceClassification',
  distilbert: 'DistilBertForSequenceClassification',
};

/** The torch.nn class name of an activation, as config.json stores it. */
function torchActivationName(activation: CrossEncoderActivation): string {
  const name = Object.keys(CROSS_ENCODER_ACTIVATIONS).find((k) => CROSS_ENCODER_ACTIVATIONS[k] === activation);
  if (name === undefined) throw new Error(`internal: no torch name for the activation '${activation}'`);
  return name;
}

/**
 * The checkpoint name of each trained parameter (canonical encoder names and the head's names
 * as the loader took them): see the file comment. A parameter that is neither is an internal
 * error, never silently dropped.
 */
export function crossEncoderCheckpointNames(config: EncoderConfig, params: readonly NamedParameter[]): NamedParameter[] {
  const head = FAMILIES[config.family].classificationHead;
  const encoder = new Set(expectedEncoderTensors(config).keys());
  const headNames = new Set([head.dense.weight, head.dense.bias, head.out.weight, head.out.bias]);
  return params.map((p) => {
    // BertModel's pooler (the head's dense layer for BERT) is the one head part inside the base model.
    if (encoder.has(p.name) || (headNames.has(p.name) && p.name.startsWith('pooler.'))) return { ...p, name: head.basePrefix + p.name };
    if (headNames.has(p.name)) return p;
    throw new Error(`internal: trained parameter ${p.name} is neither an encoder tensor nor the classification head's`);
  });
}

/** config.json for the saved weights (see the file comment). */
async function writeConfig(source: CrossEncoderSaveSource, file: string, dtype: SaveDtype): Promise<string> {
  const config = JSON.parse(await fs.promises.readFile(path.join(source.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  for (const key of ['torch_dtype', 'dtype']) if (key in config) config[key] = TORCH_DTYPE[dtype];
  const archs = Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === 'string' && a.endsWith('ForSequenceClassification')) : [];
  const architecture = archs[0] ?? SEQUENCE_CLASSIFIERS[source.config.modelType] ?? 'BertForSequenceClassification';
  if (archs.length === 0) config.architectures = [architecture];
  // id2label / label2id as transformers writes them (the label count is their size).
  config.id2label = Object.fromEntries(source.labels.map((name, i) => [String(i), name]));
  config.label2id = Object.fromEntries(source.labels.map((name, i) => [name, i]));
  if ('num_labels' in config) config.num_labels = source.labels.length;
  const st = config.sentence_transformers !== null && typeof config.sentence_transformers === 'object' && !Array.isArray(config.sentence_transformers)
    ? { ...(config.sentence_transformers as Record<string, unknown>) } : {};
  st.activation_fn = torchActivationName(source.activation);
  config.sentence_transformers = st;
  delete config.sbert_ce_default_activation_function;
  await writeJson(file, config);
  return architecture;
}

/** tokenizer_config.json with model_max_length set to the trained max length (created when absent). */
async function writeTokenizerConfig(source: CrossEncoderSaveSource, file: string): Promise<void> {
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await fs.promises.readFile(path.join(source.dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  config.model_max_length = source.maxLength;
  await writeJson(file, config);
}

/**
 * Saves `params` (every trained parameter by the names the trainer gives: canonical encoder
 * names and the head's) as a Hugging Face sequence-classification folder at `outputDir` — see
 * the file comment — atomically, in `dtype`. Resolves to the absolute folder.
 */
export async function saveCrossEncoderFolder(
  source: CrossEncoderSaveSource,
  params: readonly NamedParameter[],
  outputDir: string,
  dtype: SaveDtype = 'fp32',
  training?: CrossEncoderTrainingRecord,
): Promise<string> {
  if (!(dtype in DTYPE_TAG)) throw new RangeError(`saveDtype must be 'fp32', 'fp16' or 'bf16' (got ${JSON.stringify(dtype)})`);
  const tensors = crossEncoderCheckpointNames(source.config, params);
  return writeStagedFolder(outputDir, async (stage) => {
    const architecture = await writeConfig(source, path.join(stage, 'config.json'), dtype);
    for (const f of TRANSFORMER_FILES) {
      if (f === 'config.json' || f === 'sentence_bert_config.json') continue;
      if (f === 'tokenizer_config.json') await writeTokenizerConfig(source, path.join(stage, f));
      else await copyIfExists(path.join(source.dir, f), path.join(stage, f));
    }
    await fs.promises.writeFile(path.join(stage, 'model.safetensors'), writeSafetensors(tensorMap(tensors, dtype), { format: 'pt' }));
    const card = crossEncoderModelCard({
      dir: source.dir, architecture, numLabels: source.labels.length, labels: source.labels, maxLength: source.maxLength,
      activationFn: torchActivationName(source.activation), ...(training ? { training } : {}),
    });
    await fs.promises.writeFile(path.join(stage, 'README.md'), card);
  });
}
