// Fine-tune a cross-encoder on scored sentence pairs, save it, load it back and rank with it.
//   node examples/cross-encoder-training.mjs [MODEL]   (a …ForSequenceClassification folder or Hub id)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CrossEncoder, fitCrossEncoder } from 'sbert-native';

const model = process.argv[2] ?? 'cross-encoder/stsb-distilroberta-base'; // one label: STSb similarity
const train = [ // labels: STSb scores / 5, in [0, 1]
  { texts: ['A man is eating.', 'A man eats food.'], label: 0.9 },
  { texts: ['A man is eating.', 'A plane is taking off.'], label: 0.05 },
  { texts: ['A woman plays the violin.', 'Someone is playing music.'], label: 0.7 },
  { texts: ['A dog runs in the park.', 'The stock market fell.'], label: 0.0 },
];
const outputDir = mkdtempSync(join(tmpdir(), 'my-cross-encoder-')); // a new or empty folder

const result = await fitCrossEncoder(model, {
  train, // one label: BCEWithLogits on 0–1 labels; several labels: CrossEntropy on class indices
  epochs: 1, batchSize: 2, // sentence-transformers' defaults otherwise: lr 2e-5, 10% warm-up, AdamW
  outputDir,
  onProgress: (p) => console.log(`step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)}`),
});

const tuned = await CrossEncoder.load(result.outputDir, { device: 'cpu' }); // a Hugging Face folder
console.log(await tuned.rank('A man is eating.', ['A plane is taking off.', 'A man eats food.']));
tuned.dispose();
