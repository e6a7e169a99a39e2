#!/usr/bin/env python3
"""Which activation quantization should the int8 CPU GEMM use? A fake-quant experiment in PyTorch.

Runs a sentence-transformers BERT folder (default: models/default-en, the bundled model) over the
STSb sentences with every nn.Linear of the encoder replaced by a simulated int8 Linear —
weights symmetric int8 per output channel (scale = max|w|/127), activations quantized
dynamically per token row or per tensor (the whole batch's valid tokens), symmetric
([-127, 127]) or asymmetric (u8 with a zero point, range widened to include 0) — and prints,
per scheme, the cosine of each sentence embedding to the fp32 one (min / mean) and STSb-test
Spearman x100. The quantize/dequantize arithmetic is exact here (float64), so the numbers are
the scheme's own cost, not a kernel's.

  npx tsc -p tsconfig.json     # the token ids come from our tokenizer (dist/)
  /usr/bin/python3 bench/int8_scheme_accuracy.py [--model DIR] [--n 2000] [--batch 64]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'reference'))
from torch_bert import BertModel, canonical, read_safetensors  # noqa: E402


def stsb_rows(split):
    d = os.environ.get('STSB_DIR', '/work/shared/data/stsbenchmark')
    rows = []
    with open(os.path.join(d, f'sts-{split}.csv'), encoding='utf-8') as f:
        for line in f:
            c = line.rstrip('\n').split('\t')
            if len(c) >= 7:
                rows.append((c[5], c[6], float(c[4])))
    return rows


def load_st(model_dir):
    with open(os.path.join(model_dir, 'config.json')) as f:
        cfg = json.load(f)
    tensors = {}
    for name in sorted(os.listdir(model_dir)):
        if name.endswith('.safetensors'):
            tensors.update(read_safetensors(os.path.join(model_dir, name)))
    st = {canonical(k): v for k, v in tensors.items()}
    st = {k: v for k, v in st.items() if not k.startswith('pooler.') and k != 'embeddings.position_ids'}
    model = BertModel(cfg).eval()
    missing, unexpected = model.load_state_dict(st, strict=False)
    if missing or unexpected:
        raise SystemExit(f'weights do not match: missing {missing}, unexpected {unexpected}')
    dense = None
    ddir = os.path.join(model_dir, '2_Dense')
    if os.path.isdir(ddir):
        dt = read_safetensors(os.path.join(ddir, 'model.safetensors'))
        dense = (dt['linear.weight'], dt.get('linear.bias'))
    with open(os.path.join(model_dir, 'sentence_bert_config.json')) as f:
        max_len = json.load(f)['max_seq_length']
    return model, dense, max_len


def tokenize(model_dir, sentences, max_len):
    req = json.dumps({'model': model_dir, 'maxLength': max_len, 'sentences': sentences})
    out = subprocess.run(['node', os.path.join(ROOT, 'tools', 'reference', 'tokenize_ids.js')], input=req,
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)['ids']


def quant_act(x, scheme, valid):
    """x [b, s, k] float64; valid [b, s] bool. Returns the dequantized activations."""
    gran, sym = scheme
    if gran == 'row':
        amax = x.abs().amax(-1, keepdim=True)
        lo = x.amin(-1, keepdim=True).clamp(max=0)
        hi = x.amax(-1, keepdim=True).clamp(min=0)
    else:
        xv = x[valid]
        amax = xv.abs().max().reshape(1, 1, 1)
        lo = xv.min().clamp(max=0).reshape(1, 1, 1)
        hi = xv.max().clamp(min=0).reshape(1, 1, 1)
    if sym:
        s = amax / 127
        inv = torch.where(s > 0, 1 / s, torch.zeros_like(s))
        return torch.clamp(torch.round(x * inv), -127, 127) * s
    s = (hi - lo) / 255
    inv = torch.where(s > 0, 1 / s, torch.zeros_like(s))
    zp = torch.clamp(torch.round(-lo * inv), 0, 255)
    return (torch.clamp(torch.round(x * inv) + zp, 0, 255) - zp) * s


class FakeQuantLinear(nn.Module):
    def __init__(self, lin, state):
        super().__init__()
        w = lin.weight.detach().double()
        s = w.abs().amax(1, keepdim=True) / 127
        inv = torch.where(s > 0, 1 / s, torch.zeros_like(s))
        self.wq = (torch.clamp(torch.round(w * inv), -127, 127) * s)
        self.w = w
        self.b = lin.bias.detach().double()
        self.state = state

    def forward(self, x):
        scheme = self.state['scheme']
        if scheme is None:
            return (x.double() @ self.w.T + self.b).float()
        xq = quant_act(x.double(), scheme, self.state['valid'])
        return (xq @ self.wq.T + self.b).float()


def embed(model, dense, ids_list, state, batch):
    outs = []
    for i in range(0, len(ids_list), batch):
        chunk = ids_list[i:i + batch]
        s = max(len(x) for x in chunk)
        ids = torch.zeros(len(chunk), s, dtype=torch.long)
        am = torch.zeros(len(chunk), s, dtype=torch.long)
        for j, x in enumerate(chunk):
            ids[j, :len(x)] = torch.tensor(x)
            am[j, :len(x)] = 1
        state['valid'] = am.bool()
        with torch.no_grad():
            h = model(ids, am, torch.zeros_like(ids)).double()
        m = am.double().unsqueeze(-1)
        e = (h * m).sum(1) / m.sum(1)
        if dense is not None:
            e = e @ dense[0].double().T + (dense[1].double() if dense[1] is not None else 0)
        outs.append(e / e.norm(dim=-1, keepdim=True))
    return torch.cat(outs)


def spearman(a, b):
    ra = np.argsort(np.argsort(a)).astype(np.float64)
    rb = np.argsort(np.argsort(b)).astype(np.float64)
    return float(np.corrcoef(ra, rb)[0, 1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default=os.path.join(ROOT, 'models', 'default-en'))
    ap.add_argument('--n', type=int, default=2000)
    ap.add_argument('--batch', type=int, default=64)
    a = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model, dense, max_len = load_st(a.model)
    state = {'scheme': None, 'valid': None}
    for layer in model.encoder.layer:
        att = layer.attention
        att.self.query = FakeQuantLinear(att.self.query, state)
        att.self.key = FakeQuantLinear(att.self.key, state)
        att.self.value = FakeQuantLinear(att.self.value, state)
        att.output.dense = FakeQuantLinear(att.output.dense, state)
        layer.intermediate.dense = FakeQuantLinear(layer.intermediate.dense, state)
        layer.output.dense = FakeQuantLinear(layer.output.dense, state)

    seen, sents = set(), []
    for split in ('train', 'dev', 'test'):
        for s1, s2, _ in stsb_rows(split):
            for s in (s1, s2):
                if s not in seen and len(sents) < a.n:
                    seen.add(s)
                    sents.append(s)
    test = stsb_rows('test')
    test_sents = sorted({s for r in test for s in r[:2]})
    idx = {s: i for i, s in enumerate(test_sents)}
    ids = tokenize(a.model, sents, max_len)
    tids = tokenize(a.model, test_sents, max_len)
    gold = np.array([r[2] for r in test])

    def run(scheme):
        state['scheme'] = scheme
        e = embed(model, dense, ids, state, a.batch)
        t = embed(model, dense, tids, state, a.batch)
        pred = np.array([float(t[idx[r[0]]] @ t[idx[r[1]]]) for r in test])
        return e, 100 * spearman(pred, gold)

    ref, ref_sp = run(None)
    print(f'model {a.model}: {len(sents)} STSb sentences (batches of {a.batch}); STSb-test Spearman fp32 {ref_sp:.2f}')
    print(f'{"activations":<28} {"cos min":>9} {"cos mean":>9} {"STSb-test":>9} {"delta":>7}')
    results = {'fp32': ref_sp}
    for scheme in (('row', True), ('row', False), ('tensor', True), ('tensor', False)):
        e, sp = run(scheme)
        cos = (e * ref).sum(-1).numpy()
        name = f'per-{scheme[0]} {"symmetric s8" if scheme[1] else "asymmetric u8"}'
        print(f'{name:<28} {cos.min():9.5f} {cos.mean():9.5f} {sp:9.2f} {sp - ref_sp:+7.2f}')
        results[name] = {'cosMin': float(cos.min()), 'cosMean': float(cos.mean()), 'stsbTest': sp}
    print(json.dumps(results))


if __name__ == '__main__':
    main()
