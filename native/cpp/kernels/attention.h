// Multi-head self-attention over a packed (unpadded) batch, no mask needed: sequence s attends
// only to its own tokens [cuSeqlens[s], cuSeqlens[s+1]).
//   qkv [T, 3·hidden] fp32 row-major: per token q | k | v, head h at columns h·headDim of each
//       third (the output of the fused QKV linear); hidden = numHeads·headDim.
//   out [T, hidden]: out[t, h·headDim + :] = softmax(q_t·Kᵀ · 1/√headDim) · V  (per head)
// Softmax in fp32 with max subtraction, probabilities normalised (× 1/sum) before P·V, like
// torch. Work is parallel over (sequence, head) pairs; per pair a thread gathers Kᵀ [headDim,
// len] into its own scratch and computes one score row at a time (scratch O(len·headDim), no
// [len, len] matrix). Score and P·V loops are vectorised (AVX-512 / AVX2+FMA / portable, runtime
// dispatch), exp is the SIMD exp of simd_math.h. A pair's result depends only on its own tokens.
#pragma once

#include <cstdint>

namespace sbert {

void attention(const float* qkv, const int32_t* cuSeqlens, int n, int numHeads, int headDim,
               float* out);

}  // namespace sbert
