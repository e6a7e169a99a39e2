#!/usr/bin/env node
// Prints the token ids OUR tokenizer (dist/) gives sentences, so a PyTorch reference runs on
// exactly the ids our engine will see (tools/reference/make_dense_chains.py calls this).
// Reads {"model": folder, "maxLength": n, "sentences": [...]} as JSON on stdin, writes
// {"ids": [[...], ...]} (one list per sentence, truncated to maxLength) to stdout.
//
//   npx tsc -p tsconfig.json && echo '{"model":"test/fixtures/train-small","maxLength":64,"sentences":["a b"]}' \
//     | node tools/reference/tokenize_ids.js
'use strict';
const { loadTokenizer } = require('../../dist');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const { model, maxLength, sentences } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const tokenizer = await loadTokenizer(model);
  const ids = sentences.map((s) => Array.from(tokenizer.encode(s, { maxLength }).ids));
  process.stdout.write(JSON.stringify({ ids }) + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
