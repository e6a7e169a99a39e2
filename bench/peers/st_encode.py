#!/usr/bin/env python3
"""The sentence-transformers side of the GPU benchmark (bench/device-check.sh).

First, for every model folder, the numerical reference: SentenceTransformer on the GPU in fp32,
the sentences encoded once (<out>/<model>-st-fp32.npy). Then the timings, model by model: the
model converted to fp16 (model.half(), what people run in production), a warm-up, and full
passes over all the sentences at batch sizes 32 / 128 / 512 (CUDA synchronised, median of
--reps passes). Saves the fp16 embeddings of batch size 128 (<out>/<model>-st-fp16.npy) and
<out>/st-results.json, rewritten after each model, so a run cut short by the device check's
deadline still leaves the references and the timings done so far. sentence-transformers sorts by
length inside encode(); that is part of its normal behaviour and stays inside the timed region.
Offline: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are set (the folders are local; nothing is
fetched).

Usage: python3 bench/peers/st_encode.py --models DIR[,DIR] --sentences FILE --out DIR
                                            [--batch-sizes 32,128,512] [--reps 3]
"""
import argparse
import json
import os
import statistics
import time

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def timed_encode(model, sentences, batch_size):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    emb = model.encode(sentences, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)
    torch.cuda.synchronize()
    return time.perf_counter() - t0, np.asarray(emb, dtype=np.float32)


def name_of(model_dir):
    return os.path.basename(model_dir.rstrip('/'))


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
    dirs = a.models.split(',')
    # The reference is true fp32: no TF32 matrix products (PyTorch's default, set explicitly).
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_float32_matmul_precision('highest')
    for model_dir in dirs:
        model = SentenceTransformer(model_dir, device='cuda')
        model.eval()
        with torch.inference_mode():
            dt, ref = timed_encode(model, sentences, 128)
        np.save(os.path.join(a.out, f'{name_of(model_dir)}-st-fp32.npy'), ref)
        print(f'st {name_of(model_dir)} fp32 reference: {len(sentences) / dt:,.0f} sentences/s (one pass)', flush=True)
        del model
        torch.cuda.empty_cache()
    for model_dir in dirs:
        name = name_of(model_dir)
        model = SentenceTransformer(model_dir, device='cuda')
        model.eval()
        with torch.inference_mode():
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
        results['models'][name] = {'dim': int(emb.shape[1]), 'runs': runs}
        with open(os.path.join(a.out, 'st-results.json'), 'w') as f:
            json.dump(results, f, indent=2)
        del model
        torch.cuda.empty_cache()


if __name__ == '__main__':
    main()
