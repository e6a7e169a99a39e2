#!/usr/bin/env python3
"""Dynamic int8 quantization of the bench model's ONNX graph: the int8 peer of encode-cpu.js.

What onnxruntime's `quantize_dynamic` does (and so sentence-transformers'
`export_dynamic_quantized_onnx_model` and transformers.js' `dtype: 'q8'` files), written with the
`onnx` package alone: Debian packages python3-onnx but not onnxruntime's Python tooling.

Every MatMul whose second input is a 2-D initializer (the Linear weights; attention's two
MatMuls are left alone) becomes

    DynamicQuantizeLinear(A) -> A_q (uint8), A_scale, A_zero_point     (once per input tensor)
    MatMulInteger(A_q, W_q, A_zero_point, W_zero_point) -> int32
    Cast(to float) ; Mul(A_scale * W_scale)

with W_q int8, symmetric (zero point 0), scale max|W| / 127 per tensor (quantize_dynamic's
default, QInt8 weights) or, with --per-channel, per output column. onnxruntime's graph optimizer
fuses the pattern into DynamicQuantizeMatMul (its MLAS int8 GEMM: AVX2 / AVX512-VNNI / AMX).

  /usr/bin/python3 bench/quantize_onnx.py [model_dir] [--per-channel]

reads <model_dir>/onnx/model.onnx (bench/export_onnx.py) and writes
<model_dir>/onnx/model_quantized.onnx, where transformers.js looks for dtype 'q8'.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def quantize(model, per_channel):
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    nodes = []
    quantized_inputs = {}  # activation tensor name -> (q, scale, zero point)
    replaced = 0
    drop = set()
    new_inits = []
    for node in graph.node:
        w = inits.get(node.input[1]) if node.op_type == 'MatMul' and len(node.input) == 2 else None
        if w is None or len(w.dims) != 2:
            nodes.append(node)
            continue
        W = numpy_helper.to_array(w).astype(np.float32)  # [K, N]
        amax = np.abs(W).max(axis=0) if per_channel else np.array(np.abs(W).max(), dtype=np.float32)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        Wq = np.clip(np.rint(W / scale), -127, 127).astype(np.int8)
        base = node.name or node.output[0]
        wq_name, ws_name, wz_name = f'{base}_Wq', f'{base}_Wscale', f'{base}_Wzp'
        new_inits += [
            numpy_helper.from_array(Wq, wq_name),
            numpy_helper.from_array(scale, ws_name),
            numpy_helper.from_array(np.zeros(scale.shape, dtype=np.int8), wz_name),
        ]
        drop.add(w.name)
        a = node.input[0]
        if a not in quantized_inputs:
            q = (f'{a}_quantized', f'{a}_scale', f'{a}_zero_point')
            nodes.append(helper.make_node('DynamicQuantizeLinear', [a], list(q), name=f'{a}_DynamicQuantizeLinear'))
            quantized_inputs[a] = q
        aq, ascale, azp = quantized_inputs[a]
        nodes += [
            helper.make_node('MatMulInteger', [aq, wq_name, azp, wz_name], [f'{base}_int32'], name=f'{base}_MatMulInteger'),
            helper.make_node('Cast', [f'{base}_int32'], [f'{base}_float'], to=TensorProto.FLOAT, name=f'{base}_Cast'),
            helper.make_node('Mul', [ascale, ws_name], [f'{base}_scale'], name=f'{base}_ScaleMul'),
            helper.make_node('Mul', [f'{base}_float', f'{base}_scale'], [node.output[0]], name=f'{base}_Mul'),
        ]
        replaced += 1
    # Weights still used elsewhere (none in BERT) are kept.
    used = {x for n in nodes for x in n.input}
    keep = [i for i in graph.initializer if i.name not in drop or i.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(keep + new_inits)
    return replaced


def main():
    argv = [a for a in sys.argv[1:] if not a.startswith('--')]
    per_channel = '--per-channel' in sys.argv
    model_dir = os.path.abspath(argv[0] if argv else os.path.join(HERE, '.models', 'minilm-l6-random'))
    src = os.path.join(model_dir, 'onnx', 'model.onnx')
    if not os.path.exists(src):
        raise SystemExit(f'{src} missing: run /usr/bin/python3 bench/export_onnx.py first')
    model = onnx.load(src)
    n = quantize(model, per_channel)
    onnx.checker.check_model(model)
    out = os.path.join(model_dir, 'onnx', 'model_quantized.onnx')
    onnx.save(model, out)
    print(f'wrote {out} ({os.path.getsize(out) / 1e6:.1f} MB; {n} MatMuls quantized, int8 weights '
          f'{"per output channel" if per_channel else "per tensor"}, uint8 dynamic activations per tensor; onnx {onnx.__version__})')


if __name__ == '__main__':
    main()
