#!/usr/bin/env python3
"""Writes test/fixtures/train-small/, the model the training parity fixtures run on
(tools/reference/train_reference.py): a sentence-transformers folder small enough to commit
(~150 KB), with every module kind training touches.

  Transformer  BERT, vocab 512 (headdim64-f32's synthetic WordPiece tokenizer: letters,
               ##letters and random words, so real English falls into letter pieces, not
               [UNK]), hidden 32, 4 heads, 2 layers, ffn 64, 64 positions, dropout 0.1
               (config only: training may use it, the reference runs with it off)
  1_Pooling    mean
  2_Dense      32 → 24, bias, Tanh
  3_Normalize

Weights are random and seeded (make_models.weights: Linear ~ N(0, 1/in), LayerNorm gamma
~ 1 + N(0, 0.1²), non-zero biases), so attention and FFN are far from the identity and the
gradients of every tensor matter. Classic sentence-transformers type names (models.*), which
every version loads.

  /usr/bin/python3 tools/reference/make_train_small.py [--out DIR] [--seed 2024]
"""
import argparse
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_models import save_file, weights, write_json  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
TOKENIZER_SOURCE = os.path.join(ROOT, 'test', 'fixtures', 'headdim64-f32')
DEFAULT_OUT = os.path.join(ROOT, 'test', 'fixtures', 'train-small')

SHAPE = dict(hidden=32, layers=2, heads=4, ffn=64, vocab=512, max_pos=64)
DENSE_OUT = 24
MAX_SEQ_LENGTH = 64


def make(out, seed):
    gen = torch.Generator().manual_seed(seed)
    tensors = {k: v for k, v in weights(SHAPE, gen).items() if not k.startswith('pooler.')}
    dense = {
        'linear.weight': torch.randn(DENSE_OUT, SHAPE['hidden'], generator=gen) * SHAPE['hidden'] ** -0.5,
        'linear.bias': torch.randn(DENSE_OUT, generator=gen) * 0.1,
    }
    if os.path.isdir(out):
        shutil.rmtree(out)
    for sub in ('1_Pooling', '2_Dense', '3_Normalize'):
        os.makedirs(os.path.join(out, sub))
    save_file(tensors, os.path.join(out, 'model.safetensors'), metadata={'format': 'pt'})
    save_file(dense, os.path.join(out, '2_Dense', 'model.safetensors'), metadata={'format': 'pt'})
    write_json(os.path.join(out, 'config.json'), {
        'architectures': ['BertModel'],
        'attention_probs_dropout_prob': 0.1,
        'hidden_act': 'gelu',
        'hidden_dropout_prob': 0.1,
        'hidden_size': SHAPE['hidden'],
        'initializer_range': 0.02,
        'intermediate_size': SHAPE['ffn'],
        'layer_norm_eps': 1e-12,
        'max_position_embeddings': SHAPE['max_pos'],
        'model_type': 'bert',
        'num_attention_heads': SHAPE['heads'],
        'num_hidden_layers': SHAPE['layers'],
        'pad_token_id': 0,
        'position_embedding_type': 'absolute',
        'type_vocab_size': 2,
        'vocab_size': SHAPE['vocab'],
    })
    write_json(os.path.join(out, 'modules.json'), [
        {'idx': 0, 'name': '0', 'path': '', 'type': 'sentence_transformers.models.Transformer'},
        {'idx': 1, 'name': '1', 'path': '1_Pooling', 'type': 'sentence_transformers.models.Pooling'},
        {'idx': 2, 'name': '2', 'path': '2_Dense', 'type': 'sentence_transformers.models.Dense'},
        {'idx': 3, 'name': '3', 'path': '3_Normalize', 'type': 'sentence_transformers.models.Normalize'},
    ])
    write_json(os.path.join(out, 'sentence_bert_config.json'), {'max_seq_length': MAX_SEQ_LENGTH, 'do_lower_case': False})
    write_json(os.path.join(out, '1_Pooling', 'config.json'), {
        'word_embedding_dimension': SHAPE['hidden'],
        'pooling_mode_cls_token': False,
        'pooling_mode_mean_tokens': True,
        'pooling_mode_max_tokens': False,
        'pooling_mode_mean_sqrt_len_tokens': False,
    })
    write_json(os.path.join(out, '2_Dense', 'config.json'), {
        'in_features': SHAPE['hidden'],
        'out_features': DENSE_OUT,
        'bias': True,
        'activation_function': 'torch.nn.modules.activation.Tanh',
    })
    # Normalize has no files; a config.json keeps the folder in git.
    write_json(os.path.join(out, '3_Normalize', 'config.json'), {})
    shutil.copyfile(os.path.join(TOKENIZER_SOURCE, 'tokenizer.json'), os.path.join(out, 'tokenizer.json'))
    with open(os.path.join(TOKENIZER_SOURCE, 'tokenizer_config.json')) as f:
        tc = json.load(f)
    tc['model_max_length'] = MAX_SEQ_LENGTH
    write_json(os.path.join(out, 'tokenizer_config.json'), tc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=DEFAULT_OUT)
    ap.add_argument('--seed', type=int, default=2024)
    a = ap.parse_args()
    make(a.out, a.seed)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(a.out) for f in fs)
    print(f'wrote {a.out} ({size / 1024:.0f} KB)')


if __name__ == '__main__':
    main()
