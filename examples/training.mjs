// Fine-tune the bundled model on a few labelled pairs, save it, load it back.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fit, SentenceEncoder } from 'sbert-native';

const train = [
  { texts: ['A man is eating.', 'A man eats food.'], label: 0.9 },
  { texts: ['A man is eating.', 'A plane is taking off.'], label: 0.05 },
  { texts: ['A woman plays the violin.', 'Someone is playing music.'], label: 0.7 },
  { texts: ['A dog runs in the park.', 'The stock market fell.'], label: 0.0 },
];
const outputDir = mkdtempSync(join(tmpdir(), 'my-model-')); // a new or empty folder

const result = await fit('default', {
  loss: 'cosine', // CosineSimilarityLoss: labels are target cosine similarities
  train,
  epochs: 1, batchSize: 2, learningRate: 2e-5, // the paper's / sentence-transformers' defaults, except the batch
  outputDir,
  onProgress: (p) => console.log(`step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)}`),
});

const tuned = await SentenceEncoder.load(result.outputDir, { device: 'cpu' }); // a sentence-transformers folder
const a = await tuned.encode(['A man is eating.', 'A woman plays the violin.']);
const b = await tuned.encode(['A man eats food.', 'Someone is playing music.']);
console.log(await tuned.similarityPairwise(a, b)); // row i of a against row i of b
tuned.dispose();
