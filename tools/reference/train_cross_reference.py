#!/usr/bin/env python3
"""The PyTorch side of the cross-encoder training parity test (issue 24): 10 optimizer steps of
sentence-transformers' CrossEncoder.fit on two fixtures of test/fixtures/cross-encoders, on the
batches of test/fixtures/train-cross-encoders/cases.json (make_cross_train_cases.js), written to
test/fixtures/train-cross-encoders/:

  <case>.json                options, per-step losses, learning rates and gradient norms (before
                             clipping), how far the weights moved
  <case>-final.safetensors   every parameter after the 10 steps under the task model's checkpoint
                             names ('bert.encoder…', 'bert.pooler.dense…', 'classifier…';
                             'roberta.…', 'classifier.dense…', 'classifier.out_proj…'), fp32

  bert-bce  BertForSequenceClassification (1 label) with token type ids, BCEWithLogitsLoss
            (logits.view(-1) against the float labels, soft 0–1 targets)
  xlmr-ce   XLMRobertaForSequenceClassification (3 labels), CrossEntropyLoss (class indices)

What it reproduces, each part transcribed from its source (no transformers or sentence-transformers
package; Debian's python3-torch is enough):
  model     base: tools/reference/torch_bert.py's BertModel (token types) / torch_families.py's
            RoBERTa encoder; head, from transformers: BertForSequenceClassification —
            classifier(tanh(pooler.dense(h[:, 0]))); RobertaClassificationHead —
            out_proj(tanh(dense(h[:, 0]))). Dropout off. Checked first against the fixture's
            stored logits (reference.safetensors, made by make_cross_encoder_fixtures.py).
  batches   right-padded with the model's pad id and an attention mask, token type ids for BERT
            only (as transformers' tokenizer gives them to sentence-transformers)
  loss      CrossEncoder.fit: BCEWithLogitsLoss when num_labels == 1, else CrossEntropyLoss
  optimizer AdamW over the model's named parameters in two groups, weight decay 0.01 except names
            containing 'bias', 'LayerNorm.bias', 'LayerNorm.weight' (CrossEncoder.fit's list);
            lr 1e-3 (large, so weights visibly move), betas (0.9, 0.999), eps 1e-6; each step:
            backward, clip_grad_norm_(all parameters, 1.0), optimizer.step(), scheduler.step()
  schedule  transformers' get_linear_schedule_with_warmup as a LambdaLR, warm-up ceil(0.1 · 10) = 1
            step: step 0 runs at lr 0, then linear decay to 0 at step 10

  /usr/bin/python3 tools/reference/train_cross_reference.py
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from torch_bert import BertModel, read_safetensors  # noqa: E402
from torch_families import build  # noqa: E402
from make_models import save_file  # noqa: E402
from train_reference import NO_DECAY, linear_warmup_lambda  # noqa: E402

OUT_DIR = os.path.join(ROOT, 'test', 'fixtures', 'train-cross-encoders')
OPTIONS = dict(lr=1e-3, weightDecay=0.01, betas=[0.9, 0.999], eps=1e-6, maxGradNorm=1.0)
FAMILY = {'bert-ce': 'bert', 'xlmr-ce': 'roberta'}


class CrossEncoderModel(nn.Module):
    """A …ForSequenceClassification: base encoder, then the family's head on the first token."""

    def __init__(self, model_dir):
        super().__init__()
        name = os.path.basename(model_dir)
        self.family = FAMILY[name]
        with open(os.path.join(model_dir, 'config.json')) as f:
            cfg = json.load(f)
        h, labels = cfg['hidden_size'], len(cfg['id2label'])
        self.pad = cfg['pad_token_id']
        self.dense, self.out = nn.Linear(h, h), nn.Linear(h, labels)
        if self.family == 'bert':
            self.base = BertModel(cfg).eval()
            base_named = {'bert.' + n: p for n, p in self.base.named_parameters()}
            head = {'bert.pooler.dense': self.dense, 'classifier': self.out}
        else:
            self.base = build(self.family, cfg)
            base_named = {'roberta.' + n: p for n, p in self.base.named_checkpoint().items()}
            head = {'classifier.dense': self.dense, 'classifier.out_proj': self.out}
        self.checkpoint = dict(base_named)
        for prefix, mod in head.items():
            self.checkpoint[prefix + '.weight'] = mod.weight
            self.checkpoint[prefix + '.bias'] = mod.bias
        weights = read_safetensors(os.path.join(model_dir, 'model.safetensors'))
        assert set(weights) == set(self.checkpoint), f'{name}: checkpoint names differ: {set(weights) ^ set(self.checkpoint)}'
        with torch.no_grad():
            for k, p in self.checkpoint.items():
                p.copy_(weights[k])

    def forward(self, ids_list, types_list):
        s = max(len(x) for x in ids_list)
        ids = torch.full((len(ids_list), s), self.pad, dtype=torch.long)
        mask = torch.zeros((len(ids_list), s), dtype=torch.long)
        types = torch.zeros((len(ids_list), s), dtype=torch.long)
        for i, x in enumerate(ids_list):
            ids[i, :len(x)] = torch.tensor(x)
            mask[i, :len(x)] = 1
            if types_list is not None:
                types[i, :len(x)] = torch.tensor(types_list[i])
        hidden = self.base(ids, mask, types) if self.family == 'bert' else self.base(ids, mask)
        return self.out(torch.tanh(self.dense(hidden[:, 0])))


def check_forward(model_dir):
    """Our head + base vs the logits stored with the fixture (make_cross_encoder_fixtures.py)."""
    model = CrossEncoderModel(model_dir)
    with open(os.path.join(model_dir, 'reference.json')) as f:
        ref = json.load(f)
    want = read_safetensors(os.path.join(model_dir, 'reference.safetensors'))['logits']
    with torch.no_grad():
        got = model(ref['ids'], ref['typeIds'] if model.family == 'bert' else None)
    diff = (got - want).abs().max().item()
    assert diff < 1e-5, f'{model_dir}: forward differs from the fixture logits by {diff}'
    return diff


def loss_of(kind, logits, labels):
    if kind == 'bce':
        return F.binary_cross_entropy_with_logits(logits.view(-1), torch.tensor(labels, dtype=torch.float32))
    return F.cross_entropy(logits, torch.tensor(labels, dtype=torch.long))


def run(name, case):
    torch.manual_seed(0)
    model_dir = os.path.join(ROOT, case['model'])
    model = CrossEncoderModel(model_dir)
    bert = model.family == 'bert'
    named = list(model.checkpoint.items())
    groups = [
        {'params': [p for n, p in named if not any(nd in n for nd in NO_DECAY)], 'weight_decay': OPTIONS['weightDecay']},
        {'params': [p for n, p in named if any(nd in n for nd in NO_DECAY)], 'weight_decay': 0.0},
    ]
    steps = case['steps']
    total, warmup = len(steps), math.ceil(0.1 * len(steps))
    optimizer = torch.optim.AdamW(groups, lr=OPTIONS['lr'], betas=tuple(OPTIONS['betas']), eps=OPTIONS['eps'])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup_lambda(warmup, total))
    params = [p for _, p in named]
    # Token types matter in the BERT case: step 0's loss with every type id 0 instead.
    without_types = None
    if bert:
        with torch.no_grad():
            first = steps[0]
            without_types = loss_of(case['loss'], model(first['ids'], [[0] * len(x) for x in first['ids']]), first['labels']).item()
    losses, norms, lrs = [], [], []
    for step in steps:
        logits = model(step['ids'], step['typeIds'] if bert else None)
        loss = loss_of(case['loss'], logits, step['labels'])
        optimizer.zero_grad()
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(params, OPTIONS['maxGradNorm']).item())
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    final = {n: p.detach().clone() for n, p in named}
    initial = CrossEncoderModel(model_dir).checkpoint
    moved = max((final[n] - initial[n].detach()).abs().max().item() for n in final)
    head_moved = max((final[n] - initial[n].detach()).abs().max().item() for n in final if n.startswith(('classifier', 'bert.pooler')))
    summary = {
        'case': name,
        'loss': case['loss'],
        'note': 'written by tools/reference/train_cross_reference.py (torch %s)' % torch.__version__,
        'model': case['model'],
        'options': dict(OPTIONS, warmupSteps=warmup, totalSteps=total, examplesPerStep=case['examplesPerStep'], dropout=False),
        'learningRates': lrs,
        'losses': losses,
        'gradNorms': norms,
        'maxWeightChange': moved,
        'headWeightChange': head_moved,
    }
    if bert:
        t = 'bert.embeddings.token_type_embeddings.weight'
        summary['step0LossWithoutTypes'] = without_types
        summary['tokenType1Change'] = (final[t][1] - initial[t][1].detach()).abs().max().item()
    return summary, final


def main():
    torch.set_num_threads(1)
    with open(os.path.join(OUT_DIR, 'cases.json')) as f:
        cases = json.load(f)['cases']
    for name, case in cases.items():
        diff = check_forward(os.path.join(ROOT, case['model']))
        summary, final = run(name, case)
        with open(os.path.join(OUT_DIR, f'{name}.json'), 'w') as f:
            json.dump(summary, f, separators=(',', ':'))
            f.write('\n')
        save_file(final, os.path.join(OUT_DIR, f'{name}-final.safetensors'), metadata={'format': 'pt'})
        extra = f', step-0 loss {summary["losses"][0]:.5f} vs {summary["step0LossWithoutTypes"]:.5f} without token types' if 'step0LossWithoutTypes' in summary else ''
        print(f'{name}: forward vs fixture logits {diff:.1e}; losses {summary["losses"][0]:.5f} → {summary["losses"][-1]:.5f}, '
              f'max weight change {summary["maxWeightChange"]:.2e} (head {summary["headWeightChange"]:.2e}){extra}')


if __name__ == '__main__':
    main()
