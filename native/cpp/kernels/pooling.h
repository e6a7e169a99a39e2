// sentence-transformers' Pooling module over a packed (unpadded) batch.
//   tokens [T, H] fp32 (last hidden state), cuSeqlens [n + 1], out [n, H·modes.size()]: the
//   modes' vectors concatenated in the given order (sentence-transformers' order is the
//   PoolMode enum order). For sequence s with tokens x_0..x_{L-1}:
//     Cls          x_0
//     Max          elementwise max_i x_i
//     Mean         Σ x_i / L
//     MeanSqrtLen  Σ x_i / √L
//     WeightedMean Σ (i+1)·x_i / Σ (i+1)          (positions 1-based, as torch.arange(1, L+1))
//     LastToken    x_{L-1}
//   Sums are accumulated in double and rounded to fp32 before the fp32 division, like torch's
//   sum-then-divide. A sequence of length 0 gives zeros for every mode (the tokenizer never
//   produces one). Parallel over sequences.
//
//   skipTokens = p > 0 is sentence-transformers' Pooling with `include_prompt: false`: the
//   attention mask of tokens 0..p-1 (the prompt: [CLS] + its word pieces) is set to 0 before
//   pooling, so with i running over [p, L) only (positions stay absolute):
//     Cls          x_0 (sentence-transformers takes token 0 whatever the mask says)
//     Max          elementwise max_i x_i; -1e9 when no token is left (its fill value)
//     Mean         Σ x_i / (L − p); zeros when no token is left (Σ / clamp(0, 1e-9))
//     MeanSqrtLen  Σ x_i / √(L − p); zeros when no token is left
//     WeightedMean Σ (i+1)·x_i / Σ (i+1); zeros when no token is left
//     LastToken    x_{L-1}; zeros when no token is left (its gather of the masked tokens)
#pragma once

#include <cstdint>
#include <vector>

#include "modes.h"

namespace sbert {

void pool(const float* tokens, int H, const int32_t* cuSeqlens, int n,
          const std::vector<PoolMode>& modes, float* out, int skipTokens = 0);

// Backward: dTokens [T, H] = (written, not accumulated) the gradient of `pool` from dOut
// [n, H·modes.size()]: Cls → token 0, LastToken → token L−1, Mean → 1/L each, MeanSqrtLen →
// 1/√L each, WeightedMean → (i+1)/Σ(i+1), Max → per column the first token holding the maximum
// (torch's max indices). tokens is the forward's input (for Max).
void poolBackward(const float* tokens, int H, const int32_t* cuSeqlens, int n,
                  const std::vector<PoolMode>& modes, const float* dOut, float* dTokens);

}  // namespace sbert
