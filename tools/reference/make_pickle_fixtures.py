#!/usr/bin/python3
"""Writes test/fixtures/pickle/: pytorch_model.bin files made by real torch (Debian's
python3-torch 1.13: run with /usr/bin/python3), the values torch reads back from them (JSON, so
the tests compare our reader with torch, not with itself), and malicious pickles that a
restricted unpickler must refuse.

  tiny-f16/pytorch_model.bin   test/fixtures/tiny's encoder as BertForMaskedLM would save it:
                               `bert.` prefix, F16 (half the bytes of F32; torch rounds), the
                               `cls.predictions.decoder.weight` tied to (sharing the storage of)
                               the word embeddings, an int64 `position_ids` buffer. Zip format.
  dense/                       a sentence-transformers Dense module 32 -> 16 (tanh, bias):
                               config.json, pytorch_model.bin (zip), expected.json (torch's values)
  dense-legacy/                the same Dense weights in the pre-1.6 legacy format
                               (_use_new_zipfile_serialization=False) and its config.json
  dtypes.bin, dtypes.json      one tensor per storage type, a transposed (non-contiguous) view,
                               a slice with a storage offset, a 0-d scalar, an empty tensor and
                               an nn.Parameter (torch._utils._rebuild_parameter), with the values
  evil/*.pkl, evil/*.bin       pickles that would run code (os.system / posix.system reduce,
                               builtins.eval, INST and OBJ opcodes, protocol-4 STACK_GLOBAL,
                               a storage type that is not a torch storage, a torch zip whose
                               data.pkl calls os.system). Their command only writes a marker
                               file, so a test can also check that nothing ran.

Usage: /usr/bin/python3 tools/reference/make_pickle_fixtures.py   (from the repository root)
"""
import collections
import io
import json
import os
import pickle
import struct
import zipfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = os.path.join(ROOT, 'test', 'fixtures', 'tiny')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'pickle')
MARKER = '/tmp/sbert-native-pickle-pwned'


def read_safetensors(path):
    """The safetensors format by hand (Debian has no python3-safetensors): F32 tensors only."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    out = collections.OrderedDict()
    for name, e in header.items():
        if name == '__metadata__':
            continue
        assert e['dtype'] == 'F32', (name, e['dtype'])
        b, end = e['data_offsets']
        arr = np.frombuffer(data[8 + n + b:8 + n + end], dtype='<f4').reshape(e['shape'])
        out[name] = torch.from_numpy(arr.copy())
    return out


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1)
        f.write('\n')


def values(t):
    """Flat row-major values as JSON numbers (bool → 0/1)."""
    t = t.detach().contiguous().flatten()
    if t.dtype == torch.bool:
        return [int(v) for v in t.tolist()]
    if t.dtype in (torch.float16, torch.bfloat16):
        return [float(v) for v in t.float().tolist()]
    return t.tolist()


def tiny_f16():
    st = read_safetensors(os.path.join(TINY, 'model.safetensors'))
    sd = collections.OrderedDict()
    for name, t in st.items():
        if name.startswith('pooler.'):
            continue
        sd['bert.' + name] = t.half()
    words = sd['bert.embeddings.word_embeddings.weight']
    sd['cls.predictions.decoder.weight'] = words  # tied: the same storage, saved once
    sd['bert.embeddings.position_ids'] = torch.arange(512, dtype=torch.int64).unsqueeze(0)
    d = os.path.join(OUT, 'tiny-f16')
    os.makedirs(d, exist_ok=True)
    torch.save(sd, os.path.join(d, 'pytorch_model.bin'))


DENSE_CONFIG = {'in_features': 32, 'out_features': 16, 'bias': True,
                'activation_function': 'torch.nn.modules.activation.Tanh'}


def dense():
    gen = torch.Generator().manual_seed(15)
    linear = torch.nn.Linear(32, 16)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(16, 32, generator=gen) / 32 ** 0.5)
        linear.bias.copy_(torch.randn(16, generator=gen) * 0.1)
    sd = collections.OrderedDict((f'linear.{k}', v) for k, v in linear.state_dict().items())
    sd._metadata = linear.state_dict()._metadata  # as Module.state_dict() sets it: pickled with BUILD
    for name, legacy in (('dense', False), ('dense-legacy', True)):
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        write_json(os.path.join(d, 'config.json'), DENSE_CONFIG)
        torch.save(sd, os.path.join(d, 'pytorch_model.bin'), _use_new_zipfile_serialization=not legacy)
    loaded = torch.load(os.path.join(OUT, 'dense', 'pytorch_model.bin'))
    write_json(os.path.join(OUT, 'dense', 'expected.json'),
               {k: {'shape': list(v.shape), 'values': values(v)} for k, v in loaded.items()})


DTYPE_NAMES = {
    torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64',
    torch.int64: 'I64', torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8',
    torch.uint8: 'U8', torch.bool: 'BOOL',
}


def dtypes():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.375 - 1.5
    sd = collections.OrderedDict()
    sd['f32'] = base.clone()
    sd['f16'] = (base / 3).half()
    sd['bf16'] = (base / 3).bfloat16()
    sd['f64'] = (base / 7).double()
    sd['i64'] = torch.tensor([-(2 ** 40), -1, 0, 7, 2 ** 40], dtype=torch.int64)
    sd['i32'] = torch.tensor([-(2 ** 31), -5, 0, 2 ** 31 - 1], dtype=torch.int32)
    sd['i16'] = torch.tensor([-32768, -3, 32767], dtype=torch.int16)
    sd['i8'] = torch.tensor([-128, -1, 0, 127], dtype=torch.int8)
    sd['u8'] = torch.tensor([0, 1, 200, 255], dtype=torch.uint8)
    sd['bool'] = torch.tensor([True, False, True], dtype=torch.bool)
    big = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    sd['transposed'] = big.t()              # stride (1, 6): not contiguous
    sd['row_slice'] = big[2:]               # storage offset 12 into big's storage
    sd['column_slice'] = big[:, 1:3]        # offset 1, stride (6, 1)
    sd['scalar'] = torch.tensor(2.5)
    sd['empty'] = torch.zeros(0, 3)
    sd['parameter'] = torch.nn.Parameter(torch.tensor([[0.25, -0.5]]), requires_grad=True)
    torch.save(sd, os.path.join(OUT, 'dtypes.bin'))
    loaded = torch.load(os.path.join(OUT, 'dtypes.bin'))
    write_json(os.path.join(OUT, 'dtypes.json'),
               {k: {'dtype': DTYPE_NAMES[v.dtype], 'shape': list(v.shape), 'values': values(v)} for k, v in loaded.items()})


class Reduce:
    """Pickles as `func(*args)`: what an attacker writes with __reduce__."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def evil():
    d = os.path.join(OUT, 'evil')
    os.makedirs(d, exist_ok=True)
    cmd = f'touch {MARKER}'

    def dump(name, data):
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)

    dump('os-system.pkl', pickle.dumps(Reduce(os.system, (cmd,)), protocol=2))
    dump('eval.pkl', pickle.dumps(Reduce(eval, (f"__import__('os').system('{cmd}')",)), protocol=2))
    # A state dict whose value is the payload: the reduce hides inside an allowed container.
    sd = collections.OrderedDict([('linear.weight', Reduce(os.system, (cmd,)))])
    dump('nested-in-ordereddict.pkl', pickle.dumps(sd, protocol=2))
    dump('stack-global-p4.pkl', pickle.dumps(Reduce(os.system, (cmd,)), protocol=4))
    # INST (protocol 0) and OBJ (protocol 1) call a class without REDUCE.
    arg = b'X' + struct.pack('<I', len(cmd)) + cmd.encode()
    dump('inst.pkl', b'(' + arg + b'ios\nsystem\n.')
    dump('obj.pkl', b'(cos\nsystem\n' + arg + b'o.')
    # builtins.getattr: the usual way from an allowed object to anything else.
    dump('getattr.pkl', b'cbuiltins\ngetattr\n(ccollections\nOrderedDict\nX\x08\x00\x00\x00__init__tR.')
    # A persistent id whose "storage type" is os.system.
    dump('evil-storage-type.pkl',
         b'\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagecos\nsystem\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x01tQK\x00K\x01\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR.')
    # A real torch zip layout whose data.pkl is the os.system payload.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as z:
        z.writestr('archive/data.pkl', pickle.dumps(Reduce(os.system, (cmd,)), protocol=2))
        z.writestr('archive/version', '3\n')
    dump('os-system-zip.bin', buf.getvalue())


def main():
    os.makedirs(OUT, exist_ok=True)
    tiny_f16()
    dense()
    dtypes()
    evil()
    print('wrote', OUT, 'with torch', torch.__version__)


if __name__ == '__main__':
    main()
