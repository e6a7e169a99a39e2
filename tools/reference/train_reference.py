#!/usr/bin/env python3
"""The PyTorch side of the training parity test (issue 13): 10 optimizer steps with each of the
five losses on test/fixtures/train-small, on the fixed batches of test/fixtures/train/cases.json
(token ids from our tokenizer, tools/reference/make_train_cases.js), written to
test/fixtures/train/ so the parity test runs without Python:

  <loss>.json               options, softmax classifierInit, per-step losses and gradient norms
                            (before clipping)
  <loss>-final.safetensors  every model parameter after the 10 steps, fp32, canonical names
                            (the model file's names; Dense as dense.0.linear.weight / .bias)
  <loss>-step0.json         step 0's sentence embeddings with the loss and dL/demb (and the
                            classifier's grads) recomputed from them in float64 by autograd:
                            what native/cpp/tests/train_losses_test.cc checks Loss against

What it reproduces, each part transcribed from its source (no sentence-transformers or
transformers package needed; Debian's python3-torch is enough):
  model     tools/reference/torch_bert.py's plain BertModel (HF BertModel semantics; checked here first
            against the HF last_hidden_state stored in the headdim64-f32 fixture), then
            sentence-transformers' Pooling(mean over the attention mask), Dense (Linear + Tanh),
            Normalize (F.normalize). Dropout off (none is applied at all), eval semantics.
  losses    as sentence-transformers' losses module:
            softmax  SoftmaxLoss: nn.Linear(3·dim, 3) on cat(u, v, |u−v|), nn.CrossEntropyLoss
            cosine   CosineSimilarityLoss: MSELoss(torch.cosine_similarity(u, v), label)
            triplet  TripletLoss (EUCLIDEAN = F.pairwise_distance): relu(d(a,p) − d(a,n) + m).mean(),
                     margin 1 (the SBERT paper; sentence-transformers' default is 5)
            mnrl     MultipleNegativesRankingLoss: cross_entropy(cos_sim(anchors, cat(positives,
                     negatives…)) · 20, arange)
            mse      MSELoss: nn.MSELoss(embeddings, targets)
  optimizer SentenceTransformer.fit: AdamW over the loss model's named parameters (classifier
            included) in two groups, weight decay 0.01 except names containing 'bias',
            'LayerNorm.bias', 'LayerNorm.weight'; lr 1e-3 (large, so weights visibly move),
            betas (0.9, 0.999), eps 1e-6; each step: backward, clip_grad_norm_(all trained
            parameters, 1.0), optimizer.step(), scheduler.step()
  schedule  transformers' get_linear_schedule_with_warmup as a LambdaLR, warm-up ceil(0.1 · 10)
            = 1 step: step 0 runs at lr 0 (moments and step count still advance), then linear
            decay to 0 at step 10

  /usr/bin/python3 tools/reference/train_reference.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from torch_bert import BertModel, canonical, read_safetensors  # noqa: E402
from make_models import save_file  # noqa: E402

MODEL_DIR = os.path.join(ROOT, 'test', 'fixtures', 'train-small')
OUT_DIR = os.path.join(ROOT, 'test', 'fixtures', 'train')
CASES = os.path.join(OUT_DIR, 'cases.json')

OPTIONS = dict(lr=1e-3, weightDecay=0.01, betas=[0.9, 0.999], eps=1e-6, maxGradNorm=1.0)
LOSS_OPTIONS = {
    'softmax': dict(numLabels=3),
    'cosine': {},
    'triplet': dict(margin=1.0),
    'mnrl': dict(scale=20.0),
    'mse': {},
}
NO_DECAY = ('bias', 'LayerNorm.bias', 'LayerNorm.weight')  # SentenceTransformer.fit's list
CLASSIFIER_SEED = 13


def read_json(path):
    with open(path) as f:
        return json.load(f)


def check_bert_forward():
    """Our plain BertModel vs transformers' last_hidden_state in the headdim64-f32 fixture."""
    d = os.path.join(ROOT, 'test', 'fixtures', 'headdim64-f32')
    model = BertModel(read_json(os.path.join(d, 'config.json'))).eval()
    weights = {canonical(k): v for k, v in read_safetensors(os.path.join(d, 'model.safetensors')).items()}
    model.load_state_dict({k: v for k, v in weights.items() if not k.startswith('pooler.')}, strict=True)
    ref = read_safetensors(os.path.join(d, 'headdim64-f32-reference.safetensors'))
    ids, mask = ref['input_ids'].long(), ref['attention_mask'].long()
    with torch.no_grad():
        out = model(ids, mask, ref['token_type_ids'].long())
    valid = mask.bool()
    diff = (out[valid] - ref['last_hidden_state'][valid]).abs().max().item()
    assert diff < 1e-4, f'plain BertModel differs from transformers on headdim64-f32 (max abs {diff})'
    return diff


class Dense(nn.Module):
    """sentence-transformers' Dense: activation(linear(x)), activation Tanh."""

    def __init__(self, weight, bias):
        super().__init__()
        self.linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.linear.weight.copy_(weight)
            self.linear.bias.copy_(bias)

    def forward(self, x):
        return torch.tanh(self.linear(x))


class SentenceModel(nn.Module):
    """Transformer → Pooling(mean) → Dense → Normalize, on lists of token id lists."""

    def __init__(self, model_dir):
        super().__init__()
        cfg = read_json(os.path.join(model_dir, 'config.json'))
        self.bert = BertModel(cfg)
        weights = {canonical(k): v for k, v in read_safetensors(os.path.join(model_dir, 'model.safetensors')).items()}
        self.bert.load_state_dict(weights, strict=True)
        dense = read_safetensors(os.path.join(model_dir, '2_Dense', 'model.safetensors'))
        self.dense = nn.ModuleList([Dense(dense['linear.weight'], dense['linear.bias'])])

    def forward(self, sequences):
        longest = max(len(s) for s in sequences)
        ids = torch.zeros(len(sequences), longest, dtype=torch.long)
        mask = torch.zeros(len(sequences), longest, dtype=torch.long)
        for i, s in enumerate(sequences):
            ids[i, :len(s)] = torch.tensor(s)
            mask[i, :len(s)] = 1
        tokens = self.bert(ids, mask, torch.zeros_like(ids))
        m = mask.unsqueeze(-1).to(tokens.dtype)
        x = (tokens * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)
        for d in self.dense:
            x = d(x)
        return F.normalize(x, p=2, dim=1)

    def canonical_parameters(self):
        """(canonical name, parameter): the model file's names; Dense j as dense.j.linear.*."""
        for name, p in self.named_parameters():
            yield (name[len('bert.'):] if name.startswith('bert.') else name), p


def loss_value(kind, emb, k, labels, targets, classifier, opts):
    """The sentence-transformers loss on example-major embeddings [examples·k, dim]."""
    texts = [emb[j::k] for j in range(k)]  # texts[j] = text j of every example
    if kind == 'softmax':
        u, v = texts
        return F.cross_entropy(classifier(torch.cat([u, v, (u - v).abs()], 1)), labels.long())
    if kind == 'cosine':
        return F.mse_loss(torch.cosine_similarity(texts[0], texts[1]), labels)
    if kind == 'triplet':
        a, p, n = texts
        return F.relu(F.pairwise_distance(a, p, p=2) - F.pairwise_distance(a, n, p=2) + opts['margin']).mean()
    if kind == 'mnrl':
        anchors, candidates = texts[0], torch.cat(texts[1:])
        scores = F.normalize(anchors, p=2, dim=1) @ F.normalize(candidates, p=2, dim=1).t() * opts['scale']
        return F.cross_entropy(scores, torch.arange(len(anchors)))
    if kind == 'mse':
        return F.mse_loss(emb, targets.repeat_interleave(k, 0) if k > 1 else targets)
    raise ValueError(kind)


def linear_warmup_lambda(warmup, total):
    """transformers.get_linear_schedule_with_warmup's lr_lambda."""
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return f


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def run(kind, case):
    torch.manual_seed(0)
    model = SentenceModel(MODEL_DIR)
    k, steps = case['textsPerExample'], case['steps']
    opts = LOSS_OPTIONS[kind]
    dim = model.dense[-1].linear.out_features
    classifier = None
    named = list(model.canonical_parameters())
    if kind == 'softmax':
        torch.manual_seed(CLASSIFIER_SEED)
        classifier = nn.Linear(3 * dim, opts['numLabels'])
        named += [('classifier.weight', classifier.weight), ('classifier.bias', classifier.bias)]
    classifier_init = None if classifier is None else {
        'shape': list(classifier.weight.shape), 'weight': floats(classifier.weight), 'bias': floats(classifier.bias)}
    groups = [
        {'params': [p for n, p in named if not any(nd in n for nd in NO_DECAY)], 'weight_decay': OPTIONS['weightDecay']},
        {'params': [p for n, p in named if any(nd in n for nd in NO_DECAY)], 'weight_decay': 0.0},
    ]
    total = len(steps)
    warmup = math.ceil(0.1 * total)
    optimizer = torch.optim.AdamW(groups, lr=OPTIONS['lr'], betas=tuple(OPTIONS['betas']), eps=OPTIONS['eps'])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear_warmup_lambda(warmup, total))
    params = [p for _, p in named]
    losses, norms, lrs, step0 = [], [], [], None
    for i, step in enumerate(steps):
        cu = step['cuSeqlens']
        sequences = [step['ids'][cu[j]:cu[j + 1]] for j in range(len(cu) - 1)]
        labels = torch.tensor(step['labels'], dtype=torch.get_default_dtype()) if 'labels' in step else None
        targets = torch.tensor(step['targets'], dtype=torch.get_default_dtype()) if 'targets' in step else None
        emb = model(sequences)
        loss = loss_value(kind, emb, k, labels, targets, classifier, opts)
        if i == 0:
            step0 = step0_dump(kind, emb, k, labels, targets, classifier, opts)
        optimizer.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, OPTIONS['maxGradNorm'])
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        norms.append(norm.item())
    final = {n: p.detach().clone() for n, p in model.canonical_parameters()}
    initial = dict(SentenceModel(MODEL_DIR).canonical_parameters())
    moved = max((final[n] - initial[n].detach()).abs().max().item() for n in final)
    summary = {
        'loss': kind,
        'note': 'written by tools/reference/train_reference.py (torch %s)' % torch.__version__,
        'model': 'test/fixtures/train-small',
        'options': dict(OPTIONS, warmupSteps=warmup, totalSteps=total, textsPerExample=k,
                        examplesPerStep=case['examplesPerStep'], dropout=False, **opts),
        'classifierInit': classifier_init,
        'learningRates': lrs,
        'losses': losses,
        'gradNorms': norms,
        'maxWeightChange': moved,
    }
    return summary, final, step0


def step0_dump(kind, emb, k, labels, targets, classifier, opts):
    """The loss and its gradients on step 0's embeddings, recomputed in float64."""
    e = emb.detach().double().requires_grad_(True)
    cls = None
    if classifier is not None:
        cls = nn.Linear(classifier.in_features, classifier.out_features).double()
        with torch.no_grad():
            cls.weight.copy_(classifier.weight)
            cls.bias.copy_(classifier.bias)
    value = loss_value(kind, e, k, None if labels is None else labels.double(),
                       None if targets is None else targets.double(), cls, opts)
    value.backward()
    out = {
        'loss': kind, 'dim': e.shape[1], 'textsPerExample': k, 'examples': e.shape[0] // k,
        **opts,
        'loss_value': value.item(),
        'embeddings': floats(emb),
        'dEmbeddings': floats(e.grad),
    }
    if labels is not None:
        out['labels'] = floats(labels)
    if targets is not None:
        out['targets'] = floats(targets)
    if cls is not None:
        out['classifierWeight'] = floats(classifier.weight)
        out['classifierBias'] = floats(classifier.bias)
        out['dClassifierWeight'] = floats(cls.weight.grad)
        out['dClassifierBias'] = floats(cls.bias.grad)
    return out


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')


def main():
    torch.set_num_threads(1)
    diff = check_bert_forward()
    print(f'plain BertModel vs transformers (headdim64-f32): max abs diff {diff:.2e}')
    cases = read_json(CASES)
    for kind in LOSS_OPTIONS:
        summary, final, step0 = run(kind, cases['losses'][kind])
        write_json(os.path.join(OUT_DIR, f'{kind}.json'), summary)
        write_json(os.path.join(OUT_DIR, f'{kind}-step0.json'), step0)
        save_file(final, os.path.join(OUT_DIR, f'{kind}-final.safetensors'), metadata={'format': 'pt'})
        print(f'{kind:8s} losses {summary["losses"][0]:.5f} → {summary["losses"][-1]:.5f}, '
              f'grad norms {summary["gradNorms"][0]:.3f} … {summary["gradNorms"][-1]:.3f}, '
              f'max weight change {summary["maxWeightChange"]:.2e}')


if __name__ == '__main__':
    main()
