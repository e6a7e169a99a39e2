#!/usr/bin/env python3
"""Plain-PyTorch encoders of the model families beyond BERT — RoBERTa / XLM-R / CamemBERT,
MPNet, DistilBERT — written from reading transformers' modeling_roberta.py, modeling_mpnet.py
and modeling_distilbert.py (nothing of ours), for the fixtures of tools/reference/
make_family_fixtures.py. Eval mode, batches padded on the right with an attention mask.

  RoBERTa   embeddings = LN(word[ids] + type[0] + pos[p]) with p = create_position_ids_from_input_ids:
            mask = ids != pad; p = cumsum(mask) * mask + pad (pad = config.pad_token_id)
            layers: BERT's post-LN layers (same module names)
  MPNet     embeddings = LN(word[ids] + pos[p]), p as RoBERTa with pad fixed at 1 (MPNetEmbeddings
            hard-codes padding_idx = 1); no token types.
            attention scores = QK^T / sqrt(d) + position_bias + mask, where position_bias[h, i, j] =
            relative_attention_bias[bucket(j - i), h] over the PADDED length (compute_position_bias
            is called without position ids: arange), bucket = relative_position_bucket with
            num_buckets 32 and max_distance 128 (hard-coded in MPNetEncoder.forward), in torch's
            float32 log as transformers computes it. Names attention.attn.{q,k,v,o},
            attention.LayerNorm, intermediate.dense, output.dense, output.LayerNorm,
            encoder.relative_attention_bias.
  DistilBERT embeddings = LN(word[ids] + pos[arange]), LN eps 1e-12; attention q / sqrt(d) before
            q·k^T, masked_fill(mask == 0, finfo.min); names transformer.layer.{i}.attention.
            {q,k,v,out}_lin, sa_layer_norm, ffn.lin1/lin2, output_layer_norm. Sinusoidal
            positions: create_sinusoidal_embeddings (numpy float64 → float32).

  BERT      (for a BERT body with another tokenizer, e.g. multilingual MiniLM's XLM-R Unigram)
            embeddings = LN(word[ids] + type[0] + pos[arange]); RoBERTa's layers and names.

All activations are the exact erf GELU (hidden_act / activation "gelu").

  build(family, cfg)          the torch module for config dict `cfg` ('bert' | 'roberta' | 'mpnet' | 'distilbert')
  forward(model, ids_list)    last_hidden_state per sentence (lists of token ids, no padding),
                              computed as one right-padded batch with an attention mask
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = torch.finfo(torch.float32).min


def create_position_ids(input_ids, padding_idx):
    mask = input_ids.ne(padding_idx).int()
    incremental = torch.cumsum(mask, dim=1).type_as(mask) * mask
    return incremental.long() + padding_idx


def relative_position_bucket(relative_position, num_buckets=32, max_distance=128):
    ret = 0
    n = -relative_position
    num_buckets //= 2
    ret += (n < 0).to(torch.long) * num_buckets
    n = torch.abs(n)
    max_exact = num_buckets // 2
    is_small = n < max_exact
    val_if_large = max_exact + (
        torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)).to(torch.long)
    val_if_large = torch.min(val_if_large, torch.full_like(val_if_large, num_buckets - 1))
    ret += torch.where(is_small, n, val_if_large)
    return ret


def sinusoidal_table(n_pos, dim):
    enc = np.array([[pos / np.power(10000, 2 * (j // 2) / dim) for j in range(dim)] for pos in range(n_pos)])
    out = torch.empty(n_pos, dim)
    out[:, 0::2] = torch.FloatTensor(np.sin(enc[:, 0::2]))
    out[:, 1::2] = torch.FloatTensor(np.cos(enc[:, 1::2]))
    return out


class PostLNLayer(nn.Module):
    """One post-LayerNorm layer; `names` maps roles to this family's submodule names."""

    def __init__(self, h, heads, inner, eps):
        super().__init__()
        self.heads, self.d = heads, h // heads
        self.q, self.k, self.v, self.o = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.ln1 = nn.LayerNorm(h, eps=eps)
        self.up, self.down = nn.Linear(h, inner), nn.Linear(inner, h)
        self.ln2 = nn.LayerNorm(h, eps=eps)

    def attend(self, x, mask, bias, scale_query_first):
        b, s, h = x.shape
        split = lambda t: t.view(b, s, self.heads, self.d).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        if scale_query_first:  # DistilBERT: q / sqrt(d), then q·kᵀ, masked_fill
            scores = torch.matmul(q / math.sqrt(self.d), k.transpose(2, 3))
            scores = scores.masked_fill((mask == 0).view(b, 1, 1, s).expand_as(scores), NEG)
        else:  # RoBERTa / MPNet: q·kᵀ / sqrt(d) (+ bias) + additive mask
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d)
            if bias is not None:
                scores = scores + bias
            scores = scores + (1.0 - mask.to(torch.float32))[:, None, None, :] * NEG
        probs = torch.softmax(scores, dim=-1)
        return torch.matmul(probs, v).transpose(1, 2).reshape(b, s, h)

    def forward(self, x, mask, bias=None, scale_query_first=False):
        a = self.ln1(self.o(self.attend(x, mask, bias, scale_query_first)) + x)
        return self.ln2(self.down(F.gelu(self.up(a))) + a)


class FamilyEncoder(nn.Module):
    def __init__(self, family, c):
        super().__init__()
        self.family = family
        if family == 'distilbert':
            h, layers, heads, inner, eps = c['dim'], c['n_layers'], c['n_heads'], c['hidden_dim'], 1e-12
            assert c.get('activation', 'gelu') == 'gelu'
        else:
            h, layers, heads, inner = c['hidden_size'], c['num_hidden_layers'], c['num_attention_heads'], c['intermediate_size']
            eps = c['layer_norm_eps']
            assert c.get('hidden_act', 'gelu') == 'gelu'
        self.word = nn.Embedding(c['vocab_size'], h)
        self.pos = nn.Embedding(c['max_position_embeddings'], h)
        self.token_type = nn.Embedding(c['type_vocab_size'], h) if family in ('roberta', 'bert') else None
        self.ln = nn.LayerNorm(h, eps=eps)
        self.layers = nn.ModuleList([PostLNLayer(h, heads, inner, eps) for _ in range(layers)])
        self.rel = nn.Embedding(c['relative_attention_num_buckets'], heads) if family == 'mpnet' else None
        self.pad = c['pad_token_id'] if family == 'roberta' else 1
        if family == 'distilbert' and c.get('sinusoidal_pos_embds', False):
            with torch.no_grad():
                self.pos.weight.copy_(sinusoidal_table(c['max_position_embeddings'], h))

    def forward(self, ids, mask):
        b, s = ids.shape
        if self.family in ('distilbert', 'bert'):
            positions = torch.arange(s).unsqueeze(0).expand(b, s)
        else:
            positions = create_position_ids(ids, self.pad)
        x = self.word(ids) + self.pos(positions) if self.token_type is None else \
            self.word(ids) + self.token_type(torch.zeros_like(ids)) + self.pos(positions)
        x = self.ln(x)
        bias = None
        if self.rel is not None:
            ctx = torch.arange(s, dtype=torch.long)[:, None]
            mem = torch.arange(s, dtype=torch.long)[None, :]
            bucket = relative_position_bucket(mem - ctx, num_buckets=32)
            bias = self.rel(bucket).permute([2, 0, 1]).unsqueeze(0)
        for layer in self.layers:
            x = layer(x, mask, bias, scale_query_first=self.family == 'distilbert')
        return x

    # Checkpoint names (the base model's, as transformers saves them) → this module's parameters.
    def named_checkpoint(self):
        out = {}
        emb = 'embeddings.'
        out[emb + 'word_embeddings.weight'] = self.word.weight
        out[emb + 'position_embeddings.weight'] = self.pos.weight
        if self.token_type is not None:
            out[emb + 'token_type_embeddings.weight'] = self.token_type.weight
        out[emb + 'LayerNorm.weight'] = self.ln.weight
        out[emb + 'LayerNorm.bias'] = self.ln.bias
        for i, L in enumerate(self.layers):
            if self.family in ('roberta', 'bert'):
                p = f'encoder.layer.{i}.'
                parts = {'attention.self.query': L.q, 'attention.self.key': L.k, 'attention.self.value': L.v,
                         'attention.output.dense': L.o, 'attention.output.LayerNorm': L.ln1,
                         'intermediate.dense': L.up, 'output.dense': L.down, 'output.LayerNorm': L.ln2}
            elif self.family == 'mpnet':
                p = f'encoder.layer.{i}.'
                parts = {'attention.attn.q': L.q, 'attention.attn.k': L.k, 'attention.attn.v': L.v,
                         'attention.attn.o': L.o, 'attention.LayerNorm': L.ln1,
                         'intermediate.dense': L.up, 'output.dense': L.down, 'output.LayerNorm': L.ln2}
            else:
                p = f'transformer.layer.{i}.'
                parts = {'attention.q_lin': L.q, 'attention.k_lin': L.k, 'attention.v_lin': L.v,
                         'attention.out_lin': L.o, 'sa_layer_norm': L.ln1,
                         'ffn.lin1': L.up, 'ffn.lin2': L.down, 'output_layer_norm': L.ln2}
            for name, mod in parts.items():
                out[p + name + '.weight'] = mod.weight
                out[p + name + '.bias'] = mod.bias
        if self.rel is not None:
            out['encoder.relative_attention_bias.weight'] = self.rel.weight
        return out


def build(family, cfg):
    return FamilyEncoder(family, cfg).eval()


def forward(model, ids_list, pad_id):
    """last_hidden_state of each sentence (rows of its real tokens), one right-padded batch."""
    s = max(len(x) for x in ids_list)
    ids = torch.full((len(ids_list), s), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids_list), s), dtype=torch.long)
    for i, x in enumerate(ids_list):
        ids[i, :len(x)] = torch.tensor(x, dtype=torch.long)
        mask[i, :len(x)] = 1
    with torch.no_grad():
        out = model(ids, mask)
    return [out[i, :len(x)] for i, x in enumerate(ids_list)]
