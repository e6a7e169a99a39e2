#!/usr/bin/env python3
"""The PyTorch side of the MPNet training parity test (issue 23): 10 optimizer steps of the
cosine and MNRL losses on test/fixtures/families/mpnet-tiny (MPNet: relative attention bias
shared by the layers, positions after padding index 1; mean pooling + Normalize), on the batches
of test/fixtures/train-families/cases.json (make_family_train_cases.js), written to
test/fixtures/train-families/:

  mpnet-<loss>.json                options, per-step losses and learning rates, gradient norms
  mpnet-<loss>-final.safetensors   every model parameter after the 10 steps (checkpoint names)

Model: tools/reference/torch_families.py (written from transformers' modeling_mpnet.py);
losses, optimizer groups (weight decay except names containing 'bias', 'LayerNorm.bias',
'LayerNorm.weight' — the relative_attention_bias table included), AdamW, clipping and the
warm-up schedule exactly as tools/reference/train_reference.py (sentence-transformers' fit).
Dropout off.

  /usr/bin/python3 tools/reference/train_family_reference.py
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from torch_bert import read_safetensors  # noqa: E402
from torch_families import build  # noqa: E402
from make_models import save_file  # noqa: E402
from train_reference import NO_DECAY, OPTIONS, LOSS_OPTIONS, linear_warmup_lambda, loss_value  # noqa: E402

MODEL_DIR = os.path.join(ROOT, 'test', 'fixtures', 'families', 'mpnet-tiny')
OUT_DIR = os.path.join(ROOT, 'test', 'fixtures', 'train-families')
LOSSES = ('cosine', 'mnrl')


def load_model():
    with open(os.path.join(MODEL_DIR, 'config.json')) as f:
        cfg = json.load(f)
    model = build('mpnet', cfg)
    weights = read_safetensors(os.path.join(MODEL_DIR, 'model.safetensors'))
    named = model.named_checkpoint()
    assert set(weights) == set(named), f'checkpoint names differ: {set(weights) ^ set(named)}'
    with torch.no_grad():
        for k, p in named.items():
            p.copy_(weights[k])
    return model


def embed(model, sequences):
    s = max(len(x) for x in sequences)
    ids = torch.full((len(sequences), s), 1, dtype=torch.long)  # MPNet's padding id
    mask = torch.zeros((len(sequences), s), dtype=torch.long)
    for i, x in enumerate(sequences):
        ids[i, :len(x)] = torch.tensor(x)
        mask[i, :len(x)] = 1
    tokens = model(ids, mask)
    m = mask.unsqueeze(-1).to(tokens.dtype)
    return F.normalize((tokens * m).sum(1) / torch.clamp(m.sum(1), min=1e-9), p=2, dim=1)


def run(kind, case):
    torch.manual_seed(0)
    model = load_model().train(False)
    named = list(model.named_checkpoint().items())
    k, steps = case['textsPerExample'], case['steps']
    groups = [
        {'params': [p for n, p in named if not any(nd in n for nd in NO_DECAY)], 'weight_decay': OPTIONS['weightDecay']},
        {'params': [p for n, p in named if any(nd in n for nd in NO_DECAY)], 'weight_decay': 0.0},
    ]
    total, warmup = len(steps), math.ceil(0.1 * len(steps))
    optimizer = torch.optim.AdamW(groups, lr=OPTIONS['lr'], betas=tuple(OPTIONS['betas']), eps=OPTIONS['eps'])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup_lambda(warmup, total))
    params = [p for _, p in named]
    losses, norms, lrs = [], [], []
    for step in steps:
        cu = step['cuSeqlens']
        sequences = [step['ids'][cu[j]:cu[j + 1]] for j in range(len(cu) - 1)]
        labels = torch.tensor(step['labels'], dtype=torch.get_default_dtype()) if 'labels' in step else None
        loss = loss_value(kind, embed(model, sequences), k, labels, None, None, LOSS_OPTIONS[kind])
        optimizer.zero_grad()
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(params, OPTIONS['maxGradNorm']).item())
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    final = {n: p.detach().clone() for n, p in named}
    initial = load_model().named_checkpoint()
    moved = max((final[n] - initial[n].detach()).abs().max().item() for n in final)
    bias_moved = (final['encoder.relative_attention_bias.weight'] - initial['encoder.relative_attention_bias.weight']).abs().max().item()
    summary = {
        'loss': kind,
        'note': 'written by tools/reference/train_family_reference.py (torch %s)' % torch.__version__,
        'model': 'test/fixtures/families/mpnet-tiny',
        'options': dict(OPTIONS, warmupSteps=warmup, totalSteps=total, textsPerExample=k,
                        examplesPerStep=case['examplesPerStep'], dropout=False, **LOSS_OPTIONS[kind]),
        'learningRates': lrs,
        'losses': losses,
        'gradNorms': norms,
        'maxWeightChange': moved,
        'relativeBiasChange': bias_moved,
    }
    return summary, final


def main():
    torch.set_num_threads(1)
    with open(os.path.join(OUT_DIR, 'cases.json')) as f:
        cases = json.load(f)
    for kind in LOSSES:
        summary, final = run(kind, cases['losses'][kind])
        with open(os.path.join(OUT_DIR, f'mpnet-{kind}.json'), 'w') as f:
            json.dump(summary, f, separators=(',', ':'))
            f.write('\n')
        save_file(final, os.path.join(OUT_DIR, f'mpnet-{kind}-final.safetensors'), metadata={'format': 'pt'})
        print(f'mpnet {kind:7s} losses {summary["losses"][0]:.5f} → {summary["losses"][-1]:.5f}, '
              f'max weight change {summary["maxWeightChange"]:.2e}, relative bias change {summary["relativeBiasChange"]:.2e}')


if __name__ == '__main__':
    main()
