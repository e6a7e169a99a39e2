#!/usr/bin/env python3
"""The summary table of bench/device-check.sh: agreement and throughput, ours vs
sentence-transformers, same card, same run, same sentences, same random weights.

Reads <work>/ours-results.json, <work>/st-results.json (optional: the agreement needs only the
ST fp32 embeddings) and the embeddings .npy files the two sides wrote; prints one table and
writes the JSON summary to --json.

  cosine(ours fp16, ST fp32)   per sentence, min and mean: our engine vs the reference
  cosine(ST fp16, ST fp32)     the same for the peer's own fp16 run (its noise floor)
  sentences/s                  best budget (ours) / best batch size (ST fp16), and their ratio

Fails (exit 1) on wrong numbers, after writing the JSON: ours fp16/bf16 vs ST fp32 must reach a
per-sentence cosine of --min-cosine (default 0.999, DESIGN.md "Numerics") on EVERY sentence, fp32
0.99999; a NaN anywhere fails. The ST fp16 row is the peer's own noise floor, reported only.

Usage: python3 bench/peers/compare.py --work DIR --json FILE [--card NAME] [--tests STATUS]
                                          [--min-cosine 0.999]
"""
import argparse
import json
import os
import sys

import numpy as np


def row_cosines(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    num = (a * b).sum(1)
    den = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    c = num / np.maximum(den, 1e-30)
    return np.where(np.isfinite(c), c, -2.0)  # NaN/Inf rows fail any threshold


def strict_json(x):
    """NaN/Inf (a missing peer run) as null: the summary must stay strict JSON."""
    if isinstance(x, dict):
        return {k: strict_json(v) for k, v in x.items()}
    if isinstance(x, list):
        return [strict_json(v) for v in x]
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--work', required=True)
    ap.add_argument('--json', required=True)
    ap.add_argument('--card', default='?')
    ap.add_argument('--tests', default='?')
    ap.add_argument('--min-cosine', type=float, default=0.999)
    a = ap.parse_args()
    failures = []
    with open(os.path.join(a.work, 'ours-results.json')) as f:
        ours = json.load(f)
    st_path = os.path.join(a.work, 'st-results.json')  # absent when ST's timings did not finish
    st = {'models': {}}
    if os.path.exists(st_path):
        with open(st_path) as f:
            st = json.load(f)
    summary = {'card': a.card, 'gpu_tests': a.tests, 'sentences': ours['sentences'],
               'ours_device': ours.get('deviceName'), 'models': {}}
    lines = []
    head = (f"{'model':<10} {'prec':<5} {'cos vs ST-fp32 min/mean':>24} {'ST-fp16 vs ST-fp32':>20} "
            f"{'ours sent/s':>12} {'ST fp16 sent/s':>15} {'ratio':>6}")
    lines.append(head)
    lines.append('-' * len(head))
    for name, by_prec in ours['models'].items():
        ref_path = os.path.join(a.work, f'{name}-st-fp32.npy')
        if not os.path.exists(ref_path):
            failures.append(f'{name}: no sentence-transformers fp32 reference ({ref_path})')
            continue
        ref = np.load(ref_path)
        st_m = st['models'].get(name) or {}
        st_runs = st_m.get('runs') or {}
        st16_path = os.path.join(a.work, f'{name}-st-fp16.npy')
        c_st = row_cosines(np.load(st16_path), ref) if os.path.exists(st16_path) else np.array([np.nan])
        best_st_bs, best_st = max(st_runs.items(), key=lambda kv: kv[1]['sentences_per_s']) if st_runs else ('0', None)
        summary['models'][name] = {
            'st_fp16_vs_fp32': {'min': float(c_st.min()), 'mean': float(c_st.mean())},
            'st_fp16': {bs: r['sentences_per_s'] for bs, r in st_runs.items()},
            'st_best_batch_size': int(best_st_bs),
        }
        for prec, r in by_prec.items():
            emb = np.load(os.path.join(a.work, f'{name}-ours-{prec}.npy'))
            need = 0.99999 if prec == 'fp32' else a.min_cosine
            if emb.shape != ref.shape:
                failures.append(f'{name} {prec}: shape {emb.shape} vs ST {ref.shape}')
                continue
            c = row_cosines(emb, ref)
            if c.min() < need:
                failures.append(f'{name} {prec}: min cosine vs ST fp32 {c.min():.6f} < {need} '
                                f'(sentence {int(c.argmin())}; {int((c < need).sum())} of {len(c)} below)')
            best_bt, best = max(r['runs'].items(), key=lambda kv: kv[1]['sentences_per_s'])
            ratio = best['sentences_per_s'] / best_st['sentences_per_s'] if best_st else float('nan')
            summary['models'][name][prec] = {
                'cos_vs_st_fp32': {'min': float(c.min()), 'mean': float(c.mean()), 'threshold': need},
                'ours': {bt: x['sentences_per_s'] for bt, x in r['runs'].items()},
                'ours_best_batch_tokens': int(best_bt),
                'ratio_vs_st_fp16': ratio,
            }
            st_rate = best_st['sentences_per_s'] if best_st else float('nan')
            lines.append(f"{name:<10} {prec:<5} {c.min():>11.6f} / {c.mean():<10.6f} {c_st.min():>9.6f}/{c_st.mean():<9.6f} "
                         f"{best['sentences_per_s']:>12,.0f} {st_rate:>15,.0f} {ratio:>6.2f}")
    lines.append('')
    lines.append(f"card: {a.card}   sentences: {ours['sentences']}   GPU tests: {a.tests}")
    lines.append('ours: best of token budgets ' + ', '.join(
        f"{n}:{v[p]['ours_best_batch_tokens']}" for n, v in summary['models'].items() for p in v if isinstance(v[p], dict) and 'ours' in v[p]))
    lines.append('ST fp16 (model.half()): best of batch sizes ' + ', '.join(
        f"{n}:{v['st_best_batch_size']}" for n, v in summary['models'].items()))
    summary['pass'] = not failures
    summary['failures'] = failures
    for f in failures:
        lines.append(f'FAIL {f}')
    lines.append(f"agreement (min cosine >= {a.min_cosine} per sentence): {'pass' if not failures else 'FAIL'}")
    print('\n'.join(lines))
    with open(a.json, 'w') as f:
        json.dump(strict_json(summary), f, indent=2, allow_nan=False)
    if failures:
        sys.exit(1)


if __name__ == '__main__':
    main()
