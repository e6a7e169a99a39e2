// ES modules: top-level await works here (a .mjs file, or "type": "module" in package.json).
import { SentenceEncoder, semanticSearch } from 'sbert-native';

const enc = await SentenceEncoder.load(); // the bundled model
const corpus = await enc.encode(['A man is eating food.', 'A man is riding a horse.', 'A woman is playing violin.']);
const query = await enc.encode('Someone is having a meal.');
const [hits] = await semanticSearch(query, corpus, { topK: 2 });
console.log(hits);
enc.dispose();
