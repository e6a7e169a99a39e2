#!/usr/bin/env python3
"""A plain-PyTorch BERT encoder (Hugging Face BertModel semantics) and a safetensors reader that
need neither `transformers` nor `safetensors`: Debian's python3-torch and numpy are enough. The
reference forward every generator in tools/reference/ builds on (and bench/export_onnx.py
exports for the CPU benchmark's peers); written from transformers' modeling_bert.py, nothing of
ours.

Semantics = transformers BertModel (absolute positions, eval mode):
  embeddings = LayerNorm(word[ids] + pos[0..S) + type[token_type_ids]), eps from config
  each layer (post-LN): a = LN(x + O(softmax(QK^T/sqrt(d) + mask) V)); x = LN(a + W2 gelu_erf(W1 a))
  mask: additive, (1 - attention_mask) * finfo(float32).min, broadcast over heads and queries

  read_safetensors(path)   {name: float32 tensor} (integer tensors keep their dtype)
  canonical(name)          checkpoint name -> BertModel name (drops bert./model./auto_model.,
                           LayerNorm gamma/beta -> weight/bias)
  load_bert(model_dir)     BertModel with the folder's weights (model.safetensors or the shards
                           of model.safetensors.index.json), eval mode
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn

DTYPES = {'F32': np.float32, 'F16': np.float16, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32}


def read_safetensors(path):
    with open(path, 'rb') as f:
        buf = f.read()
    (n,) = struct.unpack('<Q', buf[:8])
    header = json.loads(buf[8:8 + n].decode('utf-8'))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        if info['dtype'] not in DTYPES:
            raise ValueError(f'{name}: unsupported dtype {info["dtype"]}')
        a, b = info['data_offsets']
        arr = np.frombuffer(buf, dtype=DTYPES[info['dtype']], count=(b - a) // np.dtype(DTYPES[info['dtype']]).itemsize,
                            offset=base + a).reshape(info['shape'])
        out[name] = torch.from_numpy(arr.astype(np.float32 if arr.dtype.kind == 'f' else arr.dtype, copy=True))
    return out


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c['hidden_size']
        self.word_embeddings = nn.Embedding(c['vocab_size'], h)
        self.position_embeddings = nn.Embedding(c['max_position_embeddings'], h)
        self.token_type_embeddings = nn.Embedding(c['type_vocab_size'], h)
        self.LayerNorm = nn.LayerNorm(h, eps=c['layer_norm_eps'])

    def forward(self, input_ids, token_type_ids):
        seq = input_ids.shape[1]
        pos = torch.arange(seq, dtype=torch.long, device=input_ids.device).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.position_embeddings(pos) + self.token_type_embeddings(token_type_ids)
        return self.LayerNorm(x)


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c['hidden_size']
        self.heads = c['num_attention_heads']
        self.head_dim = h // self.heads
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)

    def forward(self, x, mask_add):
        b, s, h = x.shape
        split = lambda t: t.view(b, s, self.heads, self.head_dim).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask_add
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, h)
        return ctx


class SelfOutput(nn.Module):
    def __init__(self, c, inner):
        super().__init__()
        self.dense = nn.Linear(inner, c['hidden_size'])
        self.LayerNorm = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])

    def forward(self, y, residual):
        return self.LayerNorm(self.dense(y) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = SelfOutput(c, c['hidden_size'])

    def forward(self, x, mask_add):
        return self.output(self.self(x, mask_add), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        if c.get('hidden_act', 'gelu') != 'gelu':
            raise ValueError('only hidden_act "gelu" (exact erf GELU) is supported')
        self.dense = nn.Linear(c['hidden_size'], c['intermediate_size'])

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))  # exact erf GELU, as HF "gelu"


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = SelfOutput(c, c['intermediate_size'])

    def forward(self, x, mask_add):
        a = self.attention(x, mask_add)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c['num_hidden_layers'])])

    def forward(self, x, mask_add):
        for layer in self.layer:
            x = layer(x, mask_add)
        return x


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        if c.get('position_embedding_type', 'absolute') != 'absolute':
            raise ValueError('only absolute position embeddings are supported')
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        m = attention_mask.to(torch.float32)[:, None, None, :]
        mask_add = (1.0 - m) * torch.finfo(torch.float32).min
        return self.encoder(self.embeddings(input_ids, token_type_ids), mask_add)


def canonical(name):
    for p in ('bert.', 'model.', 'auto_model.'):
        if name.startswith(p):
            name = name[len(p):]
    if name.endswith('LayerNorm.gamma'):
        name = name[:-5] + 'weight'
    elif name.endswith('LayerNorm.beta'):
        name = name[:-4] + 'bias'
    return name


def load_bert(model_dir, dtype=torch.float32):
    """BertModel of <model_dir>/config.json with its weights (one file or an index of shards)."""
    with open(os.path.join(model_dir, 'config.json')) as f:
        cfg = json.load(f)
    index = os.path.join(model_dir, 'model.safetensors.index.json')
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)['weight_map'].values()))
    else:
        files = ['model.safetensors']
    weights = {}
    for name in files:
        weights.update(read_safetensors(os.path.join(model_dir, name)))
    st = {canonical(k): v for k, v in weights.items()}
    st = {k: v for k, v in st.items() if not k.startswith('pooler.') and k != 'embeddings.position_ids'}
    model = BertModel(cfg)
    missing, unexpected = model.load_state_dict(st, strict=False)
    if missing or unexpected:
        raise ValueError(f'{model_dir}: weights do not match the config: missing {missing}, unexpected {unexpected}')
    return model.to(dtype).eval()
