#!/usr/bin/env python3
"""The int8 CPU peer of bench/encode-cpu.js (issue 28): PyTorch dynamic quantization.

A plain-PyTorch BertModel (tools/reference/torch_bert.py's, no `transformers` needed) with the weights of a
sentence-transformers folder (default bench/.models/minilm-l6-random), every nn.Linear replaced
by torch.quantization.quantize_dynamic (qint8 weights per tensor, activations quantized per batch
at run time), encoding STSb sentences with mean pooling + L2 normalize. Token ids come from OUR
tokenizer (tools/reference/tokenize_ids.js, needs dist/), so both engines see the same ids;
tokenization is therefore outside the timed region here (ours includes it: see encode-cpu.js's
tokenizeMs). Batches of --batch sentences, padded per batch, in input order or length-sorted.

  node bench/make-minilm.js && npx tsc -p tsconfig.json     # once
  /usr/bin/python3 bench/peers/torch_int8_encode.py [--model DIR] [--n 2000] [--threads N]
      [--reps 3] [--batch 32] [--order sorted|input] [--dtype int8|fp32] [--engine onednn|fbgemm|x86|qnnpack]
      [--sentences-json FILE|-] [--emit-embeddings FILE.f32]

Prints a human line per run and one JSON line (sentPerSec = sentences / median pass time, the
passes, the quantization engine, torch's version and threads, and the cosine of the int8
embeddings to the same model's fp32 ones: min / mean over the sentences). --sentences-json takes
the sentence list from a file or stdin instead of reading STSb; --emit-embeddings writes the
embeddings as raw little-endian float32 [n, dim] (for encode-cpu.js's agreement check).

Engine: x86 / fbgemm where the build has FBGEMM (pip wheels). Debian's python3-torch 1.13 has
neither (USE_FBGEMM off, generic BLAS): there a quantized Linear of 2048×384 by 384×1152 ran at
10 GOP/s on qnnpack and 3.9 on onednn, against 36-40 GOP/s for the same build's fp32 Linear
(2 threads) — so on that build this peer measures the build, not int8 inference; qnnpack is the
faster of the two and the default there.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'reference'))
from torch_bert import BertModel, canonical, read_safetensors  # noqa: E402


def stsb_sentences(n):
    """The first n unique STSb sentences, in order of first appearance (bench/stsb.js's rule)."""
    cands = [os.environ.get('STSB_DIR'), os.path.join(ROOT, '..', '..', 'shared', 'data', 'stsbenchmark'),
             '/work/shared/data/stsbenchmark']
    d = next((c for c in cands if c and os.path.exists(os.path.join(c, 'sts-train.csv'))), None)
    if d is None:
        raise SystemExit('STS Benchmark not found (set STSB_DIR)')
    seen, out = set(), []
    for split in ('train', 'dev', 'test'):
        with open(os.path.join(d, f'sts-{split}.csv'), encoding='utf-8') as f:
            for line in f.read().split('\n'):
                cols = line.split('\t')
                if len(cols) < 7:
                    continue
                for s in (cols[5], cols[6]):
                    if s in seen:
                        continue
                    seen.add(s)
                    out.append(s)
                    if len(out) == n:
                        return out
    return out


def load_model(model_dir):
    with open(os.path.join(model_dir, 'config.json')) as f:
        cfg = json.load(f)
    tensors = {}
    for name in sorted(os.listdir(model_dir)):
        if name.endswith('.safetensors'):
            tensors.update(read_safetensors(os.path.join(model_dir, name)))
    st = {canonical(k): v for k, v in tensors.items()}
    st = {k: v for k, v in st.items() if not k.startswith('pooler.') and k != 'embeddings.position_ids'}
    torch.manual_seed(0)
    model = BertModel(cfg).eval()
    missing, unexpected = model.load_state_dict(st, strict=False)
    if missing or unexpected:
        raise SystemExit(f'weights do not match the config: missing {missing}, unexpected {unexpected}')
    max_len = 256
    sb = os.path.join(model_dir, 'sentence_bert_config.json')
    if os.path.exists(sb):
        with open(sb) as f:
            max_len = json.load(f).get('max_seq_length', max_len)
    return model, max_len


def tokenize(model_dir, sentences, max_len):
    req = json.dumps({'model': model_dir, 'maxLength': max_len, 'sentences': sentences})
    out = subprocess.run(['node', os.path.join(ROOT, 'tools', 'reference', 'tokenize_ids.js')], input=req, capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)['ids']


def batches(ids, size, order):
    idx = list(range(len(ids)))
    if order == 'sorted':
        idx.sort(key=lambda i: -len(ids[i]))
    for i in range(0, len(idx), size):
        yield idx[i:i + size]


def encode(model, ids, batch, order):
    """Mean-pooled, L2-normalized embeddings in input order."""
    out = None
    with torch.inference_mode():
        for b in batches(ids, batch, order):
            s = max(len(ids[i]) for i in b)
            inp = torch.zeros(len(b), s, dtype=torch.long)
            am = torch.zeros(len(b), s, dtype=torch.long)
            for j, i in enumerate(b):
                inp[j, :len(ids[i])] = torch.tensor(ids[i])
                am[j, :len(ids[i])] = 1
            h = model(inp, am, torch.zeros_like(inp))
            m = am.unsqueeze(-1).to(h.dtype)
            e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            e = torch.nn.functional.normalize(e, dim=-1)
            if out is None:
                out = torch.empty(len(ids), e.shape[1])
            out[torch.tensor(b)] = e
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default=os.path.join(ROOT, 'bench', '.models', 'minilm-l6-random'))
    ap.add_argument('--n', type=int, default=2000)
    ap.add_argument('--threads', type=int, default=0, help='torch.set_num_threads (default: the CPU count)')
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--order', choices=['sorted', 'input'], default='sorted')
    ap.add_argument('--dtype', choices=['int8', 'fp32'], default='int8')
    ap.add_argument('--engine', default=None, help='torch.backends.quantized.engine (default: the best available)')
    ap.add_argument('--sentences-json', default=None)
    ap.add_argument('--emit-embeddings', default=None)
    a = ap.parse_args()

    threads = a.threads or (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    engines = torch.backends.quantized.supported_engines
    engine = a.engine or next((e for e in ('x86', 'fbgemm', 'qnnpack', 'onednn') if e in engines), None)
    if a.dtype == 'int8':
        if engine not in engines:
            raise SystemExit(f'quantized engine {engine} not in this torch build ({engines})')
        torch.backends.quantized.engine = engine

    if a.sentences_json:
        src = sys.stdin if a.sentences_json == '-' else open(a.sentences_json, encoding='utf-8')
        sentences = json.load(src)
    else:
        sentences = stsb_sentences(a.n)
    model, max_len = load_model(a.model)
    ids = tokenize(a.model, sentences, max_len)
    tokens = sum(len(x) for x in ids)

    ref = encode(model, ids, a.batch, a.order)  # fp32, for the int8 agreement
    if a.dtype == 'int8':
        t0 = time.perf_counter()
        model = torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
        quant_ms = (time.perf_counter() - t0) * 1e3
    else:
        quant_ms = 0.0
    emb = encode(model, ids, a.batch, a.order)  # warm-up
    times = []
    for _ in range(a.reps):
        t = time.perf_counter()
        emb = encode(model, ids, a.batch, a.order)
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    cos = (emb * ref).sum(-1).numpy()
    if a.emit_embeddings:
        np.ascontiguousarray(emb.numpy(), dtype='<f4').tofile(a.emit_embeddings)
    res = {
        'peer': f'pytorch {a.dtype}' + (' quantize_dynamic' if a.dtype == 'int8' else ''),
        'engine': engine if a.dtype == 'int8' else None,
        'torch': torch.__version__, 'threads': threads, 'sentences': len(sentences), 'tokens': tokens,
        'batch': a.batch, 'order': a.order, 'sentPerSec': len(sentences) / med,
        'passesMs': [round(t * 1e3, 1) for t in times], 'quantizeMs': round(quant_ms, 1),
        'cosToFp32Min': float(cos.min()), 'cosToFp32Mean': float(cos.mean()),
    }
    print(f'{res["peer"]} ({engine or "fp32"}, torch {torch.__version__}, {threads} threads, batches of '
          f'{a.batch} {a.order}): {res["sentPerSec"]:.1f} sent/s over {len(sentences)} sentences '
          f'({tokens} tokens), median of {a.reps}; cosine to fp32 min {cos.min():.5f} mean {cos.mean():.5f}')
    print(json.dumps(res))


if __name__ == '__main__':
    main()
