#!/usr/bin/env python3
"""Weights and reference logits of one cross-encoder fixture (called by
make_cross_encoder_fixtures.js, which writes config.json and the tokenizer and tokenizes the
pairs with Hugging Face `tokenizers`).

  /usr/bin/python3 tools/reference/make_cross_encoder_fixtures.py FAMILY FOLDER IDS_JSON SEED

FAMILY: bert | roberta | mpnet | distilbert. Writes FOLDER/model.safetensors — seeded random
weights under the task model's checkpoint names, as transformers' save_pretrained writes a
…ForSequenceClassification: the base model under its prefix (`bert.`, `roberta.`, `mpnet.`,
`distilbert.`) and the head (`bert.pooler.dense` + `classifier`; `classifier.dense` +
`classifier.out_proj`; `pre_classifier` + `classifier`) — and FOLDER/reference.safetensors:
`logits` [pairs, num_labels]. The base models are tools/reference/torch_bert.py (BERT, with
token type ids) and torch_families.py; the heads are written here from transformers'
BertForSequenceClassification (pooler: tanh(dense(h_0)), then classifier),
RobertaClassificationHead / MPNetClassificationHead (out_proj(tanh(dense(h_0)))) and
DistilBertForSequenceClassification (classifier(relu(pre_classifier(h_0)))); dropout off.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from torch_bert import BertModel  # noqa: E402
from torch_families import build  # noqa: E402
from make_family_fixtures import write_safetensors  # noqa: E402

PREFIX = {'bert': 'bert.', 'roberta': 'roberta.', 'mpnet': 'mpnet.', 'distilbert': 'distilbert.'}


def main():
    family, folder, ids_file, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(os.path.join(folder, 'config.json')) as f:
        cfg = json.load(f)
    with open(ids_file) as f:
        spec = json.load(f)
    torch.manual_seed(seed)
    n_labels = len(cfg['id2label'])
    h = cfg['dim'] if family == 'distilbert' else cfg['hidden_size']
    if family == 'bert':
        base = BertModel(cfg).eval()
        base_params = dict(base.named_parameters())
    else:
        base = build(family, cfg)
        base_params = base.named_checkpoint()
    dense, out = nn.Linear(h, h), nn.Linear(h, n_labels)
    if family == 'bert':
        head_names = {'pooler.dense': dense, 'classifier': out}
        act = torch.tanh
    elif family == 'distilbert':
        head_names = {'pre_classifier': dense, 'classifier': out}
        act = torch.relu
    else:
        head_names = {'classifier.dense': dense, 'classifier.out_proj': out}
        act = torch.tanh
    with torch.no_grad():
        for name, p in base_params.items():
            if 'LayerNorm' in name or 'layer_norm' in name:
                p.copy_(torch.rand_like(p) * 0.4 + 0.8 if name.endswith('.weight') else (torch.rand_like(p) - 0.5) * 0.2)
            elif name.endswith('.bias') and 'relative_attention_bias' not in name:
                p.copy_((torch.rand_like(p) - 0.5) * 0.2)
            elif 'embeddings' in name or 'relative_attention_bias' in name:
                p.copy_((torch.rand_like(p) - 0.5) * 2.0)
            else:
                p.copy_((torch.rand_like(p) - 0.5) * (2.0 * (3.0 / p.shape[1]) ** 0.5))
        for mod in (dense, out):
            mod.weight.copy_((torch.rand_like(mod.weight) - 0.5) * 2.0 * (3.0 / h) ** 0.5)
            mod.bias.copy_((torch.rand_like(mod.bias) - 0.5) * 0.4)
    tensors = {}
    for name, p in base_params.items():
        checkpoint = ('bert.' if family == 'bert' else PREFIX[family]) + name
        tensors[checkpoint] = p.detach().numpy().astype(np.float32)
    for name, mod in head_names.items():
        key = ('bert.' + name) if name == 'pooler.dense' else name
        tensors[key + '.weight'] = mod.weight.detach().numpy().astype(np.float32)
        tensors[key + '.bias'] = mod.bias.detach().numpy().astype(np.float32)
    write_safetensors(os.path.join(folder, 'model.safetensors'), tensors)

    ids_list, types_list = spec['ids'], spec['typeIds']
    s = max(len(x) for x in ids_list)
    ids = torch.full((len(ids_list), s), spec['pad'], dtype=torch.long)
    mask = torch.zeros((len(ids_list), s), dtype=torch.long)
    types = torch.zeros((len(ids_list), s), dtype=torch.long)
    for i, x in enumerate(ids_list):
        ids[i, :len(x)] = torch.tensor(x)
        mask[i, :len(x)] = 1
        if types_list is not None:
            types[i, :len(x)] = torch.tensor(types_list[i])
    with torch.no_grad():
        hidden = base(ids, mask, types) if family == 'bert' else base(ids, mask)
        logits = out(act(dense(hidden[:, 0])))
    write_safetensors(os.path.join(folder, 'reference.safetensors'), {'logits': logits.numpy().astype(np.float32)})
    print(f'{folder}: {len(ids_list)} pairs, {n_labels} label(s)')


if __name__ == '__main__':
    main()
