'use strict';
/**
 * Splits a folder's model.safetensors into shards of at most `maxBytes` of tensor data each,
 * in the Hugging Face layout (model-0000i-of-0000n.safetensors + model.safetensors.index.json
 * with `metadata.total_size` and `weight_map`), which transformers, sentence-transformers and
 * sbert-native all load. Tensors keep their order; a tensor larger than maxBytes gets a shard of
 * its own. Keeps every file of the shipped model under the repository's 20 MB per-file limit.
 */
const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');

function shardSafetensors(dir, maxBytes) {
  const { readSafetensors, writeSafetensors } = require(path.join(REPO, 'dist', 'weights', 'safetensors'));
  const single = path.join(dir, 'model.safetensors');
  return readSafetensors(single).then((st) => {
    const shards = [];
    let current = [];
    let size = 0;
    for (const [name, t] of st.tensors) {
      if (current.length && size + t.bytes.byteLength > maxBytes) {
        shards.push(current);
        current = [];
        size = 0;
      }
      current.push([name, t]);
      size += t.bytes.byteLength;
    }
    if (current.length) shards.push(current);
    if (shards.length === 1) return 1;
    const n = String(shards.length).padStart(5, '0');
    const weightMap = {};
    let total = 0;
    shards.forEach((tensors, i) => {
      const file = `model-${String(i + 1).padStart(5, '0')}-of-${n}.safetensors`;
      const map = new Map(tensors.map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data: t.bytes }]));
      fs.writeFileSync(path.join(dir, file), writeSafetensors(map, { ...st.metadata }));
      for (const [name, t] of tensors) {
        weightMap[name] = file;
        total += t.bytes.byteLength;
      }
    });
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n');
    fs.rmSync(single);
    return shards.length;
  });
}

module.exports = { shardSafetensors };
