/**
 * Why a folder has no tokenizer sbert-native can read, from its file names: shared by the folder
 * loader and the Hub download (which says it before fetching any weights).
 */

/** SentencePiece / slow-tokenizer files that transformers converts, but which we do not read. */
const CONVERTIBLE = ['sentencepiece.bpe.model', 'spiece.model', 'sentencepiece.model', 'tokenizer.model', 'vocab.json', 'merges.txt', 'bpe.codes'];

/**
 * undefined when `names` has tokenizer.json or vocab.txt; else the reason, naming the file that is
 * missing, what the folder has instead, and the one-time conversion that writes tokenizer.json.
 */
export function missingTokenizerReason(names: ReadonlySet<string>, where: string): string | undefined {
  if (names.has('tokenizer.json') || names.has('vocab.txt')) return undefined;
  const others = CONVERTIBLE.filter((n) => names.has(n));
  if (others.length === 0) return `no tokenizer.json (or vocab.txt) in ${where}`;
  return (
    `no tokenizer.json in ${where}, only ${others.join(' and ')}: sbert-native reads tokenizers from tokenizer.json ` +
    '(Hugging Face tokenizers\' file, which holds the same SentencePiece/BPE model with its normalizer and special tokens; ' +
    'reading the .model protobuf itself would mean re-implementing the slow-to-fast conversion). Write it once with Python: ' +
    `\`from transformers import AutoTokenizer; AutoTokenizer.from_pretrained(DIR).save_pretrained(DIR)\``
  );
}
