#!/usr/bin/env python3
"""The PyTorch side of bench/train-cpu.js: training steps per second of the same plain-PyTorch
BERT (tools/reference/torch_bert.py's BertModel, HF BertModel semantics) with sentence-transformers'
module chain (mean Pooling, Normalize when the model has it) and CosineSimilarityLoss, trained
as sentence-transformers' fit trains: each text column tokenized and PADDED TO ITS LONGEST
SEQUENCE per batch (smart_batching_collate), one forward per column, MSE(cos(u, v), label),
backward, clip_grad_norm_(1.0), torch.optim.AdamW (two groups, no decay on biases/LayerNorm),
LambdaLR linear warm-up schedule. Dropout is not applied (the model has none), matching the
run of ours it is compared with (dropout off).

Input: the JSON batches train-cpu.js writes (token ids from our tokenizer, identical to HF's):
  {"model": DIR, "steps": [{"a": [[ids]...], "b": [[ids]...], "labels": [...]}, ...]}
Output (last line of stdout): JSON {"stepMs": [...], "stepCpuMs": [...] (process CPU time), "warmupSteps": N, "examplesPerStep": B,
  "baselineRssMB": ..., "peakRssMB": ..., "threads": ..., "torch": version}

  /usr/bin/python3 bench/peers/train_speed.py BATCHES.json --threads N [--warmup 2]
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'tools', 'reference'))
from torch_bert import BertModel, canonical, read_safetensors  # noqa: E402

NO_DECAY = ('bias', 'LayerNorm.bias', 'LayerNorm.weight')  # SentenceTransformer.fit's list


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def pad(rows):
    """One column of a batch padded to its longest sequence, as the HF tokenizer pads."""
    s = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), s), dtype=torch.long)
    mask = torch.zeros((len(rows), s), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, :len(r)] = 1
    return ids, mask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('batches')
    ap.add_argument('--threads', type=int, required=True)
    ap.add_argument('--warmup', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.batches) as f:
        data = json.load(f)
    model_dir = data['model']
    with open(os.path.join(model_dir, 'config.json')) as f:
        cfg = json.load(f)
    with open(os.path.join(model_dir, 'modules.json')) as f:
        normalize = any(m['type'].endswith('Normalize') for m in json.load(f))
    torch.manual_seed(0)
    bert = BertModel(cfg)
    st = {canonical(k): v for k, v in read_safetensors(os.path.join(model_dir, 'model.safetensors')).items()}
    bert.load_state_dict({k: v for k, v in st.items() if not k.startswith('pooler.') and k != 'embeddings.position_ids'})
    bert.train()

    def embed(ids, mask):
        tok = bert(ids, mask, torch.zeros_like(ids))
        m = mask.unsqueeze(-1).to(tok.dtype)
        e = (tok * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return F.normalize(e, p=2, dim=1) if normalize else e

    named = list(bert.named_parameters())
    groups = [
        {'params': [p for n, p in named if not any(nd in n for nd in NO_DECAY)], 'weight_decay': 0.01},
        {'params': [p for n, p in named if any(nd in n for nd in NO_DECAY)], 'weight_decay': 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=2e-5, betas=(0.9, 0.999), eps=1e-6)
    total = len(data['steps'])
    warm = max(1, -(-total // 10))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: s / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm)))
    baseline = rss_mb()
    step_ms = []
    step_cpu_ms = []
    for step in data['steps']:
        t0 = time.perf_counter()
        c0 = time.process_time()
        a_ids, a_mask = pad(step['a'])
        b_ids, b_mask = pad(step['b'])
        labels = torch.tensor(step['labels'], dtype=torch.float32)
        optimizer.zero_grad()
        u, v = embed(a_ids, a_mask), embed(b_ids, b_mask)
        loss = F.mse_loss(torch.cosine_similarity(u, v), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(bert.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        step_ms.append((time.perf_counter() - t0) * 1000)
        step_cpu_ms.append((time.process_time() - c0) * 1000)
    print(json.dumps({
        'stepMs': step_ms, 'stepCpuMs': step_cpu_ms, 'warmupSteps': args.warmup, 'examplesPerStep': len(data['steps'][0]['labels']),
        'baselineRssMB': baseline, 'peakRssMB': rss_mb(), 'threads': torch.get_num_threads(), 'torch': torch.__version__,
        'lastLoss': float(loss),
    }))


if __name__ == '__main__':
    main()
