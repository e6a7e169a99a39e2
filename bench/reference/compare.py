#!/usr/bin/env python3
"""The summary table of bench/device-check.sh: agreement and throughput, ours vs
sentence-transformers, same card, same run, same sentences, same random weights.

Reads <work>/ours-results.json, <work>/st-results.json and the embeddings .npy files the two
sides wrote; prints one table and writes the JSON summary to --json.

  cosine(ours fp16, ST fp32)   per sentence, min and mean: our engine vs the reference
  cosine(ST fp16, ST fp32)     the same for the peer's own fp16 run (its noise floor)
  sentences/s                  best budget (ours) / best batch size (ST fp16), and their ratio

Usage: python3 bench/reference/compare.py --work DIR --json FILE [--card NAME] [--tests STATUS]
"""
import argparse
import json
import os

import numpy as np


def row_cosines(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    num = (a * b).sum(1)
    den = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    return num / np.maximum(den, 1e-30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True)
    ap.add_argument('--json', required=True)
    ap.add_argument('--card', default='?')
    ap.add_argument('--tests', default='?')
    a = ap.parse_args()
    with open(os.path.join(a.work, 'ours-results.json')) as f:
        ours = json.load(f)
    with open(os.path.join(a.work, 'st-results.json')) as f:
        st = json.load(f)
    summary = {'card': a.card, 'gpu_tests': a.tests, 'sentences': ours['sentences'],
               'ours_device': ours.get('deviceName'), 'models': {}}
    lines = []
    head = (f"{'model':<10} {'prec':<5} {'cos vs ST-fp32 min/mean':>24} {'ST-fp16 vs ST-fp32':>20} "
            f"{'ours sent/s':>12} {'ST fp16 sent/s':>15} {'ratio':>6}")
    lines.append(head)
    lines.append('-' * len(head))
    for name, by_prec in ours['models'].items():
        st_m = st['models'].get(name)
        ref = np.load(os.path.join(a.work, f'{name}-st-fp32.npy'))
        st16 = np.load(os.path.join(a.work, f'{name}-st-fp16.npy'))
        c_st = row_cosines(st16, ref)
        best_st_bs, best_st = max(st_m['runs'].items(), key=lambda kv: kv[1]['sentences_per_s'])
        summary['models'][name] = {
            'st_fp16_vs_fp32': {'min': float(c_st.min()), 'mean': float(c_st.mean())},
            'st_fp16': {bs: r['sentences_per_s'] for bs, r in st_m['runs'].items()},
            'st_best_batch_size': int(best_st_bs),
        }
        for prec, r in by_prec.items():
            emb = np.load(os.path.join(a.work, f'{name}-ours-{prec}.npy'))
            c = row_cosines(emb, ref)
            best_bt, best = max(r['runs'].items(), key=lambda kv: kv[1]['sentences_per_s'])
            ratio = best['sentences_per_s'] / best_st['sentences_per_s']
            summary['models'][name][prec] = {
                'cos_vs_st_fp32': {'min': float(c.min()), 'mean': float(c.mean())},
                'ours': {bt: x['sentences_per_s'] for bt, x in r['runs'].items()},
                'ours_best_batch_tokens': int(best_bt),
                'ratio_vs_st_fp16': ratio,
            }
            lines.append(f"{name:<10} {prec:<5} {c.min():>11.6f} / {c.mean():<10.6f} {c_st.min():>9.6f}/{c_st.mean():<9.6f} "
                         f"{best['sentences_per_s']:>12,.0f} {best_st['sentences_per_s']:>15,.0f} {ratio:>6.2f}")
    lines.append('')
    lines.append(f"card: {a.card}   sentences: {ours['sentences']}   GPU tests: {a.tests}")
    lines.append('ours: best of token budgets ' + ', '.join(
        f"{n}:{v[p]['ours_best_batch_tokens']}" for n, v in summary['models'].items() for p in v if isinstance(v[p], dict) and 'ours' in v[p]))
    lines.append('ST fp16 (model.half()): best of batch sizes ' + ', '.join(
        f"{n}:{v['st_best_batch_size']}" for n, v in summary['models'].items()))
    print('\n'.join(lines))
    with open(a.json, 'w') as f:
        json.dump(summary, f, indent=2)


if __name__ == '__main__':
    main()
