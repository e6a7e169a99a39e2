// CommonJS: no top-level await, so the work goes in an async function.
const { SentenceEncoder, semanticSearch } = require('sbert-native');

async function main() {
  // No argument: the model bundled with the package. Or a folder, or a Hugging Face id such as
  // 'sentence-transformers/all-MiniLM-L6-v2' (downloaded once into the shared cache).
  const enc = await SentenceEncoder.load({ device: 'auto' }); // 'cpu' | 'cuda' | 'cuda:1'
  const corpus = await enc.encode(['A man is eating food.', 'A man is riding a horse.', 'A woman is playing violin.']);
  const query = await enc.encode('Someone is having a meal.');
  console.log(corpus.count, corpus.dim, corpus.row(0).length); // 3 512 512: Float32Array views, input order

  const [hits] = await semanticSearch(query, corpus, { topK: 2 });
  console.log(hits); // [ { corpusId: 0, score: 0.77… }, … ] best first

  const scores = await enc.similarity(corpus, corpus); // the model's similarity function
  console.log(scores.get(0, 1).toFixed(4), scores.rows().length); // one pair; all rows as arrays
  enc.dispose();
}

main();
