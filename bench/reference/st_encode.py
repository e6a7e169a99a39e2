#!/usr/bin/env python3
"""The sentence-transformers side of the GPU benchmark (bench/device-check.sh).

For each model folder: loads SentenceTransformer on the GPU, encodes the sentences once in fp32
(the numerical reference: <out>/<model>-st-fp32.npy), then converts the model to fp16
(model.half(), what people run in production), warms up, and times full passes over all the
sentences at batch sizes 32 / 128 / 512 (CUDA synchronised, median of --reps passes). Saves the
fp16 embeddings of batch size 128 (<out>/<model>-st-fp16.npy) and one JSON with the timings
(<out>/st-results.json). sentence-transformers sorts by length inside encode(); that is part
of its normal behaviour and stays inside the timed region.

Usage: python3 bench/reference/st_encode.py --models DIR[,DIR] --sentences FILE --out DIR
                                            [--batch-sizes 32,128,512] [--reps 3]
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer


def timed_encode(model, sentences, batch_size):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    emb = model.encode(sentences, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)
    torch.cuda.synchronize()
    return time.perf_counter() - t0, np.asarray(emb, dtype=np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', required=True)
    ap.add_argument('--sentences', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--batch-sizes', default='32,128,512')
    ap.add_argument('--reps', type=int, default=3)
    a = ap.parse_args()
    with open(a.sentences, encoding='utf-8') as f:
        sentences = [line.rstrip('\n') for line in f if line.strip()]
    os.makedirs(a.out, exist_ok=True)
    results = {'torch': torch.__version__, 'card': torch.cuda.get_device_name(0), 'sentences': len(sentences),
               'models': {}}
    for model_dir in a.models.split(','):
        name = os.path.basename(model_dir.rstrip('/'))
        model = SentenceTransformer(model_dir, device='cuda')
        model.eval()
        with torch.inference_mode():
            _, ref = timed_encode(model, sentences, 128)
            np.save(os.path.join(a.out, f'{name}-st-fp32.npy'), ref)
            model.half()
            timed_encode(model, sentences[:2000], 128)  # warm-up (kernels, allocator)
            runs = {}
            for bs in [int(x) for x in a.batch_sizes.split(',')]:
                times = []
                for _ in range(a.reps):
                    dt, emb = timed_encode(model, sentences, bs)
                    times.append(dt)
                    if bs == 128:
                        np.save(os.path.join(a.out, f'{name}-st-fp16.npy'), emb)
                med = statistics.median(times)
                runs[str(bs)] = {'seconds': med, 'sentences_per_s': len(sentences) / med, 'all_seconds': times}
                print(f'st {name} fp16 batch_size={bs}: {len(sentences) / med:,.0f} sentences/s', flush=True)
        results['models'][name] = {'dim': int(ref.shape[1]), 'runs': runs}
        del model
        torch.cuda.empty_cache()
    with open(os.path.join(a.out, 'st-results.json'), 'w') as f:
        json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
