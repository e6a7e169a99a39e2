// Retrieve and rerank: a bi-encoder finds candidates fast (semanticSearch over embeddings), then a
// cross-encoder reads the query with each candidate and orders them (slower, more accurate).
// Pass a real reranker, e.g. `node retrieve-rerank.mjs cross-encoder/ms-marco-MiniLM-L6-v2`
// (downloaded once from the Hub). Without one this runs the package's test fixture, a cross-encoder
// with RANDOM weights: its order shows the API, not ranking quality.
import { CrossEncoder, SentenceEncoder, semanticSearch } from 'sbert-native';

const corpus = [
  'A man is eating food.',
  'A man is eating a piece of bread.',
  'The girl is carrying a baby.',
  'A man is riding a horse.',
  'A woman is playing violin.',
  'Two men pushed carts through the woods.',
  'A man is riding a white horse on an enclosed ground.',
  'A monkey is playing drums.',
  'A cheetah is running behind its prey.',
];
const query = 'A man is having a meal.';

const enc = await SentenceEncoder.load(); // the bundled bi-encoder
const ce = await CrossEncoder.load(process.argv[2] ?? 'test/fixtures/cross-encoders/mpnet-ce');

// 1. Retrieve: the top 100 (here: all 9) by cosine similarity of the embeddings.
const [hits] = await semanticSearch(await enc.encode(query), await enc.encode(corpus), { topK: 100 });
console.log(`retrieved ${hits.length} of ${corpus.length} by the bi-encoder`);

// 2. Rerank the candidates with the cross-encoder; corpusId indexes the list it was given.
const candidates = hits.map((h) => corpus[h.corpusId]);
for (const { corpusId, score } of await ce.rank(query, candidates, { topK: 5 })) {
  console.log(`${score.toFixed(4)}  (bi-encoder ${hits[corpusId].score.toFixed(4)}) ${candidates[corpusId]}`);
}
enc.dispose();
ce.dispose();
