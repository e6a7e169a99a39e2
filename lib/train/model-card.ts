/**
 * The README.md model card written into every folder we save (`enc.save`, `fit`, and
 * fitCrossEncoder's by crossEncoderModelCard), as sentence-transformers writes one: Hub metadata
 * (tags, library, pipeline, base model, licence carried over from the source's card), the
 * model's details and module chain, how to load it from Node and from Python, and — for a
 * trained model — the training settings and evaluations.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelFolder } from '../weights';

/** What `fit` adds to the card. */
export interface TrainingRecord {
  loss: string;
  examples: number;
  epochs: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  warmupSteps: number;
  weightDecay: number;
  maxGradNorm: number;
  seed: number;
  /** The step whose weights were saved. */
  savedStep: number;
  evaluator?: string;
  evaluations: { step: number; spearman: number; pearson: number }[];
  saveDtype: string;
}

export interface ModelCardInput {
  folder: Omit<ModelFolder, 'weights'>;
  /** The saved model's max_seq_length. */
  maxSeqLength: number;
  /** Where the weights came from: a Hub id or a folder. */
  source: string;
  /** The sentence embedding's length. */
  dimension: number;
  training?: TrainingRecord;
}

/** `license: …` from the YAML front matter of the source folder's README.md, if any. */
function sourceLicense(dir: string): string | undefined {
  let text: string;
  try {
    const file = path.join(dir, 'README.md');
    if (fs.statSync(file).size > 1 << 20) return undefined;
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  const m = front && /^license:\s*([\w.+-]+)\s*$/m.exec(front[1]);
  return m ? m[1] : undefined;
}

/** The Hub id inside a cache snapshot path (…/models--org--name/snapshots/<commit>), if it is one. */
function hubIdOf(dir: string): string | undefined {
  const m = /models--([^/\\]+?)--([^/\\]+)[/\\]snapshots[/\\]/.exec(dir);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** transformers' AutoModel class for the folder's family, as sentence-transformers prints it. */
const MODEL_CLASSES: Record<string, string> = {
  bert: 'BertModel', roberta: 'RobertaModel', 'xlm-roberta': 'XLMRobertaModel', camembert: 'CamembertModel', mpnet: 'MPNetModel', distilbert: 'DistilBertModel',
};
function modelClass(folder: Omit<ModelFolder, 'weights'>): string {
  const family = (folder.config as { family?: string }).family ?? 'bert';
  return MODEL_CLASSES[family] ?? 'BertModel';
}

function architecture(input: ModelCardInput): string {
  const lines = ['SentenceTransformer('];
  input.folder.modules.forEach((m, i) => {
    let text: string;
    switch (m.type) {
      case 'transformer':
        text = `Transformer({'max_seq_length': ${input.maxSeqLength}, 'do_lower_case': ${m.doLowerCase ? 'True' : 'False'}}) with Transformer model: ${modelClass(input.folder)}`;
        break;
      case 'pooling':
        text = `Pooling({'word_embedding_dimension': ${m.wordEmbeddingDimension}, 'pooling_modes': [${m.modes.map((x) => `'${x}'`).join(', ')}], 'include_prompt': ${m.includePrompt ? 'True' : 'False'}})`;
        break;
      case 'dense':
        text = `Dense({'in_features': ${m.inFeatures}, 'out_features': ${m.outFeatures}, 'bias': ${(m as { bias?: unknown }).bias ? 'True' : 'False'}, 'activation': '${m.activation}'})`;
        break;
      case 'normalize':
        text = 'Normalize()';
        break;
    }
    lines.push(`  (${i}): ${text}`);
  });
  lines.push(')');
  return lines.join('\n');
}

const SIMILARITY_NAMES: Record<string, string> = { cosine: 'Cosine Similarity', dot: 'Dot Product', euclidean: 'Euclidean Distance', manhattan: 'Manhattan Distance' };

/** The "Training Details" section: fit's settings, as every trained model's card lists them. */
function trainingDetails(training: Omit<TrainingRecord, 'evaluations'>): string[] {
  return [
    '',
    '## Training Details',
    '',
    `- **Loss:** ${training.loss}`,
    `- **Training examples:** ${training.examples}`,
    `- **Epochs:** ${training.epochs} (${training.steps} steps of ${training.batchSize} examples)`,
    `- **Learning rate:** ${training.learningRate}, linear warm-up over ${training.warmupSteps} steps then linear decay (AdamW, weight decay ${training.weightDecay})`,
    `- **Gradient clipping:** global norm ${training.maxGradNorm}`,
    `- **Seed:** ${training.seed}`,
    `- **Saved weights:** step ${training.savedStep} (${training.saveDtype})`,
  ];
}

/** The card's Markdown. */
export function modelCard(input: ModelCardInput): string {
  const { folder, training } = input;
  const base = hubIdOf(input.source) ?? hubIdOf(folder.dir);
  const license = sourceLicense(folder.dir);
  const front = ['---', 'tags:', '- sentence-transformers', '- sentence-similarity', '- feature-extraction', '- sbert-native'];
  if (training) front.push('- generated_from_trainer', `- loss:${training.loss}`);
  front.push('library_name: sentence-transformers', 'pipeline_tag: sentence-similarity');
  if (base) front.push(`base_model: ${base}`);
  if (license) front.push(`license: ${license}`);
  front.push('---');

  const from = base ?? path.basename(input.source);
  const verb = training ? 'fine-tuned' : 'saved';
  const out = [
    front.join('\n'),
    '',
    `# ${training ? `${from}, fine-tuned (${training.loss} loss)` : from}`,
    '',
    `A [sentence-transformers](https://www.sbert.net) model ${verb} by sbert-native from \`${from}\`. It maps sentences to a ` +
      `${input.dimension}-dimensional dense vector space for semantic textual similarity, semantic search, paraphrase mining, ` +
      'clustering and classification.',
    '',
    '## Model Details',
    '',
    '- **Model Type:** Sentence Transformer',
    `- **Base model:** \`${from}\``,
    `- **Maximum Sequence Length:** ${input.maxSeqLength} tokens`,
    `- **Output Dimensionality:** ${input.dimension} dimensions`,
    `- **Similarity Function:** ${SIMILARITY_NAMES[folder.similarityFnName] ?? folder.similarityFnName}`,
    ...(license ? [`- **License:** ${license} (from the base model's card)`] : []),
    '',
    '### Full Model Architecture',
    '',
    '```',
    architecture(input),
    '```',
    '',
    '## Usage',
    '',
    '### sbert-native (Node.js)',
    '',
    '```js',
    "const { SentenceEncoder } = require('sbert-native');",
    "const model = await SentenceEncoder.load('path/to/this/folder');",
    "const embeddings = await model.encode(['The weather is lovely today.', \"It's so sunny outside!\"]);",
    'console.log(embeddings.count, embeddings.dim); // 2 ' + input.dimension,
    '```',
    '',
    '### Sentence Transformers (Python)',
    '',
    '```python',
    'from sentence_transformers import SentenceTransformer',
    'model = SentenceTransformer("path/to/this/folder")',
    'embeddings = model.encode(["The weather is lovely today.", "It\'s so sunny outside!"])',
    '```',
  ];
  if (training) {
    out.push(...trainingDetails(training));
    if (training.evaluator && training.evaluations.length) {
      out.push('', `### Evaluation (${training.evaluator}, Spearman / Pearson of cosine similarity × 100)`, '', '| step | Spearman | Pearson |', '| ---: | ---: | ---: |');
      for (const e of training.evaluations) out.push(`| ${e.step} | ${(e.spearman * 100).toFixed(2)} | ${(e.pearson * 100).toFixed(2)} |`);
    }
  }
  return out.join('\n') + '\n';
}

/** What fitCrossEncoder adds to a cross-encoder's card: fit's settings, evaluations by their metric. */
export interface CrossEncoderTrainingRecord extends Omit<TrainingRecord, 'evaluations'> {
  evaluations: { step: number; metric: string; score: number }[];
}

export interface CrossEncoderCardInput {
  /** The source folder (its README.md licence and Hub id are carried over). */
  dir: string;
  /** transformers' class of the saved model, e.g. 'BertForSequenceClassification'. */
  architecture: string;
  numLabels: number;
  labels: readonly string[];
  maxLength: number;
  /** The score activation's torch.nn name, as config.json stores it. */
  activationFn: string;
  training?: CrossEncoderTrainingRecord;
}

/** The README.md of a saved cross-encoder (sentence-transformers' CrossEncoder card, in brief). */
export function crossEncoderModelCard(input: CrossEncoderCardInput): string {
  const { training } = input;
  const base = hubIdOf(input.dir);
  const license = sourceLicense(input.dir);
  const front = ['---', 'tags:', '- sentence-transformers', '- cross-encoder', ...(input.numLabels === 1 ? ['- reranker'] : []), '- sbert-native'];
  if (training) front.push('- generated_from_trainer', `- loss:${training.loss}`);
  front.push('library_name: sentence-transformers', `pipeline_tag: ${input.numLabels === 1 ? 'text-ranking' : 'text-classification'}`);
  if (base) front.push(`base_model: ${base}`);
  if (license) front.push(`license: ${license}`);
  front.push('---');
  const from = base ?? path.basename(input.dir);
  const pair = "['How many people live in Berlin?', 'Berlin has a population of 3,520,031 registered inhabitants.']";
  const out = [
    front.join('\n'),
    '',
    `# ${training ? `${from}, fine-tuned (${training.loss} loss)` : from}`,
    '',
    `A [Cross Encoder](https://www.sbert.net/docs/cross_encoder/usage/usage.html) ${training ? 'fine-tuned' : 'saved'} by sbert-native from \`${from}\`. ` +
      `It reads two texts together and gives ${input.numLabels === 1 ? 'one score per pair (reranking, semantic similarity)' : `${input.numLabels} logits per pair (${input.labels.join(', ')})`}.`,
    '',
    '## Model Details',
    '',
    '- **Model Type:** Cross Encoder',
    `- **Architecture:** ${input.architecture}`,
    `- **Maximum Sequence Length:** ${input.maxLength} tokens`,
    `- **Number of Output Labels:** ${input.numLabels} label${input.numLabels === 1 ? '' : 's'}`,
    `- **Score activation:** ${input.activationFn}`,
    ...(license ? [`- **License:** ${license} (from the base model's card)`] : []),
    '',
    '## Usage',
    '',
    '### sbert-native (Node.js)',
    '',
    '```js',
    "const { CrossEncoder } = require('sbert-native');",
    "const model = await CrossEncoder.load('path/to/this/folder');",
    `const scores = await model.predict([${pair}]);`,
    '```',
    '',
    '### Sentence Transformers (Python)',
    '',
    '```python',
    'from sentence_transformers import CrossEncoder',
    'model = CrossEncoder("path/to/this/folder")',
    `scores = model.predict([${pair.replace(/'/g, '"')}])`,
    '```',
  ];
  if (training) {
    out.push(...trainingDetails(training));
    if (training.evaluator && training.evaluations.length) {
      out.push('', `### Evaluation (${training.evaluator})`, '', '| step | metric | score × 100 |', '| ---: | --- | ---: |');
      for (const e of training.evaluations) out.push(`| ${e.step} | ${e.metric} | ${(e.score * 100).toFixed(2)} |`);
    }
  }
  return out.join('\n') + '\n';
}
