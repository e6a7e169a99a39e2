#!/usr/bin/env python3
"""Writes sentence-transformers model folders with RANDOM, seeded weights for the GPU benchmark
(bench/device-check.sh runs this ON the device, so the weights never travel):

  <out>/minilm-l6   all-MiniLM-L6-v2 shape: vocab 30522, hidden 384, 6 layers, 12 heads, ffn 1536
  <out>/bert-base   bert-base shape:        vocab 30522, hidden 768, 12 layers, 12 heads, ffn 3072

Layout copied from test/fixtures/tiny (sentence-transformers 6 module names): config.json,
config_sentence_transformers.json, model.safetensors (F32, canonical BertModel names + pooler),
modules.json (Transformer -> Pooling(mean) -> Normalize), sentence_bert_config.json,
tokenizer.json / tokenizer_config.json / vocab.txt (the real bert-base-uncased tokenizer, from
test/fixtures/tokenizer), 1_Pooling/config.json, 2_Normalize/config.json.

Weights: Linear ~ N(0, 1/in_features) so attention and FFN are O(1) (a fresh 0.02 init makes
the encoder nearly the identity and an agreement check would test little); LayerNorm gamma
~ 1 + N(0, 0.1^2); biases and beta non-zero. Deterministic for a given seed.

Usage: python3 tools/reference/make_models.py --out DIR [--seed 1234] [--models minilm-l6,bert-base]
Needs torch and safetensors (both on the GPU machine's image).
"""
import argparse
import json
import os
import shutil

import torch

try:
    from safetensors.torch import save_file
except ImportError:  # a plain-torch machine: the format is simple enough to write by hand
    import struct

    def save_file(tensors, path, metadata=None):
        header, offset, blobs = {}, 0, []
        if metadata:
            header['__metadata__'] = metadata
        for name in sorted(tensors):
            data = tensors[name].detach().to(torch.float32).contiguous().numpy().tobytes()
            header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(data)]}
            offset += len(data)
            blobs.append(data)
        raw = json.dumps(header, separators=(',', ':')).encode('utf-8')
        raw += b' ' * (-len(raw) % 8)
        with open(path, 'wb') as f:
            f.write(struct.pack('<Q', len(raw)))
            f.write(raw)
            for b in blobs:
                f.write(b)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKENIZER_DIR = os.path.join(ROOT, 'test', 'fixtures', 'tokenizer')

SHAPES = {
    'minilm-l6': dict(hidden=384, layers=6, heads=12, ffn=1536, max_seq_length=256),
    'bert-base': dict(hidden=768, layers=12, heads=12, ffn=3072, max_seq_length=512),
}
VOCAB = 30522
MAX_POS = 512
TYPES = 2


def weights(shape, gen):
    """BERT tensors (canonical names, pooler included); shape may override vocab / max_pos."""
    h, f = shape['hidden'], shape['ffn']
    vocab, max_pos = shape.get('vocab', VOCAB), shape.get('max_pos', MAX_POS)
    t = {}

    def normal(*size, std=1.0, mean=0.0):
        return (torch.randn(*size, generator=gen) * std + mean).contiguous()

    t['embeddings.word_embeddings.weight'] = normal(vocab, h, std=0.5)
    t['embeddings.position_embeddings.weight'] = normal(max_pos, h, std=0.2)
    t['embeddings.token_type_embeddings.weight'] = normal(TYPES, h, std=0.2)
    t['embeddings.LayerNorm.weight'] = normal(h, std=0.1, mean=1.0)
    t['embeddings.LayerNorm.bias'] = normal(h, std=0.05)
    for i in range(shape['layers']):
        p = f'encoder.layer.{i}.'
        for q in ('query', 'key', 'value'):
            t[p + f'attention.self.{q}.weight'] = normal(h, h, std=h ** -0.5)
            t[p + f'attention.self.{q}.bias'] = normal(h, std=0.02)
        t[p + 'attention.output.dense.weight'] = normal(h, h, std=h ** -0.5)
        t[p + 'attention.output.dense.bias'] = normal(h, std=0.02)
        t[p + 'attention.output.LayerNorm.weight'] = normal(h, std=0.1, mean=1.0)
        t[p + 'attention.output.LayerNorm.bias'] = normal(h, std=0.05)
        t[p + 'intermediate.dense.weight'] = normal(f, h, std=h ** -0.5)
        t[p + 'intermediate.dense.bias'] = normal(f, std=0.02)
        t[p + 'output.dense.weight'] = normal(h, f, std=f ** -0.5)
        t[p + 'output.dense.bias'] = normal(h, std=0.02)
        t[p + 'output.LayerNorm.weight'] = normal(h, std=0.1, mean=1.0)
        t[p + 'output.LayerNorm.bias'] = normal(h, std=0.05)
    t['pooler.dense.weight'] = normal(h, h, std=h ** -0.5)
    t['pooler.dense.bias'] = normal(h, std=0.02)
    return t


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)


def make(name, out_dir, seed):
    shape = SHAPES[name]
    d = os.path.join(out_dir, name)
    os.makedirs(os.path.join(d, '1_Pooling'), exist_ok=True)
    os.makedirs(os.path.join(d, '2_Normalize'), exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    save_file(weights(shape, gen), os.path.join(d, 'model.safetensors'), metadata={'format': 'pt'})
    write_json(os.path.join(d, 'config.json'), {
        'architectures': ['BertModel'],
        'attention_probs_dropout_prob': 0.1,
        'classifier_dropout': None,
        'dtype': 'float32',
        'hidden_act': 'gelu',
        'hidden_dropout_prob': 0.1,
        'hidden_size': shape['hidden'],
        'initializer_range': 0.02,
        'intermediate_size': shape['ffn'],
        'layer_norm_eps': 1e-12,
        'max_position_embeddings': MAX_POS,
        'model_type': 'bert',
        'num_attention_heads': shape['heads'],
        'num_hidden_layers': shape['layers'],
        'pad_token_id': 0,
        'type_vocab_size': TYPES,
        'use_cache': True,
        'vocab_size': VOCAB,
    })
    write_json(os.path.join(d, 'config_sentence_transformers.json'), {
        'model_type': 'SentenceTransformer',
        'prompts': {'document': '', 'query': ''},
        'default_prompt_name': None,
        'similarity_fn_name': 'cosine',
    })
    write_json(os.path.join(d, 'modules.json'), [
        {'idx': 0, 'name': '0', 'path': '', 'type': 'sentence_transformers.base.modules.transformer.Transformer'},
        {'idx': 1, 'name': '1', 'path': '1_Pooling',
         'type': 'sentence_transformers.sentence_transformer.modules.pooling.Pooling'},
        {'idx': 2, 'name': '2', 'path': '2_Normalize', 'type': 'sentence_transformers.base.modules.normalize.Normalize'},
    ])
    write_json(os.path.join(d, 'sentence_bert_config.json'), {
        'transformer_task': 'feature-extraction',
        'modality_config': {'text': {'method': 'forward', 'method_output_name': 'last_hidden_state'}},
        'module_output_name': 'token_embeddings',
    })
    write_json(os.path.join(d, '1_Pooling', 'config.json'),
               {'embedding_dimension': shape['hidden'], 'pooling_mode': 'mean', 'include_prompt': True})
    write_json(os.path.join(d, '2_Normalize', 'config.json'),
               {'module_input_name': 'sentence_embedding', 'module_output_name': 'sentence_embedding'})
    for f in ('tokenizer.json', 'vocab.txt'):
        shutil.copyfile(os.path.join(TOKENIZER_DIR, f), os.path.join(d, f))
    with open(os.path.join(TOKENIZER_DIR, 'tokenizer_config.json')) as f:
        tc = json.load(f)
    tc['model_max_length'] = shape['max_seq_length']
    write_json(os.path.join(d, 'tokenizer_config.json'), tc)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--models', default='minilm-l6,bert-base')
    a = ap.parse_args()
    for i, name in enumerate(a.models.split(',')):
        print(make(name, a.out, a.seed + i), flush=True)


if __name__ == '__main__':
    main()
