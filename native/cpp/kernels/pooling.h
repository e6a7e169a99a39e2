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
#pragma once

#include <cstdint>
#include <vector>

#include "modes.h"

namespace sbert {

void pool(const float* tokens, int H, const int32_t* cuSeqlens, int n,
          const std::vector<PoolMode>& modes, float* out);

// Backward: dTokens [T, H] = (written, not accumulated) the gradient of `pool` from dOut
// [n, H·modes.size()]: Cls → token 0, LastToken → token L−1, Mean → 1/L each, MeanSqrtLen →
// 1/√L each, WeightedMean → (i+1)/Σ(i+1), Max → per column the first token holding the maximum
// (torch's max indices). tokens is the forward's input (for Max).
void poolBackward(const float* tokens, int H, const int32_t* cuSeqlens, int n,
                  const std::vector<PoolMode>& modes, const float* dOut, float* dTokens);

}  // namespace sbert
