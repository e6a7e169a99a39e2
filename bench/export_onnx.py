#!/usr/bin/env python3
"""Exports the bench model (bench/make-minilm.js) to ONNX for the CPU benchmark's peers.

Builds HF BertModel in plain PyTorch (tools/reference/torch_bert.py: no `transformers`, no
`safetensors` package), loads model.safetensors, and exports last_hidden_state to
<model>/onnx/model.onnx, where transformers.js looks for it.

  /usr/bin/python3 bench/export_onnx.py [model_dir]      (default bench/.models/minilm-l6-random)

Inputs input_ids, attention_mask, token_type_ids: int64 [batch, sequence] (both axes dynamic);
output last_hidden_state: float32 [batch, sequence, hidden].
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tools', 'reference'))
from torch_bert import load_bert  # noqa: E402


def main():
    model_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '.models', 'minilm-l6-random'))
    torch.manual_seed(0)
    try:
        model = load_bert(model_dir)
    except ValueError as e:
        raise SystemExit(str(e))

    # Sanity: padding must not change the valid positions (additive mask works), and output is finite.
    ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 1037, 2158, 2003, 2652, 102]], dtype=torch.long)
    am = (ids != 0).long()
    tt = torch.zeros_like(ids)
    with torch.no_grad():
        y = model(ids, am, tt)
        y0 = model(ids[:1, :4], am[:1, :4], tt[:1, :4])
    diff = (y[0, :4] - y0[0]).abs().max().item()
    assert torch.isfinite(y).all() and diff < 1e-4, f'padding changes outputs (max diff {diff})'

    out_dir = os.path.join(model_dir, 'onnx')
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, 'model.onnx')
    dyn = {0: 'batch_size', 1: 'sequence_length'}
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, am, tt),
            out,
            input_names=['input_ids', 'attention_mask', 'token_type_ids'],
            output_names=['last_hidden_state'],
            dynamic_axes={'input_ids': dyn, 'attention_mask': dyn, 'token_type_ids': dyn, 'last_hidden_state': dyn},
            opset_version=14,
            do_constant_folding=True,
        )
    print(f'wrote {out} ({os.path.getsize(out) / 1e6:.1f} MB; torch {torch.__version__}, opset 14; '
          f'padding check max diff {diff:.2e})')


if __name__ == '__main__':
    main()
