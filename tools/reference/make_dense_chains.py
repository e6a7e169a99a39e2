#!/usr/bin/env python3
"""Writes test/fixtures/dense-chains/: small sentence-transformers folders whose module chains
put Dense layers of every kind behind different poolings, each with the sentence embeddings a
plain-PyTorch forward computes for them (test/dense-chains.test.js compares our engine with
these).

  identity   Pooling cls + mean (concatenated, 64) → Dense 64→16 Identity, bias
  relu-gelu  Pooling max → Dense 32→24 ReLU, no bias → Dense 24→12 GELU (exact erf), bias
             → Normalize
  sigmoid    Pooling mean_sqrt_len_tokens → Dense 32→8 Sigmoid, bias
  tanh       Pooling mean → Dense 32→16 Tanh, bias → Dense 16→16 Identity, no bias → Normalize

The transformer (config.json, model.safetensors, tokenizer files) is test/fixtures/train-small's
(hidden 32, 2 layers, max_seq_length 64), copied into every folder so each loads on its own.
Dense weights are random and seeded: weight ~ N(0, 1/in), bias ~ N(0, 0.1²). Config files and
names are the classic sentence-transformers layout: modules.json with models.* types, folders
<idx>_<Module>, 1_Pooling/config.json with the pooling_mode_* booleans, <idx>_Dense/config.json
with in_features, out_features, bias and activation_function as the full torch class name
(Dense.get_config_dict's fullname()), Dense weights in <idx>_Dense/model.safetensors as
linear.weight / linear.bias.

Reference (<folder>/<name>-reference.json: sentences, ids, dim, embeddings as float lists):
  ids        from OUR tokenizer (dist/, via tools/reference/tokenize_ids.js), truncated to
             max_seq_length, so both sides see identical token ids; some sentences are longer
  forward    tools/reference/torch_bert.py's plain BertModel (HF BertModel semantics; train_reference.py
             checks it against transformers), each sentence alone (no padding), in float64 from
             the fp32 weights; then the module chain written out here from sentence-transformers'
             Pooling / Dense / Normalize definitions with torch.nn.functional (F.linear,
             F.relu, F.gelu, torch.sigmoid, torch.tanh, F.normalize); nothing of ours.

  npx tsc -p tsconfig.json && /usr/bin/python3 tools/reference/make_dense_chains.py [--seed 7]
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # make_models, torch_bert
from torch_bert import BertModel, canonical, read_safetensors  # noqa: E402
from make_models import ROOT, save_file, write_json  # noqa: E402

SOURCE = os.path.join(ROOT, 'test', 'fixtures', 'train-small')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'dense-chains')
TRANSFORMER_FILES = ('config.json', 'model.safetensors', 'sentence_bert_config.json',
                     'tokenizer.json', 'tokenizer_config.json')
HIDDEN = 32

# sentence-transformers' Dense config names its activation by fullname(type(activation)).
ACTIVATION_CLASS = {
    'identity': 'torch.nn.modules.linear.Identity',
    'tanh': 'torch.nn.modules.activation.Tanh',
    'relu': 'torch.nn.modules.activation.ReLU',
    'gelu': 'torch.nn.modules.activation.GELU',
    'sigmoid': 'torch.nn.modules.activation.Sigmoid',
}

# The reference activations: torch's own functions (GELU exact erf, nn.GELU()'s default).
ACTIVATION_FN = {
    'identity': lambda x: x,
    'tanh': torch.tanh,
    'relu': F.relu,
    'gelu': lambda x: F.gelu(x, approximate='none'),
    'sigmoid': torch.sigmoid,
}

# (pooling modes in sentence-transformers' concatenation order, [(out, activation, bias)], normalize)
CHAINS = {
    'identity': (['cls', 'mean'], [(16, 'identity', True)], False),
    'relu-gelu': (['max'], [(24, 'relu', False), (12, 'gelu', True)], True),
    'sigmoid': (['mean_sqrt_len_tokens'], [(8, 'sigmoid', True)], False),
    'tanh': (['mean'], [(16, 'tanh', True), (16, 'identity', False)], True),
}

# Word pieces of this tokenizer are mostly single letters, so ~60 characters already pass
# max_seq_length (64 tokens): the last sentences are truncated.
SENTENCES = [
    'A man is playing a guitar.',
    'A woman is slicing an onion.',
    'Two dogs run on the beach.',
    'The cat sleeps.',
    'Hi!',
    'x',
    'Stocks fell 3.5% on Tuesday, 12 March.',
    'Is it raining in Zürich today?',
    'naïve café — déjà vu',
    'Mixed CASE and lower case words.',
    'A child is riding a horse in a field.',
    'Kids play football after school.',
    '(brackets) [square] {curly} <angle>',
    'one two three four five six seven',
    'The quick brown fox jumps over the lazy dog.',
    'Researchers published a study about sleep and memory in young adults last week.',
    'The committee will review every application before the deadline and then announce the winners.',
    'A very long sentence keeps going with many ordinary words so that the tokenizer has to cut it off.',
    'She walked to the market, bought apples, pears and plums, then cycled home along the river.',
    'Numbers like 1234567890 and symbols like @#$%^&* make a sentence split into many word pieces.',
]


def pooling_config(modes):
    """1_Pooling/config.json as sentence-transformers 2.3-3.x writes it."""
    return {
        'word_embedding_dimension': HIDDEN,
        'pooling_mode_cls_token': 'cls' in modes,
        'pooling_mode_mean_tokens': 'mean' in modes,
        'pooling_mode_max_tokens': 'max' in modes,
        'pooling_mode_mean_sqrt_len_tokens': 'mean_sqrt_len_tokens' in modes,
        'pooling_mode_weightedmean_tokens': False,
        'pooling_mode_lasttoken': False,
        'include_prompt': True,
    }


def write_folder(out, modes, denses, normalize, gen):
    """The model folder; returns the Dense layers as [(weight, bias or None, activation)]."""
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    for f in TRANSFORMER_FILES:
        shutil.copyfile(os.path.join(SOURCE, f), os.path.join(out, f))
    modules = [{'idx': 0, 'name': '0', 'path': '', 'type': 'sentence_transformers.models.Transformer'}]

    def add(kind, config):
        idx = len(modules)
        sub = f'{idx}_{kind}'
        os.makedirs(os.path.join(out, sub))
        write_json(os.path.join(out, sub, 'config.json'), config)
        modules.append({'idx': idx, 'name': str(idx), 'path': sub, 'type': f'sentence_transformers.models.{kind}'})
        return os.path.join(out, sub)

    add('Pooling', pooling_config(modes))
    layers = []
    width = HIDDEN * len(modes)
    for out_features, activation, bias in denses:
        weight = torch.randn(out_features, width, generator=gen) * width ** -0.5
        tensors = {'linear.weight': weight}
        if bias:
            tensors['linear.bias'] = torch.randn(out_features, generator=gen) * 0.1
        sub = add('Dense', {
            'in_features': width,
            'out_features': out_features,
            'bias': bias,
            'activation_function': ACTIVATION_CLASS[activation],
        })
        save_file(tensors, os.path.join(sub, 'model.safetensors'), metadata={'format': 'pt'})
        layers.append((weight, tensors.get('linear.bias'), activation))
        width = out_features
    if normalize:
        add('Normalize', {})  # Normalize has no files; a config.json keeps the folder in git
    write_json(os.path.join(out, 'modules.json'), modules)
    return layers


def our_token_ids(model_dir, max_length):
    """Token ids of SENTENCES from our tokenizer (dist/), truncated to max_length."""
    request = json.dumps({'model': model_dir, 'maxLength': max_length, 'sentences': SENTENCES})
    done = subprocess.run(['node', os.path.join(HERE, 'tokenize_ids.js')], input=request.encode(),
                          capture_output=True, check=True, cwd=ROOT)
    return json.loads(done.stdout)['ids']


def pool(tokens, mode):
    """sentence-transformers Pooling of one unpadded sequence [L, H] (every token is real)."""
    if mode == 'cls':
        return tokens[0]
    if mode == 'max':
        return tokens.max(0).values
    if mode == 'mean':
        return tokens.sum(0) / tokens.shape[0]
    if mode == 'mean_sqrt_len_tokens':
        return tokens.sum(0) / math.sqrt(tokens.shape[0])
    raise ValueError(mode)


def reference(bert, ids, modes, layers, normalize):
    """The sentence embedding of one token id list, float64."""
    t = torch.tensor([ids], dtype=torch.long)
    with torch.no_grad():
        tokens = bert(t, torch.ones_like(t), torch.zeros_like(t))[0]
        x = torch.cat([pool(tokens, m) for m in modes])
        for weight, bias, activation in layers:
            x = ACTIVATION_FN[activation](F.linear(x, weight.double(), None if bias is None else bias.double()))
        if normalize:
            x = F.normalize(x, p=2, dim=0)
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, default=7)
    a = ap.parse_args()
    with open(os.path.join(SOURCE, 'config.json')) as f:
        bert = BertModel(json.load(f))
    weights = {canonical(k): v for k, v in read_safetensors(os.path.join(SOURCE, 'model.safetensors')).items()}
    bert.load_state_dict(weights, strict=True)
    bert = bert.double().eval()
    with open(os.path.join(SOURCE, 'sentence_bert_config.json')) as f:
        max_seq_length = json.load(f)['max_seq_length']

    os.makedirs(OUT, exist_ok=True)
    total = 0
    for k, (name, (modes, denses, normalize)) in enumerate(CHAINS.items()):
        out = os.path.join(OUT, name)
        layers = write_folder(out, modes, denses, normalize, torch.Generator().manual_seed(a.seed + k))
        ids = our_token_ids(out, max_seq_length)
        embeddings = [reference(bert, s, modes, layers, normalize) for s in ids]
        reference_file = os.path.join(out, f'{name}-reference.json')
        with open(reference_file, 'w') as f:
            json.dump({
                'note': 'written by tools/reference/make_dense_chains.py: plain-PyTorch float64 forward; '
                        'token ids from our tokenizer (dist/)',
                'sentences': SENTENCES,
                'maxSeqLength': max_seq_length,
                'ids': ids,
                'dim': embeddings[0].shape[0],
                'embeddings': [e.tolist() for e in embeddings],
            }, f)
            f.write('\n')
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
        total += size
        e = torch.stack(embeddings)
        print(f'{name}: dim {e.shape[1]}, |x| max {e.abs().max().item():.3f}, longest {max(map(len, ids))} tokens,'
              f' {size / 1024:.0f} KB')
    print(f'wrote {os.path.relpath(OUT, ROOT)} ({total / 1024:.0f} KB)')


if __name__ == '__main__':
    main()
