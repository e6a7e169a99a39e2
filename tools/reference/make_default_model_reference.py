#!/usr/bin/env python3
"""Writes test/fixtures/default-en/: the sentence embeddings of the bundled model
(models/default-en) computed by a plain-PyTorch forward, so test/default-model.test.js checks our
engine on the shipped weights against code that is not ours (the published scores are computed by
our own evaluator; this is the independent check of what it evaluates).

  default-en-reference.json          note, model files' sha256 (the test refuses a fixture made
                                     from other weights), maxSeqLength, sentences, token ids
  default-en-reference.safetensors   sentence_embedding F32 [n, 512]

Sentences: the first 40 unique sentences of STSb test (data/stsbenchmark/sts-test.csv, sentence 1
before sentence 2 of each row), the empty string, and one sentence longer than max_seq_length 128
(truncated, as sentence-transformers truncates).
Token ids: OUR tokenizer's (dist/, via tools/reference/tokenize_ids.js), truncated to 128, so both
sides see identical ids; the tokenizer has its own goldens from Hugging Face tokenizers.
Forward, per sentence alone (no padding), float64 from the stored weights:
  torch_bert.load_bert (transformers BertModel semantics: shards of model.safetensors.index.json)
  → sentence-transformers Pooling(mean over every token; include_prompt, no prompt)
  → Dense 256 → 512 (2_Dense/config.json: Identity activation, bias; linear.weight/linear.bias
    of 2_Dense/model.safetensors) → Normalize (F.normalize); the module chain read from
    modules.json and checked to be exactly this.

  npx tsc -p tsconfig.json && /usr/bin/python3 tools/reference/make_default_model_reference.py
"""
import csv
import hashlib
import json
import os
import subprocess
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_models import ROOT, save_file  # noqa: E402
from torch_bert import load_bert, read_safetensors  # noqa: E402

MODEL = os.path.join(ROOT, 'models', 'default-en')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'default-en')
NAME = 'default-en'
STS_SENTENCES = 40
LONG = ('A man in a red shirt is standing on a ladder next to a tall building while two other men '
        'hold the ladder steady, a woman with a small dog watches them from across the street, and '
        'a bus goes by with its windows open on a warm afternoon in the middle of a busy city that '
        'never seems to stop moving even late at night when the shops have closed and the lights '
        'of the restaurants along the river are the only thing left to see for the people walking '
        'home after a long day at work in the offices downtown, where the tall glass towers catch '
        'the last of the evening sun and the cleaners start their rounds on every floor while the '
        'security guards settle in for another quiet night shift with coffee and the radio on.')


def read_json(path):
    with open(path) as f:
        return json.load(f)


def sts_sentences(n):
    seen, out = set(), []
    with open(os.path.join(ROOT, 'data', 'stsbenchmark', 'sts-test.csv'), encoding='utf-8') as f:
        for row in csv.reader(f, delimiter='\t', quoting=csv.QUOTE_NONE):
            if len(row) < 7:
                continue
            for s in (row[5].strip(), row[6].strip()):
                if s and s not in seen:
                    seen.add(s)
                    out.append(s)
                    if len(out) == n:
                        return out
    raise SystemExit(f'only {len(out)} sentences in sts-test.csv')


def our_token_ids(sentences, max_length):
    request = json.dumps({'model': MODEL, 'maxLength': max_length, 'sentences': sentences})
    done = subprocess.run(['node', os.path.join(HERE, 'tokenize_ids.js')], input=request.encode(),
                          capture_output=True, check=True, cwd=ROOT)
    return json.loads(done.stdout)['ids']


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    modules = [m['type'] for m in read_json(os.path.join(MODEL, 'modules.json'))]
    want = ['sentence_transformers.models.' + t for t in ('Transformer', 'Pooling', 'Dense', 'Normalize')]
    if modules != want:
        raise SystemExit(f'modules.json is {modules}; this reference is written for {want}')
    pooling = read_json(os.path.join(MODEL, '1_Pooling', 'config.json'))
    modes = [k for k, v in pooling.items() if k.startswith('pooling_mode_') and v]
    if modes != ['pooling_mode_mean_tokens'] or not pooling.get('include_prompt', True):
        raise SystemExit(f'pooling {pooling}: this reference is written for plain mean pooling')
    dense_cfg = read_json(os.path.join(MODEL, '2_Dense', 'config.json'))
    if dense_cfg['activation_function'] != 'torch.nn.modules.linear.Identity' or not dense_cfg['bias']:
        raise SystemExit(f'2_Dense {dense_cfg}: this reference is written for Identity with bias')
    dense = read_safetensors(os.path.join(MODEL, '2_Dense', 'model.safetensors'))
    weight, bias = dense['linear.weight'].double(), dense['linear.bias'].double()
    max_len = read_json(os.path.join(MODEL, 'sentence_bert_config.json'))['max_seq_length']

    bert = load_bert(MODEL, dtype=torch.float64)
    sentences = sts_sentences(STS_SENTENCES) + ['', LONG]
    ids = our_token_ids(sentences, max_len)
    if len(ids[-1]) != max_len:
        raise SystemExit(f'the long sentence has {len(ids[-1])} tokens, not {max_len}: make it longer')
    rows = []
    with torch.no_grad():
        for seq in ids:
            t = torch.tensor([seq], dtype=torch.long)
            tokens = bert(t, torch.ones_like(t), torch.zeros_like(t))[0]
            x = F.linear(tokens.mean(0), weight, bias)
            rows.append(F.normalize(x, p=2, dim=0))
    emb = torch.stack(rows).float().contiguous()

    files = sorted(f for f in os.listdir(MODEL) if f.endswith('.safetensors')) + ['2_Dense/model.safetensors']
    os.makedirs(OUT, exist_ok=True)
    meta = {
        'note': 'written by tools/reference/make_default_model_reference.py: plain-PyTorch float64 forward '
                f'(torch {torch.__version__}); token ids from our tokenizer (dist/)',
        'model': 'models/default-en',
        'weights': {f: sha256(os.path.join(MODEL, f)) for f in files},
        'maxSeqLength': max_len,
        'sentences': sentences,
        'ids': ids,
    }
    with open(os.path.join(OUT, f'{NAME}-reference.json'), 'w') as f:
        json.dump(meta, f)
    save_file({'sentence_embedding': emb}, os.path.join(OUT, f'{NAME}-reference.safetensors'),
              metadata={'format': 'pt'})
    print(f'wrote {os.path.relpath(OUT, ROOT)}: {len(sentences)} sentences, dim {emb.shape[1]}')


if __name__ == '__main__':
    main()
