#!/usr/bin/env python3
"""Weights and reference outputs of one model-family fixture (called by make_family_fixtures.js,
which writes the folder's configs and tokenizer and tokenizes the sentences with Hugging Face
`tokenizers`).

  /usr/bin/python3 tools/reference/make_family_fixtures.py FAMILY FOLDER IDS_JSON SEED

FAMILY: bert | roberta | mpnet | distilbert. Reads FOLDER/config.json and IDS_JSON ({"ids": [[...]...],
"pad": id}); writes FOLDER/model.safetensors (seeded random weights under the family's
checkpoint names, F32) and FOLDER/reference.safetensors: `tokens` [T, H] (last_hidden_state of
every sentence's real tokens, packed in sentence order), `sentence` [n, H] (mean pooling over the
real tokens, then L2 normalize: the folder's sentence-transformers modules), `cu_seqlens` [n + 1]
(I32). Model from tools/reference/torch_families.py (written from transformers, none of ours).
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_families import build, forward  # noqa: E402


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        dtype = {np.float32: 'F32', np.int32: 'I32'}[arr.dtype.type]
        data = arr.tobytes()
        header[name] = {'dtype': dtype, 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    family, folder, ids_file, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(os.path.join(folder, 'config.json')) as f:
        cfg = json.load(f)
    with open(ids_file) as f:
        spec = json.load(f)
    torch.manual_seed(seed)
    model = build(family, cfg)
    # Random weights large enough that every nonlinearity works away from its linear regime;
    # LayerNorm weights near 1. A sinusoidal DistilBERT table stays as transformers makes it.
    frozen_positions = family == 'distilbert' and cfg.get('sinusoidal_pos_embds', False)
    with torch.no_grad():
        for name, p in model.named_checkpoint().items():
            if frozen_positions and name == 'embeddings.position_embeddings.weight':
                continue
            if 'LayerNorm' in name or 'layer_norm' in name:
                p.copy_(torch.rand_like(p) * 0.4 + 0.8 if name.endswith('.weight') else (torch.rand_like(p) - 0.5) * 0.2)
            elif name.endswith('.bias') and 'relative_attention_bias' not in name:
                p.copy_((torch.rand_like(p) - 0.5) * 0.2)
            elif 'embeddings' in name or 'relative_attention_bias' in name:
                p.copy_((torch.rand_like(p) - 0.5) * 2.0)
            else:
                p.copy_((torch.rand_like(p) - 0.5) * (2.0 * (3.0 / p.shape[1]) ** 0.5))
    write_safetensors(os.path.join(folder, 'model.safetensors'),
                      {k: v.detach().numpy().astype(np.float32) for k, v in model.named_checkpoint().items()})

    ids = spec['ids']
    rows = forward(model, ids, spec['pad'])
    tokens = torch.cat(rows, dim=0).numpy().astype(np.float32)
    sentence = torch.stack([r.mean(dim=0) for r in rows])
    sentence = torch.nn.functional.normalize(sentence, p=2, dim=1).numpy().astype(np.float32)
    cu = np.cumsum([0] + [len(x) for x in ids]).astype(np.int32)
    write_safetensors(os.path.join(folder, 'reference.safetensors'), {'tokens': tokens, 'sentence': sentence, 'cu_seqlens': cu})
    print(f'{folder}: {len(ids)} sentences, {tokens.shape[0]} tokens')


if __name__ == '__main__':
    main()
